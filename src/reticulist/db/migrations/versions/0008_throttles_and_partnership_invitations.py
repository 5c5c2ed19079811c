"""throttles counted atomically, and invitations to join a partnership

Failed logins were rows counted and then added in two steps, so simultaneous guesses all passed the count,
and five wrong passwords locked the account from everywhere. They are replaced by one counter per key
(account and client address, address, account) changed by single conditional updates, with backoff
instead of a lock; open-link surveys use the same counters. Adding an account to a partnership becomes an
invitation the account holder accepts. Old failed-login rows are dropped: they only ever held people back
for 15 minutes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempt_email"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_client"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_at"))
    op.drop_table("login_attempt")

    op.create_table(
        "throttle",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("quiet_until", sa.Float(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("account", sa.String(length=320), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle")),
    )
    with op.batch_alter_table("throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_throttle_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_throttle_address"), ["address"], unique=False)

    op.create_table(
        "partnership_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("invited_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_partnership_invitation_partnership_id_partnership"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_invitation")),
        sa.UniqueConstraint("partnership_id", "email", name=op.f("uq_partnership_invitation_partnership_id")),
    )
    with op.batch_alter_table("partnership_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partnership_invitation_email"), ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_partnership_invitation_partnership_id"), ["partnership_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("partnership_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnership_invitation_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_partnership_invitation_email"))
    op.drop_table("partnership_invitation")
    with op.batch_alter_table("throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_address"))
        batch_op.drop_index(batch_op.f("ix_throttle_account"))
    op.drop_table("throttle")

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
