"""Import and export of ties as spreadsheets (CSV or XLSX).

One row is one directed tie: the ``from`` person says they work with (or is recorded as working with)
the ``to`` person. Columns (header names ignore case; spaces read as underscores):

``from_email`` or ``from``
    the person the tie starts from: their email, or (when the email cell is blank) their full name,
    which must match exactly one person of the partnership.
``to_email`` or ``to``
    the other person, the same way.
``weight``
    a number above 0; blank is 1.
``frequency``
    never, yearly, quarterly, monthly or weekly, or the code 0-4; blank is unknown.
``trust_reliable``, ``trust_mission``, ``trust_open``
    how far the from person trusts the other to be reliable, to share the mission, to be open: 1-4 each
    (blank is unknown).
``value_influence``, ``value_involvement``, ``value_resources``
    what the tie is worth to the from person: influence, involvement, resources: 1-4 each
    (blank is unknown).
``date``
    the day the tie was observed (YYYY-MM-DD or DD/MM/YYYY); blank is the day of the import.
``source``
    written by export (reported or imported) and not used by import: every imported tie is stored as
    "imported".

Every row is checked before anything is written; on any problem nothing is stored and every bad row and
field is named. A tie (same people, same date) may appear once in a file and is refused if it was
already imported. A person of another partnership is reported exactly like an unknown one, so an
import cannot be used to learn who is in a partnership one cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.errors import FieldProblem, InputError
from reticulist.network import service
from reticulist.network import ties as t
from reticulist.register import schemas as s
from reticulist.register.models import Person
from reticulist.register.transfer import FileFormat, Table, read_table, write_table
from reticulist.text import TextModel

COLUMNS: tuple[str, ...] = (
    "from_email",
    "from",
    "to_email",
    "to",
    "weight",
    "frequency",
    *t.RATING_FIELDS,
    "date",
    "source",
)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _key(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def check_columns(table: Table) -> None:
    """Refuse a header without a way to name both people, or with columns a ties file does not take."""
    problems = [
        FieldProblem(email, f"column is missing: give {email} or {name}", source=table.source)
        for email, name in (("from_email", "from"), ("to_email", "to"))
        if email not in table.columns and name not in table.columns
    ]
    unknown = [c for c in table.columns if c not in COLUMNS]
    if unknown:
        names = ", ".join(f'"{c}"' for c in unknown)
        problems.append(
            FieldProblem(
                "columns",
                f"unknown column{'s' if len(unknown) > 1 else ''} {names}; a ties file takes: "
                f"{', '.join(COLUMNS)}",
                source=table.source,
            )
        )
    if problems:
        raise InputError(problems=problems)


class _When(TextModel):
    model_config = ConfigDict(extra="forbid")
    date: s.OptionalDate = None


@dataclass
class _People:
    by_email: dict[str, int]
    by_name: dict[str, list[int]]

    @classmethod
    def of(cls, session: Session, partnership_id: int) -> _People:
        by_email: dict[str, int] = {}
        by_name: dict[str, list[int]] = {}
        for person in session.scalars(select(Person).where(Person.partnership_id == partnership_id)).unique():
            if person.email:
                by_email[person.email.strip().lower()] = person.id
            by_name.setdefault(_key(person.full_name), []).append(person.id)
        return cls(by_email, by_name)

    def find(self, values: dict[str, Any], end: str, problem: Any) -> int | None:
        email_column = f"{end}_email"
        email, name = values.get(email_column), values.get(end)
        if not _blank(email):
            found = self.by_email.get(str(email).strip().lower())
            if found is None:
                problem(email_column, f'no person with email "{str(email).strip()}" in this partnership')
            return found
        if not _blank(name):
            matches = self.by_name.get(_key(name), [])
            if not matches:
                problem(end, f'no person called "{str(name).strip()}" in this partnership')
                return None
            if len(matches) > 1:
                problem(
                    end, f'"{str(name).strip()}" matches {len(matches)} people; give {email_column} instead'
                )
                return None
            return matches[0]
        problem(email_column, f"is required (give {email_column} or {end})")
        return None


def plan_ties(
    session: Session, *, partnership_id: int, table: Table, on: date | None = None
) -> tuple[list[t.TieValues], list[FieldProblem]]:
    """The ties a file holds and every problem with it, row by row; writes nothing. ``on`` is the date
    of a row that gives none (default today)."""
    on = on or service.today()
    people = _People.of(session, partnership_id)
    problems: list[FieldProblem] = []
    planned: list[t.TieValues] = []
    for row, values in table.rows:

        def problem(field: str, message: str, row: int = row) -> None:
            problems.append(FieldProblem(field, message, row=row, source=table.source))

        from_id = people.find(values, "from", problem)
        to_id = people.find(values, "to", problem)
        attributes: dict[str, Any] = {}
        for name, parse in (
            ("weight", t.parse_weight),
            ("frequency", t.parse_frequency),
            *((rating, t.parse_rating) for rating in t.RATING_FIELDS),
        ):
            try:
                attributes[name] = parse(values.get(name))
            except ValueError as exc:
                problem(name, str(exc))
        try:
            when = s.parse(_When, {"date": values.get("date")}, row=row, source=table.source).date or on
        except InputError as exc:
            problems.extend(exc.problems)
            when = None
        if from_id is None or to_id is None or when is None:
            continue
        # A row with a bad value is still checked against the others (self-tie, twice, already stored);
        # the bad value is left at its default, and the problem already stops the import.
        planned.append(t.TieValues(from_id, to_id, when, row=row, **attributes))
    return planned, problems


@dataclass(frozen=True)
class TieImport:
    source: str
    rows: int  # ties stored


def import_table(session: Session, *, actor: Actor, partnership_id: int, table: Table) -> TieImport:
    """Check every row of ``table`` and store all its ties as "imported", or none.

    Owns its transaction: commits when every tie is stored; on any problem rolls back and raises
    InputError naming each bad row and field. Audited as one event with the count and who imported.
    """
    ensure_allowed(actor, Can.EDIT_NETWORK, partnership_id)
    try:
        check_columns(table)
        planned, problems = plan_ties(session, partnership_id=partnership_id, table=table)
        problems += service.check_ties(
            session, partnership_id=partnership_id, ties=planned, source=t.IMPORTED, source_name=table.source
        )
        if problems:
            for problem in problems:  # a file naming people by email only: the tie's end is that column
                if problem.field in ("from", "to") and problem.field not in table.columns:
                    problem.field = f"{problem.field}_email"
            table.name_columns(problems)  # as the file shows them: column B "from_email"
            raise InputError(problems=sorted(problems, key=lambda p: p.row or 0))
        stored = service.store_ties(
            session, actor=actor, partnership_id=partnership_id, ties=planned, source_name=table.source
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return TieImport(source=table.source, rows=stored)


def import_file(session: Session, *, actor: Actor, partnership_id: int, path: Path) -> TieImport:
    """Read a CSV (UTF-8) or XLSX file of ties and import it all or nothing (see ``import_table``).

    Example: ``import_file(session, actor=actor, partnership_id=1, path=Path("ties.csv"))``.
    """
    ensure_allowed(actor, Can.EDIT_NETWORK, partnership_id)
    return import_table(session, actor=actor, partnership_id=partnership_id, table=read_table(path))


# --- export ------------------------------------------------------------------------------------------
def export_rows(session: Session, *, actor: Actor, partnership_id: int) -> list[dict[str, Any]]:
    """The stored ties between people in the import's columns (frequency as a word), oldest first; ties
    to organisations are left out. Needs VIEW_NETWORK_NAMES: the file names people."""
    stored = service.list_ties(session, actor=actor, partnership_id=partnership_id)
    people = {
        p.id: p
        for p in session.scalars(select(Person).where(Person.partnership_id == partnership_id)).unique()
    }
    rows = []
    for tie in stored:
        if tie.to_person_id is None:  # a tie to an organisation has no row in a file of person-to-person ties
            continue
        start, end = people[tie.from_person_id], people[tie.to_person_id]
        rows.append(
            {
                "from_email": start.email,
                "from": start.full_name,
                "to_email": end.email,
                "to": end.full_name,
                "weight": tie.weight,
                "frequency": t.FREQUENCIES[tie.frequency] if tie.frequency is not None else None,
                **{name: getattr(tie, name) for name in t.RATING_FIELDS},
                "date": tie.observed_on,
                "source": tie.source,
            }
        )
    return rows


def export_file(session: Session, *, actor: Actor, partnership_id: int, path: Path) -> int:
    """Write the stored ties to ``path`` (.csv as UTF-8, or .xlsx); returns the number of ties written."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(f"{path.name} is not a .csv or .xlsx file name", field="to")
    rows = export_rows(session, actor=actor, partnership_id=partnership_id)
    write_table(path, COLUMNS, rows, FileFormat.CSV if suffix == ".csv" else FileFormat.XLSX)
    return len(rows)
