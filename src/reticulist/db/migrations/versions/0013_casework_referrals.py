"""casework: referrals between agencies

A referral from a member of the team to an organisation: sent, accepted, declined (with a reason) or
withdrawn; the receiving organisation's inbox is read by organisation and status.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("from_involvement_id", sa.Integer(), nullable=False),
        sa.Column("to_organisation_id", sa.Integer(), nullable=False),
        sa.Column("child_member_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by_label", sa.String(length=320), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("accepted_involvement_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["accepted_involvement_id"],
            ["involvement.id"],
            name=op.f("fk_referral_accepted_involvement_id_involvement"),
        ),
        sa.ForeignKeyConstraint(
            ["child_member_id"], ["family_member.id"], name=op.f("fk_referral_child_member_id_family_member")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_referral_episode_id_episode"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_referral_family_id_family"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["from_involvement_id"],
            ["involvement.id"],
            name=op.f("fk_referral_from_involvement_id_involvement"),
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_referral_partnership_id_partnership")
        ),
        sa.ForeignKeyConstraint(
            ["to_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_referral_to_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_family_id"), ["family_id"], unique=False)
        batch_op.create_index("ix_referral_to_status", ["to_organisation_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_to_status")
        batch_op.drop_index(batch_op.f("ix_referral_family_id"))

    op.drop_table("referral")
