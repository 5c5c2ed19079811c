"""requests done once: claimed form keys and API Idempotency-Keys

A retried form post or API write (the client timed out, a double click) must not do the work twice. Each
sending claims its key with a row inserted in the same transaction as its work (unique per account and
key); a retry finds the claim and gets the first answer back. Rows are kept for a day.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=2000), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_request_key_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_key")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_request_key_user_id")),
    )
    with op.batch_alter_table("request_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_key_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_key_created_at"))
    op.drop_table("request_key")
