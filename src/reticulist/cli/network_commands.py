"""`reticulist network ...`: ties between people, to and from spreadsheets.

The columns are described in ``reticulist.network.importers`` and docs/network.md.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.markup import escape

from reticulist.access.policy import cli_actor
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
from reticulist.network import importers

app = typer.Typer(no_args_is_help=True)


@app.command("import")
@outcome("during the import", "nothing was imported", "the import is all or nothing, so run it again")
def import_command(
    file: Path = typer.Argument(..., metavar="FILE", help="The ties: a .csv (UTF-8) or .xlsx file."),
    partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Import ties between people of a partnership: every row is checked first, then all or none stored."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        label = f"import of {file.name} by {operator_name()} (command line)"
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
@outcome("during the export", "the ties file was not written, or only in part", "run the export again")
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
            session, actor=cli_actor(f"export by {operator_name()}"), partnership_id=partnership_id, path=to
        )
    console.print(f"Wrote {count} ties to {escape(str(to))}.", soft_wrap=True)


@app.command("figures")
@outcome("while working out the figures", "the figures file was not written, or only in part", "run it again")
def figures_command(
    partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
    to: Path = typer.Option(
        ..., "--to", metavar="FILE.csv", help="Where to write the figures (.csv or .xlsx)."
    ),
    source: list[str] = typer.Option(
        [],
        "--source",
        metavar="NAME[=WEIGHT]",
        help="A source of ties and its weight, e.g. --source reported --source co_attendance=0.5; repeat "
        "for more. Default: the stored ties (reported, imported) if there are any, else co_attendance and "
        "shared_actions.",
    ),
    since: str = typer.Option(
        "", "--since", help="Ties from this date (YYYY-MM-DD, or all: the beginning); default a year back."
    ),
    as_of: str = typer.Option("", "--as-of", help="Ties up to this date (YYYY-MM-DD); default today."),
    min_weight: str = typer.Option("", "--min-weight", help="Leave out ties weaker than this in all."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Write each person's network figures (degree, betweenness, Burt's measures, brokerage roles,
    organisations reached, key-person risk, boundary-spanner rank) as on the network page, with names."""
    from datetime import date

    from reticulist.network import analysis, export

    if to.suffix.lower() not in (".csv", ".xlsx"):
        err_console.print(
            f"[red]error:[/red] --to: give a file name ending in .csv or .xlsx, not {escape(to.name)}"
        )
        raise typer.Exit(1)
    if not to.parent.is_dir():
        err_console.print(f"[red]error:[/red] --to: there is no folder {escape(str(to.parent))}")
        raise typer.Exit(1)
    values: dict[str, list[str]] = {}
    if source:
        values["sources"] = [item.split("=", 1)[0].strip() for item in source]
        for item in source:
            if "=" in item:
                name, weight = item.split("=", 1)
                values[f"w_{name.strip()}"] = [weight]
    for key, text in (("as_of", as_of), ("min_weight", min_weight)):
        if text:
            values[key] = [text]
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        actor = cli_actor(f"network figures by {operator_name()}")
        default = analysis.default_choice(
            session, actor=actor, partnership_id=partnership_id, today=date.today()
        )
        # "all" is from the beginning; no --since keeps the default year.
        values["since"] = ["" if since == "all" else since or (default.since or date.min).isoformat()]
        choice = analysis.parse_choice(values, default=default)
        view = analysis.network_view(
            session, actor=actor, partnership_id=partnership_id, choice=choice, spanners=None
        )
        count = export.write_file(to, view, analysis.people_table(view))
    console.print(f"Wrote the figures of {count} people to {escape(str(to))}.", soft_wrap=True)


def register(main: typer.Typer) -> None:
    main.add_typer(
        app, name="network", help="The network: import and export ties between people, and their figures."
    )
