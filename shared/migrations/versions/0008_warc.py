"""web archives: every fetch keeps its status line and all response headers, in order

Revision ID: 0008
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Both nullable: fetches stored before this revision kept only a few headers (`headers`), and
    # an export rebuilds their status line and headers from what is there.
    with op.batch_alter_table("fetches") as batch:
        batch.add_column(sa.Column("status_line", sa.Text(), nullable=True))
        batch.add_column(sa.Column("http_headers", JsonType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fetches") as batch:
        batch.drop_column("http_headers")
        batch.drop_column("status_line")
