"""`reticulist barometer ...`: the Partnership Barometer from the command line.

``reticulist barometer import ROUND FILE`` stores survey responses gathered outside Reticulist (Microsoft
Forms, Google Forms, any spreadsheet) in a round; the layouts are described in
``reticulist.barometer.importers`` and docs/barometer.md.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import TracebackType
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import cli_actor
from reticulist.barometer import importers
from reticulist.barometer.importers import FormFormat
from reticulist.barometer.models import BarometerRound
from reticulist.barometer.report_network import network_section
from reticulist.barometer.report_pdf import report_pdf
from reticulist.barometer.results import NotReleased, release_results, round_report
from reticulist.cli.common import DATABASE_OPTION, console, database_session, err_console
from reticulist.cli.failures import now, outcome
from reticulist.comparison.report_section import comparison_section
from reticulist.errors import InputError
from reticulist.register.models import Partnership
from reticulist.register.schemas import record_id_or_none

PROGRESS_FROM_ROWS = 500  # smaller files are checked before a bar would be worth drawing

app = typer.Typer(no_args_is_help=True)


def round_id_for(session: Session, round_ref: str) -> int:
    """The round named on the command line: its number, or "PARTNERSHIP/ROUND TITLE" (names as written,
    ignoring case and extra spaces). Exits 1 when there is no such round, or more than one."""
    text = round_ref.strip()
    if text.isdigit():
        number = record_id_or_none(text)
        if number is None or session.get(BarometerRound, number) is None:
            _fail(f'round: no round number {text} (give its number or "PARTNERSHIP/ROUND TITLE")')
        return number
    if "/" not in text:
        _fail(f'round: "{text}" is neither a round number nor "PARTNERSHIP/ROUND TITLE"')
    rows = session.execute(
        select(BarometerRound.id, BarometerRound.title, Partnership.name).join(
            Partnership, Partnership.id == BarometerRound.partnership_id
        )
    ).all()
    key = importers.text_key
    # A partnership name or a round title may itself hold "/", so every split of the reference is tried.
    wanted = {(key(text[:i]), key(text[i + 1 :])) for i, char in enumerate(text) if char == "/"}
    matches = sorted(r.id for r in rows if (key(r.name), key(r.title)) in wanted)
    if not matches:
        _fail(f'round: no round "{text}" (give its number or "PARTNERSHIP/ROUND TITLE")')
    if len(matches) > 1:
        numbers = ", ".join(str(m) for m in matches)
        _fail(f'round: "{text}" names {len(matches)} rounds (numbers {numbers}); give the round number')
    return matches[0]


def _fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)


class LazyBar:
    """A progress bar that appears only once a file turns out to have more than PROGRESS_FROM_ROWS rows,
    and only on a terminal (a log file would get a blank line and nothing to see)."""

    def __init__(self, label: str, console: Console) -> None:
        self.label = label
        self.console = console
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if total <= PROGRESS_FROM_ROWS or not self.console.is_terminal:
            return
        if self.bar is None:
            self.bar = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("check", total=total)
        assert self.task is not None
        self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> LazyBar:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()


def _report(result: importers.ImportedResponses, path: Path) -> None:
    parsed = result.parsed
    how = "found from its header" if parsed.detected else "as asked"
    console.print(f"Read {escape(path.name)} as {parsed.form_format.label} ({how}).", soft_wrap=True)
    if parsed.identity_columns:
        names = ", ".join(parsed.identity_columns)
        console.print(
            f"Ignored identity columns: {escape(names)} (never read, never stored).", soft_wrap=True
        )
    if parsed.completion_column is not None:
        column = parsed.labels[importers.COMPLETED_ON]
        console.print(f"Completion days from {escape(column)} (the day only).", soft_wrap=True)
    if parsed.ignored_columns:
        names = "; ".join(parsed.ignored_columns)
        console.print(f"Ignored columns: {escape(names)}.", soft_wrap=True)
    if parsed.empty_rows:
        rows = ", ".join(str(r) for r in parsed.empty_rows)
        console.print(f"Not imported (no answer at all): rows {rows}.", soft_wrap=True)
    console.print(
        f'Imported {result.count} responses into round {result.round_id} "{escape(result.round_title)}".',
        soft_wrap=True,
    )


@app.command("import")
@outcome("during the import", "nothing was imported", "the import is all or nothing, so run it again")
def import_command(
    round_ref: str = typer.Argument(
        ..., metavar="ROUND", help='The round\'s number, or "PARTNERSHIP/ROUND TITLE".'
    ),
    file: Path = typer.Argument(..., metavar="FILE", help="The responses: a .csv (UTF-8) or .xlsx export."),
    form_format: FormFormat | None = typer.Option(
        None, "--format", help="The file's layout; found from its header when left out."
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", help='A CSV/XLSX with columns "header" and "item": question text -> item key.'
    ),
    ignore_unmapped: bool = typer.Option(
        False, "--ignore-unmapped", help="Leave out columns that answer no item instead of refusing the file."
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Import survey responses gathered outside Reticulist into a round: all rows or none."""
    with database_session(database) as session:
        round_id = round_id_for(session, round_ref)
        actor = dataclasses.replace(cli_actor(f"import of {file.name}"), via="import")
        try:
            with LazyBar(f"Checking {escape(file.name)}", err_console) as bar:
                result = importers.import_responses(
                    session,
                    actor=actor,
                    round_id=round_id,
                    path=file,
                    form_format=form_format,
                    mapping_path=mapping,
                    ignore_unmapped=ignore_unmapped,
                    progress=bar,
                )
        except InputError as exc:
            for problem in exc.problems:
                err_console.print(f"[red]error:[/red] {escape(str(problem))}", soft_wrap=True)
            err_console.print(f"Nothing was imported from {escape(file.name)}.", soft_wrap=True)
            raise typer.Exit(1) from None
    _report(result, file)


@app.command("release")
@outcome("during the release", "nothing was released", "run it again")
def release_command(
    round_ref: str = typer.Argument(
        ..., metavar="ROUND", help='The round\'s number, or "PARTNERSHIP/ROUND TITLE".'
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Release a closed round's results, once: score the answers, hide what would single anyone out, and
    publish the figures for the partnership. After this the round takes no more answers."""
    with database_session(database) as session:
        round_id = round_id_for(session, round_ref)
        try:
            release = release_results(session, actor=cli_actor("barometer release"), round_id=round_id)
        except InputError as exc:
            _fail(str(exc.problems[0].message if exc.problems else exc))
        session.commit()
        now(
            "while reading the released figures back",
            "the results were released all the same (the round's page shows them)",
        )
        report = round_report(session, actor=cli_actor("barometer release"), round_id=round_id)
    cost = report.cost
    hidden = (
        f" {cost.small_groups + cost.groups_hidden_to_protect} groups and "
        f"{cost.small_cells + cost.cells_hidden_to_protect} single figures are hidden for anonymity."
        if cost
        else " No breakdowns are published (the round had an open link)."
        if report.open_link
        else ""
    )
    console.print(
        f'Released the results of round {round_id} "{escape(report.round_title)}" on '
        f"{release.respondents} responses.{hidden}",
        soft_wrap=True,
    )


@app.command("report")
@outcome("while writing the report", "no report was written", "run it again")
def report_command(
    round_ref: str = typer.Argument(
        ..., metavar="ROUND", help='The round\'s number, or "PARTNERSHIP/ROUND TITLE".'
    ),
    to: Path = typer.Option(..., "--to", metavar="FILE.pdf", help="Where to write the board report (PDF)."),
    no_names: bool = typer.Option(
        False,
        "--no-names",
        help='Show people in "Who works with whom" as "Organisation · Profession #k", not by name: for a '
        "board pack that circulates widely.",
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Write a round's board report as a PDF: the summary for the board, the figures, who works with
    whom, and the annex. The command runs with the operator's authority, so people are named unless
    --no-names is given."""
    if to.suffix.lower() != ".pdf":
        _fail(f"--to: give a file name ending in .pdf, not {to.name}")
    if not to.parent.is_dir():
        _fail(f"--to: there is no folder {to.parent}")
    with database_session(database) as session:
        round_id = round_id_for(session, round_ref)
        actor = cli_actor("board report")
        try:
            report = round_report(session, actor=actor, round_id=round_id)
        except NotReleased as exc:
            _fail(f"{exc} Release them with: reticulist barometer release {round_id}")
        partnership = session.get(Partnership, report.partnership_id)
        assert partnership is not None  # a round always belongs to a partnership
        network = compared = None
        if not report.too_few:
            network = network_section(session, actor=actor, report=report, names=not no_names)
            compared = comparison_section(
                session, actor=actor, partnership_id=report.partnership_id, report=report
            )
        data = report_pdf(report, partnership.name, network, compared)
    to.write_bytes(data)
    console.print(
        f'Wrote the board report of round {report.round_id} "{escape(report.round_title)}" '
        f"({report.respondents} respondents) to {escape(str(to))}.",
        soft_wrap=True,
    )


def register(main: typer.Typer) -> None:
    main.add_typer(
        app,
        name="barometer",
        help="The Partnership Barometer: import responses, release a round's results, print its report.",
    )
