"""casework: quarterly figures for managers, published once per quarter

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "casework_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Date(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by_label", sa.String(length=320), nullable=False),
        sa.CheckConstraint("threshold >= 3", name=op.f("ck_casework_release_threshold_min")),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_casework_release_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_release")),
        sa.UniqueConstraint("partnership_id", "quarter", name="uq_casework_release_quarter"),
    )
    with op.batch_alter_table("casework_release", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_casework_release_partnership_id"), ["partnership_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("casework_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_release_partnership_id"))
    op.drop_table("casework_release")
