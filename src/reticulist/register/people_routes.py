"""Pages for professions, people ("complex wholes") and seats (tenures). Thin, like register/routes.py:
parse the form, call one service function, render. Validation and authorisation live in the service."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import ensure_allowed
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Person, Profession, Seat
from reticulist.register.vocab import HIERARCHY_TIERS, SeatRole
from reticulist.text import refused_character
from reticulist.web.deps import Viewer, get_db, page_viewer, register_form
from reticulist.web.pages import form_values, in_partnership, partnership_context, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)

PERSON_ATTENDANCE_SHOWN = 20


# --- choices for the forms' drop-downs -----------------------------------------------------------------
def _organisation_choices(
    db: Session, viewer: Viewer, partnership_id: int, keep_id: int | None = None
) -> list[tuple[int, str]]:
    """Current organisations, plus the one a record already points at (so editing it keeps it)."""
    organisations = register.list_organisations(db, actor=viewer.actor, partnership_id=partnership_id)
    return [(o.id, o.name) for o in organisations if o.ended_on is None or o.id == keep_id]


def _profession_choices(
    db: Session, viewer: Viewer, partnership_id: int, keep_id: int | None = None
) -> list[tuple[int, str]]:
    professions = register.list_professions(db, actor=viewer.actor, partnership_id=partnership_id)
    return [(p.id, p.name) for p in professions if p.ended_on is None or p.id == keep_id]


def _people_choices(
    db: Session, viewer: Viewer, partnership_id: int, leave_out: int | None = None
) -> list[tuple[int, str]]:
    """Current people as "Name — Organisation", by name: the list can run to hundreds."""
    people = register.list_people(db, actor=viewer.actor, partnership_id=partnership_id, include_ended=False)
    return [(p.id, f"{p.full_name} — {p.organisation.name}") for p in people if p.id != leave_out]


def _error_on(err: InputError, renames: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the form's field names where the service names a field differently."""
    return {renames.get(field, field): message for field, message in err.by_field().items()}


# --- professions ---------------------------------------------------------------------------------------
def _profession_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict,
    errors: dict,
    profession: Profession | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "professions")
    ctx.update(values=values, errors=errors, profession=profession)
    return render(request, "register/profession_form.html", ctx, status_code=status_code)


def _profession(db: Session, viewer: Viewer, partnership_id: int, profession_id: int) -> Profession:
    return in_partnership(
        register.get_profession(db, actor=viewer.actor, profession_id=profession_id), partnership_id
    )


@router.get("/p/{partnership_id}/professions")
def professions(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "professions")
    people = register.list_people(db, actor=viewer.actor, partnership_id=partnership_id, include_ended=False)
    counts: dict[int, int] = {}
    for person in people:
        if person.profession_id is not None:
            counts[person.profession_id] = counts.get(person.profession_id, 0) + 1
    ctx.update(
        professions=register.list_professions(db, actor=viewer.actor, partnership_id=partnership_id),
        counts=counts,
    )
    return render(request, "register/professions.html", ctx)


@router.get("/p/{partnership_id}/professions/new")
def profession_new(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    return _profession_form(request, db, viewer, partnership_id, values={}, errors={})


@router.post("/p/{partnership_id}/professions/new")
def profession_create(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        profession = register.create_profession(
            db, actor=viewer.actor, partnership_id=partnership_id, data=s.parse(s.ProfessionCreate, values)
        )
    except InputError as err:
        db.rollback()
        return _profession_form(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/professions/{profession.id}", "created")


def _profession_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    profession: Profession,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, profession.partnership_id, "professions")
    people = register.list_people(db, actor=viewer.actor, partnership_id=profession.partnership_id)
    ctx.update(
        profession=profession,
        people=[p for p in people if p.profession_id == profession.id],
        errors=errors or {},
    )
    return render(request, "register/profession.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/professions/{profession_id}")
def profession_page(
    request: Request,
    partnership_id: int,
    profession_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _profession_page(request, db, viewer, _profession(db, viewer, partnership_id, profession_id))


@router.get("/p/{partnership_id}/professions/{profession_id}/edit")
def profession_edit(
    request: Request,
    partnership_id: int,
    profession_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    profession = _profession(db, viewer, partnership_id, profession_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    return _profession_form(
        request,
        db,
        viewer,
        partnership_id,
        values={"name": profession.name},
        errors={},
        profession=profession,
    )


@router.post("/p/{partnership_id}/professions/{profession_id}/edit")
def profession_update(
    request: Request,
    partnership_id: int,
    profession_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    profession = _profession(db, viewer, partnership_id, profession_id)
    try:
        register.update_profession(
            db, actor=viewer.actor, profession_id=profession_id, data=s.parse(s.ProfessionUpdate, values)
        )
    except InputError as err:
        db.rollback()
        return _profession_form(
            request,
            db,
            viewer,
            partnership_id,
            values=values,
            errors=err.by_field(),
            profession=profession,
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/professions/{profession_id}", "changed")


@router.post("/p/{partnership_id}/professions/{profession_id}/end")
def profession_end(
    request: Request,
    partnership_id: int,
    profession_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    profession = _profession(db, viewer, partnership_id, profession_id)
    try:
        ended_on = s.parse(s.EndRecord, values).ended_on
        register.end_profession(db, actor=viewer.actor, profession_id=profession_id, ended_on=ended_on)
    except InputError as err:
        db.rollback()
        return _profession_page(request, db, viewer, profession, err.by_field(), status_code=422)
    db.commit()
    return redirect(f"/p/{partnership_id}/professions/{profession_id}", "ended")


# --- people --------------------------------------------------------------------------------------------
def _person(db: Session, viewer: Viewer, partnership_id: int, person_id: int) -> Person:
    return in_partnership(register.get_person(db, actor=viewer.actor, person_id=person_id), partnership_id)


def _person_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict,
    errors: dict,
    person: Person | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "people")
    ctx.update(
        values=values,
        errors=errors,
        person=person,
        organisations=_organisation_choices(
            db, viewer, partnership_id, person.organisation_id if person else None
        ),
        professions=_profession_choices(db, viewer, partnership_id, person.profession_id if person else None),
        tiers=list(HIERARCHY_TIERS.items()),
    )
    return render(request, "register/person_form.html", ctx, status_code=status_code)


def _optional_id(raw: str, what: str, errors: dict[str, str], field: str) -> int | None:
    """A record number from a filter, or None with a message when it is not one."""
    raw = raw.strip()
    if not raw:
        return None
    if (number := s.record_id_or_none(raw)) is not None:
        return number
    errors[field] = f'"{raw[:40]}" is not {what}'
    return None


@router.get("/p/{partnership_id}/people")
def people(
    request: Request,
    partnership_id: int,
    organisation: str = "",
    name: str = "",
    page: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "people")
    errors: dict[str, str] = {}
    organisation_id = _optional_id(organisation, "an organisation's number", errors, "organisation")
    page_number = _optional_id(page, "a page number", errors, "page") or 1
    name = name.strip()
    if problem := refused_character(name):
        errors["name"], name = problem, ""
    elif len(name) > 200:
        errors["name"], name = "at most 200 characters", ""
    organisations = register.list_organisations(db, actor=viewer.actor, partnership_id=partnership_id)
    chosen = next((o for o in organisations if o.id == organisation_id), None)
    if organisation_id is not None and chosen is None:
        errors["organisation"] = "no such organisation in this partnership"
    found = register.people_page(
        db,
        actor=viewer.actor,
        partnership_id=partnership_id,
        organisation_id=chosen.id if chosen else None,
        name=name,
        page=page_number,
    )
    # Links to other pages keep the filters; a bad filter is dropped from them.
    kept = {"organisation": str(chosen.id) if chosen else "", "name": name}
    ctx.update(
        found=found,
        people=found.people,
        organisations=[(o.id, o.name) for o in organisations],
        chosen=chosen,
        name=name,
        filters={"organisation": organisation, "name": name},
        page_query={
            n: urlencode({**{k: v for k, v in kept.items() if v}, "page": n})
            for n in (1, found.page - 1, found.page + 1, found.pages)
        },
        errors=errors,
        tiers=HIERARCHY_TIERS,
    )
    return render(request, "register/people.html", ctx)


@router.get("/p/{partnership_id}/people/new")
def person_new(
    request: Request,
    partnership_id: int,
    organisation: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    values = {"organisation_id": organisation} if s.record_id_or_none(organisation) else {}
    return _person_form(request, db, viewer, partnership_id, values=values, errors={})


@router.post("/p/{partnership_id}/people/new")
def person_create(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        person = register.create_person(
            db, actor=viewer.actor, partnership_id=partnership_id, data=s.parse(s.PersonCreate, values)
        )
    except InputError as err:
        db.rollback()
        return _person_form(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/people/{person.id}", "created")


def _person_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    person: Person,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    pid = person.partnership_id
    ctx = partnership_context(db, viewer, pid, "people")
    ctx.update(
        person=person,
        tier_label=HIERARCHY_TIERS.get(person.hierarchy_tier, str(person.hierarchy_tier)),
        seats=register.list_seats(db, actor=viewer.actor, partnership_id=pid, person_id=person.id),
        attendance=register.person_attendance(
            db, actor=viewer.actor, person_id=person.id, limit=PERSON_ATTENDANCE_SHOWN
        ),
        attendance_shown=PERSON_ATTENDANCE_SHOWN,
        actions=register.list_actions(db, actor=viewer.actor, partnership_id=pid, owner_person_id=person.id),
        errors=errors or {},
        today=register.today(),
    )
    return render(request, "register/person.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/people/{person_id}")
def person_page(
    request: Request,
    partnership_id: int,
    person_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _person_page(request, db, viewer, _person(db, viewer, partnership_id, person_id))


@router.get("/p/{partnership_id}/people/{person_id}/edit")
def person_edit(
    request: Request,
    partnership_id: int,
    person_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    person = _person(db, viewer, partnership_id, person_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    values = s.PersonUpdate.model_validate(person, from_attributes=True).model_dump()
    return _person_form(request, db, viewer, partnership_id, values=values, errors={}, person=person)


@router.post("/p/{partnership_id}/people/{person_id}/edit")
def person_update(
    request: Request,
    partnership_id: int,
    person_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    person = _person(db, viewer, partnership_id, person_id)
    try:
        register.update_person(
            db, actor=viewer.actor, person_id=person_id, data=s.parse(s.PersonUpdate, values)
        )
    except InputError as err:
        db.rollback()
        return _person_form(
            request,
            db,
            viewer,
            partnership_id,
            values=values,
            errors=err.by_field(),
            person=person,
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/people/{person_id}", "changed")


@router.post("/p/{partnership_id}/people/{person_id}/end")
def person_end(
    request: Request,
    partnership_id: int,
    person_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    person = _person(db, viewer, partnership_id, person_id)
    try:
        ended_on = s.parse(s.EndRecord, values).ended_on
        register.end_person(db, actor=viewer.actor, person_id=person_id, ended_on=ended_on)
    except InputError as err:
        db.rollback()
        return _person_page(request, db, viewer, person, err.by_field(), status_code=422)
    db.commit()
    return redirect(f"/p/{partnership_id}/people/{person_id}", "ended")


# --- seats ---------------------------------------------------------------------------------------------
def _seat(db: Session, viewer: Viewer, partnership_id: int, seat_id: int) -> Seat:
    return in_partnership(register.get_seat(db, actor=viewer.actor, seat_id=seat_id), partnership_id)


def _holds_on(seat: Seat, day: date) -> bool:
    return seat.started_on <= day and (seat.ended_on is None or seat.ended_on >= day)


@router.get("/p/{partnership_id}/seats")
def seats(
    request: Request,
    partnership_id: int,
    history: str = "",
    tier: str = "",
    organisation: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "seats")
    errors: dict[str, str] = {}
    show_history = history.strip().lower() in ("1", "yes", "true", "on")
    tier_number = _optional_id(tier, "a hierarchy tier (1-5)", errors, "tier")
    if tier_number is not None and tier_number not in HIERARCHY_TIERS:
        errors["tier"] = f'"{tier}" is not a hierarchy tier (1-5)'
        tier_number = None
    organisation_id = _optional_id(organisation, "an organisation's number", errors, "organisation")
    found = register.list_seats(
        db,
        actor=viewer.actor,
        partnership_id=partnership_id,
        organisation_id=organisation_id,
        current_only=not show_history,
    )
    if tier_number is not None:
        found = [seat for seat in found if seat.person.hierarchy_tier == tier_number]
    today = register.today()
    # By organisation; within one, current holders first (chair before others), then latest first.
    found.sort(
        key=lambda seat: (
            seat.organisation.name,
            not _holds_on(seat, today),
            seat.role != SeatRole.CHAIR.value,
            -seat.started_on.toordinal(),
        )
    )
    organisations = register.list_organisations(db, actor=viewer.actor, partnership_id=partnership_id)
    ctx.update(
        seats=found,
        show_history=show_history,
        tier=tier_number,
        tiers=HIERARCHY_TIERS,
        organisations=[(o.id, o.name) for o in organisations],
        filters={"tier": tier, "organisation": organisation},
        errors=errors,
        today=today,
    )
    return render(request, "register/seats.html", ctx)


def _seat_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict,
    errors: dict,
    seat: Seat | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "seats")
    ctx.update(
        values=values,
        errors=errors,
        seat=seat,
        organisations=_organisation_choices(
            db, viewer, partnership_id, seat.organisation_id if seat else None
        ),
        people=[] if seat else _people_choices(db, viewer, partnership_id),
        roles=SeatRole.choices(),
    )
    return render(request, "register/seat_form.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/seats/new")
def seat_new(
    request: Request,
    partnership_id: int,
    organisation: str = "",
    person: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    values: dict[str, Any] = {"role": SeatRole.MEMBER.value}
    if s.record_id_or_none(organisation):
        values["organisation_id"] = organisation
    if s.record_id_or_none(person):
        values["person_id"] = person
    return _seat_form(request, db, viewer, partnership_id, values=values, errors={})


@router.post("/p/{partnership_id}/seats/new")
def seat_create(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        seat = register.create_seat(
            db, actor=viewer.actor, partnership_id=partnership_id, data=s.parse(s.SeatCreate, values)
        )
    except InputError as err:
        db.rollback()
        return _seat_form(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/seats/{seat.id}", "created")


def _seat_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    seat: Seat,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, seat.partnership_id, "seats")
    today = register.today()
    ctx.update(
        seat=seat,
        history=register.list_seats(
            db, actor=viewer.actor, partnership_id=seat.partnership_id, organisation_id=seat.organisation_id
        ),
        tier_label=HIERARCHY_TIERS.get(seat.person.hierarchy_tier, ""),
        can_hand_over=seat.ended_on is None or seat.ended_on >= today,
        errors=errors or {},
        today=today,
    )
    return render(request, "register/seat.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/seats/{seat_id}")
def seat_page(
    request: Request,
    partnership_id: int,
    seat_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _seat_page(request, db, viewer, _seat(db, viewer, partnership_id, seat_id))


@router.get("/p/{partnership_id}/seats/{seat_id}/edit")
def seat_edit(
    request: Request,
    partnership_id: int,
    seat_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    seat = _seat(db, viewer, partnership_id, seat_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    values = s.SeatUpdate.model_validate(seat, from_attributes=True).model_dump()
    return _seat_form(request, db, viewer, partnership_id, values=values, errors={}, seat=seat)


@router.post("/p/{partnership_id}/seats/{seat_id}/edit")
def seat_update(
    request: Request,
    partnership_id: int,
    seat_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    seat = _seat(db, viewer, partnership_id, seat_id)
    try:
        register.update_seat(db, actor=viewer.actor, seat_id=seat_id, data=s.parse(s.SeatUpdate, values))
    except InputError as err:
        db.rollback()
        return _seat_form(
            request,
            db,
            viewer,
            partnership_id,
            values=values,
            errors=err.by_field(),
            seat=seat,
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/seats/{seat_id}", "changed")


def _hand_over_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    seat: Seat,
    *,
    values: dict,
    errors: dict,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, seat.partnership_id, "seats")
    ctx.update(
        seat=seat,
        values=values,
        errors=errors,
        people=_people_choices(db, viewer, seat.partnership_id, leave_out=seat.person_id),
    )
    return render(request, "register/seat_hand_over.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/seats/{seat_id}/hand-over")
def seat_hand_over_form(
    request: Request,
    partnership_id: int,
    seat_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    seat = _seat(db, viewer, partnership_id, seat_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    return _hand_over_form(request, db, viewer, seat, values={}, errors={})


@router.post("/p/{partnership_id}/seats/{seat_id}/hand-over")
def seat_hand_over(
    request: Request,
    partnership_id: int,
    seat_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    seat = _seat(db, viewer, partnership_id, seat_id)
    try:
        data = s.parse(s.SeatHandOver, {"person_id": values.get("person_id"), "on": values.get("last_day")})
        new_seat = register.hand_over_seat(db, actor=viewer.actor, seat_id=seat_id, data=data)
    except InputError as err:
        db.rollback()  # the old tenure may already have been ended in this transaction
        # The service checks the date as the end of one tenure and the start of the next.
        errors = _error_on(err, {"on": "last_day", "ended_on": "last_day", "started_on": "last_day"})
        return _hand_over_form(request, db, viewer, seat, values=values, errors=errors, status_code=422)
    db.commit()
    return redirect(f"/p/{partnership_id}/seats/{new_seat.id}", "handed-over")


@router.post("/p/{partnership_id}/seats/{seat_id}/end")
def seat_end(
    request: Request,
    partnership_id: int,
    seat_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    seat = _seat(db, viewer, partnership_id, seat_id)
    try:
        ended_on = s.parse(s.EndRecord, values).ended_on
        register.end_seat(db, actor=viewer.actor, seat_id=seat_id, ended_on=ended_on)
    except InputError as err:
        db.rollback()
        return _seat_page(request, db, viewer, seat, err.by_field(), status_code=422)
    db.commit()
    return redirect(f"/p/{partnership_id}/seats/{seat_id}", "ended")
