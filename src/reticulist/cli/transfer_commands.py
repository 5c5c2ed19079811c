"""`reticulist import ...` and `reticulist export ...`: the register to and from spreadsheets.

The columns of each file are described in ``reticulist.register.transfer``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from reticulist.access.policy import cli_actor
from reticulist.cli.common import DATABASE_OPTION, console, database_session, err_console, partnership_id_for
from reticulist.cli.failures import outcome
from reticulist.errors import InputError
from reticulist.register import transfer
from reticulist.register.transfer import FileFormat, RecordType

PROGRESS_FROM_ROWS = 200  # shorter imports finish before a bar would be worth drawing


def _import(kind: RecordType, path: Path, partnership: str, database: str | None) -> None:
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        actor = dataclasses.replace(cli_actor(f"import of {path.name}"), via="import")
        try:
            table = transfer.read_table(path, kind)
            if len(table.rows) > PROGRESS_FROM_ROWS:
                # Checking every row comes first (nothing is written); then the writing, in a few batches.
                with Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=err_console,
                    transient=True,
                ) as bar:
                    checking = bar.add_task(f"Checking {escape(path.name)}", total=len(table.rows))
                    writing = bar.add_task(f"Writing {escape(path.name)}", total=len(table.rows), start=False)

                    def written(done: int, total: int) -> None:
                        bar.start_task(writing)
                        bar.update(writing, completed=done, total=total)

                    result = transfer.import_table(
                        session,
                        actor=actor,
                        partnership_id=partnership_id,
                        kind=kind,
                        table=table,
                        progress=lambda done, total: bar.update(checking, completed=done, total=total),
                        write_progress=written,
                    )
            else:
                result = transfer.import_table(
                    session, actor=actor, partnership_id=partnership_id, kind=kind, table=table
                )
        except InputError as exc:
            for problem in exc.problems:
                err_console.print(f"[red]error:[/red] {escape(str(problem))}", soft_wrap=True)
            err_console.print(f"Nothing was imported from {escape(path.name)}.", soft_wrap=True)
            raise typer.Exit(1) from None
    console.print(f"Imported {result.rows} {kind.value} rows from {escape(path.name)}.", soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command("import")
    @outcome("during the import", "nothing was imported", "the import is all or nothing, so run it again")
    def import_command(
        kind: RecordType = typer.Argument(..., help="Which record type the file holds."),
        file: Path = typer.Argument(..., help="A .csv (UTF-8) or .xlsx file with the export's columns."),
        partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
        database: str | None = DATABASE_OPTION,
    ) -> None:
        """Import a spreadsheet of one record type: every row is checked first, then all or none written."""
        _import(kind, file, partnership, database)

    @app.command("export")
    @outcome(
        "during the export",
        "nothing in the register was changed, but the folder may hold only some of the files",
        "run the export again",
    )
    def export_command(
        partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
        to: Path = typer.Option(..., "--to", help="Folder to write the files into (created if missing)."),
        file_format: FileFormat = typer.Option(FileFormat.CSV, "--format", help="csv or xlsx."),
        database: str | None = DATABASE_OPTION,
    ) -> None:
        """Export the register: one file per record type, in the columns import reads back."""
        with database_session(database) as session:
            partnership_id = partnership_id_for(session, partnership)
            paths = transfer.export_partnership(
                session,
                actor=cli_actor("export"),
                partnership_id=partnership_id,
                directory=to,
                file_format=file_format,
            )
        for path in paths:
            console.print(f"Wrote {escape(str(path))}", soft_wrap=True)
