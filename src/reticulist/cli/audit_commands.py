"""`reticulist audit verify`: check the audit log's hash chain (audit/chain.py)."""

from __future__ import annotations

import os
import time

import typer
from rich.markup import escape

from reticulist.audit import chain
from reticulist.cli.common import DATABASE_OPTION, console, err_console, settings_for
from reticulist.cli.failures import outcome
from reticulist.db.engine import make_engine
from reticulist.db.migrate import SchemaNotCurrent, ensure_schema_current

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
@outcome("while checking the audit log", "nothing was changed")
def verify(
    database: str | None = DATABASE_OPTION,
    first: int | None = typer.Option(
        None, "--from", min=1, help="Check from this position in the chain (1 is the first row)."
    ),
    last: int | None = typer.Option(None, "--to", min=1, help="Check up to this position."),
    workers: int = typer.Option(
        min(4, os.cpu_count() or 1),
        "--workers",
        min=1,
        max=64,
        help="Processes checking parts of the chain at once.",
    ),
) -> None:
    """Check that no row of the audit log was changed, removed or added around the log: each row's hash
    must cover the row before it. Exits 1 naming the first row that does not fit."""
    if first is not None and last is not None and last < first:
        err_console.print("[red]error:[/red] --to: must not be before --from")
        raise typer.Exit(2)
    engine = make_engine(settings_for(database).database_url)
    try:
        try:
            ensure_schema_current(engine)
        except SchemaNotCurrent as exc:
            err_console.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from None
        started = time.perf_counter()
        result = chain.verify(engine, first=first, last=last, workers=workers)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    if result.problem is not None:
        where = f"row {result.problem.seq} of the chain"
        if result.problem.row_id is not None:
            where += f" (audit event id {result.problem.row_id})"
        err_console.print(
            f"[red]The audit log does not verify:[/red] {where}: {escape(result.problem.reason)}. "
            "Rows from there on cannot be relied on; the database's own logs and backups say more.",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    span = (
        "the whole chain"
        if first is None and last is None
        else f"rows {result.first_seq} to {result.last_seq}"
    )
    console.print(f"The audit log verifies: {result.rows} rows checked ({span}) in {seconds:.1f} s.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="audit", help="The audit log: check that nobody changed it.")
