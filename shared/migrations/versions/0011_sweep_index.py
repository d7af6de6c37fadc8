"""the sweep's index: URLs on their way through the pipeline by state and dispatch stamp, so that its
scan stays a bounded range read however deep the backlog and however many URLs are done

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_URLS = "state IN ('queued', 'fetched', 'parsed', 'enriched')"


def upgrade() -> None:
    # The sweep compares stamps; a pending URL stamped by no one (rows older than stamping) counts as
    # stamped when it last changed.
    op.execute(f"UPDATE urls SET dispatched_at = updated_at WHERE dispatched_at IS NULL AND {PENDING_URLS}")
    op.create_index(
        "ix_urls_pending_dispatched",
        "urls",
        ["state", "dispatched_at"],
        postgresql_where=sa.text(PENDING_URLS),
        sqlite_where=sa.text(PENDING_URLS),
    )


def downgrade() -> None:
    op.drop_index("ix_urls_pending_dispatched", table_name="urls")
