"""barometer results are released once, after a round closes, and stored as published
(barometer_release); rounds remember whether they ever had an open link

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): no table rebuild.
    op.add_column(
        "barometer_round", sa.Column("had_open_link", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    # A round that has an open link now had one.
    op.execute("UPDATE barometer_round SET had_open_link = (open_link_hash IS NOT NULL)")
    op.create_table(
        "barometer_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("released_on", sa.Date(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["barometer_round.id"],
            name=op.f("fk_barometer_release_round_id_barometer_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barometer_release")),
    )
    with op.batch_alter_table("barometer_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_barometer_release_round_id"), ["round_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("barometer_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_barometer_release_round_id"))
    op.drop_table("barometer_release")
    with op.batch_alter_table("barometer_round", schema=None) as batch_op:
        batch_op.drop_column("had_open_link")
