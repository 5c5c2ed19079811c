"""Create / Update / Public schemas per register record. Forms, the API and imports all validate
through these, so a value is accepted or refused the same way everywhere, with the same words."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from reticulist.errors import FieldProblem, InputError
from reticulist.register.vocab import (
    ActionKind,
    ActionStatus,
    AttendanceStatus,
    MeetingKind,
    OrganisationKind,
    PartnershipKind,
    SeatRole,
    WorkingTogetherTier,
)
from reticulist.text import TextModel


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Dates a partnership's records can hold. Outside them a date is a typing slip, and "9999-12-31 plus a
# day" would overflow the arithmetic every figure does with dates.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def check_date_range(day: date) -> date:
    """``day`` when it is between EARLIEST_DATE and LATEST_DATE; ValueError with the words otherwise."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(
            f"{day.isoformat()} is not between {EARLIEST_DATE.year} and {LATEST_DATE.year}; check the year"
        )
    return day


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(value: Any) -> date | None:
    """A date as users type it (YYYY-MM-DD or DD/MM/YYYY), a date cell, or None when blank; ValueError
    with the words every form and import shows otherwise (also for a year before 1900 or after 2199)."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return check_date_range(value.date())
    if isinstance(value, date):
        return check_date_range(value)
    text = str(value).strip()
    if _ISO_DATE.fullmatch(text):  # the usual case, read without strptime (a large import has thousands)
        try:
            return check_date_range(date(int(text[:4]), int(text[5:7]), int(text[8:])))
        except ValueError as exc:
            if "between" in str(exc):
                raise
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return check_date_range(datetime.strptime(text, fmt).date())
        except ValueError as exc:
            if "between" in str(exc):
                raise
            continue
    raise ValueError(f'"{text}" is not a date (use YYYY-MM-DD or DD/MM/YYYY)')


def _parse_required_date(value: Any) -> date:
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError("is required")
    return parsed


def _parse_tier(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f'"{value}" is not 1-5')
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError("is required")
    try:
        tier = int(float(text)) if text and float(text).is_integer() else None
    except ValueError:
        tier = None
    if tier is None or not 1 <= tier <= 5:
        raise ValueError(f'"{text}" is not 1-5')
    return tier


def _parse_optional_count(value: Any) -> int | None:
    if _blank(value):
        return None
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f'"{text}" is not a whole number of years') from None
    if not number.is_integer() or not 0 <= number <= 70:
        raise ValueError(f'"{text}" is not a whole number of years between 0 and 70')
    return int(number)


_TRUE = {"yes", "y", "true", "1", "on"}
_FALSE = {"no", "n", "false", "0", "off", ""}


def _parse_yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'"{value}" is not yes or no')


def _choice(enum: type) -> BeforeValidator:
    """Accept a stored value or its label, case-insensitively."""

    def parse(value: Any) -> str:
        text = "" if value is None else str(value).strip()
        for member in enum:
            if text.lower() in (member.value, member.label.lower()):
                return member.value
        options = ", ".join(m.value for m in enum)
        raise ValueError(f'"{text}" is not one of: {options}')

    return BeforeValidator(parse)


def _text(max_length: int, *, required: bool = True) -> BeforeValidator:
    def parse(value: Any) -> str:
        text = "" if value is None else " ".join(str(value).split())
        if required and not text:
            raise ValueError("is required")
        if len(text) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return text

    return BeforeValidator(parse)


def _email_or_blank(value: Any) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip().lower()
    local, _, domain = text.partition("@")
    if not local or "." not in domain or " " in text or len(text) > 320:
        raise ValueError(f'"{text}" is not an email address')
    return text


# Ids are INTEGER columns: none is larger on PostgreSQL, and SQLite cannot even compare past 2**63.
MAX_ID = 2**31 - 1


def is_record_id(value: int) -> bool:
    """Whether a number can be the id of a stored record at all."""
    return 1 <= value <= MAX_ID


def whole_number(value: Any, maximum: int) -> int | None:
    """``value`` as a whole number from 0 to ``maximum`` when it is written as one in ASCII digits, else
    None. For the places that read a number from a form or a link without a schema: "²" passes
    str.isdigit() but not int(), and 5000 digits pass neither Python's limit nor a database's."""
    text = "" if value is None else str(value).strip()
    if not re.fullmatch(r"[0-9]{1,12}", text):
        return None
    number = int(text)
    return number if number <= maximum else None


def record_id_or_none(value: Any) -> int | None:
    """``value`` as a record id when it can be one, else None (see ``whole_number``)."""
    number = whole_number(value, MAX_ID)
    return number if number else None


def _optional_id(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f'"{value}" is not a record number')
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f'"{value}" is not a record number') from None
    if not is_record_id(number):
        raise ValueError(f'"{value}" is not a record number')
    return number


def _required_id(value: Any) -> int:
    number = _optional_id(value)
    if number is None:
        raise ValueError("is required")
    return number


OptionalDate = Annotated[date | None, BeforeValidator(parse_date)]
RequiredDate = Annotated[date, BeforeValidator(_parse_required_date)]
Tier = Annotated[int, BeforeValidator(_parse_tier)]
Years = Annotated[int | None, BeforeValidator(_parse_optional_count)]
YesNo = Annotated[bool, BeforeValidator(_parse_yes_no)]
Email = Annotated[str | None, BeforeValidator(_email_or_blank)]
OptionalId = Annotated[int | None, BeforeValidator(_optional_id)]
RecordId = Annotated[int, BeforeValidator(_required_id)]
Name = Annotated[str, _text(200)]
Title = Annotated[str, _text(300)]
LongText = Annotated[str, _text(10_000, required=False)]


class _Schema(TextModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- partnership -----------------------------------------------------------------------------------
class PartnershipCreate(_Schema):
    name: Name
    kind: Annotated[str, _choice(PartnershipKind)] = PartnershipKind.SAFEGUARDING_CHILDREN.value
    area: Annotated[str, _text(200, required=False)] = ""


class PartnershipUpdate(PartnershipCreate):
    pass


class PartnershipPublic(_Public):
    id: int
    name: str
    kind: str
    area: str
    ended_on: date | None


# --- organisation ----------------------------------------------------------------------------------
class OrganisationCreate(_Schema):
    name: Name
    kind: Annotated[str, _choice(OrganisationKind)]
    tier: Annotated[str, _choice(WorkingTogetherTier)]
    joined_on: OptionalDate = None


class OrganisationUpdate(OrganisationCreate):
    pass


class OrganisationPublic(_Public):
    id: int
    partnership_id: int
    name: str
    kind: str
    tier: str
    joined_on: date | None
    ended_on: date | None


# --- profession ------------------------------------------------------------------------------------
class ProfessionCreate(_Schema):
    name: Name


class ProfessionUpdate(ProfessionCreate):
    pass


class ProfessionPublic(_Public):
    id: int
    partnership_id: int
    name: str
    ended_on: date | None


# --- person ----------------------------------------------------------------------------------------
class PersonCreate(_Schema):
    full_name: Name
    email: Email = None
    organisation_id: RecordId
    profession_id: OptionalId = None
    hierarchy_tier: Tier
    years_in_profession: Years = None
    late_entry: YesNo = False
    interprofessional_training: YesNo = False
    joined_on: OptionalDate = None


class PersonUpdate(PersonCreate):
    pass


class PersonPublic(_Public):
    id: int
    partnership_id: int
    full_name: str
    email: str | None
    organisation_id: int
    profession_id: int | None
    hierarchy_tier: int
    years_in_profession: int | None
    late_entry: bool
    interprofessional_training: bool
    joined_on: date | None
    ended_on: date | None


# --- seat ------------------------------------------------------------------------------------------
class SeatCreate(_Schema):
    organisation_id: RecordId
    person_id: RecordId
    role: Annotated[str, _choice(SeatRole)] = SeatRole.MEMBER.value
    started_on: RequiredDate
    ended_on: OptionalDate = None


class SeatUpdate(SeatCreate):
    pass


class SeatHandOver(_Schema):
    """End the current tenure and start the next one with a new person, the day after."""

    person_id: RecordId
    on: RequiredDate


class SeatPublic(_Public):
    id: int
    partnership_id: int
    organisation_id: int
    person_id: int
    role: str
    started_on: date
    ended_on: date | None


# --- meeting and attendance ------------------------------------------------------------------------
class MeetingCreate(_Schema):
    kind: Annotated[str, _choice(MeetingKind)] = MeetingKind.BOARD.value
    title: Title
    held_on: RequiredDate
    notes: LongText = ""


class MeetingUpdate(MeetingCreate):
    pass


class MeetingPublic(_Public):
    id: int
    partnership_id: int
    kind: str
    title: str
    held_on: date
    notes: str
    cancelled: bool


class AttendanceEntry(_Schema):
    person_id: RecordId
    status: Annotated[str, _choice(AttendanceStatus)]
    organisation_id: OptionalId = None  # defaults to the person's organisation


class AttendancePublic(_Public):
    id: int
    meeting_id: int
    person_id: int
    organisation_id: int
    status: str


# --- action / decision -----------------------------------------------------------------------------
class ActionCreate(_Schema):
    kind: Annotated[str, _choice(ActionKind)] = ActionKind.ACTION.value
    title: Title
    description: LongText = ""
    owner_person_id: OptionalId = None
    organisation_id: OptionalId = None
    meeting_id: OptionalId = None
    due_on: OptionalDate = None
    status: Annotated[str, _choice(ActionStatus)] = ActionStatus.OPEN.value
    opened_on: OptionalDate = None  # defaults to today
    # For records of earlier history (imports, the demo); left out, they follow from today's change.
    closed_on: OptionalDate = None
    last_changed_on: OptionalDate = None


class ActionUpdate(ActionCreate):
    pass


class ActionClose(_Schema):
    """The form that closes an action or decision: done or dropped."""

    status: Annotated[str, _choice(ActionStatus)] = ActionStatus.DONE.value


class ActionPublic(_Public):
    id: int
    partnership_id: int
    kind: str
    title: str
    description: str
    owner_person_id: int | None
    organisation_id: int | None
    meeting_id: int | None
    due_on: date | None
    status: str
    opened_on: date
    closed_on: date | None
    last_changed_on: date


S = TypeVar("S", bound=BaseModel)


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is not valid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error.get("type") == "missing":
        return "is required"
    if error.get("type") == "extra_forbidden":
        return "is not a field of this record"
    if error.get("type") in ("int_parsing", "int_type"):
        if _blank(error.get("input")):  # a select left on "Choose…" sends an empty string
            return "is required"
        return f'"{error.get("input")}" is not a record number'
    return message


def parse(schema: type[S], data: dict[str, Any], *, row: int | None = None, source: str | None = None) -> S:
    """Validate ``data`` into ``schema`` or raise InputError naming every bad field."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [
            FieldProblem(
                field=".".join(str(p) for p in err["loc"]) or "record",
                message=_message(dict(err)),
                row=row,
                source=source,
            )
            for err in exc.errors()
        ]
        raise InputError(problems=problems) from None


class EndRecord(_Schema):
    """The form that ends a record: one date."""

    ended_on: RequiredDate
