"""`reticulist casework import|export|sar|retention`: families and their people to and from spreadsheets,
the subject access bundle of a person (casework/subject_access_bundle.py), and erasing what the
retention schedule says is due (casework/retention.py).

The columns are described in ``reticulist.casework.transfer`` and docs/casework.md. The command line is
the operator's (it holds the database's credentials): it works as the early help coordinator would, and
each import or export is audited with the operator's name.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from reticulist.access.policy import cli_actor
from reticulist.casework import retention, transfer
from reticulist.casework import subject_access_bundle as sar
from reticulist.casework.retention_rules import BREAK_GLASS, FAMILY_RECORD, SUBJECT_ACCESS
from reticulist.casework.subject_access_pdf import bundle_pdf
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


@app.command("sar")
@outcome("while building the bundle", "the bundle was not written, or only in part", "run the command again")
def sar_command(
    person: str = typer.Argument(
        ...,
        metavar="PERSON",
        help="The request's number in the register, or the person as REFERENCE/SURNAME[/FIRST NAME].",
    ),
    partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
    to: Path = typer.Option(Path("."), "--to", metavar="FOLDER", help="Where to write the JSON and the PDF."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Build the subject access bundle for an open request: everything held about the person, as JSON and a
    PDF review copy with other people's details marked, shielded addresses withheld and child abuse data
    flagged. The reading is audited against the request."""
    if not to.is_dir():
        err_console.print(f"[red]error:[/red] --to: there is no folder {escape(str(to))}", soft_wrap=True)
        raise typer.Exit(1)
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        actor = cli_actor(f"{operator_name()} (command line)")
        request_id = sar.request_for(session, actor=actor, partnership_id=partnership_id, person=person)
        bundle = sar.build_bundle(
            session, actor=actor, partnership_id=partnership_id, request_id=request_id, form="command line"
        )
        stem = to / f"subject-access-{request_id}"
        json_path, pdf_path = stem.with_suffix(".json"), stem.with_suffix(".pdf")
        text = json.dumps(sar.bundle_json(bundle), indent=2, ensure_ascii=False)
        json_path.write_text(text, encoding="utf-8")
        pdf_path.write_bytes(bundle_pdf(bundle))
        session.commit()  # the audit row: only once both files are written
    console.print(
        f"Wrote {escape(str(json_path))} and {escape(str(pdf_path))}: {bundle.items} records about "
        f"{escape(bundle.subject)}, a review copy.",
        soft_wrap=True,
    )
    for flag, count in sorted(bundle.flag_counts.items()):
        console.print(f"  {count} × {escape(flag)}", soft_wrap=True)


@app.command("retention")
@outcome(
    "while erasing",
    "every family erased so far was erased whole; none was erased in part",
    "run the command again: it carries on with what is still due",
)
def retention_command(
    partnership: str = typer.Option(..., "--partnership", help="Partnership name or number."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what is due, erase nothing."),
    apply: bool = typer.Option(False, "--apply", help="Erase what is due."),
    batch: int = typer.Option(
        retention.BATCH, "--batch", min=1, max=1000, help="Families erased a transaction (each one whole)."
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Erase casework records whose retention period has passed, by the partnership's schedule (the
    Retention page), except those under a legal hold. Each family is erased whole or not at all; each
    erasure leaves an audit row saying what kind of record went and why, never its content."""
    if dry_run == apply:
        err_console.print("[red]error:[/red] give one of --dry-run (say what is due) or --apply (erase it)")
        raise typer.Exit(1)
    with database_session(database) as session:
        partnership_id = partnership_id_for(session, partnership)
        actor = cli_actor(f"retention by {operator_name()} (command line)")
        found = retention.due(session, actor=actor, partnership_id=partnership_id)
        rules = found.rules
        lines = [
            (rules[FAMILY_RECORD], len(found.families), "families"),
            (rules[BREAK_GLASS], len(found.break_glass), "uses of emergency access"),
            (rules[SUBJECT_ACCESS], len(found.subject_access), "answered subject access requests"),
        ]
        console.print("Due for erasure under the schedule:" if dry_run else "Erasing:")
        for rule, count, words in lines:
            console.print(f"  {count} {words} (kept {escape(rule.words)})", soft_wrap=True)
        if found.held_families:
            console.print(f"  {len(found.held_families)} families are due but kept by a legal hold.")
        if found.undated_families:
            console.print(
                f"  {len(found.undated_families)} families are due but kept: a child's date of birth is not "
                f"recorded, so their {rules[FAMILY_RECORD].child_age}th birthday cannot be known. Record it, "
                "or keep them.",
                soft_wrap=True,
            )
        if dry_run:
            console.print("Nothing was erased (--dry-run).")
            return
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("Erasing", total=found.total)
            done = retention.erase(
                session,
                actor=actor,
                partnership_id=partnership_id,
                found=found,
                batch=batch,
                progress=lambda n, total: bar.update(task, completed=n, total=total),
            )
    console.print(
        f"Erased {done.families} families, {done.break_glass} uses of emergency access and "
        f"{done.subject_access} answered subject access requests "
        f"({sum(done.records.values())} records in all).",
        soft_wrap=True,
    )
    for record_id, why in done.skipped:
        console.print(f"  Kept {record_id}: {escape(why)}", soft_wrap=True)


def register(main: typer.Typer) -> None:
    main.add_typer(
        app,
        name="casework",
        help="Casework: families to and from spreadsheets; subject access bundles; retention.",
    )
