"""An unexpected failure of a command, said in one sentence: what happened, and what became of the data.

Every command states what its failure leaves behind (``@outcome(...)``; a test checks that each one does).
When something unexpected stops it (the database cut off, a locked or read-only SQLite file, a full disk, a
bug), the operator reads one line such as "The database connection was lost during the import: nothing was
imported; the import is all or nothing, so run it again." and the command exits 1. The exception's own
message is never shown: database errors carry the SQL parameters, which are people's names and emails.
``reticulist --debug`` (or RETICULIST_DEBUG=1) prints the full traceback as well.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from typer.exceptions import TyperException

_stderr = Console(stderr=True)
Command = TypeVar("Command", bound=Callable[..., Any])
DEBUG_HINT = "reticulist --debug COMMAND ... shows where (the details can hold personal data)"
# Exits that are the command's own decision, or a usage error, said already: never second-guessed here.
_DELIBERATE = (typer.Exit, typer.Abort, TyperException)
_debug = False  # set by the --debug option on `reticulist` itself


@dataclass
class Outcome:
    """What a command was doing, and what its failure leaves behind."""

    doing: str  # when, with its preposition: "during the import", "while adding the account"
    nothing: str  # "nothing was imported"
    again: str = ""  # said when running it again is the cure: "the import is all or nothing, so run it again"
    database_url: str | None = None  # the database it works on, once known (named when it cannot be reached)


GENERIC = Outcome("while the command ran", "the command stopped; any change it was making was not saved")
_current: ContextVar[Outcome | None] = ContextVar("reticulist_command_outcome", default=None)


def outcome(doing: str, nothing: str, again: str = "") -> Callable[[Command], Command]:
    """Say, on a command, what its failure leaves behind; unexpected failures then end in one sentence:
    ``@outcome("during the import", "nothing was imported", "the import is all or nothing, so run it
    again")``.

    Only state what is true whatever the moment of the failure: a command that writes in one transaction
    can say "nothing was imported"; one that commits and then does more calls ``now()`` after its commit.
    """

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            token = _current.set(Outcome(doing, nothing, again))
            try:
                return command(*args, **kwargs)
            except _DELIBERATE:
                raise
            except KeyboardInterrupt:
                _fail(sys.exc_info()[1], 130)
            except Exception:
                _fail(sys.exc_info()[1], 1)
            finally:
                _current.reset(token)

        run.reticulist_outcome = Outcome(doing, nothing, again)  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return decorate


def now(doing: str, nothing: str, again: str = "") -> None:
    """What a failure from here on leaves behind (after a commit, say, the change is saved)."""
    current = _current.get()
    if current is not None:
        current.doing, current.nothing, current.again = doing, nothing, again


def note_database(url: str) -> None:
    """The database the running command works on, to name it when it cannot be reached."""
    current = _current.get()
    if current is not None:
        current.database_url = url


def set_debug(wanted: bool) -> None:
    """From `reticulist --debug`: failures print their traceback as well as the sentence."""
    global _debug
    _debug = wanted


def debug_wanted() -> bool:
    return _debug or os.environ.get("RETICULIST_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def _fail(exc: BaseException | None, code: int) -> None:
    assert exc is not None
    if debug_wanted():
        traceback.print_exception(exc, file=sys.stderr)
    sentence = explain(exc, _current.get() or GENERIC)
    _stderr.print(f"[red]{escape(sentence)}[/red]", soft_wrap=True, highlight=False)
    raise typer.Exit(code) from None


def plain_words(kind: type[BaseException]) -> str:
    """An exception class in plain words: AdminShutdown -> "admin shutdown"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", kind.__name__).lower()


def _database(url: str | None) -> tuple[str, bool]:
    """The database in words ("the database at postgresql+psycopg://user:***@host/db (password hidden)",
    "the database file ./reticulist.sqlite3"), and whether it is a SQLite file."""
    if not url:
        return "the database", False
    try:
        parsed = make_url(url)
    except Exception:  # an unreadable URL is named no further than that
        return "the database", False
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or "(in memory)"
        if parsed.query.get("uri"):  # sqlite:///file:PATH?mode=ro&uri=true
            path = path.removeprefix("file:")
        return f"the database file {path}", True
    # The query string can hold a password too (?password=...): left out.
    shown = parsed.set(query={}).render_as_string(hide_password=True)
    return f"the database at {shown}" + (" (password hidden)" if parsed.password else ""), False


# Why a connection could not be made, recognised in the driver's message (which is never shown: it holds
# nothing but this, yet the rule is simpler without exceptions).
_CONNECT_REASONS = (
    ("password authentication failed", "it refused the user name or password"),
    ("no password supplied", "it asked for a password and none was given"),
    ("does not exist", "there is no such database or user there"),
    ("too many clients", "it has no connection free: its max_connections are all in use"),
    ("remaining connection slots", "it has no connection free: its max_connections are all in use"),
    ("connection refused", "nothing is listening at that address and port"),
    ("could not translate host name", "the host name is unknown"),
    ("name or service not known", "the host name is unknown"),
    ("timeout expired", "it did not answer in time"),
    ("timed out", "it did not answer in time"),
    ("the database system is starting up", "it is still starting up"),
    ("the database system is shutting down", "it is shutting down"),
)

# SQLite's primary result codes (extended codes carry them in the low byte).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


def explain(exc: BaseException, o: Outcome) -> str:
    """One sentence: what happened, from the error's class and codes only, then what became of the data."""
    again = f"; {o.again}" if o.again else ""
    where, _ = _database(o.database_url)
    if isinstance(exc, KeyboardInterrupt):
        return f"Stopped by Ctrl+C {o.doing}: {o.nothing}."
    if isinstance(exc, sa_exc.DBAPIError):
        said = _database_error(exc, o, where, again)
        if said:
            return said
        return (
            f"The database reported an error ({plain_words(type(exc.orig or exc))}) {o.doing}: "
            f"{o.nothing}; {DEBUG_HINT}."
        )
    if isinstance(exc, sa_exc.TimeoutError):
        return f"No connection to {where} came free in time {o.doing}: {o.nothing}{again}."
    if isinstance(exc, MemoryError):
        return f"The computer ran out of memory {o.doing}: {o.nothing}."
    if isinstance(exc, OSError) and exc.strerror:
        which = f"{exc.filename}: " if exc.filename else ""
        return f"A file could not be read or written {o.doing} ({which}{exc.strerror}): {o.nothing}."
    return f"An unexpected error ({plain_words(type(exc))}) happened {o.doing}: {o.nothing}; {DEBUG_HINT}."


def _database_error(exc: sa_exc.DBAPIError, o: Outcome, where: str, again: str) -> str | None:
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        primary = code & 0xFF
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return (
                f"{_cap(where)} stayed locked by another program writing to it for longer than Reticulist "
                f"waits, {o.doing}: {o.nothing}{again}."
            )
        if primary == _SQLITE_READONLY:
            return f"{_cap(where)} cannot be written (the file or its folder is read-only): {o.nothing}."
        if primary == _SQLITE_FULL:
            return f"The disk holding {where} is full: {o.nothing}."
        if primary == _SQLITE_CANTOPEN:
            return f"Could not open {where} (does its folder exist, and may it be written?): {o.nothing}."
        if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return f"{_cap(where)} is damaged, or is not a SQLite database: {o.nothing}."
        if primary == _SQLITE_IOERR:
            return f"Reading or writing {where} failed (a disk or file system error): {o.nothing}."
        return None
    state = getattr(orig, "sqlstate", None) or ""
    if isinstance(exc, sa_exc.IntegrityError):
        diag = getattr(orig, "diag", None)
        rule = getattr(diag, "constraint_name", None)  # a name from the schema: holds no row's values
        named = f" ({rule})" if rule else ""
        return f"The database refused a row {o.doing}, as it broke one of its rules{named}: {o.nothing}."
    if state in ("40001", "40P01"):
        return (
            f"The database stopped the command {o.doing}, as another change made at the same moment "
            f"clashed with it: {o.nothing}{again}."
        )
    if state == "57014":
        return (
            f"The database cancelled the command {o.doing} (a time limit, or an operator): "
            f"{o.nothing}{again}."
        )
    if state == "55P03":
        return f"The database could not get a lock in time {o.doing}: {o.nothing}{again}."
    if state in ("53100", "53200"):
        lacking = "disk space" if state == "53100" else "memory"
        return f"The database ran out of {lacking} {o.doing}: {o.nothing}."
    lost = exc.connection_invalidated or state.startswith("08") or state.startswith("57P")
    if lost and exc.statement is None:
        # Lost while committing (or rolling back): the server may have saved it just before the cut.
        return (
            f"The database connection was lost {o.doing}, just as the work was being saved, so whether it "
            "was saved cannot be told: check before running it again."
        )
    if lost:
        return f"The database connection was lost {o.doing}: {o.nothing}{again}."
    if exc.statement is None:
        message = str(orig or "").lower()
        reason = next((why for text, why in _CONNECT_REASONS if text in message), "")
        return f"Could not reach {where}: " + (f"{reason}; " if reason else "") + f"{o.nothing}."
    return None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
