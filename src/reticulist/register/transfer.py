"""Import and export of the register as spreadsheets (CSV or XLSX), one file per record type.

Columns carry names people understand, never database ids. Export writes exactly the columns import
reads, so a file exported from one partnership imports unchanged into another (a round trip).

Record types and their columns (* = the column must be in the file; the others may be left out):

``organisations``
    name*, kind*, tier*, joined_on, ended_on
``professions``
    name*, ended_on
``people``
    full_name*, email, organisation*, profession, hierarchy_tier*, years_in_profession, late_entry,
    interprofessional_training, joined_on, ended_on
``seats``
    organisation*, person_email, person, role, started_on*, ended_on
``meetings``
    held_on*, kind, title*, notes, cancelled
``attendance``
    held_on*, meeting_title*, person_email, person, organisation, status*
``actions``
    title*, kind, description, owner_email, owner, organisation, meeting_held_on, meeting_title, due_on,
    status, opened_on, closed_on, last_changed_on

Values:

- ``organisation`` and ``profession`` are names of records already in the partnership's register
  (matched ignoring case and extra spaces). Each import reads one file, so a row cannot refer to a record
  created by another file in the same run: import organisations, then professions, people, seats,
  meetings, attendance and actions, in that order.
- A person is named by ``person_email`` (``owner_email`` for actions) or, when that is blank, by
  ``person`` (``owner``), their full name, which must match exactly one person. Export writes both, so
  people without an email who share a name with someone else need an email before their seats,
  attendance or actions can be imported again.
- A meeting is named by its date and title (``held_on`` + ``meeting_title`` in attendance,
  ``meeting_held_on`` + ``meeting_title`` in actions); the pair must match exactly one meeting.
- Choices (kind, tier, role, status) accept the stored value (``childrens_social_care``) or the label
  shown on pages (``Children's social care``), in any case. Export writes stored values.
- Dates are YYYY-MM-DD or DD/MM/YYYY (or date cells in XLSX); yes/no fields take yes/no, true/false, 1/0.
- Header names are matched ignoring case, with spaces read as underscores ("Full name" = full_name).

Rules: every row is validated before anything is written; on any problem the import raises InputError
listing each bad row and field and writes nothing. Duplicates are refused: an organisation or profession
name, a person's email, a seat (organisation, person, start date) or a meeting (date, title) that
appears twice in the file or is already in the register. Attendance rows for a person already recorded
at that meeting replace their status. Actions have no natural key, so importing the same actions file
twice adds them twice.

Writing: the checks read the register once into lookups and take no lock; only then are the rows
written, in bulk (batches of 1,000 rows), so SQLite's write lock is held for the writing alone (a couple
of seconds for 20,000 people, see benchmarks/register_import.py) and web forms go on working during an
import. The file is audited as one entry: who imported it, which file, how many records of which type
(and how many had ended or changed), and their record numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reticulist import tabular
from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.audit import service as audit
from reticulist.comparison import figures as comparison_figures
from reticulist.db.bulk import BATCH_ROWS, insert_rows
from reticulist.errors import FieldProblem, InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Action, Attendance, Meeting, Organisation, Person, Profession, Seat
from reticulist.text import TextModel


class RecordType(StrEnum):
    ORGANISATIONS = "organisations"
    PROFESSIONS = "professions"
    PEOPLE = "people"
    SEATS = "seats"
    MEETINGS = "meetings"
    ATTENDANCE = "attendance"
    ACTIONS = "actions"


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True)
class Columns:
    order: tuple[str, ...]  # as exported
    required: tuple[str, ...]
    one_of: tuple[str, ...] = ()  # at least one of these must be in the file


COLUMNS: dict[RecordType, Columns] = {
    RecordType.ORGANISATIONS: Columns(
        ("name", "kind", "tier", "joined_on", "ended_on"), ("name", "kind", "tier")
    ),
    RecordType.PROFESSIONS: Columns(("name", "ended_on"), ("name",)),
    RecordType.PEOPLE: Columns(
        (
            "full_name",
            "email",
            "organisation",
            "profession",
            "hierarchy_tier",
            "years_in_profession",
            "late_entry",
            "interprofessional_training",
            "joined_on",
            "ended_on",
        ),
        ("full_name", "organisation", "hierarchy_tier"),
    ),
    RecordType.SEATS: Columns(
        ("organisation", "person_email", "person", "role", "started_on", "ended_on"),
        ("organisation", "started_on"),
        ("person_email", "person"),
    ),
    RecordType.MEETINGS: Columns(("held_on", "kind", "title", "notes", "cancelled"), ("held_on", "title")),
    RecordType.ATTENDANCE: Columns(
        ("held_on", "meeting_title", "person_email", "person", "organisation", "status"),
        ("held_on", "meeting_title", "status"),
        ("person_email", "person"),
    ),
    RecordType.ACTIONS: Columns(
        (
            "title",
            "kind",
            "description",
            "owner_email",
            "owner",
            "organisation",
            "meeting_held_on",
            "meeting_title",
            "due_on",
            "status",
            "opened_on",
            "closed_on",
            "last_changed_on",
        ),
        ("title",),
    ),
}

# Schema fields that hold ids map back to the file column the user wrote.
_FIELD_TO_COLUMN = {
    "organisation_id": "organisation",
    "profession_id": "profession",
    "person_id": "person_email",
    "owner_person_id": "owner_email",
    "meeting_id": "meeting_title",
}

SAVE_AS_UTF8 = (
    'save it as UTF-8: in Excel use File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)"; in LibreOffice '
    'use Save As, tick "Edit filter settings" and choose "Unicode (UTF-8)"'
)


# --- reading files -----------------------------------------------------------------------------------
def column_letter(index: int) -> str:
    """A spreadsheet's column letter for a 0-based column index: 0 is A, 26 is AA."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class Table:
    """A file as read: its name, its (normalised) header and its data rows keyed by spreadsheet row."""

    source: str
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # normalised name -> (0-based index, the header as written): to name a column the way the file shows it
    headers: dict[str, tuple[int, str]] = field(default_factory=dict)

    def label(self, name: str) -> str:
        """A column of this file as the user's spreadsheet shows it, by letter and header (column C
        "Full name"); any other name (a missing column, "file") is returned unchanged."""
        if (found := self.headers.get(name)) is None:
            return name
        index, header = found
        shown = header if len(header) <= 80 else header[:77] + "..."
        return f'column {column_letter(index)} "{shown}"'

    def name_columns(self, problems: Iterable[FieldProblem]) -> None:
        """Name each problem's field as its column in the file (see ``label``)."""
        for problem in problems:
            if problem.source in (None, self.source):
                problem.field = self.label(problem.field)


def _file_problem(source: str, message: str, field: str = "file") -> InputError:
    return InputError(problems=[FieldProblem(field=field, message=message, source=source)])


def _header_name(value: Any) -> str:
    return "_".join(str(value or "").strip().lower().replace("-", " ").split())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(value: Any) -> Any:
    """An XLSX cell as the schemas take it: dates without times, whole numbers without ".0"."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return tabular.unneutralise(value)


def _table(source: str, raw_rows: Iterable[tuple[int, list[Any]]]) -> Table:
    rows = iter(raw_rows)
    header: list[Any] | None = None
    for _, values in rows:
        if any(not _blank(v) for v in values):
            header = values
            break
    if header is None:
        raise _file_problem(source, "is empty: there is no header row")
    names = [_header_name(v) for v in header]
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            problems.append(
                FieldProblem("columns", f'column "{name}" appears twice in the header', source=source)
            )
        seen.add(name)
    table = Table(
        source=source,
        columns=[n for n in names if n],
        headers={n: (i, " ".join(str(header[i]).split())) for i, n in enumerate(names) if n},
    )
    for number, values in rows:
        if all(_blank(v) for v in values):
            continue  # blank lines between rows are common in spreadsheets and mean nothing
        record: dict[str, Any] = {}
        for index, value in enumerate(values):
            name = names[index] if index < len(names) else ""
            if name:
                record[name] = value
            elif not _blank(value):
                problems.append(
                    FieldProblem(
                        f"column {column_letter(index)}",
                        f'has the value "{value}" but the header names no column there',
                        row=number,
                        source=source,
                    )
                )
        table.rows.append((number, record))
    if problems:
        raise InputError(problems=problems)
    if not table.rows:
        raise _file_problem(source, "has a header row but no data rows")
    return table


def _read_csv(path: Path) -> Table:
    return _table(path.name, _csv_cells(path))


def _csv_cells(path: Path) -> list[tuple[int, list[Any]]]:
    source = path.name
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_problem(source, f"is UTF-16 text, not UTF-8; {SAVE_AS_UTF8}", "encoding")
    if b"\x00" in data:  # text never holds NUL bytes; UTF-16 without a byte order mark does
        raise _file_problem(source, f"is not UTF-8 text (it looks like UTF-16); {SAVE_AS_UTF8}", "encoding")
    if data.startswith(b"PK\x03\x04"):
        raise _file_problem(source, "is a workbook (XLSX), not CSV text; name it .xlsx or save it as CSV")
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _file_problem(
            source,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); {SAVE_AS_UTF8}",
            "encoding",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[Any]]] = []
    try:
        # Spreadsheet rows are records, not physical lines: a quoted cell may hold line breaks.
        for number, values in enumerate(reader, start=1):
            if number > tabular.MAX_IMPORT_ROWS:
                raise tabular.too_many_rows(source)
            rows.append((number, [tabular.unneutralise(v) for v in values]))
    except csv.Error as exc:
        raise _file_problem(source, f"is not a readable CSV file ({exc})") from None
    return rows


def _read_xlsx(path: Path, kind: RecordType | None) -> Table:
    return _table(path.name, _xlsx_cells(path, kind.value if kind else None))


def _xlsx_cells(path: Path, sheet_name: str | None) -> list[tuple[int, list[Any]]]:
    # Streamed within tabular's limits; a broken or hostile workbook is an InputError naming the file.
    return [(n, [_cell(v) for v in values]) for n, values in tabular.xlsx_rows(path, sheet_name)]


def read_table(path: Path, kind: RecordType | None = None) -> Table:
    """Read a CSV (UTF-8, with or without a byte order mark) or XLSX file into a Table.

    Raises InputError for a file that is missing, of an unknown type, not UTF-8, not a real workbook,
    or empty (no header, or a header but no rows).
    """
    return _table(path.name, read_cells(path, kind.value if kind else None))


def read_cells(path: Path, sheet: str | None = None) -> list[tuple[int, list[Any]]]:
    """The rows of a CSV or XLSX file as read, before any header is looked at: (spreadsheet row number,
    cell values), with XLSX cells as ``read_table`` gives them (dates without times, whole numbers as int).

    Makes the same file checks as ``read_table`` (type, missing, not UTF-8, not a real workbook); other
    importers (barometer responses) use it to read headers in their own way. ``sheet`` picks a workbook
    sheet by name when it exists, else the first sheet is read.
    """
    source = path.name
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        hint = " (an old Excel .xls file)" if suffix == ".xls" else ""
        raise _file_problem(
            source, f"is not a .csv or .xlsx file{hint}; save it from your spreadsheet as CSV UTF-8 or .xlsx"
        )
    if not path.is_file():
        raise _file_problem(source, f"no such file: {path}")
    return _csv_cells(path) if suffix == ".csv" else _xlsx_cells(path, sheet)


def check_columns(table: Table, kind: RecordType) -> None:
    """Refuse a file whose header lacks a required column or has columns this record type does not take."""
    spec = COLUMNS[kind]
    problems = [
        FieldProblem(
            name, f"column is missing from the header (the {kind.value} file needs it)", source=table.source
        )
        for name in spec.required
        if name not in table.columns
    ]
    if spec.one_of and not any(c in table.columns for c in spec.one_of):
        wanted = " or ".join(spec.one_of)
        problems.append(
            FieldProblem(spec.one_of[0], f"column is missing: give {wanted}", source=table.source)
        )
    unknown = [c for c in table.columns if c not in spec.order]
    if unknown:
        names = ", ".join(f'"{c}"' for c in unknown)
        problems.append(
            FieldProblem(
                "columns",
                f"unknown column{'s' if len(unknown) > 1 else ''} {names}; "
                f"a {kind.value} file takes: {', '.join(spec.order)}",
                source=table.source,
            )
        )
    if problems:
        raise InputError(problems=problems)


# --- the register as lookups (one query per table) ---------------------------------------------------
def _key(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


class _Register:
    """The partnership's records as lookups, each read with one query when first needed (only the columns
    the checks use), so that 20,000 rows are checked against 20,000 people without a query per row."""

    def __init__(self, session: Session, partnership_id: int) -> None:
        self.session = session
        self.partnership_id = partnership_id

    def _select(self, model: type[Any], *columns: Any) -> list[Row[Any]]:
        query = select(*columns).where(model.partnership_id == self.partnership_id)
        return list(self.session.execute(query))

    def _by_key(self, rows: Iterable[Row[Any]], key: Callable[[Row[Any]], Any]) -> dict[Any, list[Row[Any]]]:
        out: dict[Any, list[Row[Any]]] = defaultdict(list)
        for record in rows:
            out[key(record)].append(record)
        return out

    @cached_property
    def organisations(self) -> dict[str, list[Row[Any]]]:
        rows = self._select(Organisation, Organisation.id, Organisation.name)
        return self._by_key(rows, lambda r: _key(r.name))

    @cached_property
    def professions(self) -> dict[str, list[Row[Any]]]:
        rows = self._select(Profession, Profession.id, Profession.name)
        return self._by_key(rows, lambda r: _key(r.name))

    @cached_property
    def people(self) -> list[Row[Any]]:
        return self._select(Person, Person.id, Person.email, Person.full_name, Person.organisation_id)

    @cached_property
    def people_by_id(self) -> dict[int, Row[Any]]:
        return {p.id: p for p in self.people}

    @cached_property
    def people_by_email(self) -> dict[str, Row[Any]]:
        return {p.email.lower(): p for p in self.people if p.email}

    @cached_property
    def people_by_name(self) -> dict[str, list[Row[Any]]]:
        return self._by_key(self.people, lambda r: _key(r.full_name))

    @cached_property
    def meetings(self) -> dict[tuple[date, str], list[Row[Any]]]:
        rows = self._select(Meeting, Meeting.id, Meeting.held_on, Meeting.title)
        return self._by_key(rows, lambda r: (r.held_on, _key(r.title)))

    @cached_property
    def seats(self) -> set[tuple[int, int, date]]:
        rows = self._select(Seat, Seat.organisation_id, Seat.person_id, Seat.started_on)
        return {(x.organisation_id, x.person_id, x.started_on) for x in rows}

    @cached_property
    def attendance(self) -> dict[tuple[int, int], Row[Any]]:
        a = Attendance
        query = (
            select(a.id, a.meeting_id, a.person_id, a.organisation_id, a.status)
            .join(Meeting, Meeting.id == a.meeting_id)
            .where(Meeting.partnership_id == self.partnership_id)
        )
        return {(a.meeting_id, a.person_id): a for a in self.session.execute(query)}


_FIRST = "references must already be in the register, since each import reads one file"


class _Rows:
    """Validation of one file: every problem is collected, each with its row and column."""

    def __init__(self, table: Table, reg: _Register, progress: Progress | None = None) -> None:
        self.table = table
        self.reg = reg
        self.problems: list[FieldProblem] = []
        self.progress = progress

    def each(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """The file's rows, telling ``progress`` as each one has been checked."""
        total = len(self.table.rows)
        for done, (row, values) in enumerate(self.table.rows, start=1):
            yield row, values
            if self.progress:
                self.progress(done, total)

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(FieldProblem(column, message, row=row, source=self.table.source))

    def parse(self, schema: type[BaseModel], data: dict[str, Any], row: int) -> Any:
        """Validate through the schema forms use; blank optional cells take the schema's default."""
        data = {k: v for k, v in data.items() if not _blank(v)}
        try:
            return s.parse(schema, data, row=row, source=self.table.source)
        except InputError as exc:
            for p in exc.problems:
                p.field = _FIELD_TO_COLUMN.get(p.field, p.field)
            self.problems.extend(exc.problems)
            return None

    def one(self, matches: list[Any], row: int, column: str, value: Any, what: str, hint: str) -> int | None:
        if not matches:
            self.problem(row, column, f'no {what} "{value}" in this partnership ({hint})')
            return None
        if len(matches) > 1:
            self.problem(row, column, f'"{value}" matches {len(matches)} {what} records; {hint}')
            return None
        return int(matches[0].id)

    def organisation(self, row: int, values: dict[str, Any], column: str, required: bool) -> int | None:
        value = values.get(column)
        if _blank(value):
            if required:
                self.problem(row, column, "is required")
            return None
        return self.one(
            self.reg.organisations.get(_key(value), []),
            row,
            column,
            value,
            "organisation",
            f"{_FIRST}: import organisations first",
        )

    def profession(self, row: int, values: dict[str, Any]) -> int | None:
        value = values.get("profession")
        if _blank(value):
            return None
        return self.one(
            self.reg.professions.get(_key(value), []),
            row,
            "profession",
            value,
            "profession",
            f"{_FIRST}: import professions first",
        )

    def person(
        self, row: int, values: dict[str, Any], email_column: str, name_column: str, required: bool
    ) -> int | None:
        email, name = values.get(email_column), values.get(name_column)
        hint = f"{_FIRST}: import people first"
        if not _blank(email):
            found = self.reg.people_by_email.get(str(email).strip().lower())
            return self.one(
                [found] if found else [], row, email_column, str(email).strip(), "person with email", hint
            )
        if not _blank(name):
            matches = self.reg.people_by_name.get(_key(name), [])
            return self.one(
                matches, row, name_column, name, "person", f"give {email_column} instead" if matches else hint
            )
        if required:
            self.problem(row, email_column, f"is required (give {email_column} or {name_column})")
        return None

    def meeting(self, row: int, values: dict[str, Any], date_column: str, required: bool) -> int | None:
        held_on, title = values.get(date_column), values.get("meeting_title")
        if _blank(held_on) and _blank(title) and not required:
            return None
        before = len(self.problems)
        ref = self.parse(_MeetingRef, {"held_on": held_on, "meeting_title": title}, row)
        if ref is None:
            for p in self.problems[before:]:
                p.field = date_column if p.field == "held_on" else p.field
            return None
        matches = self.reg.meetings.get((ref.held_on, _key(ref.meeting_title)), [])
        label = f"{ref.meeting_title} on {ref.held_on.isoformat()}"
        return self.one(matches, row, "meeting_title", label, "meeting", f"{_FIRST}: import meetings first")

    def ended_on(
        self, row: int, values: dict[str, Any], start: date | None, start_column: str
    ) -> date | None:
        if _blank(values.get("ended_on")):  # most rows: no end date, nothing to check
            return None
        ending = self.parse(_Ending, {"ended_on": values.get("ended_on")}, row)
        ended = ending.ended_on if ending else None
        if ended and start and ended < start:
            self.problem(row, "ended_on", f"{ended.isoformat()} is before {start_column} {start.isoformat()}")
        return ended


class _Extra(TextModel):
    model_config = ConfigDict(extra="forbid")


class _Ending(_Extra):
    ended_on: s.OptionalDate = None


class _Cancelled(_Extra):
    cancelled: s.YesNo = False


class _MeetingRef(_Extra):
    held_on: s.RequiredDate
    meeting_title: s.Title


@dataclass
class _Batch:
    """What a checked file writes into one table: new rows (column values, checked) and, for attendance,
    new statuses of rows already there; with counts the audit entry tells."""

    model: type[Any]
    noun: str  # as the audit entry says it: "people", "attendance records"
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # {"_id", "_status", "_organisation_id"}
    counts: dict[str, int] = field(default_factory=dict)  # {"ended": 2}: for the audit entry

    def count(self, what: str, really: bool = True) -> None:
        if really:
            self.counts[what] = self.counts.get(what, 0) + 1


def _first_seen(seen: dict[Any, int], key: Any, row: int) -> int | None:
    if key in seen:
        return seen[key]
    seen[key] = row
    return None


def _check_organisations(rows: _Rows, pid: int) -> _Batch:
    batch = _Batch(Organisation, "organisations")
    seen: dict[str, int] = {}
    for row, values in rows.each():
        data = rows.parse(
            s.OrganisationCreate, {k: values.get(k) for k in ("name", "kind", "tier", "joined_on")}, row
        )
        ended = rows.ended_on(row, values, data.joined_on if data else None, "joined_on")
        if data is None:
            continue
        if rows.reg.organisations.get(_key(data.name)):
            rows.problem(row, "name", f'"{data.name}" is already in this partnership\'s register')
        elif (first := _first_seen(seen, _key(data.name), row)) is not None:
            rows.problem(row, "name", f'"{data.name}" appears twice in this file (first on row {first})')
        batch.new.append({"partnership_id": pid, **data.model_dump(), "ended_on": ended})
        batch.count("ended", ended is not None)
    return batch


def _check_professions(rows: _Rows, pid: int) -> _Batch:
    batch = _Batch(Profession, "professions")
    seen: dict[str, int] = {}
    for row, values in rows.each():
        data = rows.parse(s.ProfessionCreate, {"name": values.get("name")}, row)
        ended = rows.ended_on(row, values, None, "")
        if data is None:
            continue
        if rows.reg.professions.get(_key(data.name)):
            rows.problem(row, "name", f'"{data.name}" is already in this partnership\'s register')
        elif (first := _first_seen(seen, _key(data.name), row)) is not None:
            rows.problem(row, "name", f'"{data.name}" appears twice in this file (first on row {first})')
        batch.new.append({"partnership_id": pid, "name": data.name, "ended_on": ended})
        batch.count("ended", ended is not None)
    return batch


_PERSON_FIELDS = (
    "full_name",
    "email",
    "hierarchy_tier",
    "years_in_profession",
    "late_entry",
    "interprofessional_training",
    "joined_on",
)


# An unresolved reference is reported on its own; this stand-in (an id no record has) lets the schema
# check the row's other fields. Nothing is written from a file with any problem.
_STAND_IN = s.MAX_ID


def _check_people(rows: _Rows, pid: int) -> _Batch:
    batch = _Batch(Person, "people")
    seen: dict[str, int] = {}
    for row, values in rows.each():
        organisation_id = rows.organisation(row, values, "organisation", required=True)
        profession_id = rows.profession(row, values)
        fields = {k: values.get(k) for k in _PERSON_FIELDS}
        data = rows.parse(
            s.PersonCreate,
            {**fields, "organisation_id": organisation_id or _STAND_IN, "profession_id": profession_id},
            row,
        )
        ended = rows.ended_on(row, values, data.joined_on if data else None, "joined_on")
        if data is None:
            continue
        if data.email:
            if data.email in rows.reg.people_by_email:
                rows.problem(
                    row, "email", f"{data.email} is already someone's email in this partnership's register"
                )
            elif (first := _first_seen(seen, data.email, row)) is not None:
                rows.problem(row, "email", f"{data.email} appears twice in this file (first on row {first})")
        batch.new.append({"partnership_id": pid, **data.model_dump(), "ended_on": ended})
        batch.count("ended", ended is not None)
    return batch


def _check_seats(rows: _Rows, pid: int) -> _Batch:
    batch = _Batch(Seat, "seats")
    seen: dict[tuple[int, int, date], int] = {}
    for row, values in rows.each():
        organisation_id = rows.organisation(row, values, "organisation", required=True)
        person_id = rows.person(row, values, "person_email", "person", required=True)
        data = rows.parse(
            s.SeatCreate,
            {
                "organisation_id": organisation_id or _STAND_IN,
                "person_id": person_id or _STAND_IN,
                **{k: values.get(k) for k in ("role", "started_on", "ended_on")},
            },
            row,
        )
        if data is None or not organisation_id or not person_id:
            continue
        if data.ended_on and data.ended_on < data.started_on:
            rows.problem(
                row, "ended_on", f"{data.ended_on.isoformat()} is before started_on {data.started_on}"
            )
        key = (organisation_id, person_id, data.started_on)
        if key in rows.reg.seats:
            rows.problem(
                row, "started_on", "this seat (organisation, person, start date) is already in the register"
            )
        elif (first := _first_seen(seen, key, row)) is not None:
            rows.problem(row, "started_on", f"this seat appears twice in this file (first on row {first})")
        batch.new.append({"partnership_id": pid, **data.model_dump()})
        batch.count("ended", data.ended_on is not None)
    return batch


def _check_meetings(rows: _Rows, pid: int) -> _Batch:
    batch = _Batch(Meeting, "meetings")
    seen: dict[tuple[date, str], int] = {}
    for row, values in rows.each():
        data = rows.parse(
            s.MeetingCreate, {k: values.get(k) for k in ("held_on", "kind", "title", "notes")}, row
        )
        flags = rows.parse(_Cancelled, {"cancelled": values.get("cancelled")}, row)
        if data is None or flags is None:
            continue
        key = (data.held_on, _key(data.title))
        if rows.reg.meetings.get(key):
            rows.problem(
                row, "title", f'a meeting "{data.title}" on {data.held_on} is already in the register'
            )
        elif (first := _first_seen(seen, key, row)) is not None:
            rows.problem(row, "title", f"this meeting appears twice in this file (first on row {first})")
        batch.new.append({"partnership_id": pid, **data.model_dump(), "cancelled": flags.cancelled})
        batch.count("cancelled", flags.cancelled)
    return batch


def _check_attendance(rows: _Rows, pid: int) -> _Batch:
    batch = _Batch(Attendance, "attendance records")
    seen: dict[tuple[int, int], int] = {}
    for row, values in rows.each():
        meeting_id = rows.meeting(row, values, "held_on", required=True)
        person_id = rows.person(row, values, "person_email", "person", required=True)
        organisation_id = rows.organisation(row, values, "organisation", required=False)
        entry = rows.parse(
            s.AttendanceEntry,
            {
                "person_id": person_id or _STAND_IN,
                "status": values.get("status"),
                "organisation_id": organisation_id,
            },
            row,
        )
        if entry is None or not meeting_id or not person_id:
            continue
        if (first := _first_seen(seen, (meeting_id, person_id), row)) is not None:
            rows.problem(
                row, "person_email", f"this person appears twice for this meeting (first on row {first})"
            )
            continue
        # As the attendance form records it: the person's own organisation unless another is named, and
        # a person already recorded at the meeting gets the new status.
        organisation = entry.organisation_id or rows.reg.people_by_id[person_id].organisation_id
        recorded = rows.reg.attendance.get((meeting_id, person_id))
        if recorded is None:
            batch.new.append(
                {
                    "meeting_id": meeting_id,
                    "person_id": person_id,
                    "organisation_id": organisation,
                    "status": entry.status,
                }
            )
        elif (recorded.status, recorded.organisation_id) != (entry.status, organisation):
            batch.changed.append(
                {"_id": recorded.id, "_status": entry.status, "_organisation_id": organisation}
            )
        else:
            batch.count("unchanged")
    return batch


def _check_actions(rows: _Rows, pid: int) -> _Batch:
    batch = _Batch(Action, "actions")
    fields = ("title", "kind", "description", "due_on", "status", "opened_on", "closed_on", "last_changed_on")
    for row, values in rows.each():
        owner_id = rows.person(row, values, "owner_email", "owner", required=False)
        organisation_id = rows.organisation(row, values, "organisation", required=False)
        meeting_id = rows.meeting(row, values, "meeting_held_on", required=False)
        data = rows.parse(
            s.ActionCreate,
            {
                **{k: values.get(k) for k in fields},
                "owner_person_id": owner_id,
                "organisation_id": organisation_id,
                "meeting_id": meeting_id,
            },
            row,
        )
        if data is None:
            continue
        try:  # the dates as the action form fills and checks them
            stored = register.action_values(data)
        except InputError as exc:
            for p in exc.problems:
                rows.problem(row, _FIELD_TO_COLUMN.get(p.field, p.field), p.message)
            continue
        batch.new.append({"partnership_id": pid, **stored})
    return batch


_CHECKS: dict[RecordType, Callable[[_Rows, int], _Batch]] = {
    RecordType.ORGANISATIONS: _check_organisations,
    RecordType.PROFESSIONS: _check_professions,
    RecordType.PEOPLE: _check_people,
    RecordType.SEATS: _check_seats,
    RecordType.MEETINGS: _check_meetings,
    RecordType.ATTENDANCE: _check_attendance,
    RecordType.ACTIONS: _check_actions,
}


@dataclass(frozen=True)
class ImportResult:
    kind: RecordType
    source: str
    rows: int  # data rows imported
    checked_seconds: float = 0.0  # reading the register and checking every row (nothing locked)
    written_seconds: float = 0.0  # writing and committing: how long SQLite's write lock was held


Progress = Callable[[int, int], None]  # (rows done so far, rows in all)


def _checked(
    session: Session, table: Table, kind: RecordType, partnership_id: int, progress: Progress | None
) -> _Batch:
    rows = _Rows(table, _Register(session, partnership_id), progress)
    batch = _CHECKS[kind](rows, partnership_id)
    if rows.problems:
        table.name_columns(rows.problems)
        raise InputError(problems=rows.problems)
    return batch


def _id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Record numbers as [first, last] runs: a bulk import's are one or a few runs, however many rows."""
    runs: list[list[int]] = []
    for number in sorted(ids):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return runs


def _write(
    session: Session,
    batch: _Batch,
    *,
    actor: Actor,
    partnership_id: int,
    source: str,
    rows: int,
    progress: Progress | None,
) -> None:
    """Write a checked batch in bulk (``db.bulk``; UPDATEs in batches for attendance) and one audit entry
    for the whole file: who imported what, from which file, how many, and their record numbers."""
    table = batch.model.__table__
    total = len(batch.new) + len(batch.changed)
    created = insert_rows(
        session, table, batch.new, progress=(lambda done: progress(done, total)) if progress else None
    )
    done = len(created)
    if batch.changed:  # attendance only: a new status for someone already recorded at the meeting
        change = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values(status=bindparam("_status"), organisation_id=bindparam("_organisation_id"))
        )
        for start in range(0, len(batch.changed), BATCH_ROWS):
            chunk = batch.changed[start : start + BATCH_ROWS]
            session.execute(change, chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    # The bulk writes bypass the ORM's flush, which is where comparison figures notice changes.
    comparison_figures.mark_changed(session, [partnership_id])
    details = {"created": len(created), **({"changed": len(batch.changed)} if batch.changed else {})}
    details.update(batch.counts)
    said = ", ".join(f"{n} {what}" for what, n in details.items() if what != "created" and n)
    audit.record(
        session,
        actor=actor,
        event="imported",
        record_type=str(table.name),
        record_id=None,
        partnership_id=partnership_id,
        summary=f"{rows} {batch.noun} imported from {source}" + (f" ({said})" if said else ""),
        after={
            "file": source,
            "rows": rows,
            **details,
            "ids": _id_ranges(created),
            **({"changed_ids": _id_ranges(c["_id"] for c in batch.changed)} if batch.changed else {}),
        },
    )
    session.flush()


def import_table(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    kind: RecordType,
    table: Table,
    progress: Progress | None = None,
    write_progress: Progress | None = None,
) -> ImportResult:
    """Check every row of ``table``, then write them all, or none.

    Owns its transaction. First every row is checked against the partnership's register (read once into
    lookups) by the rules the register's forms apply; on any problem it raises InputError listing each bad
    row and field, with nothing written. Then the rows are written in bulk (batches of 1,000 rows) with
    one audit entry for the file, as ``actor`` with ``via="import"``, and committed. Only this part holds
    SQLite's write lock: a couple of seconds for 20,000 people (benchmarks/register_import.py).

    ``progress(done, total)`` is told after each row checked, ``write_progress`` after each batch written.
    """
    ensure_allowed(actor, Can.IMPORT_REGISTER, partnership_id)
    ensure_allowed(actor, Can.EDIT_REGISTER, partnership_id)  # it writes what the register's forms write
    actor = dataclasses.replace(actor, via="import")
    check_columns(table, kind)
    started = time.perf_counter()
    try:
        batch = _checked(session, table, kind, partnership_id, progress)
        # Nothing is written yet. Ending the checks' read transaction lets the writing start from the
        # latest state: a SQLite writer then never has to upgrade an old snapshot (which fails at once).
        session.commit()
    except BaseException:
        session.rollback()
        raise
    checked = time.perf_counter()
    try:
        _write(
            session,
            batch,
            actor=actor,
            partnership_id=partnership_id,
            source=table.source,
            rows=len(table.rows),
            progress=write_progress,
        )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        # Someone added a clashing record (an email, a name) while the file was being checked: checked
        # again, the rows it clashes with are named.
        try:
            _checked(session, table, kind, partnership_id, None)
        finally:
            session.rollback()
        detail = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise _file_problem(
            table.source, f"the database refused the rows ({detail}); nothing was imported"
        ) from None
    except BaseException:
        session.rollback()
        raise
    return ImportResult(
        kind=kind,
        source=table.source,
        rows=len(table.rows),
        checked_seconds=checked - started,
        written_seconds=time.perf_counter() - checked,
    )


def import_file(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    kind: RecordType,
    path: Path,
    progress: Progress | None = None,
    write_progress: Progress | None = None,
) -> ImportResult:
    """Read a CSV or XLSX file of ``kind`` records and import it all-or-nothing (see ``import_table``).

    Example: ``import_file(session, actor=actor, partnership_id=1, kind=RecordType.PEOPLE,
    path=Path("people.csv"))``.
    """
    ensure_allowed(actor, Can.IMPORT_REGISTER, partnership_id)
    table = read_table(path, kind)
    return import_table(
        session,
        actor=actor,
        partnership_id=partnership_id,
        kind=kind,
        table=table,
        progress=progress,
        write_progress=write_progress,
    )


# --- export ------------------------------------------------------------------------------------------
def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def export_rows(
    session: Session, *, actor: Actor, partnership_id: int, kind: RecordType
) -> list[dict[str, Any]]:
    """The records of ``kind`` as rows with the import columns (dates as dates, yes/no as text)."""
    ensure_allowed(actor, Can.EXPORT_REGISTER, partnership_id)
    pid = partnership_id
    if kind is RecordType.ORGANISATIONS:
        return [
            {"name": o.name, "kind": o.kind, "tier": o.tier, "joined_on": o.joined_on, "ended_on": o.ended_on}
            for o in register.list_organisations(session, actor=actor, partnership_id=pid)
        ]
    if kind is RecordType.PROFESSIONS:
        return [
            {"name": p.name, "ended_on": p.ended_on}
            for p in register.list_professions(session, actor=actor, partnership_id=pid)
        ]
    organisations = {
        o.id: o.name for o in register.list_organisations(session, actor=actor, partnership_id=pid)
    }
    people = {p.id: p for p in register.list_people(session, actor=actor, partnership_id=pid)}

    def email(person_id: int | None) -> str | None:
        return people[person_id].email if person_id else None

    def name(person_id: int | None) -> str | None:
        return people[person_id].full_name if person_id else None

    if kind is RecordType.PEOPLE:
        return [
            {
                "full_name": p.full_name,
                "email": p.email,
                "organisation": organisations[p.organisation_id],
                "profession": p.profession.name if p.profession else None,
                "hierarchy_tier": p.hierarchy_tier,
                "years_in_profession": p.years_in_profession,
                "late_entry": _yes_no(p.late_entry),
                "interprofessional_training": _yes_no(p.interprofessional_training),
                "joined_on": p.joined_on,
                "ended_on": p.ended_on,
            }
            for p in people.values()
        ]
    if kind is RecordType.SEATS:
        seats = register.list_seats(session, actor=actor, partnership_id=pid)
        return [
            {
                "organisation": organisations[x.organisation_id],
                "person_email": email(x.person_id),
                "person": name(x.person_id),
                "role": x.role,
                "started_on": x.started_on,
                "ended_on": x.ended_on,
            }
            for x in sorted(seats, key=lambda x: (organisations[x.organisation_id], x.started_on, x.id))
        ]
    meetings = {m.id: m for m in register.list_meetings(session, actor=actor, partnership_id=pid)}
    if kind is RecordType.MEETINGS:
        return [
            {
                "held_on": m.held_on,
                "kind": m.kind,
                "title": m.title,
                "notes": m.notes,
                "cancelled": _yes_no(m.cancelled),
            }
            for m in sorted(meetings.values(), key=lambda m: (m.held_on, m.title, m.id))
        ]
    if kind is RecordType.ATTENDANCE:
        # One query for the whole partnership rather than one per meeting.
        records = session.scalars(
            select(Attendance)
            .join(Meeting, Attendance.meeting_id == Meeting.id)
            .where(Meeting.partnership_id == pid)
        ).unique()
        return sorted(
            (
                {
                    "held_on": meetings[a.meeting_id].held_on,
                    "meeting_title": meetings[a.meeting_id].title,
                    "person_email": email(a.person_id),
                    "person": name(a.person_id),
                    "organisation": organisations[a.organisation_id],
                    "status": a.status,
                }
                for a in records
            ),
            key=lambda r: (r["held_on"], r["meeting_title"], r["person"]),
        )
    actions: list[Action] = register.list_actions(session, actor=actor, partnership_id=pid)
    return [
        {
            "title": a.title,
            "kind": a.kind,
            "description": a.description,
            "owner_email": email(a.owner_person_id),
            "owner": name(a.owner_person_id),
            "organisation": organisations.get(a.organisation_id) if a.organisation_id else None,
            "meeting_held_on": meetings[a.meeting_id].held_on if a.meeting_id else None,
            "meeting_title": meetings[a.meeting_id].title if a.meeting_id else None,
            "due_on": a.due_on,
            "status": a.status,
            "opened_on": a.opened_on,
            "closed_on": a.closed_on,
            "last_changed_on": a.last_changed_on,
        }
        for a in actions
    ]


def write_table(
    path: Path, columns: Iterable[str], rows: list[dict[str, Any]], file_format: FileFormat
) -> None:
    """Write rows as UTF-8 CSV (with a byte order mark, so Excel reads the accents) or as one XLSX sheet;
    every cell neutralised (``reticulist.tabular``)."""
    columns = list(columns)
    values = ([r.get(c) for c in columns] for r in rows)
    if file_format is FileFormat.CSV:
        path.write_bytes(tabular.csv_bytes([columns, *values]))
        return
    tabular.write_xlsx(path, [tabular.Sheet(path.stem, values, header=columns)])


def export_partnership(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    directory: Path,
    file_format: FileFormat = FileFormat.CSV,
) -> list[Path]:
    """Write one file per record type into ``directory`` (created if missing); returns the paths written.

    Example: ``export_partnership(session, actor=actor, partnership_id=1, directory=Path("out"))`` writes
    out/organisations.csv, out/professions.csv, ... out/actions.csv.
    """
    ensure_allowed(actor, Can.EXPORT_REGISTER, partnership_id)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in RecordType:
        path = directory / f"{kind.value}.{file_format.value}"
        rows = export_rows(session, actor=actor, partnership_id=partnership_id, kind=kind)
        write_table(path, COLUMNS[kind].order, rows, file_format)
        paths.append(path)
    return paths
