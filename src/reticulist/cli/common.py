"""What every command shares: settings, a database session, and turning errors into clear exits."""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor, NotAllowed, NotFound, cli_actor
from reticulist.cli import failures
from reticulist.db.engine import make_engine, make_session_factory
from reticulist.db.migrate import SchemaNotCurrent, ensure_schema_current
from reticulist.errors import InputError
from reticulist.register.models import Partnership
from reticulist.register.schemas import record_id_or_none
from reticulist.settings import Settings

console = Console()
err_console = Console(stderr=True)

DATABASE_OPTION = typer.Option(
    None, "--database", help="SQLAlchemy URL; defaults to RETICULIST_DATABASE_URL or ./reticulist.sqlite3."
)


def operator_name() -> str:
    """Who ran the command, for the audit log (the database credentials do not say)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers; the log still says it was the command line
        return "unknown user"


def operator_actor(what: str) -> Actor:
    """The command line's actor, named in the audit log by what it does and who ran it."""
    return dataclasses.replace(cli_actor(f"{what} by {operator_name()} (command line)"), via="cli")


def refuse(exc: InputError | ValueError, nothing: str = "") -> typer.Exit:
    """Each problem of a refused input on its own line, then what became of the data; exit 1."""
    problems = exc.problems if isinstance(exc, InputError) else [str(exc)]
    for problem in problems:
        err_console.print(f"[red]error:[/red] {escape(str(problem))}", soft_wrap=True)
    if nothing:
        err_console.print(nothing, soft_wrap=True)
    return typer.Exit(1)


def settings_for(database: str | None) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:  # say what is wrong, one line a setting, and stop
        for error in exc.errors(include_url=False, include_input=False):
            name = "_".join(str(part) for part in error["loc"]).upper()
            where = f"RETICULIST_{name}: " if name else ""
            message = str(error["msg"]).removeprefix("Value error, ")
            err_console.print(f"[red]Settings problem:[/red] {where}{escape(message)}", soft_wrap=True)
        raise typer.Exit(2) from None
    if database:
        settings = settings.model_copy(update={"database_url": database})
    failures.note_database(settings.database_url)
    return settings


@contextmanager
def database_session(database: str | None, *, check_schema: bool = True) -> Iterator[Session]:
    """A session on the chosen database; bad input and missing access end the command with exit 1."""
    settings = settings_for(database)
    engine = make_engine(settings.database_url)
    try:
        if check_schema:
            ensure_schema_current(engine)
        with make_session_factory(engine, secret_key=settings.secret_key)() as session:
            yield session
    except SchemaNotCurrent as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    except InputError as exc:
        for problem in exc.problems:
            err_console.print(f"[red]error:[/red] {problem}")
        raise typer.Exit(1) from None
    except (NotFound, NotAllowed) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def partnership_id_for(session: Session, name_or_id: str) -> int:
    """The partnership named (or numbered) on the command line; exits 1 when there is none."""
    query = select(Partnership)
    number = record_id_or_none(name_or_id)
    query = (
        query.where(Partnership.id == number)
        if number is not None
        else query.where(Partnership.name == name_or_id)
    )
    partnership = session.scalar(query)
    if partnership is None:
        err_console.print(f'[red]error:[/red] partnership: no partnership "{name_or_id}"')
        raise typer.Exit(1)
    return partnership.id
