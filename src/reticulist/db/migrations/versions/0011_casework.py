"""casework: families, episodes and the team around the family

Families and their people (addresses with history), early help episodes (one open per family), the team
around the family (involvements; one current lead practitioner per episode, as partial unique indexes),
the link from a login to its register person, and an index on the audit log for "who has seen this
record". The audit log gets its index without a table rebuild, so its append-only triggers stay.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_family_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family")),
        sa.UniqueConstraint("partnership_id", "reference", name="uq_family_reference"),
    )
    with op.batch_alter_table("family", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_partnership_id"), ["partnership_id"], unique=False)

    op.create_table(
        "family_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("forenames", sa.String(length=200), nullable=False),
        sa.Column("surname", sa.String(length=200), nullable=False),
        sa.Column("surname_key", sa.String(length=200), nullable=False),
        sa.Column("known_as", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=20), nullable=False),
        sa.Column("relationship_to_children", sa.String(length=40), nullable=False),
        sa.Column("parental_responsibility", sa.Boolean(), nullable=False),
        sa.Column("nhs_number", sa.String(length=12), nullable=True),
        sa.Column("upn", sa.String(length=13), nullable=True),
        sa.Column("upn_temporary", sa.Boolean(), nullable=False),
        sa.Column("shielded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_family_member_family_id_family"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_family_member_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_member")),
    )
    with op.batch_alter_table("family_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_member_family_id"), ["family_id"], unique=False)
        batch_op.create_index(
            "ix_family_member_search", ["partnership_id", "surname_key", "date_of_birth"], unique=False
        )

    op.create_table(
        "episode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("request_reason", sa.Text(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("agreed_by_member_id", sa.Integer(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreed_by_member_id"],
            ["family_member.id"],
            name=op.f("fk_episode_agreed_by_member_id_family_member"),
        ),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_episode_family_id_family"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_episode_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episode")),
    )
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_episode_family_id"), ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_episode_partnership_id"), ["partnership_id"], unique=False)
        batch_op.create_index(
            "uq_episode_one_open_per_family",
            ["family_id"],
            unique=True,
            sqlite_where=sa.text("closed_on IS NULL"),
            postgresql_where=sa.text("closed_on IS NULL"),
        )

    op.create_table(
        "member_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("from_on", sa.Date(), nullable=False),
        sa.Column("to_on", sa.Date(), nullable=True),
        sa.Column("shielded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["family_member.id"],
            name=op.f("fk_member_address_member_id_family_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_address")),
    )
    with op.batch_alter_table("member_address", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_address_member_id"), ["member_id"], unique=False)

    op.create_table(
        "practitioner_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_practitioner_link_partnership_id_partnership"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_practitioner_link_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_practitioner_link_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practitioner_link")),
        sa.UniqueConstraint("person_id", name="uq_practitioner_link_person"),
        sa.UniqueConstraint("user_id", "partnership_id", name="uq_practitioner_link_user_partnership"),
    )
    with op.batch_alter_table("practitioner_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_practitioner_link_partnership_id"), ["partnership_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_practitioner_link_user_id"), ["user_id"], unique=False)

    op.create_table(
        "involvement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("from_on", sa.Date(), nullable=False),
        sa.Column("to_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_involvement_episode_id_episode"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_involvement_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_involvement_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_involvement")),
    )
    with op.batch_alter_table("involvement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_involvement_episode_id"), ["episode_id"], unique=False)
        batch_op.create_index("ix_involvement_person_episode", ["person_id", "episode_id"], unique=False)

    op.create_table(
        "lead_practitioner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("involvement_id", sa.Integer(), nullable=False),
        sa.Column("from_on", sa.Date(), nullable=False),
        sa.Column("to_on", sa.Date(), nullable=True),
        sa.Column("family_had_say", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episode.id"],
            name=op.f("fk_lead_practitioner_episode_id_episode"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["involvement_id"],
            ["involvement.id"],
            name=op.f("fk_lead_practitioner_involvement_id_involvement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_practitioner")),
    )
    with op.batch_alter_table("lead_practitioner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_practitioner_episode_id"), ["episode_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_lead_practitioner_involvement_id"), ["involvement_id"], unique=False
        )
        batch_op.create_index(
            "uq_lead_practitioner_one_current",
            ["episode_id"],
            unique=True,
            sqlite_where=sa.text("to_on IS NULL"),
            postgresql_where=sa.text("to_on IS NULL"),
        )

    op.create_index("ix_audit_event_record", "audit_event", ["record_type", "record_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_event_record", table_name="audit_event")

    with op.batch_alter_table("lead_practitioner", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_lead_practitioner_one_current",
            sqlite_where=sa.text("to_on IS NULL"),
            postgresql_where=sa.text("to_on IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_lead_practitioner_involvement_id"))
        batch_op.drop_index(batch_op.f("ix_lead_practitioner_episode_id"))

    op.drop_table("lead_practitioner")
    with op.batch_alter_table("involvement", schema=None) as batch_op:
        batch_op.drop_index("ix_involvement_person_episode")
        batch_op.drop_index(batch_op.f("ix_involvement_episode_id"))

    op.drop_table("involvement")
    with op.batch_alter_table("practitioner_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practitioner_link_user_id"))
        batch_op.drop_index(batch_op.f("ix_practitioner_link_partnership_id"))

    op.drop_table("practitioner_link")
    with op.batch_alter_table("member_address", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_address_member_id"))

    op.drop_table("member_address")
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_episode_one_open_per_family",
            sqlite_where=sa.text("closed_on IS NULL"),
            postgresql_where=sa.text("closed_on IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_episode_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_episode_family_id"))

    op.drop_table("episode")
    with op.batch_alter_table("family_member", schema=None) as batch_op:
        batch_op.drop_index("ix_family_member_search")
        batch_op.drop_index(batch_op.f("ix_family_member_family_id"))

    op.drop_table("family_member")
    with op.batch_alter_table("family", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_partnership_id"))

    op.drop_table("family")
