"""Uniqueness rules kept by the database, and the services' words for them.

Every uniqueness rule a service checks (a person's email in a partnership, an organisation's name, one
role per account and partnership...) is also a unique constraint or index, so that two requests at the
same moment cannot both pass the check and both write. The service keeps its friendly check, and writes
under ``refusing_duplicates`` naming the rule: when the database refuses a write that lost such a race,
the caller gets the same InputError the check gives (a form error or a 422, never a 500), and the
session can still be used to show the form again.

A new capability follows the same pattern: declare the rule on the model (``UniqueConstraint`` or
``Index(..., unique=True)``, with ``func.lower`` where the rule ignores case), add it in its migration,
and write through ``refusing_duplicates`` with the check's message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reticulist.errors import InputError

# (field, message) per constraint or unique index name: what the form shows when the rule is broken.
Rules = Mapping[str, tuple[str, str]]

_SQLITE_INDEX = re.compile(r"UNIQUE constraint failed: index '([^']+)'")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)")


@cache
def _names_by_columns() -> dict[str, str]:
    """SQLite names the columns, not the constraint, of a broken plain-column rule ("UNIQUE constraint
    failed: organisation.partnership_id, organisation.name"): the rule's name for each such list."""
    import reticulist.db.models  # noqa: F401  (every table on the metadata)
    from reticulist.db.base import Base

    out: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        rules: list[tuple[str, list[Column]]] = [
            (str(c.name), list(c.columns)) for c in table.constraints if isinstance(c, UniqueConstraint)
        ]
        rules += [
            (str(i.name), list(i.columns))
            for i in table.indexes
            if isinstance(i, Index) and i.unique and len(i.columns) == len(i.expressions)
        ]
        for name, columns in rules:
            out[", ".join(f"{table.name}.{c.name}" for c in columns)] = name
    return out


def broken_rule(exc: IntegrityError) -> str | None:
    """The name of the unique constraint or index a write broke, or None when it was another rule (a
    foreign key, a check) or cannot be told. Reads names only, never the row's values."""
    diag = getattr(exc.orig, "diag", None)  # PostgreSQL (psycopg) names it
    if diag is not None:
        unique_violation = getattr(exc.orig, "sqlstate", "") == "23505"
        return getattr(diag, "constraint_name", None) if unique_violation else None
    first_line = str(exc.orig).splitlines()[0] if exc.orig is not None else ""
    if found := _SQLITE_INDEX.search(first_line):
        return found.group(1)
    if found := _SQLITE_COLUMNS.search(first_line):
        return _names_by_columns().get(found.group(1))
    return None


def _begin_for_savepoint(session: Session) -> None:
    """Python's sqlite3 module begins a transaction only at the first INSERT/UPDATE/DELETE, so a
    SAVEPOINT before any write would start the transaction itself, and releasing it would commit on
    the spot: the caller's later rollback could not undo it. Begin first, so the savepoint nests."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.driver_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN")


@contextmanager
def refusing_duplicates(session: Session, rules: Rules) -> Iterator[None]:
    """Write the block's changes in a savepoint (they are flushed at its end). When the database refuses
    them for a rule named in ``rules``, raise InputError with that rule's field and message; only the
    block's changes are undone, and the session stays usable. Any other refusal is raised unchanged.

    Example::

        with refusing_duplicates(session, {"uq_person_partnership_email": ("email", "... already ...")}):
            session.add(person)
    """
    if not rules:  # nothing to tell apart: no savepoint needed
        yield
        session.flush()
        return
    _begin_for_savepoint(session)
    try:
        with session.begin_nested():
            yield
    except IntegrityError as exc:
        rule = rules.get(broken_rule(exc) or "")
        if rule is None:
            raise
        field, message = rule
        raise InputError(message, field=field) from None


def add_unless_taken(session: Session, record: Any, rule: str) -> bool:
    """Add and flush ``record`` in a savepoint; False, with nothing added, when another request has just
    written the same (the database refused it for ``rule``), so the caller can use theirs instead."""
    _begin_for_savepoint(session)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError as exc:
        if broken_rule(exc) != rule:
            raise
        return False
    return True
