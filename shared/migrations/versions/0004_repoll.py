"""re-poll schedule, comment events and article revisions

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = shared.models.JsonType


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("poll_interval_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("urls") as batch:
        batch.add_column(sa.Column("repoll_at", shared.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("repoll_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("unchanged_polls", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("poll_changed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("last_changed_at", shared.models.UTCDateTime(), nullable=True))
        batch.create_index("ix_urls_repoll_at", ["repoll_at"])
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("revision_count", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("event_count", sa.Integer(), nullable=False, server_default="0"))

    op.create_table(
        "comment_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("article_id", BigId, nullable=False),
        sa.Column("comment_id", BigId, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("happened_at", shared.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_comment_events_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_comment_events_comment_id_comments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_events")),
        sa.UniqueConstraint("comment_id", "seq", name=op.f("uq_comment_events_comment_id_seq")),
    )
    op.create_index("ix_comment_events_article", "comment_events", ["article_id", "id"])
    op.create_table(
        "article_revisions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("article_id", BigId, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("lead", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("changed_fields", Json, nullable=False),
        sa.Column("diff", sa.Text(), nullable=True),
        sa.Column("seen_at", shared.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_revisions_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_revisions")),
        sa.UniqueConstraint("article_id", "revision", name=op.f("uq_article_revisions_article_id_revision")),
    )


def downgrade() -> None:
    op.drop_table("article_revisions")
    op.drop_index("ix_comment_events_article", table_name="comment_events")
    op.drop_table("comment_events")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("event_count")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("revision_count")
    with op.batch_alter_table("urls") as batch:
        batch.drop_index("ix_urls_repoll_at")
        for column in ("last_changed_at", "poll_changed", "unchanged_polls", "repoll_count", "repoll_at"):
            batch.drop_column(column)
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("poll_interval_seconds")
