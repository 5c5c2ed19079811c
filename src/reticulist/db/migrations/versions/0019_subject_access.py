"""casework: the subject access request register

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subject_access_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("identity_checked_on", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_label", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["family_member.id"],
            name=op.f("fk_subject_access_request_member_id_family_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_subject_access_request_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_access_request")),
    )
    with op.batch_alter_table("subject_access_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_access_request_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subject_access_request_partnership_id"), ["partnership_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subject_access_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_access_request_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_subject_access_request_member_id"))
    op.drop_table("subject_access_request")
