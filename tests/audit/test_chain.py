"""The audit log's hash chain (SQLite and PostgreSQL): every row written is chained in order, also by
writers at once and across rollbacks; and someone with direct database access who sets the append-only
triggers aside and changes, removes, adds or reorders rows is caught by `reticulist audit verify`, which
names the first row that does not fit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from reticulist.access.policy import cli_actor
from reticulist.audit import chain
from reticulist.audit import service as audit
from reticulist.audit.models import AuditChain, AuditEvent
from reticulist.cli.main import app
from reticulist.db.base import utcnow
from tests.conftest import World

runner = CliRunner()


def _write(db: Session, n: int, label: str = "test", after: Any = None) -> None:
    for i in range(n):
        audit.record(
            db,
            actor=cli_actor(label),
            event="viewed",
            record_type="family",
            record_id=i,
            partnership_id=None,
            summary=f"{label} {i}",
            after=after
            if after is not None
            else {"i": i, "what": "the family's record", "é": [1, 2.5, None]},
        )


@contextmanager
def _around_the_triggers(engine: Engine) -> Iterator[None]:
    """What someone with database access can do: set the append-only triggers aside (and put them back
    afterwards, for the next test)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change"))
            else:
                for verb in ("UPDATE", "DELETE"):
                    connection.execute(
                        text(
                            f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
                        )
                    )


def _tamper(engine: Engine, sql: str, **params: Any) -> None:
    with _around_the_triggers(engine), engine.begin() as connection:
        connection.execute(text(sql), params)


def test_every_row_a_session_writes_is_chained_in_order(db: Session, world: World, engine: Engine) -> None:
    _write(db, 5)
    db.commit()
    rows = db.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))  # the world's rows, then these
    assert [r.summary for r in rows[-5:]] == [f"test {i}" for i in range(5)]
    head = db.execute(select(AuditChain.last_seq, AuditChain.last_hash)).one()
    assert tuple(head) == (rows[-1].chain_seq, rows[-1].chain_hash)
    result = chain.verify(engine)
    assert result.problem is None and result.rows == len(rows)


def test_rolled_back_rows_leave_no_gap(db: Session, world: World, engine: Engine) -> None:
    db.commit()
    before = db.scalar(select(AuditChain.last_seq))
    _write(db, 3)
    db.flush()
    db.rollback()
    assert db.scalar(select(AuditChain.last_seq)) == before
    _write(db, 2)
    db.commit()
    assert db.scalar(select(func.max(AuditEvent.chain_seq))) == before + 2
    assert chain.verify(engine).problem is None


def test_writers_at_once_take_turns_at_the_head(
    world: World, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            start.wait()
            for _ in range(5):
                with session_factory() as session:
                    _write(session, 3, label=f"writer {k}")
                    session.commit()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    with session_factory() as session:
        seqs = session.scalars(select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq)).all()
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 90
    result = chain.verify(engine, workers=2)
    assert result.problem is None and result.rows == len(seqs)


def test_bulk_rows_are_chained_too(db: Session, world: World, engine: Engine) -> None:
    db.commit()
    rows = [
        {
            "actor_label": "demo",
            "event": "created",
            "record_type": "family",
            "summary": f"bulk {i}",
            "via": "demo",
        }
        for i in range(50)
    ]
    chain.insert_chained(db.connection(), rows)
    _write(db, 1)
    db.commit()
    assert chain.verify(engine).problem is None


@pytest.mark.parametrize(
    "attack, reason",
    [
        ("UPDATE audit_event SET summary = 'nothing to see' WHERE chain_seq = :n", "does not match its hash"),
        (
            "UPDATE audit_event SET actor_label = 'someone else' WHERE chain_seq = :n",
            "does not match its hash",
        ),
        ("UPDATE audit_event SET after = NULL WHERE chain_seq = :n", "does not match its hash"),
        ("UPDATE audit_event SET at = at WHERE chain_seq = :n", None),  # no change: still verifies
        ("DELETE FROM audit_event WHERE chain_seq = :n", "is missing"),
        # Two rows swapped, with their places: each row's hash still names the row before it.
        ("UPDATE audit_event SET chain_seq = CASE WHEN chain_seq = :n THEN -1 ELSE chain_seq END", None),
    ],
)
def test_a_row_changed_around_the_triggers_is_named(
    db: Session, world: World, engine: Engine, attack: str, reason: str | None
) -> None:
    _write(db, 10)
    db.commit()
    target = db.scalar(select(func.max(AuditEvent.chain_seq))) - 4
    target_id = db.scalar(select(AuditEvent.id).where(AuditEvent.chain_seq == target))
    db.close()
    if "-1" in attack:  # move the row out of its place: the place is then missing
        reason = "is missing"
    _tamper(engine, attack, n=target)
    result = chain.verify(engine)
    if reason is None:
        assert result.problem is None
        return
    assert result.problem is not None and reason in result.problem.reason
    assert result.problem.seq == target
    if "hash" in reason:
        assert result.problem.row_id == target_id
    # A check of rows further on still passes: it starts from the stored hash of the row before them.
    assert chain.verify(engine, first=target + 2).problem is None
    # The command says the same and exits 1.
    url = engine.url.render_as_string(hide_password=False)
    failed = runner.invoke(app, ["audit", "verify", "--database", url, "--workers", "1"])
    assert failed.exit_code == 1 and f"row {target} of the chain" in " ".join(failed.output.split())


def test_rows_added_or_cut_at_the_end_and_rows_outside_the_chain(
    db: Session, world: World, engine: Engine
) -> None:
    _write(db, 3)
    db.commit()
    top, top_hash = db.execute(select(AuditChain.last_seq, AuditChain.last_hash)).one()
    db.close()
    # A forged row past the head, even with a hash worked out correctly from the last one.
    forged = {
        "actor_label": "nobody",
        "event": "viewed",
        "record_type": "family",
        "summary": "forged",
        "via": "web",
        "at": utcnow(),
    }
    chain.chain_values([forged], top, top_hash)
    with engine.begin() as connection:
        connection.execute(AuditEvent.__table__.insert(), [forged])
    result = chain.verify(engine)
    assert result.problem is not None and "past the chain's head" in result.problem.reason
    _tamper(engine, "DELETE FROM audit_event WHERE summary = 'forged'")
    assert chain.verify(engine).problem is None
    # The last row cut off: the head says where the chain ended.
    _tamper(engine, "DELETE FROM audit_event WHERE chain_seq = :n", n=top)
    result = chain.verify(engine)
    assert result.problem is not None and result.problem.seq == top
    # A row written around the chain altogether.
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_event (at, actor_label, event, record_type, summary, via) "
                "VALUES (:at, 'x', 'viewed', 'family', 'unchained', 'web')"
            ),
            {"at": utcnow()},
        )
    result = chain.verify(engine)
    assert result.problem is not None and result.problem.reason == "this row is not in the chain"


def test_the_command_line(db: Session, world: World, engine: Engine) -> None:
    _write(db, 20)
    db.commit()
    url = engine.url.render_as_string(hide_password=False)
    ok = runner.invoke(app, ["audit", "verify", "--database", url, "--workers", "2"])
    assert ok.exit_code == 0 and "The audit log verifies" in ok.output
    part = runner.invoke(app, ["audit", "verify", "--database", url, "--from", "3", "--to", "7"])
    assert part.exit_code == 0 and "5 rows checked (rows 3 to 7)" in part.output
    for bad in (["--from", "0"], ["--from", "x"], ["--from", "9", "--to", "2"], ["--workers", "0"]):
        refused = runner.invoke(app, ["audit", "verify", "--database", url, *bad])
        assert refused.exit_code == 2, bad
