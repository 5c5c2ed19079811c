"""barometer responses get random ids instead of a sequence

Sequential ids give away the order in which responses arrived, which could be lined up with other timed
records to guess who sent which. New responses get random ids (barometer.models.random_id); existing ones
are renumbered at random here. Nothing refers to a response's id.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("barometer_response", "id", type_=sa.BigInteger(), existing_nullable=False)
        op.execute("ALTER TABLE barometer_response ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS barometer_response_id_seq")
        op.execute("UPDATE barometer_response SET id = floor(random() * 9007199254740990)::bigint + 1")
    else:
        # SQLite's INTEGER PRIMARY KEY is already 64-bit.
        op.execute("UPDATE barometer_response SET id = abs(random()) % 9007199254740990 + 1")


def downgrade() -> None:
    # Random ids are kept (they fit a BIGINT, not an INTEGER); only a sequence for new rows comes back.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS barometer_response_id_seq OWNED BY barometer_response.id")
        op.execute(
            "SELECT setval('barometer_response_id_seq', coalesce(max(id), 0) + 1, false) "
            "FROM barometer_response"
        )
        op.execute(
            "ALTER TABLE barometer_response ALTER COLUMN id SET DEFAULT nextval('barometer_response_id_seq')"
        )
