"""indexes for a grown store: article listings filtered by date (`GET /articles?since=`)

The filter compares coalesce(published_at, first_seen_at) with the given time; without an index
on that expression a recent `since` in a store of a million articles reads the primary key
backwards until it has a page, or to the end when few or none match. Every other hot query of the
pipeline and the API was already on an index at 1,000,000 stored articles (BENCHMARKS.md: Grown
store, `bench/hot_queries.py`).

Revision ID: 0010
Revises: 0009_comment_providers
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009_comment_providers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_articles_published_or_seen", "articles", [sa.text("coalesce(published_at, first_seen_at)")])


def downgrade() -> None:
    op.drop_index("ix_articles_published_or_seen", table_name="articles")
