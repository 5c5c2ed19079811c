"""Benchmark: a 20,000-person register import (target: SQLite's write lock held for a couple of seconds).

`reticulist import people` checks every row first, reading the register once into lookups and holding no
lock, then writes the rows in bulk and commits. Only the writing holds SQLite's write lock, so only it
makes web writes wait. This builds the demo partnership (190 people, ``register.demo.build_demo``),
writes a 20,000-person file in the export's own format (``transfer.write_table``, CSV), and imports it
twice: into the 190-person register, then (a second file, other emails) into the 20,190-person register
the first import left. For each it prints the seconds spent checking, writing (the write lock's hold
time, as ``ImportResult`` measures it from the first INSERT to the end of the commit) and in all, and the
longest any other write waited meanwhile: a second connection writes a row every 20 ms throughout, as a
web form would.

The row-by-row path it replaces (every row through ``register.create_person``, an audit entry per row,
no index on person.email) took 33.6 s into the 190-person register and about 103 s into the 20,190-person
one on this machine (issue 9), holding the lock all along. ``--reference`` runs that path again on the
same data for a ratio (the email index now speeds its lookups, so it is faster than it was): it takes
minutes.

SQLite (a temporary file) always; PostgreSQL too when it can be reached at ``--postgres`` (default: the
local server), in a scratch database of its own that is dropped at the end.

    .venv/bin/python benchmarks/register_import.py [--people 20000] [--reference] [--postgres URL|none]

The last line printed is
``register import: 20,000 people into 20,190: sqlite check X s, write Y s, total Z s; postgresql ...``
(on SQLite the write figure is how long the write lock was held).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scratch import scratch_database  # benchmarks/scratch.py
from sqlalchemy import Engine, create_engine, delete, func, insert, select, text
from sqlalchemy.exc import OperationalError

from reticulist.access.models import Throttle
from reticulist.access.policy import cli_actor
from reticulist.db.engine import make_engine, make_session_factory
from reticulist.db.migrate import upgrade
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register import transfer
from reticulist.register.demo import build_demo
from reticulist.register.models import Organisation, Person, Profession
from reticulist.register.transfer import COLUMNS, FileFormat, RecordType

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OLD_SECONDS = {190: 33.6, 20_190: 103.0}  # issue 9: the row-by-row import, SQLite, this machine
TODAY = date(2026, 1, 15)


def reachable(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:  # not reachable, for whatever reason: the PostgreSQL half is left out, and said so
        return False


def people_file(path: Path, count: int, start: int, organisations: list[str], professions: list[str]) -> Path:
    """``count`` people in the export's columns, spread over the partnership's organisations; one in ten
    has left (an end date), one in twenty has no email."""
    rows = []
    for n in range(start, start + count):
        rows.append(
            {
                "full_name": f"Practitioner {n}",
                "email": None if n % 20 == 0 else f"practitioner.{n}@example.org",
                "organisation": organisations[n % len(organisations)],
                "profession": professions[n % len(professions)] if n % 7 else None,
                "hierarchy_tier": n % 5 + 1,
                "years_in_profession": n % 30,
                "late_entry": "yes" if n % 11 == 0 else "no",
                "interprofessional_training": "yes" if n % 3 == 0 else "no",
                "joined_on": date(2015 + n % 10, n % 12 + 1, n % 28 + 1),
                "ended_on": date(2025, n % 12 + 1, n % 28 + 1) if n % 10 == 0 else None,
            }
        )
    transfer.write_table(path, COLUMNS[RecordType.PEOPLE].order, rows, FileFormat.CSV)
    return path


class OtherWriter:
    """Another connection writing a small row every 20 ms, as web forms would, timing each write: the
    longest one is how long the import made a web write wait."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.waits: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            key = f"benchmark-writer-{n}"
            started = time.perf_counter()
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(Throttle).values(key=key, hits=1, quiet_until=0.0, next_at=0.0))
                    connection.execute(delete(Throttle).where(Throttle.key == key))
                self.waits.append(time.perf_counter() - started)
            except OperationalError:  # "database is locked": the wait ran past the busy timeout
                self.failures += 1
            self._stop.wait(0.02)

    def __enter__(self) -> OtherWriter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def longest(self) -> float:
        return max(self.waits, default=0.0)


@dataclass
class Figures:
    register_size: int
    check: float
    write: float
    total: float
    longest_other_write: float
    other_failures: int


def import_people(url: str, partnership_id: int, path: Path) -> Figures:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    actor = dataclasses.replace(cli_actor(f"import of {path.name}"), via="import")
    with factory() as session:
        size = session.scalar(select(func.count()).where(Person.partnership_id == partnership_id)) or 0
    with OtherWriter(make_engine(url)) as other, factory() as session:
        started = time.perf_counter()
        result = transfer.import_file(
            session, actor=actor, partnership_id=partnership_id, kind=RecordType.PEOPLE, path=path
        )
        total = time.perf_counter() - started
    other.engine.dispose()
    engine.dispose()
    return Figures(size, result.checked_seconds, result.written_seconds, total, other.longest, other.failures)


def row_by_row(url: str, partnership_id: int, path: Path) -> float:
    """The replaced path, for the ratio: each row through the register service, one transaction."""
    engine = make_engine(url)
    actor = dataclasses.replace(cli_actor("reference"), via="import")
    table = transfer.read_table(path, RecordType.PEOPLE)
    with make_session_factory(engine)() as session:
        mine = Organisation.partnership_id == partnership_id
        organisations = {o.name: o.id for o in session.scalars(select(Organisation).where(mine))}
        professions = {
            p.name: p.id
            for p in session.scalars(select(Profession).where(Profession.partnership_id == partnership_id))
        }
        started = time.perf_counter()
        for _, values in table.rows:
            fields = {k: v for k, v in values.items() if k not in ("organisation", "profession", "ended_on")}
            data = s.parse(
                s.PersonCreate,
                {
                    **{k: v for k, v in fields.items() if v not in (None, "")},
                    "organisation_id": organisations[values["organisation"]],
                    "profession_id": professions.get(values["profession"]),
                },
            )
            person = register.create_person(session, actor=actor, partnership_id=partnership_id, data=data)
            if values.get("ended_on"):
                ended = s.parse_date(values["ended_on"])
                register.end_person(session, actor=actor, person_id=person.id, ended_on=ended)  # type: ignore[arg-type]
        session.commit()
        seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def names(url: str, partnership_id: int) -> tuple[list[str], list[str]]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        organisations = list(
            session.scalars(select(Organisation.name).where(Organisation.partnership_id == partnership_id))
        )
        professions = list(
            session.scalars(select(Profession.name).where(Profession.partnership_id == partnership_id))
        )
    engine.dispose()
    return organisations, professions


def demo_partnership(url: str, name: str | None = None) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        partnership_id = build_demo(session, today=TODAY, name=name)
        session.commit()
    engine.dispose()
    return partnership_id


def run(backend: str, admin_url: str | None, people: int, reference: bool, workdir: Path) -> list[Figures]:
    with scratch_database(admin_url) as url:
        upgrade(url)
        partnership_id = demo_partnership(url)
        organisations, professions = names(url, partnership_id)
        figures = []
        for round_number in range(2):
            path = workdir / f"people-{backend}-{round_number}.csv"
            people_file(path, people, round_number * people, organisations, professions)
            found = import_people(url, partnership_id, path)
            figures.append(found)
            old = OLD_SECONDS.get(found.register_size) if people == 20_000 else None
            # PostgreSQL locks rows, not the database: other writes go on during the writing there.
            held = "write lock" if backend == "sqlite" else "no lock on others"
            print(
                f"{backend}: {people:,} people into {found.register_size:,}: check {found.check:.2f} s, "
                f"write {found.write:.2f} s ({held}), total {found.total:.2f} s; "
                f"longest other write {found.longest_other_write * 1000:.0f} ms"
                + (f", {found.other_failures} failed" if found.other_failures else "")
                + (f" (row by row before: {old:.1f} s, all of it under the lock)" if old else ""),
                flush=True,
            )
        if reference:  # into a second demo partnership of 190, to compare with the first import
            reference_id = demo_partnership(url, name="Reference partnership")
            path = workdir / f"people-{backend}-reference.csv"
            people_file(path, people, 0, *names(url, reference_id))
            seconds = row_by_row(url, reference_id, path)
            print(
                f"{backend}: reference, row by row through the service, {people:,} people into 190: "
                f"{seconds:.1f} s under the lock, {seconds / figures[0].write:.0f}x the bulk write",
                flush=True,
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--reference", action="store_true", help="also time the old row-by-row path")
    parser.add_argument("--postgres", default=POSTGRES_URL, help="admin URL, or 'none' for SQLite only")
    args = parser.parse_args()
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.postgres != "none" and reachable(args.postgres):
        backends.append(("postgresql", args.postgres))
    elif args.postgres != "none":
        print(f"postgresql: not reachable at {args.postgres}; SQLite only", flush=True)
    results: dict[str, list[Figures]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for backend, admin_url in backends:
            results[backend] = run(backend, admin_url, args.people, args.reference, Path(directory))
    parts = [
        f"{backend} check {f[-1].check:.2f} s, write {f[-1].write:.2f} s, total {f[-1].total:.2f} s"
        for backend, f in results.items()
    ]
    size = results["sqlite"][-1].register_size
    print(f"register import: {args.people:,} people into {size:,}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
