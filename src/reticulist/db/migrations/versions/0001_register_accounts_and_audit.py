"""register, accounts and audit

Revision ID: 0001
Revises:
Create Date: 2026-11-23 01:17:12.975930
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_actor_user_id"), ["actor_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_partnership_id"), ["partnership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_record_type"), ["record_type"], unique=False)

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempt_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_client"), ["client"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_email"), ["email"], unique=False)

    op.create_table(
        "partnership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership")),
        sa.UniqueConstraint("name", name=op.f("uq_partnership_name")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_site_admin", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_api_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_meeting_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_held_on"), ["held_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_partnership_id"), ["partnership_id"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_membership_partnership_id_partnership"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_membership_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("user_id", "partnership_id", name=op.f("uq_membership_user_id")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_partnership_id"), ["partnership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_user_id"), ["user_id"], unique=False)

    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_organisation_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("partnership_id", "name", name=op.f("uq_organisation_partnership_id")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_partnership_id"), ["partnership_id"], unique=False)

    op.create_table(
        "profession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_profession_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profession")),
        sa.UniqueConstraint("partnership_id", "name", name=op.f("uq_profession_partnership_id")),
    )
    with op.batch_alter_table("profession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_profession_partnership_id"), ["partnership_id"], unique=False)

    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_web_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_session_token_hash")),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("profession_id", sa.Integer(), nullable=True),
        sa.Column("hierarchy_tier", sa.Integer(), nullable=False),
        sa.Column("years_in_profession", sa.Integer(), nullable=True),
        sa.Column("late_entry", sa.Boolean(), nullable=False),
        sa.Column("interprofessional_training", sa.Boolean(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_person_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_person_partnership_id_partnership")
        ),
        sa.ForeignKeyConstraint(
            ["profession_id"], ["profession.id"], name=op.f("fk_person_profession_id_profession")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_partnership_id"), ["partnership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_profession_id"), ["profession_id"], unique=False)

    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_person_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("last_changed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], name=op.f("fk_action_meeting_id_meeting")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_action_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["owner_person_id"], ["person.id"], name=op.f("fk_action_owner_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_action_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action")),
    )
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_owner_person_id"), ["owner_person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_partnership_id"), ["partnership_id"], unique=False)

    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_attendance_meeting_id_meeting"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_attendance_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_attendance_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint("meeting_id", "person_id", name=op.f("uq_attendance_meeting_id")),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendance_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendance_person_id"), ["person_id"], unique=False)

    op.create_table(
        "seat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_seat_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_seat_partnership_id_partnership")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_seat_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat")),
    )
    with op.batch_alter_table("seat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seat_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_seat_partnership_id"), ["partnership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_seat_person_id"), ["person_id"], unique=False)

    # The audit log is append-only: the database itself refuses changes and deletions.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    with op.batch_alter_table("seat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seat_person_id"))
        batch_op.drop_index(batch_op.f("ix_seat_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_seat_organisation_id"))

    op.drop_table("seat")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_person_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_meeting_id"))

    op.drop_table("attendance")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_action_owner_person_id"))

    op.drop_table("action")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_profession_id"))
        batch_op.drop_index(batch_op.f("ix_person_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_person_organisation_id"))

    op.drop_table("person")
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_session_user_id"))

    op.drop_table("web_session")
    with op.batch_alter_table("profession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profession_partnership_id"))

    op.drop_table("profession")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_partnership_id"))

    op.drop_table("organisation")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_membership_partnership_id"))

    op.drop_table("membership")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_held_on"))

    op.drop_table("meeting")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("user_account")
    op.drop_table("partnership")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempt_email"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_client"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_at"))

    op.drop_table("login_attempt")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_record_type"))
        batch_op.drop_index(batch_op.f("ix_audit_event_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_user_id"))

    op.drop_table("audit_event")
