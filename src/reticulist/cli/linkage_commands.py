"""`reticulist linkage ...`: load agency extracts as sources (with their data quality), train the
partnership's model, see what a run would compare, run, and export a model file (docs/linkage.md).

The command line is the operator's (it holds the database's credentials); each load, training and run is
audited with the operator's name.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
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
from reticulist.errors import InputError
from reticulist.linkage import extracts, runs, sources
from reticulist.linkage.extracts import FIELD_WORDS

app = typer.Typer(no_args_is_help=True)
source_app = typer.Typer(no_args_is_help=True)
model_app = typer.Typer(no_args_is_help=True)
app.add_typer(source_app, name="source", help="Agency extracts: load, list, data quality, remove.")
app.add_typer(model_app, name="model", help="The partnership's trained models: list, export.")

PARTNERSHIP = typer.Option(..., "--partnership", help="Partnership name or number.")
ENGINE = typer.Option("duckdb", "--engine", help="duckdb (one machine) or spark (RETICULIST_SPARK_MASTER).")


def quality_table(source: object) -> Table:
    """The data quality report of a source: each field's completeness and validity."""
    table = Table(title=f"Data quality of {escape(source.name)} ({source.record_count:,} records)")  # type: ignore[attr-defined]
    for heading in ("field", "given", "complete", "valid", "invalid"):
        table.add_column(heading, justify="left" if heading == "field" else "right")
    for line in source.quality:  # type: ignore[attr-defined]
        records = line["records"] or 1
        table.add_row(
            FIELD_WORDS.get(line["field"], line["field"]),
            f"{line['given']:,}",
            f"{line['given'] / records:.0%}",
            f"{line['valid']:,}",
            f"{line['invalid']:,}" if line["invalid"] else "",
        )
    return table


@source_app.command("add")
@outcome("while loading the source", "nothing was loaded", "the load is all or nothing, so run it again")
def add_command(
    name: str = typer.Argument(..., help="The source's name in the partnership, such as health or school."),
    file: Path = typer.Argument(..., metavar="FILE", help="The extract: .csv (UTF-8), .xlsx or .parquet."),
    agency: str = typer.Option(..., "--agency", help="The organisation (in the register) it comes from."),
    partnership: str = PARTNERSHIP,
    mapping: Path | None = typer.Option(
        None, "--mapping", help='A JSON file: {"the file\'s column": "standard field" | "group" | "ignore"}.'
    ),
    group: list[str] = typer.Option([], "--group", help="A column to keep for linkage by group (repeat)."),
    replace: bool = typer.Option(False, "--replace", help="Load a source of that name again."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Load an agency's extract: every record is checked first, then all or none stored."""
    if not file.is_file():
        err_console.print(f"[red]error:[/red] FILE: there is no file {escape(str(file))}")
        raise typer.Exit(1)
    if mapping is not None and not mapping.is_file():
        err_console.print(f"[red]error:[/red] --mapping: there is no file {escape(str(mapping))}")
        raise typer.Exit(1)
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task(f"Reading and checking {escape(file.name)}", total=None)
                extract = extracts.read_extract(file, mapping=mapping, groups=tuple(group))
                bar.update(task, description="Storing the records", total=extract.records.height, completed=0)
                loaded = sources.add_source(
                    session,
                    actor=operator_actor(f"load of {file.name}"),
                    partnership_id=partnership_id,
                    name=name,
                    agency=agency,
                    extract=extract,
                    file_name=file.name,
                    replace=replace,
                    progress=lambda done: bar.update(task, completed=done),
                )
            session.commit()
        except InputError as exc:
            session.rollback()
            raise refuse(exc, f"Nothing was loaded from {escape(file.name)}.") from None
        console.print(
            f"Loaded {escape(loaded.source.name)}: {loaded.source.record_count:,} records from "
            f"{escape(file.name)} ({loaded.added:,} new, {loaded.changed:,} kept, "
            f"{loaded.removed:,} removed).",
            soft_wrap=True,
        )
        if extract.ignored:
            console.print(
                "Columns left out (they map to no standard field): "
                + ", ".join(escape(c) for c in extract.ignored),
                soft_wrap=True,
            )
        if extract.group_fields:
            console.print("Kept for linkage by group: " + ", ".join(escape(c) for c in extract.group_fields))
        console.print(quality_table(loaded.source))


@source_app.command("list")
@outcome("while listing the sources", "nothing was changed")
def list_command(partnership: str = PARTNERSHIP, database: str | None = DATABASE_OPTION) -> None:
    """The partnership's sources, with their records and when they were loaded."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        table = Table(title="Linkage sources")
        for heading in ("source", "kind", "records", "file", "loaded"):
            table.add_column(heading)
        for s in sources.sources(session, actor=cli_actor(), partnership_id=partnership_id):
            table.add_row(
                escape(s.name),
                s.kind,
                f"{s.record_count:,}",
                escape(s.file_name),
                s.added_at.strftime("%Y-%m-%d %H:%M"),
            )
        console.print(table)


@source_app.command("quality")
@outcome("while reading the source", "nothing was changed")
def quality_command(
    name: str = typer.Argument(..., help="The source's name."),
    partnership: str = PARTNERSHIP,
    database: str | None = DATABASE_OPTION,
) -> None:
    """A source's data quality report: how complete and how valid each field is."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        try:
            found = sources.source_named(session, actor=cli_actor(), partnership_id=partnership_id, name=name)
        except InputError as exc:
            raise refuse(exc, "") from None
        console.print(quality_table(found))


@source_app.command("remove")
@outcome("while removing the source", "nothing was removed", "run it again")
def remove_command(
    name: str = typer.Argument(..., help="The source's name."),
    partnership: str = PARTNERSHIP,
    database: str | None = DATABASE_OPTION,
) -> None:
    """Remove a source with its records, and the decisions and run results about them."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        try:
            count = sources.remove_source(
                session, actor=operator_actor(f"removal of {name}"), partnership_id=partnership_id, name=name
            )
            session.commit()
        except InputError as exc:
            raise refuse(exc, "Nothing was removed.") from None
    console.print(f"Removed {escape(name)} ({count:,} records).")


def _spinner() -> Progress:
    """Long steps (standardising, training, scoring) have no count to show: their name and the time."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _steps(bar: Progress) -> tuple[object, object]:
    task = bar.add_task("Starting", total=None)
    return task, lambda words: bar.update(task, description=words)


@app.command("train")
@outcome("while training", "no model was saved", "run it again")
def train_command(
    partnership: str = PARTNERSHIP,
    engine: str = ENGINE,
    pairs: float = typer.Option(
        1e6, "--u-pairs", help="Random pairs sampled to estimate u (Splink: 1e6-1e7)."
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Train the partnership's model on every agency source and save it as the next version."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        try:
            with _spinner() as bar:
                _task, step = _steps(bar)
                saved = runs.train(
                    session,
                    actor=operator_actor("training"),
                    partnership_id=partnership_id,
                    engine=engine,
                    max_pairs=pairs,
                    step=step,  # type: ignore[arg-type]
                )
            session.commit()
        except InputError as exc:
            session.rollback()
            raise refuse(exc, "No model was saved.") from None
        sources_ = ", ".join(f"{s['source']} ({s['records']:,})" for s in saved.trained_on["sources"])
        console.print(f"Saved model version {saved.version}, trained on {escape(sources_)}.", soft_wrap=True)


def _rules_table(rules: list[tuple[str, int, int]]) -> Table:
    table = Table(title="Comparisons each blocking rule generates")
    table.add_column("blocking rule")
    table.add_column("comparisons", justify="right")
    table.add_column("in all", justify="right")
    for words, count, cumulative in rules:
        table.add_row(escape(words), f"{count:,}", f"{cumulative:,}")
    return table


@app.command("run")
@outcome("during the run", "no run was recorded", "run it again")
def run_command(
    partnership: str = PARTNERSHIP,
    linked: str = typer.Option("0.7", "--linked", help="Match probability from which a pair is linked."),
    review: str = typer.Option("0.2", "--review", help="Match probability from which a pair is reviewed."),
    one_per_source: bool = typer.Option(
        True, "--one-per-source/--any-number", help="At most one record of each source per child."
    ),
    model: int | None = typer.Option(None, "--model", help="The model version (the latest by default)."),
    engine: str = ENGINE,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be compared; run nothing."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Link every source: the comparisons each blocking rule generates are shown first."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        actor = operator_actor("linkage run")
        try:
            runs.thresholds(linked, review)
            runs.check_engine(engine)
            planned = runs.plan(
                session, actor=actor, partnership_id=partnership_id, version=model, engine=engine
            )
            session.rollback()  # the plan refreshed the casework source only to count; the run does it again
            console.print(
                f"Model version {planned.model.version}; sources: "
                + ", ".join(f"{escape(n)} ({r:,})" for n, r in planned.sources),
                soft_wrap=True,
            )
            console.print(_rules_table(planned.rules))
            if dry_run:
                console.print("Dry run: nothing was linked.")
                return
            with _spinner() as bar:
                _task, step = _steps(bar)
                made = runs.run(
                    session,
                    actor=actor,
                    partnership_id=partnership_id,
                    linked=linked,
                    review=review,
                    one_per_source=one_per_source,
                    version=model,
                    engine=engine,
                    step=step,  # type: ignore[arg-type]
                )
            session.commit()
        except InputError as exc:
            session.rollback()
            raise refuse(exc, "No run was recorded.") from None
        c = made.counts
        console.print(
            f"Run {made.id}: {c['records']:,} records, {c['compared']:,} pairs compared, "
            f"{c['linked_pairs']:,} linked pairs, {c['review_pairs']:,} to review, "
            f"{c['clusters']:,} children with records in more than one place, "
            f"{c['known_children']:,} of them casework children; "
            f"{made.seconds:.1f} s.",
            soft_wrap=True,
        )
        if "f1" in c:
            console.print(
                f"Against the synthetic truth: precision {c['precision']:.4f}, recall {c['recall']:.4f}, "
                f"F1 {c['f1']:.4f}."
            )


@model_app.command("list")
@outcome("while listing the models", "nothing was changed")
def models_command(partnership: str = PARTNERSHIP, database: str | None = DATABASE_OPTION) -> None:
    """The partnership's models, newest first, with what each was trained on."""
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        table = Table(title="Linkage models")
        for heading in ("version", "trained", "by", "on"):
            table.add_column(heading)
        for m in runs.models(session, actor=cli_actor(), partnership_id=partnership_id):
            table.add_row(
                str(m.version),
                m.trained_at.strftime("%Y-%m-%d %H:%M"),
                escape(m.trained_by_label),
                escape(", ".join(f"{s['source']} ({s['records']:,})" for s in m.trained_on["sources"])),
            )
        console.print(table)


@model_app.command("export")
@outcome("while writing the model file", "the model file was not written, or only in part", "run it again")
def export_command(
    partnership: str = PARTNERSHIP,
    version: int | None = typer.Option(None, "--version", help="The model version (the latest by default)."),
    to: Path = typer.Option(..., "--to", metavar="FILE.json", help="Where to write the model file."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Write a model as a JSON file: Splink's settings with every m and u, and what it was trained on."""
    if not to.parent.is_dir():
        err_console.print(f"[red]error:[/red] --to: there is no folder {escape(str(to.parent))}")
        raise typer.Exit(1)
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        try:
            found = runs.model_version(
                session, actor=cli_actor(), partnership_id=partnership_id, version=version
            )
        except InputError as exc:
            raise refuse(exc, "No file was written.") from None
        payload = {
            "reticulist_linkage_model": found.version,
            "trained_at": found.trained_at.isoformat(),
            "trained_by": found.trained_by_label,
            "trained_on": found.trained_on,
            "splink_settings": found.parameters,
        }
        to.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
    console.print(f"Wrote model version {found.version} to {escape(str(to))}.")


def register(root: typer.Typer) -> None:
    root.add_typer(
        app, name="linkage", help="Record linkage: agency extracts, models, runs (docs/linkage.md)."
    )
