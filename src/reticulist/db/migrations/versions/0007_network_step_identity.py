"""the network step is bound to a person: invitations carry the register person they were issued for and
the keyed hash of a separate network link; network ties get random ids instead of a sequence

A tie's sequential id gave away the order in which people sent their network step. New ties get random
ids (barometer.models.random_id); existing ones are renumbered at random here. Nothing refers to a tie's
id.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("barometer_invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("network_token_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_barometer_invitation_person_id"), ["person_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_barometer_invitation_network_token_hash"), ["network_token_hash"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_barometer_invitation_person_id_person"), "person", ["person_id"], ["id"]
        )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("network_tie", "id", type_=sa.BigInteger(), existing_nullable=False)
        op.execute("ALTER TABLE network_tie ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS network_tie_id_seq")
        op.execute("UPDATE network_tie SET id = floor(random() * 9007199254740990)::bigint + 1")
    else:
        # SQLite's INTEGER PRIMARY KEY is already 64-bit.
        op.execute("UPDATE network_tie SET id = abs(random()) % 9007199254740990 + 1")


def downgrade() -> None:
    # Random tie ids are kept (they fit a BIGINT, not an INTEGER); only a sequence for new rows comes back.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS network_tie_id_seq OWNED BY network_tie.id")
        op.execute("SELECT setval('network_tie_id_seq', coalesce(max(id), 0) + 1, false) FROM network_tie")
        op.execute("ALTER TABLE network_tie ALTER COLUMN id SET DEFAULT nextval('network_tie_id_seq')")
    with op.batch_alter_table("barometer_invitation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_barometer_invitation_person_id_person"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_barometer_invitation_network_token_hash"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_barometer_invitation_person_id"))
        batch_op.drop_column("network_token_hash")
        batch_op.drop_column("person_id")
