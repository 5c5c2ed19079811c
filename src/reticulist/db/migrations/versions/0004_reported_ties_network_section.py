"""barometer rounds get a network section (none / people / organisations); a network tie may go to an
organisation instead of a person (exactly one of to_person_id, to_organisation_id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("barometer_round", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("network_section", sa.String(length=20), server_default="none", nullable=False)
        )
        batch_op.create_check_constraint(
            "network_section_known", "network_section IN ('none', 'people', 'organisations')"
        )
    with op.batch_alter_table("network_tie", schema=None) as batch_op:
        batch_op.add_column(sa.Column("to_organisation_id", sa.Integer(), nullable=True))
        batch_op.alter_column("to_person_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_network_tie_to_organisation_id"), ["to_organisation_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_network_tie_to_organisation_id_organisation"),
            "organisation",
            ["to_organisation_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            "one_target", "(to_person_id IS NULL) <> (to_organisation_id IS NULL)"
        )


def downgrade() -> None:
    # Ties to organisations cannot be kept in the older shape (a tie to a person only).
    op.execute("DELETE FROM network_tie WHERE to_person_id IS NULL")
    with op.batch_alter_table("network_tie", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_network_tie_one_target"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_network_tie_to_organisation_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_network_tie_to_organisation_id"))
        batch_op.alter_column("to_person_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("to_organisation_id")
    with op.batch_alter_table("barometer_round", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_barometer_round_network_section_known"), type_="check")
        batch_op.drop_column("network_section")
