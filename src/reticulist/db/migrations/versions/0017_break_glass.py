"""casework: break-glass (emergency) access with its review, and each partnership's time limit for it

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "partnership", sa.Column("break_glass_minutes", sa.Integer(), server_default="60", nullable=False)
    )
    op.create_table(
        "break_glass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review", sa.String(length=20), nullable=False),
        sa.Column("reviewed_by_label", sa.String(length=320), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_break_glass_family_id_family"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_break_glass_partnership_id_partnership")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_break_glass_person_id_person")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_break_glass_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass")),
    )
    with op.batch_alter_table("break_glass", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_break_glass_partnership_id"), ["partnership_id"], unique=False)
        batch_op.create_index(
            "ix_break_glass_user_family", ["user_id", "family_id", "expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("break_glass", schema=None) as batch_op:
        batch_op.drop_index("ix_break_glass_user_family")
        batch_op.drop_index(batch_op.f("ix_break_glass_partnership_id"))
    op.drop_table("break_glass")
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.drop_column("break_glass_minutes")
