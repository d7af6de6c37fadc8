"""comments from comment platforms: the state of each separate comment source, and what a platform
says of a comment beyond its text (like counts, moderation state, the source that first showed it)

Revision ID: 0009_comment_providers
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models

revision: str = "0009_comment_providers"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("source", sa.String(length=32), nullable=False, server_default="html"))
        batch.add_column(sa.Column("likes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("dislikes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("moderation", sa.String(length=16), nullable=True))
    # Comments a comments endpoint brought in before this revision: their first source is the endpoint.
    op.execute("UPDATE comments SET source = 'site_json' WHERE sources LIKE 'site_json%'")
    op.create_table(
        "comment_threads",
        sa.Column("id", BigId, nullable=False),
        sa.Column("article_id", BigId, nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("thread", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=True),
        sa.Column("checked_at", shared.models.UTCDateTime(), nullable=False),
        sa.Column("fetched_at", shared.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_comment_threads_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_threads")),
        sa.UniqueConstraint("article_id", "source_hash", name=op.f("uq_comment_threads_article_id_source_hash")),
    )


def downgrade() -> None:
    op.drop_table("comment_threads")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("moderation")
        batch.drop_column("dislikes")
        batch.drop_column("likes")
        batch.drop_column("source")
