"""The audit log as a hash chain: each row carries the SHA-256 of the row before it and its own content, so a
row changed, removed or slipped in afterwards (by someone with direct access to the database, who could
first drop the append-only triggers) breaks the chain from that row on, and ``verify`` names it.

How rows are chained: when a session flushes new audit rows, ``_chain_new_rows`` (a ``before_flush``
listener on every session) locks the chain's head (one row of ``audit_chain``: the last position and hash),
gives each new row the next position, its time, and its hash, and moves the head on, all in the writer's
transaction. Two transactions writing audit rows at once take turns at the head, so positions are gap-free
in commit order; a transaction that rolls back rolls its head move back with it.

What a row's hash covers: its position, time, who (id and label), partnership, event, record type and
id, summary, the before and after JSON (as stored: those two columns store their keys sorted, so the text
is a function of the value; db/base.py SortedJSON) and how it came (web, api...). Not the row's id, which is
only a storage key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, func, select, text
from sqlalchemy.orm import Session

from reticulist.audit.models import AuditChain, AuditEvent
from reticulist.db.base import canonical_json, utcnow

GENESIS = "0" * 64  # the "hash before the first row"
_SEP = "\x1f"


def _time(at: datetime) -> str:
    """UTC to the microsecond, without a zone: 2026-11-30T09:15:02.123456."""
    if at.tzinfo is not None and at.utcoffset():
        at = at.astimezone(UTC)
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def _json_text(value: Any) -> str:
    """A before/after value as stored text: SQL NULL and JSON null alike are "null"."""
    if value is None:
        return "null"
    return value if isinstance(value, str) else canonical_json(value)


def row_content(
    at: datetime,
    actor_user_id: int | None,
    actor_label: str,
    partnership_id: int | None,
    event_name: str,
    record_type: str,
    record_id: int | None,
    summary: str,
    before: Any,
    after: Any,
    via: str,
) -> str:
    """What a row's hash covers besides its place and the hash before it. ``before``/``after``: the JSON
    text as stored, or the values (written canonically)."""
    return _SEP.join(
        (
            _time(at),
            "" if actor_user_id is None else str(actor_user_id),
            actor_label,
            "" if partnership_id is None else str(partnership_id),
            event_name,
            record_type,
            "" if record_id is None else str(record_id),
            summary,
            _json_text(before),
            _json_text(after),
            via,
        )
    )


def row_hash(previous: str, seq: int, *content: Any) -> str:
    """The row's hash (hex), chained to ``previous``: SHA-256 of the previous hash, the row's place and
    its content (``row_content``'s arguments), joined by the unit separator. PostgreSQL works out the same
    in ``_POSTGRES_NEXT`` when a row is written."""
    text_ = f"{previous}{_SEP}{seq}{_SEP}{row_content(*content)}"
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


# --- chaining new rows ------------------------------------------------------------------------------------
def lock_head(connection: Connection) -> tuple[int, str]:
    """Lock the chain's head for this transaction and read it (creating it when there is none yet)."""
    if connection.dialect.name == "postgresql":
        read = text("SELECT last_seq, last_hash FROM audit_chain WHERE id = 1 FOR UPDATE")
    else:  # SQLite: a write first takes the database's one write lock, so the read is current
        connection.execute(text("UPDATE audit_chain SET last_seq = last_seq WHERE id = 1"))
        read = text("SELECT last_seq, last_hash FROM audit_chain WHERE id = 1")
    row = connection.execute(read).first()
    if row is None:  # a new (or emptied) database: two writers may race here, one insert wins
        connection.execute(
            text(
                "INSERT INTO audit_chain (id, last_seq, last_hash) VALUES (1, 0, :g) ON CONFLICT DO NOTHING"
            ),
            {"g": GENESIS},
        )
        row = connection.execute(read).one()
    return int(row[0]), str(row[1])


def move_head(connection: Connection, seq: int, hash_: str) -> None:
    """Set the head to the last row written (the lock taken by ``lock_head`` holds till commit)."""
    connection.execute(
        text("UPDATE audit_chain SET last_seq = :s, last_hash = :h WHERE id = 1"), {"s": seq, "h": hash_}
    )


def chain_values(rows: Sequence[dict[str, Any]], seq: int, previous: str) -> tuple[int, str]:
    """Fill ``chain_seq``, ``chain_hash`` (and ``at`` when missing) of audit rows given as dicts of the
    table's columns, in order, after position ``seq`` and hash ``previous``; the new head."""
    for row in rows:
        seq += 1
        row["at"] = row.get("at") or utcnow()
        previous = row_hash(
            previous,
            seq,
            row["at"],
            row.get("actor_user_id"),
            row["actor_label"],
            row.get("partnership_id"),
            row["event"],
            row["record_type"],
            row.get("record_id"),
            row["summary"],
            row.get("before"),
            row.get("after"),
            row["via"],
        )
        row["chain_seq"], row["chain_hash"] = seq, previous
    return seq, previous


def insert_chained(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert audit rows in bulk (for callers that write many at once), chained like any other."""
    if not rows:
        return
    seq, previous = lock_head(connection)
    rows = [dict(r) for r in rows]
    seq, previous = chain_values(rows, seq, previous)
    connection.execute(AuditEvent.__table__.insert(), rows)
    move_head(connection, seq, previous)


_COLUMNS = (
    "actor_user_id",
    "actor_label",
    "partnership_id",
    "event",
    "record_type",
    "record_id",
    "summary",
    "before",
    "after",
    "via",
)


# PostgreSQL locks the head, moves it on and works out the row's hash in one statement (one round trip
# for each row written; the hash is the same as ``row_hash``'s).
_POSTGRES_NEXT = (
    "UPDATE audit_chain SET last_seq = last_seq + 1, last_hash = encode(sha256(convert_to("
    "last_hash || chr(31) || (last_seq + 1)::text || chr(31) || %(content)s, 'UTF8')), 'hex') "
    "WHERE id = 1 RETURNING last_seq, last_hash"
)


def _next_on_postgres(connection: Connection, content: str) -> tuple[int, str] | None:
    row = connection.exec_driver_sql(_POSTGRES_NEXT, {"content": content}).first()
    return (int(row[0]), str(row[1])) if row else None


@event.listens_for(Session, "before_flush")
def _chain_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    new = [o for o in session.new if isinstance(o, AuditEvent) and o.chain_hash is None]
    if not new:
        return
    new.sort(key=lambda o: getattr(o, "order", 0))  # in the order they were recorded
    connection = session.connection()
    for entry in new:
        entry.at = entry.at or utcnow()
    if connection.dialect.name == "postgresql":
        for entry in new:
            content = row_content(entry.at, *(getattr(entry, c) for c in _COLUMNS))
            moved = _next_on_postgres(connection, content)
            if moved is None:  # no head yet (a new or emptied database)
                lock_head(connection)
                moved = _next_on_postgres(connection, content)
                assert moved is not None
            entry.chain_seq, entry.chain_hash = moved
        return
    seq, previous = lock_head(connection)
    for entry in new:
        values = {c: getattr(entry, c) for c in _COLUMNS}
        values["at"] = entry.at
        seq, previous = chain_values([values], seq, previous)
        entry.chain_seq, entry.chain_hash = seq, previous
    move_head(connection, seq, previous)


# --- verifying --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Break:
    """The first row that does not fit: its position in the chain, its id, and what is wrong."""

    seq: int
    row_id: int | None
    reason: str


@dataclass(frozen=True)
class Verified:
    rows: int  # rows checked
    first_seq: int
    last_seq: int
    problem: Break | None


def _query(connection: Connection, first: int, last: int) -> Any:
    """The rows ``first``..``last`` in chain order, with before and after as their stored JSON text (the
    hash covers the text; parsing and writing it again for millions of rows would double the time)."""
    as_text = (
        "CAST(before AS TEXT), CAST(after AS TEXT)"
        if connection.dialect.name == "postgresql"
        else "before, after"
    )
    return text(
        "SELECT chain_seq, id, chain_hash, at, actor_user_id, actor_label, partnership_id, event, "
        f"record_type, record_id, summary, {as_text}, via FROM audit_event "
        "WHERE chain_seq >= :first AND chain_seq <= :last ORDER BY chain_seq"
    ).bindparams(first=first, last=last)


def _check_range(connection: Connection, first: int, last: int, previous: str) -> tuple[int, Break | None]:
    """Check rows ``first``..``last`` against the hash before them; (rows seen, first break)."""
    expected = first
    seen = 0
    rows = connection.execution_options(yield_per=20_000).execute(_query(connection, first, last))
    for row in rows:
        seq, row_id, stored = row[0], row[1], row[2]
        if seq != expected:
            return seen, Break(expected, None, f"row {expected} of the chain is missing (next is {seq})")
        at = row[3]
        if isinstance(at, str):  # SQLite, read raw
            at = datetime.fromisoformat(at)
        values = (at, row[4], row[5], row[6], row[7], row[8], row[9], row[10], row[11], row[12], row[13])
        computed = row_hash(previous, seq, *values)
        if computed != stored:
            # JSON stored before the keys were sorted (rows chained by migration 0016): compare its parsed
            # form before calling it a break.
            parsed = [json.loads(v) if isinstance(v, str) else v for v in (row[11], row[12])]
            again = row_hash(previous, seq, *values[:8], *parsed, values[10])
            if again != stored:
                return seen, Break(seq, row_id, "its content or its place does not match its hash")
        previous = stored
        expected += 1
        seen += 1
    if expected != last + 1:
        return seen, Break(
            expected, None, f"row {expected} of the chain is missing (the chain ends at {last})"
        )
    return seen, None


def _stored_hash(connection: Connection, seq: int) -> str | None:
    if seq == 0:
        return GENESIS
    return connection.execute(
        text("SELECT chain_hash FROM audit_event WHERE chain_seq = :s"), {"s": seq}
    ).scalar_one_or_none()


def _verify_part(url: str, first: int, last: int) -> tuple[int, Break | None]:
    from reticulist.db.engine import make_engine

    engine = make_engine(url)
    try:
        return _check_with(engine, first, last)
    finally:
        engine.dispose()


def _parts(first: int, last: int, workers: int) -> Iterator[tuple[int, int]]:
    size = max(1, -(-(last - first + 1) // workers))
    for start in range(first, last + 1, size):
        yield start, min(last, start + size - 1)


def verify(
    engine: Engine, *, first: int | None = None, last: int | None = None, workers: int = 1
) -> Verified:
    """Check the chain, or the rows from position ``first`` to ``last`` (each row against the stored hash
    of the row before it). The whole chain is also checked against its head, and for rows outside it.
    ``workers`` > 1 checks parts of the chain in as many processes at once."""
    with engine.connect() as connection:
        head = connection.execute(select(AuditChain.last_seq, AuditChain.last_hash)).first()
        top = connection.scalar(select(func.max(AuditEvent.chain_seq))) or 0
        unchained = connection.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.chain_hash.is_(None)))
    head_seq, head_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS)
    first_seq = 1 if first is None else max(1, first)
    last_seq = head_seq if last is None else min(last, head_seq)
    whole = first is None and last is None
    if whole and unchained is not None:
        return Verified(0, first_seq, last_seq, Break(0, unchained, "this row is not in the chain"))
    if whole and top > head_seq:
        return Verified(0, first_seq, last_seq, Break(head_seq + 1, None, "a row lies past the chain's head"))
    if last_seq < first_seq:
        return Verified(0, first_seq, last_seq, None)
    url = engine.url.render_as_string(hide_password=False)
    parts = list(_parts(first_seq, last_seq, max(1, workers)))
    if len(parts) == 1:
        results = [_check_with(engine, *parts[0])]
    else:
        with ProcessPoolExecutor(max_workers=len(parts)) as pool:
            results = list(pool.map(_verify_part, [url] * len(parts), *zip(*parts, strict=True)))
    seen = sum(n for n, _ in results)
    problems = [p for _, p in results if p is not None]
    problem = min(problems, key=lambda p: p.seq) if problems else None
    if problem is None and whole and head_seq:
        with engine.connect() as connection:
            if _stored_hash(connection, head_seq) != head_hash:
                problem = Break(head_seq, None, "the chain's head does not match its last row")
    return Verified(seen, first_seq, last_seq, problem)


def _check_with(engine: Engine, first: int, last: int) -> tuple[int, Break | None]:
    with engine.connect() as connection:
        previous = _stored_hash(connection, first - 1)
        if previous is None:
            return 0, Break(first - 1, None, f"row {first - 1} of the chain is missing")
        return _check_range(connection, first, last, previous)
