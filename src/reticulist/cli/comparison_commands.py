"""`reticulist comparison ...`: comparison groups, opting partnerships in and out, refreshing the stored
figures, and the group's comparison, study and research extract (docs/comparison.md, docs/research.md).

The command line is the operator's (site administrator's) authority; every change, study and extract is
audited with the operator's name.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from reticulist.access.policy import cli_actor
from reticulist.cli.common import (
    DATABASE_OPTION,
    console,
    database_session,
    err_console,
    operator_actor,
    partnership_id_for,
    refuse,
)
from reticulist.cli.failures import outcome
from reticulist.comparison import extract, figures, service, study
from reticulist.errors import InputError
from reticulist.network.analysis import parse_date

app = typer.Typer(no_args_is_help=True)
group_app = typer.Typer(no_args_is_help=True)
app.add_typer(group_app, name="group", help="Comparison groups: create, list, analysts.")

GROUP = typer.Argument(..., help="The comparison group's name.")
PARTNERSHIP = typer.Option(..., "--partnership", help="Partnership name or number.")


def _day(text: str | None, option: str) -> date | None:
    try:
        return parse_date(text or "", option)
    except InputError as exc:
        raise refuse(exc) from None


@group_app.command("create")
@outcome("while creating the group", "no group was created", "run it again")
def create_command(
    name: str = typer.Argument(..., help="The group's name, such as 'North West safeguarding partnerships'."),
    description: str = typer.Option("", "--description", help="What the group is for, in a sentence."),
    threshold: int = typer.Option(
        5, "--threshold", help="The anonymity threshold of every cell (3 or more)."
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Create a comparison group; partnerships' admins then opt in from their partnership's page."""
    with database_session(database) as session:
        try:
            group = service.create_group(
                session,
                actor=operator_actor("group"),
                name=name,
                description=description,
                threshold=threshold,
            )
            session.commit()
        except InputError as exc:
            raise refuse(exc, "No group was created.") from None
        console.print(
            f"Created comparison group {escape(group.name)} (anonymity threshold {group.threshold})."
        )


@group_app.command("list")
@outcome("while listing the groups", "nothing was changed")
def list_command(database: str | None = DATABASE_OPTION) -> None:
    """Every comparison group, with its partnerships and analysts."""
    with database_session(database) as session:
        table = Table(title="Comparison groups")
        for heading in ("group", "threshold", "partnerships", "analysts"):
            table.add_column(heading)
        for group, members, analysts in service.list_groups(session, actor=cli_actor()):
            table.add_row(escape(group.name), str(group.threshold), str(members), str(analysts))
        console.print(table)


@group_app.command("add-analyst")
@outcome("while adding the analyst", "nothing was changed", "run it again")
def add_analyst_command(
    group: str = GROUP,
    email: str = typer.Argument(..., help="The analyst's account email."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Let an account analyse the group: its aggregates, study and research extract, nothing else."""
    with database_session(database) as session:
        try:
            found = service.find_group(session, actor=cli_actor(), name=group)
            service.add_analyst(session, actor=operator_actor("analyst"), group_id=found.id, email=email)
            session.commit()
        except InputError as exc:
            raise refuse(exc, "Nothing was changed.") from None
        console.print(f"{escape(email)} may now analyse {escape(found.name)}.")


@group_app.command("remove-analyst")
@outcome("while removing the analyst", "nothing was changed", "run it again")
def remove_analyst_command(
    group: str = GROUP,
    email: str = typer.Argument(..., help="The analyst's account email."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Stop an account analysing the group."""
    with database_session(database) as session:
        try:
            found = service.find_group(session, actor=cli_actor(), name=group)
            service.remove_analyst(session, actor=operator_actor("analyst"), group_id=found.id, email=email)
            session.commit()
        except InputError as exc:
            raise refuse(exc, "Nothing was changed.") from None
        console.print(f"{escape(email)} no longer analyses {escape(found.name)}.")


@app.command("join")
@outcome("while opting in", "the partnership was not opted in", "run it again")
def join_command(
    group: str = GROUP,
    partnership: str = PARTNERSHIP,
    named: bool = typer.Option(False, "--named", help="Show the partnership's name to the group's analysts."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Opt a partnership in to a group (its admin can do the same on the partnership's page)."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        try:
            found = service.find_group(session, actor=cli_actor(), name=group)
            service.opt_in(
                session,
                actor=operator_actor("opt-in"),
                partnership_id=partnership_id,
                group_id=found.id,
                named=named,
            )
            session.commit()
        except InputError as exc:
            raise refuse(exc, "The partnership was not opted in.") from None
        console.print(f"Opted in to {escape(found.name)}; its figures are stored.")


@app.command("leave")
@outcome("while opting out", "the partnership was not opted out", "run it again")
def leave_command(
    group: str = GROUP, partnership: str = PARTNERSHIP, database: str | None = DATABASE_OPTION
) -> None:
    """Opt a partnership out: every later comparison, study and extract of the group leaves it out."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        try:
            found = service.find_group(session, actor=cli_actor(), name=group)
            service.opt_out(
                session, actor=operator_actor("opt-out"), partnership_id=partnership_id, group_id=found.id
            )
            session.commit()
        except InputError as exc:
            raise refuse(exc, "The partnership was not opted out.") from None
        console.print(f"Opted out of {escape(found.name)}.")


@app.command("refresh")
@outcome(
    "while refreshing the figures",
    "the partnerships refreshed before the failure keep their new figures",
    "run it again",
)
def refresh_command(
    everything: bool = typer.Option(False, "--all", help="Recompute every opted-in partnership, due or not."),
    partnership: str | None = typer.Option(
        None, "--partnership", help="Only this partnership (name or number)."
    ),
    workers: int = typer.Option(
        min(4, os.cpu_count() or 1),
        "--workers",
        min=1,
        max=64,
        help="Partnerships computed at once (processes).",
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Recompute the stored figures that are due: missing, behind their data, or a week old (nightly)."""
    with database_session(database) as session:
        ids = [partnership_id_for(session, partnership)] if partnership else None
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("Computing partnerships' figures", total=None)
            done = figures.refresh(
                session,
                partnership_ids=ids,
                everything=everything,
                workers=workers,
                progress=lambda k, total: bar.update(task, completed=k, total=total),
            )
    console.print(
        f"Refreshed the figures of {done.partnerships} partnership{'s' if done.partnerships != 1 else ''} "
        f"({done.people:,} people) in {done.seconds:.1f} s."
    )


@app.command("show")
@outcome("while comparing", "nothing was changed")
def show_command(
    group: str = GROUP,
    partnership: str | None = typer.Option(
        None, "--partnership", help="As this partnership's managers see it."
    ),
    instrument: str | None = typer.Option(
        None, "--instrument", help="The barometer instrument, KEY@VERSION."
    ),
    since: str | None = typer.Option(None, "--since", help="Rounds closed on or after (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Rounds closed on or before (YYYY-MM-DD)."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """The group compared: register and network figures side by side, and where each partnership stands on
    each barometer construct."""
    with database_session(database) as session:
        pid = partnership_id_for(session, partnership) if partnership else None
        try:
            found = service.find_group(session, actor=cli_actor(), name=group)
            result = service.comparison(
                session,
                actor=cli_actor(),
                group_id=found.id,
                partnership_id=pid,
                instrument=instrument,
                since=_day(since, "--since"),
                until=_day(until, "--until"),
            )
        except InputError as exc:
            raise refuse(exc, "") from None
        # Three tables of a few columns each, so that they read on an 80-column terminal.
        parts = {
            "register": lambda key: key.startswith("register.") and ".board" not in key,
            "the board": lambda key: key.startswith("register.board"),
            "network": lambda key: key.startswith("network."),
        }
        for title, wanted in parts.items():
            keep = [k for k, m in enumerate(result.measures) if wanted(m.key)]
            table = Table(title=f"{escape(found.name)}: {title}")
            table.add_column("partnership", min_width=16, overflow="fold")
            for k in keep:
                table.add_column(escape(result.measures[k].short), justify="right")
            table.add_row("[b]Group median[/b]", *(result.medians[k] for k in keep))
            for row in result.rows:
                table.add_row(escape(row.peer.label), *(row.cells[k] for k in keep))
            console.print(table)
        for measure in result.measures:
            console.print(
                f"  {escape(measure.short or measure.label)}: {escape(measure.meaning)}", soft_wrap=True
            )
        if result.instrument is None:
            if instrument:
                err_console.print(
                    f"[red]error:[/red] --instrument: no partnership of the group released a round of "
                    f"{escape(instrument)} from {result.since.isoformat()} to {result.until.isoformat()}"
                )
                raise typer.Exit(1)
            console.print("No partnership of the group released a barometer round in the period.")
            return
        console.print(
            f"Barometer: {escape(result.instrument.title)} (version {escape(result.instrument.version)}), "
            f"rounds closed {result.since.isoformat()} to {result.until.isoformat()}."
        )
        for line in result.headline:
            console.print(f"  {escape(line)}", soft_wrap=True)
        if not result.headline:
            console.print("  Every partnership shown is within the 95% limits on every construct.")


@app.command("study")
@outcome("while running the study", "nothing was changed")
def study_command(group: str = GROUP, database: str | None = DATABASE_OPTION) -> None:
    """002's hypotheses on the group's pooled people: late entry and boundary spanning, and hierarchy."""
    with database_session(database) as session:
        try:
            found = service.find_group(session, actor=cli_actor(), name=group)
            result = service.run_study(session, actor=operator_actor("study"), group_id=found.id)
            session.commit()
        except (InputError, study.StudyTooSmall) as exc:
            raise refuse(exc, "") from None
    console.print(f"{result.people:,} people in {result.partnerships} partnerships.")
    for fit in result.outcomes:
        table = Table(title=escape(fit.label))
        for heading in ("predictor", "estimate", "95% interval", "p"):
            table.add_column(heading, justify="left" if heading == "predictor" else "right")
        for e in fit.estimates:
            table.add_row(
                escape(service.PREDICTOR_LABELS.get(e.predictor, e.predictor)),
                f"{e.coefficient:+.4f}",
                f"{e.low:+.4f} to {e.high:+.4f}",
                f"{e.p_value:.3f}",
            )
        console.print(table)
    for line in result.words:
        console.print(escape(line), soft_wrap=True)


@app.command("extract")
@outcome("while writing the extract", "no extract was written")
def extract_command(
    group: str = GROUP,
    to: Path = typer.Option(..., "--to", metavar="FILE", help="Where to write it: .csv or .parquet."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """The pseudonymised research extract: one row per person, no names, every combination of
    organisation kind, profession, tier and years band held by at least the threshold's people."""
    suffix = to.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        err_console.print("[red]error:[/red] --to: the file must end in .csv or .parquet")
        raise typer.Exit(1)
    with database_session(database) as session:
        try:
            found = service.find_group(session, actor=cli_actor(), name=group)
            coarsened = service.research_extract(
                session, actor=operator_actor("research extract"), group_id=found.id
            )
            extract.write_extract(coarsened, to, format=suffix[1:])  # type: ignore[arg-type]
            session.commit()
        except InputError as exc:
            raise refuse(exc, "No extract was written.") from None
    console.print(f"Wrote {coarsened.frame.height:,} people to {escape(str(to))}.")
    for step in coarsened.steps:
        console.print(f"  {escape(step)}", soft_wrap=True)
    if coarsened.suppressed:
        console.print(f"  {coarsened.suppressed:,} people left out: their cell stayed below {coarsened.k}.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="comparison", help="Comparing partnerships and the study (docs/comparison.md).")
