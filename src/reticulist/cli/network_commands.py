"""`reticulist network ...`: ties between people, to and from spreadsheets.

The columns are described in ``reticulist.network.importers`` and docs/network.md.
"""

from __future__ import annotations

import dataclasses
import getpass
from pathlib import Path

import typer
from rich.markup import escape

from reticulist.access.policy import cli_actor
from reticulist.cli.common import DATABASE_OPTION, console, database_session, err_console, partnership_id_for
from reticulist.errors import InputError
from reticulist.network import importers

app = typer.Typer(no_args_is_help=True)


def _operator() -> str:
    """Who ran the command, for the audit log (the database credentials do not say)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers; the log still says it was the command line
        return "unknown user"


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., metavar="FILE", help="The ties: a .csv (UTF-8) or .xlsx file."),
    partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Import ties between people of a partnership: every row is checked first, then all or none stored."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        label = f"import of {file.name} by {_operator()} (command line)"
        actor = dataclasses.replace(cli_actor(label), via="import")
        try:
            result = importers.import_file(session, actor=actor, partnership_id=partnership_id, path=file)
        except InputError as exc:
            for problem in exc.problems:
                err_console.print(f"[red]error:[/red] {escape(str(problem))}", soft_wrap=True)
            err_console.print(f"Nothing was imported from {escape(file.name)}.", soft_wrap=True)
            raise typer.Exit(1) from None
    console.print(f"Imported {result.rows} ties from {escape(file.name)}.", soft_wrap=True)


@app.command("export")
def export_command(
    partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
    to: Path = typer.Option(..., "--to", metavar="FILE.csv", help="Where to write the ties (.csv or .xlsx)."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Export a partnership's stored ties (reported and imported) in the columns import reads."""
    if to.suffix.lower() not in (".csv", ".xlsx"):
        err_console.print(
            f"[red]error:[/red] --to: give a file name ending in .csv or .xlsx, not {escape(to.name)}"
        )
        raise typer.Exit(1)
    if not to.parent.is_dir():
        err_console.print(f"[red]error:[/red] --to: there is no folder {escape(str(to.parent))}")
        raise typer.Exit(1)
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        count = importers.export_file(
            session, actor=cli_actor(f"export by {_operator()}"), partnership_id=partnership_id, path=to
        )
    console.print(f"Wrote {count} ties to {escape(str(to))}.", soft_wrap=True)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="network", help="The network: import and export ties between people.")
