"""casework: the chronology (case notes), the family plan (outcomes and actions) and reviews

Notes are never edited (a correction is a new note); a sensitive note is for its author, the lead
practitioner and the coordinator. Each action has an owner in the team; a review records who came and the
progress on each action (one entry per action per review).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=True),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("author_person_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(length=320), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_person_id"], ["person.id"], name=op.f("fk_case_note_author_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"], ["user_account.id"], name=op.f("fk_case_note_author_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(["episode_id"], ["episode.id"], name=op.f("fk_case_note_episode_id_episode")),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_case_note_family_id_family"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_note")),
    )
    with op.batch_alter_table("case_note", schema=None) as batch_op:
        batch_op.create_index("ix_case_note_family_happened", ["family_id", "happened_on"], unique=False)

    op.create_table(
        "case_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("attended", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_case_review_episode_id_episode"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_review")),
    )
    with op.batch_alter_table("case_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_review_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "plan_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episode.id"],
            name=op.f("fk_plan_outcome_episode_id_episode"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_outcome")),
    )
    with op.batch_alter_table("plan_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_outcome_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "plan_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_involvement_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["plan_outcome.id"],
            name=op.f("fk_plan_action_outcome_id_plan_outcome"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_involvement_id"],
            ["involvement.id"],
            name=op.f("fk_plan_action_owner_involvement_id_involvement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_action")),
    )
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_action_outcome_id"), ["outcome_id"], unique=False)

    op.create_table(
        "review_attendee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("involvement_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["involvement_id"], ["involvement.id"], name=op.f("fk_review_attendee_involvement_id_involvement")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["case_review.id"],
            name=op.f("fk_review_attendee_review_id_case_review"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_attendee")),
        sa.UniqueConstraint("review_id", "involvement_id", name="uq_review_attendee"),
    )
    with op.batch_alter_table("review_attendee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_attendee_review_id"), ["review_id"], unique=False)

    op.create_table(
        "review_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["plan_action.id"],
            name=op.f("fk_review_progress_action_id_plan_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["case_review.id"],
            name=op.f("fk_review_progress_review_id_case_review"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_progress")),
        sa.UniqueConstraint("review_id", "action_id", name="uq_review_progress_action"),
    )
    with op.batch_alter_table("review_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_progress_review_id"), ["review_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_progress_review_id"))

    op.drop_table("review_progress")
    with op.batch_alter_table("review_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_attendee_review_id"))

    op.drop_table("review_attendee")
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_action_outcome_id"))

    op.drop_table("plan_action")
    with op.batch_alter_table("plan_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_outcome_episode_id"))

    op.drop_table("plan_outcome")
    with op.batch_alter_table("case_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_review_episode_id"))

    op.drop_table("case_review")
    with op.batch_alter_table("case_note", schema=None) as batch_op:
        batch_op.drop_index("ix_case_note_family_happened")

    op.drop_table("case_note")
