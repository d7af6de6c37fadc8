"""full-text search over articles: title, lead and body, ranked

Postgres: a stored generated tsvector column (weights A/B/C) with a GIN index, queried with
websearch_to_tsquery and ranked with ts_rank_cd. SQLite (embedded mode): an external-content
FTS5 table over the same three columns, kept in sync by triggers.

The column and the FTS5 table are not in shared.models on purpose: only shared/store/search.py
reads them, and the ORM never selects or writes them.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keep in step with shared/store/search.py (TS_CONFIG).
PG_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(lead, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')"
)

SQLITE_UP = [
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, lead, body, content='articles', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, lead, body) VALUES (new.id, new.title, new.lead, new.body);
    END""",
    """CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, lead, body)
        VALUES ('delete', old.id, old.title, old.lead, old.body);
    END""",
    """CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, lead, body ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, lead, body)
        VALUES ('delete', old.id, old.title, old.lead, old.body);
        INSERT INTO articles_fts(rowid, title, lead, body) VALUES (new.id, new.title, new.lead, new.body);
    END""",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")
    elif dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
    elif dialect == "sqlite":
        for name in ("articles_fts_ai", "articles_fts_ad", "articles_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
