"""Meeting, attendance and action pages. Thin: parse the form, call one service function, render.
Validation and authorisation live in the service; forms are refused to read-only roles up front so a
member is not invited to fill in a form they cannot save."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import ensure_allowed
from reticulist.errors import FieldProblem, InputError
from reticulist.register import metrics
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Action, Meeting, Organisation, Person, Seat
from reticulist.register.vocab import ActionKind, ActionStatus, AttendanceStatus, MeetingKind, SeatRole
from reticulist.web.deps import Viewer, get_db, page_viewer, register_form
from reticulist.web.pages import form_values, in_partnership, partnership_context, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)

RECENT_MEETINGS = 30  # how many meetings the action form offers to link to
ACTION_VIEWS = ("open", "overdue", "stalled", "closed", "all")
# When someone holds two seats on the day, the one that speaks for an organisation names it.
_ROLE_ORDER = {role.value: index for index, role in enumerate(SeatRole)}


def _editor_context(db: Session, viewer: Viewer, partnership_id: int, section: str) -> dict[str, Any]:
    """The context of a form page: outsiders get 404, read-only roles 403 before they fill anything in."""
    ctx = partnership_context(db, viewer, partnership_id, section)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    return ctx


def _optional_int(value: str | None) -> int | None:
    return s.record_id_or_none(value)


# --- meetings ----------------------------------------------------------------------------------------
def _get_meeting(db: Session, viewer: Viewer, partnership_id: int, meeting_id: int) -> Meeting:
    return in_partnership(register.get_meeting(db, actor=viewer.actor, meeting_id=meeting_id), partnership_id)


def _meeting_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict,
    errors: dict,
    meeting: Meeting | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _editor_context(db, viewer, partnership_id, "meetings")
    ctx.update(values=values, errors=errors, meeting=meeting, kinds=MeetingKind.choices())
    return render(request, "register/meeting_form.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/meetings")
def meetings(
    request: Request,
    partnership_id: int,
    kind: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "meetings")
    kind = kind if kind in {k.value for k in MeetingKind} else ""
    ctx.update(
        meetings=register.list_meetings(db, actor=viewer.actor, partnership_id=partnership_id, kind=kind),
        counts=register.attendance_counts(db, actor=viewer.actor, partnership_id=partnership_id),
        kinds=MeetingKind.choices(),
        kind=kind,
    )
    return render(request, "register/meetings.html", ctx)


@router.get("/p/{partnership_id}/meetings/new")
def meeting_new(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _meeting_form(request, db, viewer, partnership_id, values={}, errors={})


@router.post("/p/{partnership_id}/meetings/new")
def meeting_create(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    try:
        meeting = register.create_meeting(
            db, actor=viewer.actor, partnership_id=partnership_id, data=s.parse(s.MeetingCreate, values)
        )
    except InputError as err:
        return _meeting_form(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/meetings/{meeting.id}", "created")


def _group_attendance(db: Session, viewer: Viewer, meeting: Meeting) -> list[tuple[str, list[Any]]]:
    """The meeting's attendance as (organisation represented, records), organisations and people by name."""
    names = {
        o.id: o.name
        for o in register.list_organisations(db, actor=viewer.actor, partnership_id=meeting.partnership_id)
    }
    groups: dict[str, list[Any]] = {}
    records = register.list_attendance(db, actor=viewer.actor, meeting_id=meeting.id)
    for record in sorted(records, key=lambda a: (names.get(a.organisation_id, ""), a.person.full_name)):
        groups.setdefault(names.get(record.organisation_id, ""), []).append(record)
    return list(groups.items())


def _meeting_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    meeting: Meeting,
    *,
    errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, meeting.partnership_id, "meetings")
    groups = _group_attendance(db, viewer, meeting)
    present, expected = register.attendance_counts(
        db, actor=viewer.actor, partnership_id=meeting.partnership_id
    ).get(meeting.id, (0, 0))
    ctx.update(
        meeting=meeting,
        groups=groups,
        present=present,
        expected=expected,
        actions=register.list_actions(
            db, actor=viewer.actor, partnership_id=meeting.partnership_id, meeting_id=meeting.id
        ),
        errors=errors or {},
    )
    return render(request, "register/meeting.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/meetings/{meeting_id}")
def meeting_page(
    request: Request,
    partnership_id: int,
    meeting_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _meeting_page(request, db, viewer, _get_meeting(db, viewer, partnership_id, meeting_id))


@router.get("/p/{partnership_id}/meetings/{meeting_id}/edit")
def meeting_edit(
    request: Request,
    partnership_id: int,
    meeting_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    meeting = _get_meeting(db, viewer, partnership_id, meeting_id)
    values = s.MeetingUpdate.model_validate(meeting, from_attributes=True).model_dump()
    return _meeting_form(request, db, viewer, partnership_id, values=values, errors={}, meeting=meeting)


@router.post("/p/{partnership_id}/meetings/{meeting_id}/edit")
def meeting_update(
    request: Request,
    partnership_id: int,
    meeting_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    meeting = _get_meeting(db, viewer, partnership_id, meeting_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    try:
        register.update_meeting(
            db, actor=viewer.actor, meeting_id=meeting_id, data=s.parse(s.MeetingUpdate, values)
        )
    except InputError as err:
        db.rollback()
        return _meeting_form(
            request,
            db,
            viewer,
            partnership_id,
            values=values,
            errors=err.by_field(),
            meeting=meeting,
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/meetings/{meeting_id}", "changed")


@router.post("/p/{partnership_id}/meetings/{meeting_id}/cancel")
def meeting_cancel(
    request: Request,
    partnership_id: int,
    meeting_id: int,
    viewer: Viewer = Depends(register_form),
    db: Session = Depends(get_db),
) -> Response:
    _get_meeting(db, viewer, partnership_id, meeting_id)
    register.cancel_meeting(db, actor=viewer.actor, meeting_id=meeting_id)
    db.commit()
    return redirect(f"/p/{partnership_id}/meetings/{meeting_id}", "cancelled")


# --- attendance --------------------------------------------------------------------------------------
@dataclass
class AttendanceRow:
    person: Person
    organisation_id: int | None  # the organisation represented: the seat's, else the recorded one
    organisation_name: str
    role: str  # the seat role on the day, "" for someone without a seat
    status: str  # already recorded status, "" when none

    @property
    def field(self) -> str:
        return f"status-{self.person.id}"


def _attendance_rows(db: Session, viewer: Viewer, meeting: Meeting) -> list[AttendanceRow]:
    """Everyone who held a seat on the meeting day, plus anyone already recorded."""
    seats: list[Seat] = sorted(
        register.seats_held_on(
            db, actor=viewer.actor, partnership_id=meeting.partnership_id, on=meeting.held_on
        ),
        key=lambda seat: _ROLE_ORDER.get(seat.role, 99),
    )
    recorded = {
        a.person_id: a for a in register.list_attendance(db, actor=viewer.actor, meeting_id=meeting.id)
    }
    names = {
        o.id: o.name
        for o in register.list_organisations(db, actor=viewer.actor, partnership_id=meeting.partnership_id)
    }
    rows: dict[int, AttendanceRow] = {}
    for seat in seats:
        if seat.person_id not in rows:
            record = recorded.get(seat.person_id)
            rows[seat.person_id] = AttendanceRow(
                seat.person,
                seat.organisation_id,
                seat.organisation.name,
                seat.role,
                record.status if record else "",
            )
    for person_id, record in recorded.items():
        if person_id not in rows:
            rows[person_id] = AttendanceRow(
                record.person,
                record.organisation_id,
                names.get(record.organisation_id, ""),
                "",
                record.status,
            )
    return sorted(rows.values(), key=lambda row: (row.organisation_name, row.person.full_name))


def _attendance_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    meeting: Meeting,
    *,
    values: dict,
    errors: dict,
    rows: list[AttendanceRow] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _editor_context(db, viewer, meeting.partnership_id, "meetings")
    rows = rows if rows is not None else _attendance_rows(db, viewer, meeting)
    listed = {row.person.id for row in rows}
    others = [
        (p.id, f"{p.full_name} ({p.organisation.name})")
        for p in register.list_people(
            db, actor=viewer.actor, partnership_id=meeting.partnership_id, include_ended=False
        )
        if p.id not in listed
    ]
    labels = {row.field: row.person.full_name for row in rows}
    labels.update(
        add_person="Person to add", add_status="Attendance of the person added", entries="Attendance"
    )
    ctx.update(
        meeting=meeting,
        rows=rows,
        others=others,
        statuses=AttendanceStatus.choices(),
        values=values,
        errors=errors,
        labels=labels,
    )
    return render(request, "register/attendance_form.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/meetings/{meeting_id}/attendance")
def attendance_edit(
    request: Request,
    partnership_id: int,
    meeting_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    meeting = _get_meeting(db, viewer, partnership_id, meeting_id)
    return _attendance_form(request, db, viewer, meeting, values={}, errors={})


_STATUS_FIELD = re.compile(r"status-([0-9]{1,10})")


def _attendance_entries(
    values: dict[str, str], rows: Iterable[AttendanceRow]
) -> tuple[list[s.AttendanceEntry], list[str]]:
    """The entries to save and, for each, the form field it came from; InputError names the fields."""
    organisation_of = {row.person.id: row.organisation_id for row in rows}
    wanted: list[tuple[str, int, str]] = []  # (form field, person id, status)
    problems: list[FieldProblem] = []
    for key, status in values.items():
        match = _STATUS_FIELD.fullmatch(key)
        if match and status.strip():
            wanted.append((key, int(match.group(1)), status))
    add_person, add_status = values.get("add_person", "").strip(), values.get("add_status", "").strip()
    if add_person:
        person_id = s.record_id_or_none(add_person)
        if person_id is None:
            problems.append(FieldProblem("add_person", f'"{add_person[:40]}" is not a record number'))
        elif not add_status:
            problems.append(FieldProblem("add_status", "choose the attendance of the person you add"))
        else:
            wanted.append(("add_person", person_id, add_status))
    elif add_status:
        problems.append(FieldProblem("add_person", "choose the person whose attendance this is"))
    entries: list[s.AttendanceEntry] = []
    fields: list[str] = []
    for field, person_id, status in wanted:
        try:
            entries.append(
                s.parse(
                    s.AttendanceEntry,
                    {
                        "person_id": person_id,
                        "status": status,
                        "organisation_id": organisation_of.get(person_id),
                    },
                )
            )
            fields.append(field)
        except InputError as err:
            problems.extend(FieldProblem(field, p.message) for p in err.problems)
    if not wanted and not problems:
        problems.append(FieldProblem("entries", "choose an attendance for at least one person"))
    if problems:
        raise InputError(problems=problems)
    return entries, fields


@router.post("/p/{partnership_id}/meetings/{meeting_id}/attendance")
def attendance_save(
    request: Request,
    partnership_id: int,
    meeting_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    meeting = _get_meeting(db, viewer, partnership_id, meeting_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    rows = _attendance_rows(db, viewer, meeting)
    fields: list[str] = []
    try:
        entries, fields = _attendance_entries(values, rows)
        register.set_attendance(db, actor=viewer.actor, meeting_id=meeting_id, entries=entries)
    except InputError as err:
        db.rollback()
        errors: dict[str, str] = {}
        for problem in err.problems:
            # The service names entries by position ("entries.2.person_id"); the form names them by row.
            index = re.match(r"entries\.(\d+)\.", problem.field)
            field = (
                fields[int(index.group(1))] if index and int(index.group(1)) < len(fields) else problem.field
            )
            errors.setdefault(field, problem.message)
        return _attendance_form(
            request, db, viewer, meeting, values=values, errors=errors, rows=rows, status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/meetings/{meeting_id}", "attendance")


# --- actions and decisions ---------------------------------------------------------------------------
def _get_action(db: Session, viewer: Viewer, partnership_id: int, action_id: int) -> Action:
    return in_partnership(register.get_action(db, actor=viewer.actor, action_id=action_id), partnership_id)


def _momentum(actions: Iterable[Action], today: date) -> metrics.Momentum:
    """The overview's own computation, so the lists and the overview's figures cannot disagree."""
    return metrics.action_momentum(
        [
            metrics.ActionRecord(a.id, a.status, a.due_on, a.opened_on, a.closed_on, a.last_changed_on)
            for a in actions
        ],
        today=today,
    )


@router.get("/p/{partnership_id}/actions")
def actions(
    request: Request,
    partnership_id: int,
    view: str = "open",
    owner: str = "",
    organisation: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "actions")
    view = view if view in ACTION_VIEWS else "open"
    owner_id, organisation_id = _optional_int(owner), _optional_int(organisation)
    today = register.today()
    everything = register.list_actions(db, actor=viewer.actor, partnership_id=partnership_id)
    momentum = _momentum(everything, today)
    open_ids = set(momentum.open_ids)
    chosen = {
        "open": open_ids,
        "overdue": set(momentum.overdue_ids),
        "stalled": set(momentum.stalled_ids),
        "closed": {a.id for a in everything} - open_ids,
        "all": {a.id for a in everything},
    }[view]
    shown = [
        a
        for a in everything
        if a.id in chosen
        and (owner_id is None or a.owner_person_id == owner_id)
        and (organisation_id is None or a.organisation_id == organisation_id)
    ]
    ctx.update(
        actions=shown,
        view=view,
        views=ACTION_VIEWS,
        view_counts={
            "open": momentum.open_count,
            "overdue": momentum.overdue_count,
            "stalled": momentum.stalled_count,
            "closed": len(everything) - momentum.open_count,
            "all": len(everything),
        },
        overdue_ids=set(momentum.overdue_ids),
        stalled_ids=set(momentum.stalled_ids),
        today=today,
        stalled_after_days=momentum.stalled_after_days,
        owner_id=owner_id,
        organisation_id=organisation_id,
        people=[
            (p.id, p.full_name)
            for p in register.list_people(db, actor=viewer.actor, partnership_id=partnership_id)
        ],
        organisations=[
            (o.id, o.name)
            for o in register.list_organisations(db, actor=viewer.actor, partnership_id=partnership_id)
        ],
    )
    return render(request, "register/actions.html", ctx)


def _choices_with(records: list[Any], current: Any, label: Any) -> list[tuple[int, str]]:
    """Options for a select: the given records, plus the current one when it is no longer among them."""
    options = [(r.id, label(r)) for r in records]
    if current is not None and current.id not in {r.id for r in records}:
        options.append((current.id, label(current)))
    return options


def _action_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict,
    errors: dict,
    action: Action | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _editor_context(db, viewer, partnership_id, "actions")
    owner = db.get(Person, _optional_int(str(values.get("owner_person_id") or "")) or 0)
    organisation = db.get(Organisation, _optional_int(str(values.get("organisation_id") or "")) or 0)
    meeting = db.get(Meeting, _optional_int(str(values.get("meeting_id") or "")) or 0)
    # Only records of this partnership may be offered, even if a forged form named another's.
    owner = owner if owner and owner.partnership_id == partnership_id else None
    organisation = organisation if organisation and organisation.partnership_id == partnership_id else None
    meeting = meeting if meeting and meeting.partnership_id == partnership_id else None
    ctx.update(
        values=values,
        errors=errors,
        action=action,
        kinds=ActionKind.choices(),
        statuses=ActionStatus.choices(),
        owners=_choices_with(
            register.list_people(db, actor=viewer.actor, partnership_id=partnership_id, include_ended=False),
            owner,
            lambda p: f"{p.full_name} ({p.organisation.name})",
        ),
        organisations=_choices_with(
            register.list_organisations(
                db, actor=viewer.actor, partnership_id=partnership_id, include_ended=False
            ),
            organisation,
            lambda o: o.name,
        ),
        meetings=_choices_with(
            register.list_meetings(db, actor=viewer.actor, partnership_id=partnership_id)[:RECENT_MEETINGS],
            meeting,
            lambda m: f"{m.held_on.strftime('%-d %b %Y')} — {m.title}",
        ),
    )
    return render(request, "register/action_form.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/actions/new")
def action_new(
    request: Request,
    partnership_id: int,
    meeting: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    values: dict[str, Any] = {}
    meeting_id = _optional_int(meeting)
    if meeting_id is not None:
        values["meeting_id"] = _get_meeting(db, viewer, partnership_id, meeting_id).id
    return _action_form(request, db, viewer, partnership_id, values=values, errors={})


@router.post("/p/{partnership_id}/actions/new")
def action_create(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    try:
        action = register.create_action(
            db, actor=viewer.actor, partnership_id=partnership_id, data=s.parse(s.ActionCreate, values)
        )
    except InputError as err:
        db.rollback()
        return _action_form(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/actions/{action.id}", "created")


def _action_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    action: Action,
    *,
    errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, action.partnership_id, "actions")
    today = register.today()
    momentum = _momentum([action], today)
    meeting = (
        register.get_meeting(db, actor=viewer.actor, meeting_id=action.meeting_id)
        if action.meeting_id
        else None
    )
    ctx.update(
        action=action,
        meeting=meeting,
        overdue=bool(momentum.overdue_ids),
        stalled=bool(momentum.stalled_ids),
        unchanged_days=(today - action.last_changed_on).days,
        is_open=ActionStatus(action.status).is_open,
        closing=[(st.value, st.label) for st in ActionStatus if not st.is_open],
        errors=errors or {},
    )
    return render(request, "register/action.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/actions/{action_id}")
def action_page(
    request: Request,
    partnership_id: int,
    action_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _action_page(request, db, viewer, _get_action(db, viewer, partnership_id, action_id))


@router.get("/p/{partnership_id}/actions/{action_id}/edit")
def action_edit(
    request: Request,
    partnership_id: int,
    action_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    action = _get_action(db, viewer, partnership_id, action_id)
    values = s.ActionUpdate.model_validate(action, from_attributes=True).model_dump()
    return _action_form(request, db, viewer, partnership_id, values=values, errors={}, action=action)


@router.post("/p/{partnership_id}/actions/{action_id}/edit")
def action_update(
    request: Request,
    partnership_id: int,
    action_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    action = _get_action(db, viewer, partnership_id, action_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    try:
        register.update_action(
            db, actor=viewer.actor, action_id=action_id, data=s.parse(s.ActionUpdate, values)
        )
    except InputError as err:
        db.rollback()
        return _action_form(
            request,
            db,
            viewer,
            partnership_id,
            values=values,
            errors=err.by_field(),
            action=action,
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/actions/{action_id}", "changed")


@router.post("/p/{partnership_id}/actions/{action_id}/close")
def action_close(
    request: Request,
    partnership_id: int,
    action_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    action = _get_action(db, viewer, partnership_id, action_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    try:
        status = s.parse(s.ActionClose, values).status
        register.close_action(db, actor=viewer.actor, action_id=action_id, status=status)
    except InputError as err:
        db.rollback()
        return _action_page(request, db, viewer, action, errors=err.by_field(), status_code=422)
    db.commit()
    return redirect(f"/p/{partnership_id}/actions/{action_id}", "closed")
