"""entities, tag aliases and near-duplicate fingerprints (filled by the enrichment work)

entities + article_entities (mentions with counts), article_keywords (topic tags with a score),
article_fingerprints + fingerprint_bands (MinHash signatures and their LSH band keys, so near-duplicate
detection works across workers and over time) and article_duplicates (pairs with their similarity).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = shared.models.JsonType


def _article_fk() -> sa.ForeignKey:
    return sa.ForeignKey("articles.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "entities",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("aliases", Json, nullable=False),
        sa.UniqueConstraint("key", name="uq_entities_key"),
    )
    op.create_index("ix_entities_kind", "entities", ["kind"])
    op.create_table(
        "article_entities",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("article_id", BigId, _article_fk(), nullable=False),
        sa.Column("entity_id", BigId, sa.ForeignKey("entities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("article_id", "entity_id", name="uq_article_entities_article_id_entity_id"),
    )
    op.create_index("ix_article_entities_entity_id", "article_entities", ["entity_id"])
    op.create_table(
        "article_keywords",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("article_id", BigId, _article_fk(), nullable=False),
        sa.Column("tag_id", BigId, sa.ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("article_id", "tag_id", name="uq_article_keywords_article_id_tag_id"),
    )
    op.create_index("ix_article_keywords_tag_id", "article_keywords", ["tag_id"])
    op.create_table(
        "article_fingerprints",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("article_id", BigId, _article_fk(), nullable=False),
        sa.Column("signature", Json, nullable=False),
        sa.Column("shingles", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("article_id", name="uq_article_fingerprints_article_id"),
    )
    op.create_table(
        "fingerprint_bands",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("article_id", BigId, _article_fk(), nullable=False),
        sa.Column("band", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("article_id", "band", name="uq_fingerprint_bands_article_id_band"),
    )
    op.create_index("ix_fingerprint_bands_band", "fingerprint_bands", ["band"])
    op.create_table(
        "article_duplicates",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("article_id", BigId, _article_fk(), nullable=False),
        sa.Column("duplicate_of_id", BigId, _article_fk(), nullable=False),
        sa.Column("similarity", sa.Double(), nullable=False),
        sa.Column("found_at", shared.models.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("article_id", "duplicate_of_id", name="uq_article_duplicates_article_id_duplicate_of_id"),
    )
    op.create_index("ix_article_duplicates_duplicate_of_id", "article_duplicates", ["duplicate_of_id"])


def downgrade() -> None:
    for table in (
        "article_duplicates",
        "fingerprint_bands",
        "article_fingerprints",
        "article_keywords",
        "article_entities",
        "entities",
    ):
        op.drop_table(table)
