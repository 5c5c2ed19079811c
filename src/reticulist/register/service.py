"""What users do to the register: list, read, create, change and end records.

Every function takes the acting ``Actor`` and checks it here, in the service, so the web pages, the
API, the CLI and imports share one set of rules. Fetch helpers raise NotFound to people who may not
know a record exists. Changes are audited in the same transaction; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, allowed, ensure_allowed
from reticulist.audit import service as audit
from reticulist.db.base import Base
from reticulist.db.unique import Rules, refusing_duplicates
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register.metrics import months_before
from reticulist.register.models import (
    Action,
    Attendance,
    Meeting,
    Organisation,
    Partnership,
    Person,
    Profession,
    Seat,
)
from reticulist.register.vocab import REPRESENTED_STATUSES, ActionStatus

R = TypeVar("R", bound=Base)


def today() -> date:
    return date.today()


# --- shared mechanics --------------------------------------------------------------------------------
def _fetch(
    session: Session, actor: Actor, model: type[R], record_id: int, action: Can = Can.VIEW_REGISTER
) -> R:
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"No such {model.__tablename__}.")
    partnership_id = record.id if isinstance(record, Partnership) else record.partnership_id  # type: ignore[attr-defined]
    ensure_allowed(actor, action, partnership_id)
    return record


def _create(session: Session, actor: Actor, record: R, label: str, duplicates: Rules | None = None) -> R:
    """Add ``record`` and audit it. ``duplicates``: the uniqueness rules it could break if another
    request writes the same at this moment, with the words the service's own check uses."""
    ensure_allowed(actor, Can.EDIT_REGISTER, record.partnership_id)  # type: ignore[attr-defined]
    with refusing_duplicates(session, duplicates or {}):
        session.add(record)
    audit.record(
        session,
        actor=actor,
        event="created",
        record_type=record.__tablename__,
        record_id=record.id,  # type: ignore[attr-defined]
        partnership_id=record.partnership_id,
        summary=f"{record.__tablename__.capitalize()} {label} created",  # type: ignore[attr-defined]
        after=audit.snapshot(record),
    )
    return record


def _change(
    session: Session,
    actor: Actor,
    record: R,
    values: dict[str, Any],
    label: str,
    event: str = "changed",
    duplicates: Rules | None = None,
) -> R:
    before = audit.snapshot(record)
    with refusing_duplicates(session, duplicates or {}):
        for key, value in values.items():
            setattr(record, key, value)
    after = audit.snapshot(record)
    if before != after:
        partnership_id = record.id if isinstance(record, Partnership) else record.partnership_id  # type: ignore[attr-defined]
        audit.record(
            session,
            actor=actor,
            event=event,
            record_type=record.__tablename__,
            record_id=record.id,  # type: ignore[attr-defined]
            partnership_id=partnership_id,
            summary=f"{record.__tablename__.capitalize()} {label} {event}",
            before=before,
            after=after,
        )
    return record


def _check_dates(
    start: date | None, end: date | None, *, start_field: str, end_field: str = "ended_on"
) -> None:
    if start and end and end < start:
        raise InputError(f"{end.isoformat()} is before {start_field} {start.isoformat()}", field=end_field)


def _same_partnership(record: Any, partnership_id: int, field: str, what: str) -> None:
    if record is None or record.partnership_id != partnership_id:
        raise InputError(f"no such {what} in this partnership", field=field)


# --- partnerships ------------------------------------------------------------------------------------
def list_partnerships(session: Session, *, actor: Actor) -> list[Partnership]:
    query = select(Partnership).order_by(Partnership.name)
    if not actor.is_site_admin:
        query = query.where(Partnership.id.in_(list(actor.roles)))
    return list(session.scalars(query))


def get_partnership(session: Session, *, actor: Actor, partnership_id: int) -> Partnership:
    return _fetch(session, actor, Partnership, partnership_id)


def _partnership_taken(name: str) -> tuple[str, str]:
    """(message, field) of the partnership name rule, for the check and for the constraint."""
    return f'a partnership called "{name}" already exists', "name"


def create_partnership(session: Session, *, actor: Actor, data: s.PartnershipCreate) -> Partnership:
    if not actor.is_site_admin:
        raise NotFound("Only site administrators create partnerships.")
    if session.scalar(select(Partnership).where(Partnership.name == data.name)):
        raise InputError(*_partnership_taken(data.name))
    partnership = Partnership(**data.model_dump())
    with refusing_duplicates(session, {"uq_partnership_name": _partnership_taken(data.name)[::-1]}):
        session.add(partnership)
    audit.record(
        session,
        actor=actor,
        event="created",
        record_type="partnership",
        record_id=partnership.id,
        partnership_id=partnership.id,
        summary=f"Partnership {partnership.name} created",
        after=audit.snapshot(partnership),
    )
    return partnership


def update_partnership(
    session: Session, *, actor: Actor, partnership_id: int, data: s.PartnershipUpdate
) -> Partnership:
    partnership = _fetch(session, actor, Partnership, partnership_id, Can.EDIT_REGISTER)
    clash = session.scalar(
        select(Partnership).where(Partnership.name == data.name, Partnership.id != partnership_id)
    )
    if clash:
        raise InputError(*_partnership_taken(data.name))
    return _change(
        session,
        actor,
        partnership,
        data.model_dump(),
        partnership.name,
        duplicates={"uq_partnership_name": _partnership_taken(data.name)[::-1]},
    )


# --- organisations -----------------------------------------------------------------------------------
def list_organisations(
    session: Session, *, actor: Actor, partnership_id: int, include_ended: bool = True
) -> list[Organisation]:
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    query = select(Organisation).where(Organisation.partnership_id == partnership_id)
    if not include_ended:
        query = query.where(Organisation.ended_on.is_(None))
    return list(session.scalars(query.order_by(Organisation.name)))


def get_organisation(session: Session, *, actor: Actor, organisation_id: int) -> Organisation:
    return _fetch(session, actor, Organisation, organisation_id)


def _unique_name(
    session: Session,
    model: type[Organisation] | type[Profession],
    partnership_id: int,
    name: str,
    exclude_id: int | None = None,
) -> Rules:
    """Refuse a name the partnership has already (ignoring case, as imports match names); returns the
    rule for the write, should another request take the name at the same moment."""
    query = select(model.id).where(
        model.partnership_id == partnership_id, func.lower(model.name) == func.lower(name)
    )
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    message = f'"{name}" is already in this partnership'
    if session.scalar(query) is not None:
        raise InputError(message, field="name")
    return {f"uq_{model.__tablename__}_partnership_name": ("name", message)}


def create_organisation(
    session: Session, *, actor: Actor, partnership_id: int, data: s.OrganisationCreate
) -> Organisation:
    ensure_allowed(actor, Can.EDIT_REGISTER, partnership_id)
    rules = _unique_name(session, Organisation, partnership_id, data.name)
    return _create(
        session, actor, Organisation(partnership_id=partnership_id, **data.model_dump()), data.name, rules
    )


def update_organisation(
    session: Session, *, actor: Actor, organisation_id: int, data: s.OrganisationUpdate
) -> Organisation:
    organisation = _fetch(session, actor, Organisation, organisation_id, Can.EDIT_REGISTER)
    rules = _unique_name(session, Organisation, organisation.partnership_id, data.name, organisation.id)
    return _change(session, actor, organisation, data.model_dump(), data.name, duplicates=rules)


def end_organisation(session: Session, *, actor: Actor, organisation_id: int, ended_on: date) -> Organisation:
    """The organisation leaves the partnership; its open seats end the same day."""
    organisation = _fetch(session, actor, Organisation, organisation_id, Can.EDIT_REGISTER)
    _check_dates(organisation.joined_on, ended_on, start_field="joined_on")
    for seat in session.scalars(
        select(Seat).where(Seat.organisation_id == organisation_id, Seat.ended_on.is_(None))
    ):
        _change(session, actor, seat, {"ended_on": max(ended_on, seat.started_on)}, f"#{seat.id}", "ended")
    return _change(session, actor, organisation, {"ended_on": ended_on}, organisation.name, "ended")


# --- professions -------------------------------------------------------------------------------------
def list_professions(session: Session, *, actor: Actor, partnership_id: int) -> list[Profession]:
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    return list(
        session.scalars(
            select(Profession).where(Profession.partnership_id == partnership_id).order_by(Profession.name)
        )
    )


def get_profession(session: Session, *, actor: Actor, profession_id: int) -> Profession:
    return _fetch(session, actor, Profession, profession_id)


def create_profession(
    session: Session, *, actor: Actor, partnership_id: int, data: s.ProfessionCreate
) -> Profession:
    ensure_allowed(actor, Can.EDIT_REGISTER, partnership_id)
    rules = _unique_name(session, Profession, partnership_id, data.name)
    profession = Profession(partnership_id=partnership_id, name=data.name)
    return _create(session, actor, profession, data.name, rules)


def update_profession(
    session: Session, *, actor: Actor, profession_id: int, data: s.ProfessionUpdate
) -> Profession:
    profession = _fetch(session, actor, Profession, profession_id, Can.EDIT_REGISTER)
    rules = _unique_name(session, Profession, profession.partnership_id, data.name, profession.id)
    return _change(session, actor, profession, {"name": data.name}, data.name, duplicates=rules)


def end_profession(session: Session, *, actor: Actor, profession_id: int, ended_on: date) -> Profession:
    profession = _fetch(session, actor, Profession, profession_id, Can.EDIT_REGISTER)
    return _change(session, actor, profession, {"ended_on": ended_on}, profession.name, "ended")


# --- people ------------------------------------------------------------------------------------------
def list_people(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    organisation_id: int | None = None,
    include_ended: bool = True,
) -> list[Person]:
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    query = select(Person).where(Person.partnership_id == partnership_id)
    if organisation_id is not None:
        query = query.where(Person.organisation_id == organisation_id)
    if not include_ended:
        query = query.where(Person.ended_on.is_(None))
    return list(session.scalars(query.order_by(Person.full_name)))


@dataclass(frozen=True)
class PeoplePage:
    """One page of the register's people, by name, and how many match in all."""

    people: list[Person]
    total: int
    page: int
    pages: int
    per_page: int

    @property
    def first(self) -> int:
        """Position of the first person shown (1-based; 0 when none are)."""
        return (self.page - 1) * self.per_page + 1 if self.people else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.people)


PEOPLE_PER_PAGE = 100


def people_page(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    organisation_id: int | None = None,
    name: str = "",
    page: int = 1,
    per_page: int = PEOPLE_PER_PAGE,
) -> PeoplePage:
    """People by name, a page at a time: a register can hold thousands after an import, and a page listing
    them all takes seconds to build and is no use to read. ``name`` finds people whose name or email
    contains it (any case); a page past the last shows the last."""
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    query = select(Person).where(Person.partnership_id == partnership_id)
    if organisation_id is not None:
        query = query.where(Person.organisation_id == organisation_id)
    if needle := name.strip().lower():
        query = query.where(
            or_(
                func.lower(Person.full_name).contains(needle, autoescape=True),
                func.lower(Person.email).contains(needle, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    people = session.scalars(
        query.options(selectinload(Person.organisation), selectinload(Person.profession))
        .order_by(Person.full_name, Person.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return PeoplePage(list(people), total, page, pages, per_page)


def get_person(session: Session, *, actor: Actor, person_id: int) -> Person:
    return _fetch(session, actor, Person, person_id)


def email_taken(email: str) -> str:
    """What a form or import says about an email that is someone else's in the partnership."""
    return f"{email} is already someone else's email in this partnership"


PERSON_EMAIL_RULE = "uq_person_partnership_email"


def _check_person(
    session: Session, partnership_id: int, data: s.PersonCreate, exclude_id: int | None = None
) -> Rules:
    """Refuse what would break the register's rules; returns the uniqueness rule for the write."""
    _same_partnership(
        session.get(Organisation, data.organisation_id), partnership_id, "organisation_id", "organisation"
    )
    if data.profession_id is not None:
        _same_partnership(
            session.get(Profession, data.profession_id), partnership_id, "profession_id", "profession"
        )
    if not data.email:
        return {}
    # Written as the unique index is (reticulist.register.models), so the lookup uses it.
    query = select(Person.id).where(
        Person.partnership_id == partnership_id,
        Person.email.is_not(None),
        func.lower(Person.email) == func.lower(data.email),
    )
    if exclude_id is not None:
        query = query.where(Person.id != exclude_id)
    if session.scalar(query) is not None:
        raise InputError(email_taken(data.email), field="email")
    return {PERSON_EMAIL_RULE: ("email", email_taken(data.email))}


def create_person(session: Session, *, actor: Actor, partnership_id: int, data: s.PersonCreate) -> Person:
    ensure_allowed(actor, Can.EDIT_REGISTER, partnership_id)
    rules = _check_person(session, partnership_id, data)
    person = Person(partnership_id=partnership_id, **data.model_dump())
    return _create(session, actor, person, data.full_name, rules)


def update_person(session: Session, *, actor: Actor, person_id: int, data: s.PersonUpdate) -> Person:
    person = _fetch(session, actor, Person, person_id, Can.EDIT_REGISTER)
    rules = _check_person(session, person.partnership_id, data, exclude_id=person.id)
    return _change(session, actor, person, data.model_dump(), data.full_name, duplicates=rules)


def end_person(session: Session, *, actor: Actor, person_id: int, ended_on: date) -> Person:
    """The person leaves the partnership; their open seats end the same day."""
    person = _fetch(session, actor, Person, person_id, Can.EDIT_REGISTER)
    _check_dates(person.joined_on, ended_on, start_field="joined_on")
    for seat in session.scalars(select(Seat).where(Seat.person_id == person_id, Seat.ended_on.is_(None))):
        _change(session, actor, seat, {"ended_on": max(ended_on, seat.started_on)}, f"#{seat.id}", "ended")
    return _change(session, actor, person, {"ended_on": ended_on}, person.full_name, "ended")


# --- seats -------------------------------------------------------------------------------------------
def list_seats(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    organisation_id: int | None = None,
    person_id: int | None = None,
    current_only: bool = False,
) -> list[Seat]:
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    query = select(Seat).where(Seat.partnership_id == partnership_id)
    if organisation_id is not None:
        query = query.where(Seat.organisation_id == organisation_id)
    if person_id is not None:
        query = query.where(Seat.person_id == person_id)
    if current_only:
        query = query.where(Seat.ended_on.is_(None) | (Seat.ended_on >= today()))
    return list(session.scalars(query.order_by(Seat.organisation_id, Seat.started_on.desc())))


def get_seat(session: Session, *, actor: Actor, seat_id: int) -> Seat:
    return _fetch(session, actor, Seat, seat_id)


def _check_seat(session: Session, partnership_id: int, data: s.SeatCreate) -> None:
    _same_partnership(
        session.get(Organisation, data.organisation_id), partnership_id, "organisation_id", "organisation"
    )
    _same_partnership(session.get(Person, data.person_id), partnership_id, "person_id", "person")
    _check_dates(data.started_on, data.ended_on, start_field="started_on")


def create_seat(session: Session, *, actor: Actor, partnership_id: int, data: s.SeatCreate) -> Seat:
    ensure_allowed(actor, Can.EDIT_REGISTER, partnership_id)
    _check_seat(session, partnership_id, data)
    seat = Seat(partnership_id=partnership_id, **data.model_dump())
    return _create(session, actor, seat, f"({data.role}) for organisation #{data.organisation_id}")


def update_seat(session: Session, *, actor: Actor, seat_id: int, data: s.SeatUpdate) -> Seat:
    """Correct a tenure's details. A change of representative is a hand-over, not an edit."""
    seat = _fetch(session, actor, Seat, seat_id, Can.EDIT_REGISTER)
    _check_seat(session, seat.partnership_id, data)
    if data.person_id != seat.person_id:
        raise InputError("to change who holds a seat, hand it over so the history is kept", field="person_id")
    return _change(session, actor, seat, data.model_dump(), f"#{seat.id}")


def end_seat(session: Session, *, actor: Actor, seat_id: int, ended_on: date) -> Seat:
    seat = _fetch(session, actor, Seat, seat_id, Can.EDIT_REGISTER)
    _check_dates(seat.started_on, ended_on, start_field="started_on")
    return _change(session, actor, seat, {"ended_on": ended_on}, f"#{seat.id}", "ended")


def hand_over_seat(session: Session, *, actor: Actor, seat_id: int, data: s.SeatHandOver) -> Seat:
    """End this tenure on ``data.on`` and start a new one for ``data.person_id`` the next day."""
    seat = _fetch(session, actor, Seat, seat_id, Can.EDIT_REGISTER)
    if seat.ended_on is not None and seat.ended_on < data.on:
        raise InputError("this tenure has already ended; start a new seat instead", field="on")
    if data.person_id == seat.person_id:
        raise InputError("is already the holder of this seat", field="person_id")
    end_seat(session, actor=actor, seat_id=seat_id, ended_on=data.on)
    return create_seat(
        session,
        actor=actor,
        partnership_id=seat.partnership_id,
        data=s.SeatCreate(
            organisation_id=seat.organisation_id,
            person_id=data.person_id,
            role=seat.role,
            started_on=data.on + timedelta(days=1),
        ),
    )


# --- meetings and attendance -------------------------------------------------------------------------
def list_meetings(
    session: Session, *, actor: Actor, partnership_id: int, kind: str | None = None
) -> list[Meeting]:
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    query = select(Meeting).where(Meeting.partnership_id == partnership_id)
    if kind:
        query = query.where(Meeting.kind == kind)
    return list(session.scalars(query.order_by(Meeting.held_on.desc())))


def get_meeting(session: Session, *, actor: Actor, meeting_id: int) -> Meeting:
    return _fetch(session, actor, Meeting, meeting_id)


def create_meeting(session: Session, *, actor: Actor, partnership_id: int, data: s.MeetingCreate) -> Meeting:
    return _create(session, actor, Meeting(partnership_id=partnership_id, **data.model_dump()), data.title)


def update_meeting(session: Session, *, actor: Actor, meeting_id: int, data: s.MeetingUpdate) -> Meeting:
    meeting = _fetch(session, actor, Meeting, meeting_id, Can.EDIT_REGISTER)
    return _change(session, actor, meeting, data.model_dump(), data.title)


def cancel_meeting(session: Session, *, actor: Actor, meeting_id: int) -> Meeting:
    """Meetings are ended by cancelling them; the record stays so the history is honest."""
    meeting = _fetch(session, actor, Meeting, meeting_id, Can.EDIT_REGISTER)
    return _change(session, actor, meeting, {"cancelled": True}, meeting.title, "ended")


def list_attendance(session: Session, *, actor: Actor, meeting_id: int) -> list[Attendance]:
    meeting = _fetch(session, actor, Meeting, meeting_id)
    return list(session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)))


def seats_held_on(session: Session, *, actor: Actor, partnership_id: int, on: date) -> list[Seat]:
    """The seats held on ``on`` (any role): the people expected at a meeting held that day."""
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    query = select(Seat).where(
        Seat.partnership_id == partnership_id,
        Seat.started_on <= on,
        Seat.ended_on.is_(None) | (Seat.ended_on >= on),
    )
    return list(session.scalars(query.order_by(Seat.organisation_id, Seat.id)))


def attendance_counts(session: Session, *, actor: Actor, partnership_id: int) -> dict[int, tuple[int, int]]:
    """Per meeting: (people present or replaced by a deputy, people recorded as expected)."""
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    rows = session.execute(
        select(Attendance.meeting_id, Attendance.status)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Meeting.partnership_id == partnership_id)
    ).all()
    counts: dict[int, tuple[int, int]] = {}
    for meeting_id, status in rows:
        present, expected = counts.get(meeting_id, (0, 0))
        counts[meeting_id] = (present + (status in REPRESENTED_STATUSES), expected + 1)
    return counts


def set_attendance(
    session: Session, *, actor: Actor, meeting_id: int, entries: Sequence[s.AttendanceEntry]
) -> list[Attendance]:
    """Record who was expected at a meeting and whether they came. People not listed keep their record;
    listing a person again replaces their status."""
    meeting = _fetch(session, actor, Meeting, meeting_id, Can.EDIT_REGISTER)
    existing = {
        a.person_id: a for a in session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))
    }
    seen: set[int] = set()
    for index, entry in enumerate(entries):
        if entry.person_id in seen:
            raise InputError(f"person #{entry.person_id} is listed twice", field=f"entries.{index}.person_id")
        seen.add(entry.person_id)
        person = session.get(Person, entry.person_id)
        _same_partnership(person, meeting.partnership_id, f"entries.{index}.person_id", "person")
        organisation_id = entry.organisation_id or person.organisation_id  # type: ignore[union-attr]
        if entry.organisation_id is not None:
            _same_partnership(
                session.get(Organisation, organisation_id),
                meeting.partnership_id,
                f"entries.{index}.organisation_id",
                "organisation",
            )
        label = f"{person.full_name} at {meeting.title}"  # type: ignore[union-attr]
        record = existing.get(entry.person_id)
        if record is None:
            record = Attendance(
                meeting_id=meeting_id,
                person_id=entry.person_id,
                organisation_id=organisation_id,
                status=entry.status,
            )
            # Someone else saving this meeting's attendance at the same moment may have recorded them.
            raced = (
                f"{person.full_name} was recorded at this meeting by someone else at the same moment; "  # type: ignore[union-attr]
                "check the attendance and save again"
            )
            with refusing_duplicates(
                session, {"uq_attendance_meeting_id": (f"entries.{index}.person_id", raced)}
            ):
                session.add(record)
            audit.record(
                session,
                actor=actor,
                event="created",
                record_type="attendance",
                record_id=record.id,
                partnership_id=meeting.partnership_id,
                summary=f"Attendance of {label}: {entry.status}",
                after=audit.snapshot(record),
            )
        else:
            before = audit.snapshot(record)
            record.status, record.organisation_id = entry.status, organisation_id
            session.flush()
            if before != audit.snapshot(record):
                audit.record(
                    session,
                    actor=actor,
                    event="changed",
                    record_type="attendance",
                    record_id=record.id,
                    partnership_id=meeting.partnership_id,
                    summary=f"Attendance of {label}: {entry.status}",
                    before=before,
                    after=audit.snapshot(record),
                )
    return list_attendance(session, actor=actor, meeting_id=meeting_id)


# --- actions and decisions ---------------------------------------------------------------------------
def list_actions(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    status: str | None = None,
    owner_person_id: int | None = None,
    meeting_id: int | None = None,
    organisation_id: int | None = None,
) -> list[Action]:
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    query = select(Action).where(Action.partnership_id == partnership_id)
    if status:
        query = query.where(Action.status == status)
    if owner_person_id is not None:
        query = query.where(Action.owner_person_id == owner_person_id)
    if meeting_id is not None:
        query = query.where(Action.meeting_id == meeting_id)
    if organisation_id is not None:
        query = query.where(Action.organisation_id == organisation_id)
    return list(session.scalars(query.order_by(Action.due_on.is_(None), Action.due_on, Action.id)))


def get_action(session: Session, *, actor: Actor, action_id: int) -> Action:
    return _fetch(session, actor, Action, action_id)


def _action_values(
    session: Session, partnership_id: int, data: s.ActionCreate, previous: Action | None
) -> dict[str, Any]:
    if data.owner_person_id is not None:
        _same_partnership(
            session.get(Person, data.owner_person_id), partnership_id, "owner_person_id", "person"
        )
    if data.organisation_id is not None:
        _same_partnership(
            session.get(Organisation, data.organisation_id), partnership_id, "organisation_id", "organisation"
        )
    if data.meeting_id is not None:
        _same_partnership(session.get(Meeting, data.meeting_id), partnership_id, "meeting_id", "meeting")
    return action_values(data, previous)


def action_values(data: s.ActionCreate, previous: Action | None = None) -> dict[str, Any]:
    """An action's stored values from the form's (dates filled in, closed date kept or cleared), or
    InputError; without looking at the database (references are checked by the caller)."""
    values = data.model_dump()
    values["opened_on"] = data.opened_on or (previous.opened_on if previous else today())
    _check_dates(values["opened_on"], data.due_on, start_field="opened_on", end_field="due_on")
    is_open = ActionStatus(data.status).is_open
    was_open = previous is None or ActionStatus(previous.status).is_open
    if is_open:
        if data.closed_on is not None:
            raise InputError("only a done or dropped action has a closed date", field="closed_on")
        values["closed_on"] = None
    elif data.closed_on is not None:
        values["closed_on"] = data.closed_on
    else:
        values["closed_on"] = previous.closed_on if previous and not was_open else today()
    _check_dates(values["opened_on"], values["closed_on"], start_field="opened_on", end_field="closed_on")
    values["last_changed_on"] = data.last_changed_on or today()
    _check_dates(
        values["opened_on"], values["last_changed_on"], start_field="opened_on", end_field="last_changed_on"
    )
    if values["last_changed_on"] > today():
        raise InputError("is in the future", field="last_changed_on")
    return values


def create_action(session: Session, *, actor: Actor, partnership_id: int, data: s.ActionCreate) -> Action:
    ensure_allowed(actor, Can.EDIT_REGISTER, partnership_id)
    values = _action_values(session, partnership_id, data, None)
    return _create(session, actor, Action(partnership_id=partnership_id, **values), data.title)


def update_action(session: Session, *, actor: Actor, action_id: int, data: s.ActionUpdate) -> Action:
    action = _fetch(session, actor, Action, action_id, Can.EDIT_REGISTER)
    values = _action_values(session, action.partnership_id, data, action)
    unchanged = all(getattr(action, k) == v for k, v in values.items() if k != "last_changed_on")
    if unchanged:  # saving an unchanged form must not reset the stall clock
        return action
    return _change(session, actor, action, values, data.title)


def close_action(
    session: Session, *, actor: Actor, action_id: int, status: str = ActionStatus.DONE.value
) -> Action:
    action = _fetch(session, actor, Action, action_id, Can.EDIT_REGISTER)
    if ActionStatus(status).is_open:
        raise InputError("closing needs status done or dropped", field="status")
    return _change(
        session,
        actor,
        action,
        {"status": status, "closed_on": today(), "last_changed_on": today()},
        action.title,
        "ended",
    )


def can_edit(actor: Actor, partnership_id: int) -> bool:
    """For templates: whether to show edit controls (the services check again)."""
    return allowed(actor, Can.EDIT_REGISTER, partnership_id)


# --- attendance seen from an organisation or a person ------------------------------------------------
@dataclass(frozen=True)
class MeetingRepresentation:
    """One meeting at which an organisation had someone expected, and whether it was represented."""

    meeting_id: int
    held_on: date
    title: str
    kind: str
    represented: bool


def organisation_attendance(
    session: Session, *, actor: Actor, organisation_id: int, months: int = 12, on: date | None = None
) -> list[MeetingRepresentation]:
    """Meetings in the ``months`` up to ``on`` (default today) at which the organisation had someone
    expected, most recent first; represented means someone was present or a deputy attended."""
    organisation = _fetch(session, actor, Organisation, organisation_id)
    on = on or today()
    rows = session.execute(
        select(Meeting.id, Meeting.held_on, Meeting.title, Meeting.kind, Attendance.status)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(
            Meeting.partnership_id == organisation.partnership_id,
            Attendance.organisation_id == organisation.id,
            Meeting.cancelled.is_(False),
            Meeting.held_on > months_before(on, months),
            Meeting.held_on <= on,
        )
    ).all()
    meetings: dict[int, MeetingRepresentation] = {}
    for r in rows:
        seen = meetings.get(r.id)
        represented = r.status in REPRESENTED_STATUSES or (seen is not None and seen.represented)
        meetings[r.id] = MeetingRepresentation(r.id, r.held_on, r.title, r.kind, represented)
    return sorted(meetings.values(), key=lambda m: (m.held_on, m.meeting_id), reverse=True)


def person_attendance(
    session: Session, *, actor: Actor, person_id: int, limit: int = 20
) -> list[tuple[Meeting, Attendance]]:
    """A person's attendance records, most recent meeting first (cancelled meetings left out)."""
    person = _fetch(session, actor, Person, person_id)
    rows = session.execute(
        select(Meeting, Attendance)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(Attendance.person_id == person.id, Meeting.cancelled.is_(False))
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(limit)
    ).all()
    return [(m, a) for m, a in rows]
