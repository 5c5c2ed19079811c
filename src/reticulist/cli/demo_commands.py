"""`reticulist demo`: build the generated Brempton demo partnership, print the logins, serve the app."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

import reticulist.db.models  # noqa: F401  (every table in Base.metadata, for the safety check)
from reticulist.access.models import User
from reticulist.barometer import service as barometer
from reticulist.casework.demo import add_demo_casework, add_demo_sharing
from reticulist.cli.common import console, err_console, settings_for
from reticulist.cli.failures import note_database, now, outcome
from reticulist.comparison.demo import (
    ANALYST_EMAIL,
    ANALYST_PASSWORD,
    PEERS,
    add_demo_comparison,
    peer_names,
)
from reticulist.db import migrate
from reticulist.db.base import Base
from reticulist.db.engine import is_sqlite, make_engine, make_session_factory
from reticulist.linkage.demo import add_demo_linkage
from reticulist.register.demo import (
    DEMO_ACCOUNTS,
    DEMO_SEED,
    build_demo,
    create_demo_accounts,
    demo_actor,
    demo_partnership_name,
)
from reticulist.register.models import Partnership

DEMO_FILE = "reticulist-demo.sqlite3"


class DemoRefused(Exception):
    """The chosen database holds something other than the demo; the message says what."""


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def clear_for_demo(url: str) -> None:
    """Make ``url`` ready for a fresh demo: empty is fine; a database holding only an earlier demo is
    emptied (a SQLite file is deleted, PostgreSQL tables are truncated, which the append-only audit log
    allows because TRUNCATE fires no row triggers); anything else is refused and left untouched."""
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if not tables:
            return
        known = set(Base.metadata.tables) | {"alembic_version"}
        foreign = sorted(tables - known)
        where = engine.url.render_as_string(hide_password=True)
        if foreign:
            raise DemoRefused(
                f"{where} holds tables that are not Reticulist's ({', '.join(foreign[:5])}); "
                "the demo only uses an empty database or one holding nothing but an earlier demo."
            )
        with engine.connect() as connection:
            partnerships = (
                set(connection.scalars(select(Partnership.name))) if "partnership" in tables else set()
            )
            emails = set(connection.scalars(select(User.email))) if "user_account" in tables else set()
        others = sorted(partnerships - {demo_partnership_name()} - peer_names()) + sorted(
            emails - {a.email for a in DEMO_ACCOUNTS} - {ANALYST_EMAIL}
        )
        if others:
            shown = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
            raise DemoRefused(
                f"{where} already holds other data ({shown}); the demo would replace it, so it stops here. "
                "Use an empty database, or leave out --database to use ./" + DEMO_FILE + "."
            )
        if is_sqlite(url):
            engine.dispose()
            database = make_url(url).database
            if database and database != ":memory:":
                _remove_sqlite_files(Path(database))
            return
        ours = ", ".join(f'"{name}"' for name in sorted(tables & set(Base.metadata.tables)))
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {ours} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def build_demo_database(url: str, *, seed: int = DEMO_SEED, show_progress: bool = True) -> int:
    """Migrate ``url``, generate the demo partnership and its accounts in one transaction; return its id."""
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with (
            make_session_factory(engine)() as session,
            Progress(
                TextColumn("{task.description:<34}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=not show_progress,
            ) as progress,
        ):
            task = progress.add_task("Building the demo partnership", total=None)

            def report(what: str, done: int, total: int) -> None:
                progress.update(task, description=what, completed=done, total=total)

            partnership_id = build_demo(session, seed=seed, progress=report, barometer=True)
            progress.update(task, description="Casework: families and their teams")
            cases = add_demo_casework(
                session, actor=demo_actor(), partnership_id=partnership_id, seed=seed, today=date.today()
            )
            progress.update(task, description="Demo accounts")
            create_demo_accounts(
                session, partnership_id=partnership_id, practitioner_person_id=cases.lead_person_id
            )
            add_demo_sharing(session, partnership_id=partnership_id, cases=cases, today=date.today())
            add_demo_linkage(
                session,
                actor=demo_actor(),
                partnership_id=partnership_id,
                seed=seed,
                step=lambda words: progress.update(task, description=words),
            )
            add_demo_comparison(
                session,
                actor=demo_actor(),
                partnership_id=partnership_id,
                seed=seed,
                today=date.today(),
                step=lambda words: progress.update(task, description=words),
            )
            session.commit()
            progress.update(task, description="Done")
        return partnership_id
    finally:
        engine.dispose()


def barometer_rounds_line(url: str, partnership_id: int, address: str) -> str:
    """One line on the demo's barometer rounds and where the latest round's results are."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rounds = barometer.list_rounds(session, actor=demo_actor(), partnership_id=partnership_id)
    finally:
        engine.dispose()
    if not rounds:
        return "Barometer: no rounds."
    rounds.sort(key=lambda r: r.round.opens_on)
    done = "; ".join(f"{r.round.title} ({r.responses} responses, {r.status_label.lower()})" for r in rounds)
    latest = rounds[-1].round
    return (
        f"Barometer: {done}. Latest results: "
        f"{address}/p/{partnership_id}/barometer/rounds/{latest.id}/results"
    )


def register(app: typer.Typer) -> None:
    @app.command("demo")
    @outcome("while building the demo", "the demo was not built", "run reticulist demo again")
    def demo(
        database: str | None = typer.Option(
            None,
            "--database",
            help=f"SQLAlchemy URL to build the demo in instead of ./{DEMO_FILE} (which is rebuilt from "
            "scratch each run). It must be empty or hold only an earlier demo, which is then emptied; "
            "a database holding anything else is refused and left untouched.",
        ),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the web app once built."),
        seed: int = typer.Option(DEMO_SEED, "--seed", help="Random seed; the same seed gives the same demo."),
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
    ) -> None:
        """Build the Brempton demo partnership (generated from 002 Annex), print the logins and serve it."""
        from reticulist.cli.web_commands import refuse_public_development_secret, serve_app

        if serve:  # before building anything
            refuse_public_development_secret(settings_for(database), host)
        if database is None:
            path = Path.cwd() / DEMO_FILE
            _remove_sqlite_files(path)
            url = f"sqlite:///{path}"
        else:
            url = database
            note_database(url)
            try:
                clear_for_demo(url)
            except DemoRefused as exc:
                err_console.print(f"[red]error:[/red] database: {exc}")
                raise typer.Exit(1) from None
        note_database(url)
        partnership_id = build_demo_database(url, seed=seed)
        now("while showing the demo", "the demo is built all the same", "serve it with reticulist serve")

        address = f"http://{host}:{port}"
        console.print(
            f"\n[bold]{demo_partnership_name()}[/bold] is ready in "
            f"{make_url(url).render_as_string(hide_password=True)}"
        )
        # Plain aligned lines, not a table: they fit 80 columns whole, so no login is cut short or folded
        # (either would make it impossible to copy).
        console.print("\n[bold]Demo logins[/bold] (demo-only passwords: never use them for real data)")
        for account in DEMO_ACCOUNTS:
            console.print(
                f"  {account.role.value:<17}{account.email:<35}{account.password}",
                markup=False,
                highlight=False,
            )
        console.print(
            f"  {'group analyst':<17}{ANALYST_EMAIL:<35}{ANALYST_PASSWORD}", markup=False, highlight=False
        )
        console.print(f"Overview: {address}/p/{partnership_id}")
        console.print(
            f"Casework: {address}/p/{partnership_id}/cases (log in as the practitioner, the coordinator or "
            "the data protection officer; managers do not see families' records)",
            soft_wrap=True,
        )
        console.print(
            f"Linkage: {address}/p/{partnership_id}/linkage (log in as the linkage analyst; no other role "
            "sees linkage)",
            soft_wrap=True,
        )
        console.print(
            f"Comparison: {address}/p/{partnership_id}/comparison (managers: Brempton against {PEERS} "
            f"generated peers); {address}/comparison (the group analyst: every partnership and the study)",
            soft_wrap=True,
        )
        console.print(barometer_rounds_line(url, partnership_id, address), soft_wrap=True)
        if serve:
            now("while serving the demo", "the server stopped; the demo is built all the same")
            console.print(f"Serving on {address} (Ctrl+C to stop).")
            serve_app(settings_for(url), host, port)
