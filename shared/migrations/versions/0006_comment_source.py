"""comments from separate sources: per-source presence on comments, fetched comment endpoint pages

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("sources", sa.String(length=200), nullable=False, server_default="html"))
    op.create_table(
        "comment_fetches",
        sa.Column("id", BigId, nullable=False),
        sa.Column("article_id", BigId, nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("body_zlib", sa.LargeBinary(), nullable=False),
        sa.Column("first_fetched_at", shared.models.UTCDateTime(), nullable=False),
        sa.Column("fetched_at", shared.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_comment_fetches_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_fetches")),
        sa.UniqueConstraint(
            "article_id", "source_hash", "page", name=op.f("uq_comment_fetches_article_id_source_hash_page")
        ),
    )


def downgrade() -> None:
    op.drop_table("comment_fetches")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("sources")
