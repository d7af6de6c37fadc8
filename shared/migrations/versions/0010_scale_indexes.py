"""indexes for a grown store: article listings filtered by date, by tag and by site

- `GET /articles?since=` compares coalesce(published_at, first_seen_at) with the given time; without
  an index on that expression a recent `since` in a store of a million articles reads the primary
  key backwards until it has a page, or to the end when few or none match.
- `GET /articles?tag=`: the index on article_tags.tag_id becomes (tag_id, article_id), so a tag's
  articles come in id order and a page is a merge of two index ranges, for a tag on half the store
  as for a tag on none (a key phrase that is no article tag read the whole store before).
- `GET /articles?site=`: the index on articles.host becomes (host, id), for the same reason: a page
  of one site is one ordered index range, not a backwards walk of the whole store picking it out.

The pipeline's own hot queries were on indexes already (BENCHMARKS.md: Grown store, bench/hot_queries.py).

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
    op.drop_index("ix_article_tags_tag_id", table_name="article_tags")
    op.create_index("ix_article_tags_tag_id", "article_tags", ["tag_id", "article_id"])
    op.drop_index("ix_articles_host", table_name="articles")
    op.create_index("ix_articles_host", "articles", ["host", "id"])


def downgrade() -> None:
    op.drop_index("ix_articles_host", table_name="articles")
    op.create_index("ix_articles_host", "articles", ["host"])
    op.drop_index("ix_article_tags_tag_id", table_name="article_tags")
    op.create_index("ix_article_tags_tag_id", "article_tags", ["tag_id"])
    op.drop_index("ix_articles_published_or_seen", table_name="articles")
