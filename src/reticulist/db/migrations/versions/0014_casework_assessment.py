"""casework: the early help assessment, in versions

One draft at a time per episode (a partial unique index); completed versions are kept, locked.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("development_strengths", sa.Text(), nullable=False),
        sa.Column("development_needs", sa.Text(), nullable=False),
        sa.Column("parenting_strengths", sa.Text(), nullable=False),
        sa.Column("parenting_needs", sa.Text(), nullable=False),
        sa.Column("family_strengths", sa.Text(), nullable=False),
        sa.Column("family_needs", sa.Text(), nullable=False),
        sa.Column("childs_words", sa.Text(), nullable=False),
        sa.Column("family_view", sa.Text(), nullable=False),
        sa.Column("drafted_by_label", sa.String(length=320), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_by_label", sa.String(length=320), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_assessment_episode_id_episode"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint("episode_id", "version", name="uq_assessment_version"),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_episode_id"), ["episode_id"], unique=False)
        batch_op.create_index(
            "uq_assessment_one_draft",
            ["episode_id"],
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_assessment_one_draft",
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )
        batch_op.drop_index(batch_op.f("ix_assessment_episode_id"))

    op.drop_table("assessment")
