"""search: a BRIN index on articles.id, so that the search's id tiers (newest matches first, see
shared/store/search.py) AND a tier's id range with the GIN matches for a few index pages at any width

A B-tree range of the primary key costs in proportion to the ids it covers; the BRIN index is a
few dozen kilobytes per million articles (ids grow with the heap, so its block ranges are tight).
Postgres only, like the search vector; SQLite searches through FTS5.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_articles_id_brin ON articles USING brin (id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_articles_id_brin")
