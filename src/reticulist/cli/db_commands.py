"""`reticulist db ...`: schema migrations."""

from __future__ import annotations

import typer
from rich.markup import escape

from reticulist.cli.common import DATABASE_OPTION, console, err_console, settings_for
from reticulist.cli.failures import outcome
from reticulist.db import migrate
from reticulist.db.engine import make_engine

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
@outcome(
    "during the schema upgrade",
    "the schema is at the last revision the upgrade finished (reticulist db current says which)",
    "run reticulist db upgrade again",
)
def upgrade(database: str | None = DATABASE_OPTION) -> None:
    """Create or upgrade the database schema to this version of Reticulist."""
    url = settings_for(database).database_url
    try:
        migrate.upgrade(url)
    except migrate.UpgradeRefused as exc:  # records to fix first; the message names them
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None
    console.print(f"Database schema is at revision {migrate.head_revision()}.")


@app.command("current")
@outcome("during the schema check", "nothing was changed")
def current(database: str | None = DATABASE_OPTION) -> None:
    """Show the database's schema revision and whether it is up to date."""
    engine = make_engine(settings_for(database).database_url)
    revision = migrate.current_revision(engine)
    engine.dispose()
    head = migrate.head_revision()
    state = "up to date" if revision == head else f"behind: run `reticulist db upgrade` (needs {head})"
    console.print(f"Schema revision: {revision or 'none'} ({state})")
    if revision != head:
        raise typer.Exit(1)
