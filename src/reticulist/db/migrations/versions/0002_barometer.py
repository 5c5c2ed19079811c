"""barometer: instruments as used, rounds, invitations, drafts and anonymous responses

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:48:03.178755
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "barometer_instrument",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("built_in", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_barometer_instrument_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barometer_instrument")),
        sa.UniqueConstraint(
            "partnership_id", "key", "version", name=op.f("uq_barometer_instrument_partnership_id")
        ),
    )
    with op.batch_alter_table("barometer_instrument", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_barometer_instrument_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "barometer_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("anonymity_threshold", sa.Integer(), nullable=False),
        sa.Column("closed_early_on", sa.Date(), nullable=True),
        sa.Column("open_link_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("anonymity_threshold >= 3", name=op.f("ck_barometer_round_threshold_min")),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["barometer_instrument.id"],
            name=op.f("fk_barometer_round_instrument_id_barometer_instrument"),
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_barometer_round_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barometer_round")),
        sa.UniqueConstraint("open_link_hash", name=op.f("uq_barometer_round_open_link_hash")),
    )
    with op.batch_alter_table("barometer_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_barometer_round_instrument_id"), ["instrument_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_barometer_round_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "barometer_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted", sa.Boolean(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["barometer_round.id"],
            name=op.f("fk_barometer_draft_round_id_barometer_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barometer_draft")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_barometer_draft_token_hash")),
    )
    with op.batch_alter_table("barometer_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_barometer_draft_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_barometer_draft_round_id"), ["round_id"], unique=False)

    op.create_table(
        "barometer_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=320), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["barometer_round.id"],
            name=op.f("fk_barometer_invitation_round_id_barometer_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barometer_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_barometer_invitation_token_hash")),
    )
    with op.batch_alter_table("barometer_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_barometer_invitation_round_id"), ["round_id"], unique=False)

    op.create_table(
        "barometer_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("profession_id", sa.Integer(), nullable=True),
        sa.Column("hierarchy_tier", sa.Integer(), nullable=True),
        sa.Column("wt_tier", sa.String(length=20), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_barometer_response_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["profession_id"], ["profession.id"], name=op.f("fk_barometer_response_profession_id_profession")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["barometer_round.id"],
            name=op.f("fk_barometer_response_round_id_barometer_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barometer_response")),
    )
    with op.batch_alter_table("barometer_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_barometer_response_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("barometer_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_barometer_response_round_id"))

    op.drop_table("barometer_response")
    with op.batch_alter_table("barometer_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_barometer_invitation_round_id"))

    op.drop_table("barometer_invitation")
    with op.batch_alter_table("barometer_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_barometer_draft_round_id"))
        batch_op.drop_index(batch_op.f("ix_barometer_draft_expires_on"))

    op.drop_table("barometer_draft")
    with op.batch_alter_table("barometer_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_barometer_round_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_barometer_round_instrument_id"))

    op.drop_table("barometer_round")
    with op.batch_alter_table("barometer_instrument", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_barometer_instrument_partnership_id"))

    op.drop_table("barometer_instrument")
