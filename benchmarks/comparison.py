"""Issue 13's target for comparing partnerships: 150 partnerships, 300,000 people, 3,000,000 ties, 200,000
barometer responses; the comparison from stored figures in under 10 s and the recomputation of every
partnership's figures plus the study in under 180 s, on this 2-core machine.

1. Setup (not timed in the figures; its time is printed): 150 partnerships of 2,000 people and 20,000 ties
   each from ``comparison.synthetic.generate_partnerships`` (with the demo's planted late-entry effect),
   each written by ``comparison.demo.store_partnership`` as the register, network and barometer hold a real
   one (register, board seats, a year of meetings with attendance, imported ties, a barometer round of
   1,333 or 1,334 imported answers released by the barometer's own scoring), one comparison group, every
   partnership opted in (which computes and stores its figures). A complete database from an earlier run
   with the same options is reused (``--rebuild`` builds it again).
2. Timed, from stored figures: ``comparison.service.comparison`` as the group's analysts see it (a site
   administrator) and as one partnership's managers see it, each the first call in a new session;
   X is their sum. Nothing is recomputed: the network analysis and ``figures.compute`` are made to raise
   while this runs, and the stored figures are checked to be the same rows afterwards.
3. Timed, recomputed: ``figures.refresh(everything=True, workers=N)``, as ``reticulist comparison refresh
   --all`` runs it (N processes, by default the cores up to 4): every partnership's register, network and
   round figures and its people's rows, stored; plus ``service.run_study`` on the pooled 300,000 people;
   Y is their sum, Z the study alone. Then, apart, the research extract (``service.research_extract``
   and writing it as CSV).

SQLite, a file under /tmp named after the options, by default (kept for the next run). With ``--database
postgresql+psycopg://postgres@127.0.0.1:5432/test`` the script makes a database of its own on that server
(named after the options, never the one in the URL) and drops it at the end unless ``--keep``.

    .venv/bin/python benchmarks/comparison.py [--quick] [--partnerships 150] [--people 2000]
        [--ties-per-person 10] [--responses 200000] [--database URL] [--rebuild] [--keep] [--seed 2026]
        [--workers N]

Last line: ``comparison: 150 partnerships: X s from stored figures, Y s recomputed (study Z s)``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from reticulist.access.policy import Actor, Role, cli_actor
from reticulist.barometer.models import BarometerRelease, BarometerResponse
from reticulist.comparison import extract, service
from reticulist.comparison import figures as stored_figures
from reticulist.comparison.demo import LATE_ENTRY_EFFECT, store_partnership
from reticulist.comparison.models import ComparisonGroup, ComparisonMember, PartnershipFigures, PersonFigures
from reticulist.comparison.synthetic import generate_partnerships
from reticulist.db import migrate
from reticulist.db.engine import is_sqlite, make_engine, make_session_factory
from reticulist.network import metrics
from reticulist.network.models import NetworkTie
from reticulist.register.models import Partnership, Person

SECRET = "benchmark-comparison-secret-" + "x" * 24
GROUP = "Benchmark group"
COMPLETE = "Built whole:"
QUICK = {"partnerships": 10, "people": 300, "responses": 1_000}
progress_console = Console(stderr=True)


def say(words: str) -> None:
    print(words, flush=True)


def respondents_per_partnership(responses: int, partnerships: int) -> list[int]:
    """``responses`` spread as evenly as whole answers go: 200,000 over 150 is 50 x 1,334 and 100 x 1,333."""
    each, extra = divmod(responses, partnerships)
    return [each + (1 if k < extra else 0) for k in range(partnerships)]


def group_name(args: argparse.Namespace) -> str:
    return (
        f"{GROUP}: {args.partnerships} partnerships of {args.people} people, {args.ties_per_person:g} "
        f"ties per person, {args.responses} responses, seed {args.seed}"
    )


def database_name(args: argparse.Namespace) -> str:
    return (
        f"reticulist_bench_comparison_{args.partnerships}x{args.people}x{args.ties_per_person:g}"
        f"_r{args.responses}_s{args.seed}"
    ).replace(".", "_")


@contextmanager
def benchmark_database(args: argparse.Namespace) -> Iterator[str]:
    """The database URL: a SQLite file under /tmp (kept), or a database of our own on the PostgreSQL
    server of ``--database`` (dropped at the end unless ``--keep``)."""
    if args.database is None or is_sqlite(args.database):
        path = Path(tempfile.gettempdir()) / f"{database_name(args)}.sqlite3"
        if args.database is not None:
            path = Path(make_url(args.database).database or path)
        if args.rebuild:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    name = database_name(args)
    admin = create_engine(args.database, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists and args.rebuild:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(args.database).set(database=name).render_as_string(hide_password=False)
    finally:
        if not args.keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def counts(session: Session, group_id: int | None = None) -> dict[str, int]:
    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    found = {
        "partnerships": count(Partnership),
        "people": count(Person),
        "ties": count(NetworkTie),
        "barometer responses": count(BarometerResponse),
        "released rounds": count(BarometerRelease),
        "stored figures": count(PartnershipFigures),
        "people's rows": count(PersonFigures),
    }
    if group_id is not None:
        found["opted in"] = int(
            session.scalar(
                select(func.count())
                .select_from(ComparisonMember)
                .where(ComparisonMember.group_id == group_id)
            )
            or 0
        )
    return found


def complete(session: Session, args: argparse.Namespace, group: ComparisonGroup) -> bool:
    """Whether an earlier run built this database whole (a run stopped halfway leaves fewer rows, and the
    group's description says how many ties a whole build wrote)."""
    if not group.description.startswith(COMPLETE):
        return False
    found = counts(session, group.id)
    return (
        found["partnerships"] == args.partnerships
        and found["opted in"] == args.partnerships
        and found["stored figures"] == args.partnerships
        and found["people"] == args.partnerships * args.people
        and found["ties"] == int(group.description.split()[-2])
        and found["barometer responses"] == args.responses
        and found["released rounds"] == args.partnerships
    )


def existing_group(sessions: sessionmaker[Session], args: argparse.Namespace) -> int | None:
    with sessions() as session:
        group = session.scalar(select(ComparisonGroup).where(ComparisonGroup.name == group_name(args)))
        if group is not None and complete(session, args, group):
            return group.id
        if session.scalar(select(func.count()).select_from(Partnership)):
            raise SystemExit(
                "the benchmark database holds an incomplete or different build: run again with --rebuild"
            )
    return None


def build(sessions: sessionmaker[Session], args: argparse.Namespace) -> tuple[int, dict[str, float]]:
    """Every partnership stored and opted in, one transaction each; the group's id and where time went."""
    actor = cli_actor("comparison benchmark")
    today = date.today()
    rng = np.random.default_rng(args.seed + 13)  # the rounds' answers, seats' changes, attendance
    spent = {"generate": 0.0, "store (register, ties, barometer)": 0.0, "opt in (figures)": 0.0}
    with sessions() as session:
        group = service.create_group(session, actor=actor, name=group_name(args), description="Benchmark.")
        session.commit()
        group_id = group.id
    answered = respondents_per_partnership(args.responses, args.partnerships)
    with Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=progress_console,
    ) as progress:
        task = progress.add_task("Generating partnerships", total=None)
        mark = time.perf_counter()
        generated = generate_partnerships(
            args.partnerships,
            people=(args.people, args.people),
            ties_per_person=(args.ties_per_person, args.ties_per_person),
            late_entry_effect=LATE_ENTRY_EFFECT,
            seed=args.seed,
        )
        spent["generate"] = time.perf_counter() - mark
        progress.update(task, description="Storing and opting in", completed=0, total=args.partnerships)
        for k, partnership in enumerate(generated):
            with sessions() as session:
                mark = time.perf_counter()
                pid = store_partnership(
                    session, partnership, actor=actor, today=today, rng=rng, respondents=answered[k]
                )
                session.flush()
                middle = time.perf_counter()
                service.opt_in(session, actor=actor, partnership_id=pid, group_id=group_id, named=k % 2 == 0)
                session.commit()
                done = time.perf_counter()
            spent["store (register, ties, barometer)"] += middle - mark
            spent["opt in (figures)"] += done - middle
            progress.update(task, completed=k + 1)
    with sessions() as session:
        # Said last, so that a build stopped halfway is never taken for a complete one.
        ties = sum(p.ties for p in generated)
        session.get(ComparisonGroup, group_id).description = f"{COMPLETE} {ties} ties"  # type: ignore[union-attr]
        session.commit()
    return group_id, spent


@contextmanager
def no_recomputation() -> Iterator[None]:
    """Make any network analysis or figures computation fail while the block runs."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the comparison from stored figures recomputed a partnership's figures")

    saved = (stored_figures.compute, metrics.analyse_network)
    stored_figures.compute, metrics.analyse_network = refuse, refuse
    try:
        yield
    finally:
        stored_figures.compute, metrics.analyse_network = saved


def stored_state(session: Session) -> list[tuple[int, Any]]:
    return [
        (row.partnership_id, row.computed_at)
        for row in session.execute(
            select(PartnershipFigures.partnership_id, PartnershipFigures.computed_at).order_by(
                PartnershipFigures.partnership_id
            )
        )
    ]


def timed(run: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partnerships", type=int, default=150)
    parser.add_argument("--people", type=int, default=2000, help="people per partnership")
    parser.add_argument("--ties-per-person", type=float, default=10.0)
    parser.add_argument("--responses", type=int, default=200_000, help="barometer responses in all")
    parser.add_argument("--database", help="PostgreSQL server URL (a database of our own is made on it)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again even if complete")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database for the next run")
    parser.add_argument("--seed", type=int, default=2026, help="another seed draws other partnerships")
    parser.add_argument("--runs", type=int, default=5, help="repeated comparisons for the warm median")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="processes the refresh computes partnerships in (as the command line: the cores, at most 4)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="10 partnerships of 300 people, 1,000 responses: a fast check"
    )
    args = parser.parse_args()
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)

    with benchmark_database(args) as url:
        say(f"database: {make_url(url).render_as_string(hide_password=True)}")
        started = time.perf_counter()
        migrate.upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine, secret_key=SECRET)
        group_id = existing_group(sessions, args)
        if group_id is not None:
            say(f"setup: reused the complete database built earlier ({time.perf_counter() - started:.1f} s)")
        else:
            group_id, spent = build(sessions, args)
            built = time.perf_counter() - started
            say(
                f"setup: built in {built:.0f} s (not timed in the figures): "
                + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in spent.items())
            )
        with sessions() as session:
            found = counts(session, group_id)
            partnership_ids = sorted(
                session.scalars(
                    select(ComparisonMember.partnership_id).where(ComparisonMember.group_id == group_id)
                )
            )
        say("  " + ", ".join(f"{n:,} {name}" for name, n in found.items()))
        n = len(partnership_ids)
        own = partnership_ids[n // 2]
        analyst = cli_actor("comparison benchmark")
        manager = Actor(user_id=None, label="benchmark manager", roles={own: Role.MANAGER})

        # 2. The comparison from stored figures.
        def analysts_view() -> service.Comparison:
            with sessions() as session:
                return service.comparison(session, actor=analyst, group_id=group_id)

        def managers_view() -> service.Comparison:
            with sessions() as session:
                return service.comparison(session, actor=manager, group_id=group_id, partnership_id=own)

        with sessions() as session:
            before = stored_state(session)
        with no_recomputation():
            first_analysts, seen = timed(analysts_view)
            first_managers, mine = timed(managers_view)
            warm_analysts = statistics.median(timed(analysts_view)[0] for _ in range(args.runs))
            warm_managers = statistics.median(timed(managers_view)[0] for _ in range(args.runs))
        with sessions() as session:
            assert stored_state(session) == before, "the stored figures changed during the comparison"
        assert len(seen.rows) == n and all(not p.behind for p in seen.peers), "figures missing or behind"
        assert mine.own is not None and mine.own.partnership_id == own
        x = first_analysts + first_managers
        say(
            f"comparison from stored figures (first call in a new session; median of {args.runs} more): "
            f"analysts' view {first_analysts:.2f} s ({warm_analysts:.2f} s), one partnership's managers' "
            f"view {first_managers:.2f} s ({warm_managers:.2f} s); X = their sum {x:.2f} s"
        )
        say(
            f"  {len(seen.rows)} partnerships' rows, {len(seen.constructs)} constructs on "
            f"{seen.instrument.ref if seen.instrument else 'no instrument'}; nothing recomputed"
        )
        if seen.headline:
            say(f"  analysts' first headline: {seen.headline[0]}")

        # 3. Every partnership's figures recomputed, and the study.
        with Progress(
            TextColumn("{task.description:<40}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=progress_console,
        ) as progress:
            task = progress.add_task("Recomputing every partnership's figures", total=n)
            with sessions() as session:
                refresh_seconds, refreshed = timed(
                    lambda: stored_figures.refresh(
                        session,
                        everything=True,
                        workers=args.workers,
                        progress=lambda done, total: progress.update(task, completed=done, total=total),
                    )
                )
        assert refreshed.partnerships == n
        with sessions() as session:
            z, result = timed(lambda: service.run_study(session, actor=analyst, group_id=group_id))
            session.commit()
        y = refresh_seconds + z
        say(
            f"recomputed: {refreshed.partnerships} partnerships' figures and {refreshed.people:,} people's "
            f"rows in {refresh_seconds:.1f} s ({(y - z) / n:.2f} s per partnership, {args.workers} worker "
            f"process{'es' if args.workers != 1 else ''}), study {z:.1f} s "
            f"({result.people:,} people, {result.partnerships} partnerships); Y = {y:.1f} s"
        )
        for line in result.words[:2]:
            say(f"  study: {line}")

        with sessions() as session, tempfile.TemporaryDirectory(prefix="comparison-extract-") as directory:
            start = time.perf_counter()
            coarsened = service.research_extract(session, actor=analyst, group_id=group_id)
            made = time.perf_counter() - start
            written = extract.write_extract(coarsened, Path(directory) / "extract.csv", format="csv")
            extract_seconds = time.perf_counter() - start
            size = (Path(directory) / "extract.csv").stat().st_size
            session.commit()
        say(
            f"research extract: {extract_seconds:.1f} s ({made:.1f} s to make, "
            f"{extract_seconds - made:.1f} s to write {written:,} rows, {size / 1e6:.1f} MB of CSV; "
            f"{coarsened.suppressed:,} people left out for k = {coarsened.k})"
        )
        say(
            f"reference: recomputing ({y:.1f} s) takes {y / x:.0f} x as long as the comparison from stored "
            f"figures ({x:.2f} s)"
        )
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        say(f"peak memory: {peak_gb:.2f} GB")
        targets = "met" if x < 10 and y < 180 else "MISSED"
        say(f"targets X < 10 s and Y < 180 s: {targets}")
        engine.dispose()
        print(
            f"comparison: {n} partnerships: {x:.1f} s from stored figures, {y:.1f} s recomputed "
            f"(study {z:.1f} s)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
