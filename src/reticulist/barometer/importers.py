"""Survey responses gathered outside Reticulist (Microsoft Forms, Google Forms, any spreadsheet), read
into rows of (profile, answers) and stored in a round. Reading and checking the file is pure (no
database): ``read_responses`` / ``parse_responses``; ``import_responses`` is the write, through the
barometer service.

Three layouts are read, from CSV (UTF-8) or XLSX:

``generic``
    one column per item key (``continuity_1``), plus optional profile columns ``organisation``,
    ``profession``, ``hierarchy_tier`` and ``wt_tier`` (blank = not told), and an optional
    ``completed_on`` column: the day the response was given.
``microsoft-forms``
    the Excel export of Microsoft Forms: ID, Start time, Completion time, Email, Name (and in newer
    exports Last modified time), then one column per question headed by the question's text.
``google-forms``
    the CSV download of Google Forms responses: Timestamp, Email Address when the form collected it,
    then one column per question. A grid question's columns are headed ``Title [Statement]``; the
    statement is matched.

The layout is found from the header when it is not given. Identity columns (ID, Start time, Last
modified time, Email, Name, Email Address, Username) are ignored in every layout and never stored:
barometer responses are anonymous. The completion column (Microsoft Forms' "Completion time", Google
Forms' "Timestamp", a generic file's ``completed_on``) gives each response its day, as a response sent
through Reticulist has: the day only, the time is never read. Days are YYYY-MM-DD, YYYY/MM/DD (Google
Forms), a spreadsheet date, or DD/MM/YYYY or MM/DD/YYYY: which of the last two a column uses is found
from its values (a day above 12) or, failing that, from the round's dates; where both readings fit, the
file is refused and asked for YYYY-MM-DD. Each day must fall within the round's dates. A response with no
day (no such column, or a blank cell) takes the round's closing day (or today while it is still open).

Problems name the column as the file shows it: its letter and header (column D "Our partnership keeps
the same people at the table"), with the row.

A column answers an item when its header is the item's key or the item's exact text (ignoring case,
spaces and curly quotes), or when a mapping file says so. A mapping file (CSV or XLSX) has the columns
``header`` and ``item``: ``item`` is an item key, a profile field, or ``ignore`` for a column to leave
out. A column that answers nothing is refused unless the caller ignores unmapped columns.

Answers: agreement words (Strongly agree, Agree, Neither agree nor disagree, Disagree, Strongly
disagree, Don't know, the instrument's own scale labels and common variants such as Neutral, Tend to
agree or Not sure; any case), numbers 1-5 (1 = strongly disagree), 0 or DK for don't know; blank is not
answered. Every problem is collected with its row and column before anything is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import DONT_KNOW, SCALE_POINTS, Instrument, Scale
from reticulist.errors import FieldProblem, InputError
from reticulist.register import schemas as s
from reticulist.register import service as register_service
from reticulist.register.transfer import column_letter, read_cells, read_table
from reticulist.register.vocab import HIERARCHY_TIERS, WorkingTogetherTier
from reticulist.text import TextModel


class FormFormat(StrEnum):
    GENERIC = "generic"
    MICROSOFT_FORMS = "microsoft-forms"
    GOOGLE_FORMS = "google-forms"

    @property
    def label(self) -> str:
        return {
            "generic": "a generic responses file",
            "microsoft-forms": "a Microsoft Forms export",
            "google-forms": "a Google Forms export",
        }[self.value]


PROFILE_FIELDS = ("organisation", "profession", "hierarchy_tier", "wt_tier")
IGNORE = "ignore"  # a mapping file's item for a column to leave out
# Columns form tools add about who answered and when they started; never read, never stored.
IDENTITY_COLUMNS = (
    "ID",
    "Start time",
    "Last modified time",
    "Email",
    "Name",
    "Email Address",
    "Username",
)
# The day a response was completed: Microsoft Forms, Google Forms, a generic file (as text keys).
COMPLETED_ON = "completed_on"
COMPLETION_COLUMNS = ("completion time", "timestamp", COMPLETED_ON)
_PROFILE_HEADERS = {
    "organisation": "organisation",
    "organization": "organisation",
    "profession": "profession",
    "hierarchy_tier": "hierarchy_tier",
    "wt_tier": "wt_tier",
    "working_together_tier": "wt_tier",
}
_GRID = re.compile(r"^(?P<title>.*)\[(?P<statement>[^\[\]]+)\]$")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "`": "'", "“": '"', "”": '"'})


def text_key(value: Any) -> str:
    """How headers, item texts and answers are compared: case, spaces and curly quotes do not count."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).translate(_QUOTES)
    return " ".join(text.split()).casefold()


def _key_name(value: Any) -> str:
    # As the register reads headers: "Hierarchy tier" = hierarchy_tier.
    return "_".join(str(value or "").strip().lower().replace("-", " ").split())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


# --- answers -----------------------------------------------------------------------------------------
_AGREEMENT: dict[str, int] = {
    "strongly disagree": 1,
    "disagree strongly": 1,
    "totally disagree": 1,
    "disagree": 2,
    "tend to disagree": 2,
    "somewhat disagree": 2,
    "mostly disagree": 2,
    "neither agree nor disagree": 3,
    "neither agree or disagree": 3,
    "neither disagree nor agree": 3,
    "neither": 3,
    "neutral": 3,
    "agree": 4,
    "tend to agree": 4,
    "somewhat agree": 4,
    "mostly agree": 4,
    "strongly agree": 5,
    "agree strongly": 5,
    "totally agree": 5,
    "don't know": DONT_KNOW,
    "dont know": DONT_KNOW,
    "do not know": DONT_KNOW,
    "dk": DONT_KNOW,
    "not sure": DONT_KNOW,
    "unsure": DONT_KNOW,
    "don't know / not sure": DONT_KNOW,
}
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_NUMBER_AND_WORDS = re.compile(r"^(?P<number>\d)\s*[-–—:.)=]\s*(?P<words>\D.*)$")


def _answer_words(scale: Scale) -> dict[str, int]:
    words = dict(_AGREEMENT)
    for code, label in enumerate(scale.points, start=1):
        words[_word_key(label)] = code
    words[_word_key(scale.dont_know)] = DONT_KNOW
    return words


def _word_key(value: Any) -> str:
    return text_key(value).rstrip(".!")


def parse_answer(
    value: Any, scale: Scale | None = None, *, words: Mapping[str, int] | None = None
) -> int | None:
    """An answer cell as its code: 1 (strongly disagree) ... 5 (strongly agree), 0 for don't know, None
    for blank. Raises ValueError with the message to show for anything else.

    >>> parse_answer("Tend to agree"), parse_answer(2), parse_answer("DK"), parse_answer(" ")
    (4, 2, 0, None)
    """
    scale = scale or Scale()
    words = words if words is not None else _answer_words(scale)
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f'"{value}" is not an agreement answer')
    if isinstance(value, int | float):
        value = repr(value)
    text = " ".join(str(value).split())
    if _NUMBER.match(text):
        number = float(text)
        if number.is_integer() and 0 <= number <= SCALE_POINTS:
            return int(number)
        raise ValueError(f"{text} is not on the scale: give 1-{SCALE_POINTS}, or 0 for don't know")
    code = words.get(_word_key(text))
    if code is not None:
        return code
    both = _NUMBER_AND_WORDS.match(text)
    if both and words.get(_word_key(both["words"])) == int(both["number"]):
        return int(both["number"])  # "4 - Agree": a labelled number whose parts agree
    raise ValueError(
        f'"{_shown(text)}" is not an agreement answer (give "{scale.points[0]}" ... "{scale.points[-1]}", '
        f'"{scale.dont_know}", or 1-{SCALE_POINTS} with 0 for don\'t know)'
    )


# --- the profile -------------------------------------------------------------------------------------
class _Tier(TextModel):
    hierarchy_tier: s.Tier


_TIER_WORDS = {
    **{text_key(label): tier for tier, label in HIERARCHY_TIERS.items()},
    **{text_key(label.split("–", 1)[1]): tier for tier, label in HIERARCHY_TIERS.items()},
}


def _hierarchy_tier(value: Any) -> int:
    if (tier := _TIER_WORDS.get(text_key(value))) is not None:
        return tier
    try:
        return s.parse(_Tier, {"hierarchy_tier": value}).hierarchy_tier
    except InputError as exc:
        raise ValueError(exc.problems[0].message) from None


def _wt_tier(value: Any) -> str:
    key = text_key(value)
    for member in WorkingTogetherTier:
        if key in (member.value, text_key(member.label), text_key(member.value.replace("_", " "))):
            return member.value
    options = ", ".join(m.value for m in WorkingTogetherTier)
    raise ValueError(f'"{_shown(value)}" is not a Working Together tier (one of: {options})')


@dataclass(frozen=True)
class RegisterNames:
    """The partnership's organisations and professions by name, with the value a response stores for
    each (its id). Profile answers must name one of them (case and spaces do not count)."""

    organisations: Mapping[str, Any] = field(default_factory=dict)
    professions: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def _by_key(self) -> dict[str, dict[str, Any]]:
        return {
            "organisation": {text_key(name): stored for name, stored in self.organisations.items()},
            "profession": {text_key(name): stored for name, stored in self.professions.items()},
        }

    def lookup(self, what: str, value: Any) -> Any:
        found = self._by_key[what].get(text_key(value))
        if found is None:
            raise ValueError(f'no {what} "{_shown(value)}" in this partnership\'s register')
        return found


# --- reading the file --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    index: int  # 0-based
    header: str  # as written, spaces collapsed

    @property
    def letter(self) -> str:
        return column_letter(self.index)

    @property
    def label(self) -> str:
        """The column as the user's spreadsheet shows it: 'column D "Our partnership keeps ..."'."""
        return f'column {self.letter} "{_shown(self.header)}"'


@dataclass(frozen=True)
class ResponseRow:
    row: int  # the spreadsheet row (the header is row 1)
    profile: dict[str, Any]  # organisation, profession, hierarchy_tier, wt_tier; None = not told
    answers: dict[str, int]  # item key -> code; unanswered items are absent
    completed_on: date | None = None  # the day from the file's completion column; None = not given


@dataclass(frozen=True)
class ParsedResponses:
    source: str
    form_format: FormFormat
    detected: bool  # the layout was found from the header rather than given
    rows: list[ResponseRow]
    columns: dict[str, str]  # header -> item key or profile field, for every column read
    labels: dict[str, str]  # item key, profile field or "completed_on" -> its column as the user sees it
    completion_column: str | None  # the header days were read from (the day only), if any
    identity_columns: list[str]  # headers ignored as identity: never read
    ignored_columns: list[str]  # headers left out by the mapping ("ignore") or as unmapped
    empty_rows: list[int]  # rows with no answer at all, not imported


Progress = Callable[[int, int], None]  # (rows checked so far, rows to check)


def _file_problem(source: str, message: str, field: str = "file") -> InputError:
    return InputError(problems=[FieldProblem(field=field, message=message, source=source)])


def _split_header(
    source: str, cells: Iterable[tuple[int, list[Any]]]
) -> tuple[list[Column], list[tuple[int, list[Any]]], list[FieldProblem]]:
    rows = iter(cells)
    header: list[Any] | None = None
    for _, values in rows:
        if any(not _blank(v) for v in values):
            header = values
            break
    if header is None:
        raise _file_problem(source, "is empty: there is no header row")
    problems: list[FieldProblem] = []
    columns: list[Column] = []
    seen: dict[str, Column] = {}
    for index, value in enumerate(header):
        if _blank(value):
            continue
        column = Column(index, " ".join(str(value).split()))
        if (first := seen.get(text_key(column.header))) is not None:
            problems.append(
                FieldProblem(
                    "columns",
                    f'the header "{_shown(column.header)}" appears twice (columns {first.letter} and '
                    f"{column.letter}); each question must have its own column",
                    source=source,
                )
            )
            continue
        seen[text_key(column.header)] = column
        columns.append(column)
    named = {i for i, v in enumerate(header) if not _blank(v)}
    data: list[tuple[int, list[Any]]] = []
    for number, values in rows:
        if all(_blank(v) for v in values):
            continue  # blank lines between rows mean nothing
        for index, value in enumerate(values):
            if index not in named and not _blank(value):
                problems.append(
                    FieldProblem(
                        f"column {column_letter(index)}",
                        f'has the value "{_shown(value)}" but the header names no column there',
                        row=number,
                        source=source,
                    )
                )
        data.append((number, values))
    if not data and not problems:
        raise _file_problem(source, "has a header row but no responses")
    return columns, data, problems


def detect_format(headers: Iterable[str]) -> FormFormat:
    """The layout a header row belongs to: Microsoft Forms starts ID, Start time, Completion time; Google
    Forms starts Timestamp; anything else is read as generic."""
    keys = [text_key(h) for h in headers]
    if {"id", "start time", "completion time"} <= set(keys[:6]):
        return FormFormat.MICROSOFT_FORMS
    if keys and keys[0] == "timestamp":
        return FormFormat.GOOGLE_FORMS
    return FormFormat.GENERIC


def read_mapping(path: Path, instrument: Instrument) -> dict[str, str]:
    """A mapping file's rows as {header text key: item key, profile field or "ignore"}.

    Raises InputError naming each bad row: a blank header or item, a header given twice, an item that is
    neither an item of the instrument nor a profile field.
    """
    table = read_table(path)
    source = table.source
    problems = [
        FieldProblem(
            name, "column is missing from the header (a mapping file has header and item)", source=source
        )
        for name in ("header", "item")
        if name not in table.columns
    ]
    extra = [c for c in table.columns if c not in ("header", "item")]
    if extra:
        names = ", ".join(f'"{c}"' for c in extra)
        problems.append(
            FieldProblem(
                "columns", f"unknown columns {names}; a mapping file takes header, item", source=source
            )
        )
    if problems:
        raise InputError(problems=problems)
    items = {i.key for i in instrument.items}
    mapping: dict[str, str] = {}
    first_row: dict[str, int] = {}
    for row, values in table.rows:
        header, target = values.get("header"), values.get("item")
        if _blank(header):
            problems.append(FieldProblem("header", "is required", row=row, source=source))
        if _blank(target):
            problems.append(
                FieldProblem(
                    "item",
                    f'is required (an item key, a profile field or "{IGNORE}")',
                    row=row,
                    source=source,
                )
            )
        if not _blank(header):
            key = text_key(header)
            if key in first_row:
                problems.append(
                    FieldProblem(
                        "header",
                        f"this header is mapped twice (first on row {first_row[key]})",
                        row=row,
                        source=source,
                    )
                )
                continue
            first_row[key] = row
        if _blank(header) or _blank(target):
            continue
        name = str(target).strip()
        target_key = _PROFILE_HEADERS.get(_key_name(name), name if name in items else name.lower())
        if target_key not in items and target_key not in PROFILE_FIELDS and target_key != IGNORE:
            problems.append(
                FieldProblem(
                    "item",
                    f'"{_shown(name)}" is not an item of {instrument.label} nor a profile field '
                    f'({", ".join(PROFILE_FIELDS)}) nor "{IGNORE}"',
                    row=row,
                    source=source,
                )
            )
            continue
        mapping[text_key(header)] = target_key
    if problems:
        table.name_columns(problems)
        raise InputError(problems=problems)
    return mapping


def _target(
    header: str,
    *,
    mapping: Mapping[str, str],
    keys: set[str],
    texts: Mapping[str, str],
    form_format: FormFormat,
) -> str | None:
    key = text_key(header)
    if key in mapping:
        return mapping[key]
    if header in keys or header.lower() in keys:
        return header.lower()
    if (profile := _PROFILE_HEADERS.get(_key_name(header))) is not None:
        return profile
    if key in texts:
        return texts[key]
    grid = _GRID.match(header.strip())
    if grid and form_format is FormFormat.GOOGLE_FORMS:
        return texts.get(text_key(grid["statement"]))
    return None


_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_YEAR_LAST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)")


def day_words(day: date) -> str:
    """A day as people write it: "4 March 2026"."""
    return f"{day.day} {day:%B %Y}"


def _read_days(
    column: Column, cells: list[tuple[int, Any]], period: tuple[date, date] | None, source: str
) -> tuple[dict[int, date], list[FieldProblem]]:
    """Each row's completion day (the time, if any, is not read) and every problem: not a date, day and
    month that cannot be told apart, or a day outside the round's ``period`` (first and last day)."""
    days: dict[int, date] = {}
    problems: list[FieldProblem] = []
    either: list[tuple[int, int, int, int, str]] = []  # row, first, second, year, text: DD/MM or MM/DD

    def problem(row: int, message: str) -> None:
        problems.append(FieldProblem(column.label, message, row=row, source=source))

    for row, value in cells:
        if isinstance(value, datetime):
            days[row] = value.date()
            continue
        if isinstance(value, date):
            days[row] = value
            continue
        text = " ".join(str(value).split())
        if found := _YEAR_FIRST.match(text):
            try:
                days[row] = date(int(found[1]), int(found[2]), int(found[3]))
            except ValueError:
                problem(row, f'"{_shown(text)}" is not a real date: that day does not exist')
        elif found := _YEAR_LAST.match(text):
            either.append((row, int(found[1]), int(found[2]), int(found[3]), text))
        else:
            problem(row, f'"{_shown(text)}" is not a date: give YYYY-MM-DD, e.g. 2026-03-31')

    def day_of(year: int, month: int, day: int) -> date | None:
        try:
            return date(year, month, day)
        except ValueError:
            return None

    def reading(day_first: bool) -> dict[int, date] | None:
        out: dict[int, date] = {}
        for row, a, b, year, _ in either:
            day = day_of(year, b, a) if day_first else day_of(year, a, b)
            if day is None:
                return None
            out[row] = day
        return out

    def within(days: dict[int, date]) -> bool:
        return period is None or all(period[0] <= d <= period[1] for d in days.values())

    readings = [r for r in (reading(day_first=True), reading(day_first=False)) if r is not None]
    if either and not readings:
        nowhere = [x for x in either if day_of(x[3], x[2], x[1]) is None and day_of(x[3], x[1], x[2]) is None]
        for row, _, _, _, text in nowhere:
            problem(row, f'"{_shown(text)}" is not a real date: that day does not exist')
        if not nowhere:  # each is a day one way or the other, but not all the same way
            problem(either[0][0], "mixes days written day first and month first: give each as YYYY-MM-DD")
    elif len(readings) == 2 and readings[0] != readings[1]:
        fitting = [r for r in readings if within(r)]
        if len(fitting) == 2 and period is not None:
            row, _, _, _, text = next(x for x in either if x[1] != x[2])
            problem(
                row,
                f'"{_shown(text)}" could be {day_words(readings[0][row])} or {day_words(readings[1][row])}, '
                "and both fit the round's dates: give the days as YYYY-MM-DD",
            )
        else:  # the one reading that fits the round; none: day first, and the days are refused below
            days.update(fitting[0] if len(fitting) == 1 else readings[0])
    elif readings:
        days.update(readings[0])
    if period is not None:
        first, last = period
        for row, day in days.items():
            if not first <= day <= last:
                problem(
                    row,
                    f"{day_words(day)} is outside the round's dates ({day_words(first)} to "
                    f"{day_words(last)}): import it into the round it was answered in",
                )
    return days, problems


def parse_responses(
    source: str,
    cells: Iterable[tuple[int, list[Any]]],
    *,
    instrument: Instrument,
    register: RegisterNames,
    form_format: FormFormat | None = None,
    mapping: Mapping[str, str] | None = None,
    mapping_source: str = "mapping file",
    ignore_unmapped: bool = False,
    progress: Progress | None = None,
    period: tuple[date, date] | None = None,
) -> ParsedResponses:
    """Read a responses file's cells (as ``transfer.read_cells`` gives them) into rows for a round.

    Raises InputError listing every problem, each with its row and column (letter and header):
    unmapped or repeated headers, mapping entries naming no column, answers off the scale, profile values
    the register does not know, completion days that are not dates or fall outside ``period`` (the
    round's first and last day). Rows with no answer at all are left out (and listed in ``empty_rows``).
    """
    columns, data, problems = _split_header(source, cells)
    detected = form_format is None
    chosen = form_format or detect_format(c.header for c in columns)
    mapping = dict(mapping or {})
    identity = {text_key(h) for h in IDENTITY_COLUMNS}
    item_keys = {i.key for i in instrument.items}
    texts = {text_key(i.text): i.key for i in instrument.items}

    read: dict[str, Column] = {}  # item key or profile field -> its column
    identity_columns: list[str] = []
    ignored: list[str] = []
    unmapped: list[Column] = []
    completion: Column | None = None
    for column in columns:
        if text_key(column.header) in identity:
            identity_columns.append(column.header)
            continue
        if text_key(column.header) in COMPLETION_COLUMNS or _key_name(column.header) == COMPLETED_ON:
            if completion is not None:
                problems.append(
                    FieldProblem(
                        "columns",
                        f"{completion.label} and {column.label} both give the day a response was "
                        "completed; keep one",
                        source=source,
                    )
                )
            completion = column
            continue
        target = _target(column.header, mapping=mapping, keys=item_keys, texts=texts, form_format=chosen)
        if target == IGNORE:
            ignored.append(column.header)
        elif target is None:
            unmapped.append(column)
        elif (first := read.get(target)) is not None:
            problems.append(
                FieldProblem(
                    "columns",
                    f'columns {first.letter} ("{_shown(first.header)}") and {column.letter} '
                    f'("{_shown(column.header)}") both answer {target}',
                    source=source,
                )
            )
        else:
            read[target] = column
    headers = {text_key(c.header) for c in columns}
    for key in mapping:
        if key in COMPLETION_COLUMNS or _key_name(key) == COMPLETED_ON:
            problems.append(
                FieldProblem(
                    "header",
                    f'"{_shown(key)}" gives the day a response was completed: it is read as that, so it '
                    "cannot be mapped",
                    source=mapping_source,
                )
            )
        elif key in identity:
            problems.append(
                FieldProblem(
                    "header",
                    f'"{_shown(key)}" is an identity column: it is never read, so it cannot be mapped',
                    source=mapping_source,
                )
            )
        elif key not in headers:
            problems.append(
                FieldProblem("header", f'"{_shown(key)}" is not a column of {source}', source=mapping_source)
            )
    if unmapped and ignore_unmapped:
        ignored += [c.header for c in unmapped]
    else:
        for column in unmapped:
            problems.append(
                FieldProblem(
                    column.label,
                    f"matches no item of {instrument.label} (by key or exact text) and no profile field; map "
                    "it in a mapping file, or ignore unmapped columns",
                    source=source,
                )
            )
    if not any(k in item_keys for k in read) and (ignore_unmapped or not unmapped):
        problems.append(
            FieldProblem("columns", f"no column answers an item of {instrument.label}", source=source)
        )

    words = _answer_words(instrument.scale)
    rows: list[ResponseRow] = []
    empty: list[int] = []
    completed: list[tuple[int, Any]] = []  # (row, completion cell) of the rows imported
    for done, (number, values) in enumerate(data, start=1):

        def cell(column: Column, values: list[Any] = values) -> Any:
            return values[column.index] if column.index < len(values) else None

        answers: dict[str, int] = {}
        profile: dict[str, Any] = dict.fromkeys(PROFILE_FIELDS)
        for target, column in read.items():
            value = cell(column)
            if _blank(value):
                continue
            try:
                if target in item_keys:
                    code = parse_answer(value, instrument.scale, words=words)
                    if code is not None:
                        answers[target] = code
                elif target in ("organisation", "profession"):
                    profile[target] = register.lookup(target, value)
                elif target == "hierarchy_tier":
                    profile[target] = _hierarchy_tier(value)
                else:
                    profile[target] = _wt_tier(value)
            except ValueError as exc:
                problems.append(FieldProblem(column.label, str(exc), row=number, source=source))
        if answers:
            rows.append(ResponseRow(row=number, profile=profile, answers=answers))
            if completion is not None and not _blank(cell(completion)):
                completed.append((number, cell(completion)))
        else:
            empty.append(number)
        if progress:
            progress(done, len(data))
    if completion is not None:
        days, day_problems = _read_days(completion, completed, period, source)
        problems += day_problems
        rows = [replace(r, completed_on=days.get(r.row)) for r in rows]
    if not rows and not problems:
        problems.append(
            FieldProblem("file", "has no answers to import: no row answers any item", source=source)
        )
    if problems:
        problems.sort(key=lambda p: p.row or 0)  # file-wide problems first, then row by row
        raise InputError(problems=problems)
    labels = {target: column.label for target, column in read.items()}
    if completion is not None:
        labels[COMPLETED_ON] = completion.label
    return ParsedResponses(
        source=source,
        form_format=chosen,
        detected=detected,
        rows=rows,
        columns={column.header: target for target, column in read.items()},
        labels=labels,
        completion_column=completion.header if completion is not None else None,
        identity_columns=identity_columns,
        ignored_columns=ignored,
        empty_rows=empty,
    )


def read_responses(
    path: Path,
    *,
    instrument: Instrument,
    register: RegisterNames,
    form_format: FormFormat | None = None,
    mapping_path: Path | None = None,
    ignore_unmapped: bool = False,
    progress: Progress | None = None,
    period: tuple[date, date] | None = None,
) -> ParsedResponses:
    """Read a CSV or XLSX responses file (and its mapping file, if any) into rows for a round; see
    ``parse_responses``. A mapping file with problems is refused before the responses are read.

    Example: ``read_responses(Path("responses.xlsx"), instrument=default_instrument(),
    register=RegisterNames({"Brempton Police": 1}, {}))``.
    """
    # A broken mapping would make every question look unmapped, so it is reported on its own first.
    mapping = read_mapping(mapping_path, instrument) if mapping_path is not None else {}
    return parse_responses(
        path.name,
        read_cells(path),
        instrument=instrument,
        register=register,
        form_format=form_format,
        mapping=mapping,
        mapping_source=mapping_path.name if mapping_path else "mapping file",
        ignore_unmapped=ignore_unmapped,
        progress=progress,
        period=period,
    )


# --- the write ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportedResponses:
    parsed: ParsedResponses
    round_id: int
    round_title: str
    partnership_id: int
    count: int  # responses stored


def service_profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    """A parsed profile as the barometer service takes it (register records by id)."""
    return {
        "organisation_id": profile.get("organisation"),
        "profession_id": profile.get("profession"),
        "hierarchy_tier": profile.get("hierarchy_tier"),
        "wt_tier": profile.get("wt_tier"),
    }


def import_responses(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    path: Path,
    form_format: FormFormat | None = None,
    mapping_path: Path | None = None,
    ignore_unmapped: bool = False,
    progress: Progress | None = None,
) -> ImportedResponses:
    """Read a responses file into a round and store every response, or none (source "import").

    Owns its transaction: commits when every row is stored; on any problem rolls back and raises
    InputError listing each bad row and column. A closed round still takes responses gathered while it
    was open; a round that has not opened yet takes none. Who answered is never stored, and when only as
    the day (the file's completion day, else the round's closing day: see the module docstring).

    Example: ``import_responses(session, actor=actor, round_id=3, path=Path("responses.xlsx"))``.
    """
    found = barometer.get_round(session, actor=actor, round_id=round_id)
    ensure_allowed(actor, Can.RUN_BAROMETER, found.partnership_id)
    pid = found.partnership_id
    barometer.check_round_takes_imports(found, session)  # before reading a file that could not be used
    names = RegisterNames(
        organisations={
            o.name: o.id
            for o in register_service.list_organisations(session, actor=actor, partnership_id=pid)
        },
        professions={
            p.name: p.id for p in register_service.list_professions(session, actor=actor, partnership_id=pid)
        },
    )
    parsed = read_responses(
        path,
        instrument=barometer.instrument_of(found.instrument),
        register=names,
        form_format=form_format,
        mapping_path=mapping_path,
        ignore_unmapped=ignore_unmapped,
        progress=progress,
        period=barometer.round_period(found),
    )
    try:
        count = barometer.record_imported_responses(
            session,
            actor=actor,
            round_id=found.id,
            rows=[(service_profile(r.profile), r.answers) for r in parsed.rows],
            row_numbers=[r.row for r in parsed.rows],
            source_name=parsed.source,
            completed_on=[r.completed_on for r in parsed.rows],
        )
        session.commit()
    except InputError as exc:
        session.rollback()
        for problem in exc.problems:  # the service's field names, as the file's columns
            name = problem.field.removesuffix("_id") if problem.field.endswith("_id") else problem.field
            problem.field = parsed.labels.get(name, problem.field)
        raise
    except BaseException:
        session.rollback()
        raise
    return ImportedResponses(
        parsed=parsed, round_id=found.id, round_title=found.title, partnership_id=pid, count=count
    )
