"""audit: a hash chain over the log (each row's hash covers the row before it), and the chain's head

Rows already in the log are chained in the order they were written (by id). The append-only triggers are
set aside for that one update and put back, on both databases; on SQLite the table is not rebuilt (that
would lose them), so the columns stay nullable there as here, and ``reticulist audit verify`` reports a
row outside the chain.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_BATCH = 5_000


def _triggers(on: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_event {'ENABLE' if on else 'DISABLE'} TRIGGER audit_event_no_change")
    elif on:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")


def upgrade() -> None:
    from reticulist.audit.chain import GENESIS, row_hash

    op.add_column("audit_event", sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_event", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    bind = op.get_bind()
    seq, previous = 0, GENESIS
    _triggers(False)
    last_id = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, at, actor_user_id, actor_label, partnership_id, event, record_type, record_id, "
                "summary, before, after, via FROM audit_event WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last_id, "n": _BATCH},
        ).all()
        if not rows:
            break
        updates = []
        for row in rows:
            seq += 1
            at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(row.at)
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
            parsed = [json.loads(v) if isinstance(v, str) else v for v in (row.before, row.after)]
            previous = row_hash(
                previous,
                seq,
                at,
                row.actor_user_id,
                row.actor_label,
                row.partnership_id,
                row.event,
                row.record_type,
                row.record_id,
                row.summary,
                *parsed,
                row.via,
            )
            updates.append({"i": row.id, "s": seq, "h": previous})
        bind.execute(sa.text("UPDATE audit_event SET chain_seq = :s, chain_hash = :h WHERE id = :i"), updates)
        last_id = rows[-1].id
    _triggers(True)
    bind.execute(
        sa.text("INSERT INTO audit_chain (id, last_seq, last_hash) VALUES (1, :s, :h)"),
        {"s": seq, "h": previous},
    )
    op.create_index("uq_audit_event_chain_seq", "audit_event", ["chain_seq"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_audit_event_chain_seq", table_name="audit_event")
    op.drop_table("audit_chain")
    # SQLite drops columns by rebuilding the table, which would lose the triggers: set them aside and back.
    _triggers(False)
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")
    _triggers(True)
