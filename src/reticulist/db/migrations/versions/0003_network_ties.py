"""network: stored ties between people (reported in a barometer round, or imported)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:05:19.200987
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_tie",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("from_person_id", sa.Integer(), nullable=False),
        sa.Column("to_person_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=True),
        sa.Column("trust_reliable", sa.Integer(), nullable=True),
        sa.Column("trust_mission", sa.Integer(), nullable=True),
        sa.Column("trust_open", sa.Integer(), nullable=True),
        sa.Column("value_influence", sa.Integer(), nullable=True),
        sa.Column("value_involvement", sa.Integer(), nullable=True),
        sa.Column("value_resources", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('reported', 'imported')", name=op.f("ck_network_tie_source_known")),
        sa.CheckConstraint("frequency BETWEEN 0 AND 4", name=op.f("ck_network_tie_frequency_range")),
        sa.CheckConstraint("from_person_id <> to_person_id", name=op.f("ck_network_tie_not_self")),
        sa.CheckConstraint("trust_mission BETWEEN 1 AND 4", name=op.f("ck_network_tie_trust_mission_range")),
        sa.CheckConstraint("trust_open BETWEEN 1 AND 4", name=op.f("ck_network_tie_trust_open_range")),
        sa.CheckConstraint(
            "trust_reliable BETWEEN 1 AND 4", name=op.f("ck_network_tie_trust_reliable_range")
        ),
        sa.CheckConstraint(
            "value_influence BETWEEN 1 AND 4", name=op.f("ck_network_tie_value_influence_range")
        ),
        sa.CheckConstraint(
            "value_involvement BETWEEN 1 AND 4", name=op.f("ck_network_tie_value_involvement_range")
        ),
        sa.CheckConstraint(
            "value_resources BETWEEN 1 AND 4", name=op.f("ck_network_tie_value_resources_range")
        ),
        sa.CheckConstraint("weight > 0", name=op.f("ck_network_tie_weight_positive")),
        sa.ForeignKeyConstraint(
            ["from_person_id"], ["person.id"], name=op.f("fk_network_tie_from_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_network_tie_partnership_id_partnership")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["barometer_round.id"],
            name=op.f("fk_network_tie_round_id_barometer_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_person_id"], ["person.id"], name=op.f("fk_network_tie_to_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_tie")),
    )
    with op.batch_alter_table("network_tie", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_tie_from_person_id"), ["from_person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_network_tie_observed_on"), ["observed_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_network_tie_partnership_id"), ["partnership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_network_tie_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_network_tie_to_person_id"), ["to_person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("network_tie", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_tie_to_person_id"))
        batch_op.drop_index(batch_op.f("ix_network_tie_round_id"))
        batch_op.drop_index(batch_op.f("ix_network_tie_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_network_tie_observed_on"))
        batch_op.drop_index(batch_op.f("ix_network_tie_from_person_id"))

    op.drop_table("network_tie")
