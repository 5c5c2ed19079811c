"""`reticulist casework import|export`: families and their people to and from spreadsheets.

The columns are described in ``reticulist.casework.transfer`` and docs/casework.md. The command line is
the operator's (it holds the database's credentials): it works as the early help coordinator would, and
each import or export is audited with the operator's name.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from reticulist.access.policy import cli_actor
from reticulist.casework import transfer
from reticulist.cli.common import (
    DATABASE_OPTION,
    console,
    database_session,
    err_console,
    operator_name,
    partnership_id_for,
)
from reticulist.cli.failures import outcome
from reticulist.errors import InputError
from reticulist.register.transfer import FileFormat

app = typer.Typer(no_args_is_help=True)


@app.command("import")
@outcome("during the import", "nothing was imported", "the import is all or nothing, so run it again")
def import_command(
    file: Path = typer.Argument(
        ..., metavar="FILE", help="Families, one row per person: .csv (UTF-8) or .xlsx."
    ),
    partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Import families with their people and open episodes: every row is checked first, then all or none."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        actor = dataclasses.replace(
            cli_actor(f"import of {file.name} by {operator_name()} (command line)"), via="import"
        )
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task(f"Checking {escape(file.name)}", total=None)
                result = transfer.import_families(
                    session,
                    actor=actor,
                    partnership_id=partnership_id,
                    path=file,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            session.commit()
        except InputError as exc:
            session.rollback()
            for problem in exc.problems:
                err_console.print(f"[red]error:[/red] {escape(str(problem))}", soft_wrap=True)
            err_console.print(f"Nothing was imported from {escape(file.name)}.", soft_wrap=True)
            raise typer.Exit(1) from None
    console.print(
        f"Imported {result.families} families ({result.people} people) from {escape(file.name)}.",
        soft_wrap=True,
    )


@app.command("export")
@outcome("during the export", "the families file was not written, or only in part", "run the export again")
def export_command(
    partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
    to: Path = typer.Option(
        ..., "--to", metavar="FILE.csv", help="Where to write the families (.csv or .xlsx)."
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Export the families with an open episode, one row per person, in the columns import reads; shielded
    addresses are left out."""
    suffix = to.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        err_console.print(
            f"[red]error:[/red] --to: give a file name ending in .csv or .xlsx, not {escape(to.name)}"
        )
        raise typer.Exit(1)
    if not to.parent.is_dir():
        err_console.print(f"[red]error:[/red] --to: there is no folder {escape(str(to.parent))}")
        raise typer.Exit(1)
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        count = transfer.export_families(
            session,
            actor=cli_actor(f"export by {operator_name()} (command line)"),
            partnership_id=partnership_id,
            path=to,
            file_format=FileFormat.CSV if suffix == ".csv" else FileFormat.XLSX,
        )
        session.commit()
    console.print(f"Wrote {count} families to {escape(str(to))}.", soft_wrap=True)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="casework", help="Casework: families and their people to and from spreadsheets.")
