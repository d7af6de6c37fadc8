"""per-URL re-poll schedule

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("urls") as batch:
        batch.add_column(sa.Column("repoll_schedule", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("urls") as batch:
        batch.drop_column("repoll_schedule")
