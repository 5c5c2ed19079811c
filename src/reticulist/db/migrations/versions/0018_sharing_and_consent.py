"""casework: consents to share and sharing decisions (what, with whom, why, on what lawful basis)

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("given_by_member_id", sa.Integer(), nullable=False),
        sa.Column("organisation_ids", sa.JSON(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_label", sa.String(length=320), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_by_label", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_consent_family_id_family"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["given_by_member_id"],
            ["family_member.id"],
            name=op.f("fk_consent_given_by_member_id_family_member"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_family_id"), ["family_id"], unique=False)
    op.create_table(
        "sharing_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("recipient_organisation_id", sa.Integer(), nullable=False),
        sa.Column("recipient_person_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("family_told", sa.Boolean(), nullable=False),
        sa.Column("not_told_reason", sa.Text(), nullable=False),
        sa.Column("family_views", sa.Text(), nullable=False),
        sa.Column("basis", sa.String(length=40), nullable=True),
        sa.Column("special_category", sa.Boolean(), nullable=False),
        sa.Column("condition", sa.String(length=40), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("access_until", sa.Date(), nullable=True),
        sa.Column("decided_by_label", sa.String(length=320), nullable=False),
        sa.Column("decider_organisation_id", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consent.id"], name=op.f("fk_sharing_decision_consent_id_consent")
        ),
        sa.ForeignKeyConstraint(
            ["decider_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_sharing_decision_decider_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_sharing_decision_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_sharing_decision_partnership_id_partnership"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_sharing_decision_recipient_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_person_id"],
            ["person.id"],
            name=op.f("fk_sharing_decision_recipient_person_id_person"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_decision")),
    )
    with op.batch_alter_table("sharing_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_decision_family_id"), ["family_id"], unique=False)
        batch_op.create_index(
            "ix_sharing_decision_recipient", ["recipient_person_id", "family_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sharing_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_decision_recipient")
        batch_op.drop_index(batch_op.f("ix_sharing_decision_family_id"))
    op.drop_table("sharing_decision")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_family_id"))
    op.drop_table("consent")
