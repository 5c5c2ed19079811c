"""The register's JSON API at /api/v1. Thin: validate, call one service function, return Public schemas.

Every record lives under its partnership: ``/partnerships/{partnership_id}/<records>`` to list and create,
``/partnerships/{partnership_id}/<records>/{id}`` for one record. A record of another partnership reached
through this partnership's URL is not found, as on the pages. Bodies are validated by the schemas the
forms use, so a refused value gets the same words everywhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import ensure_allowed
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.api_schemas import ActionClose, OverviewFigures
from reticulist.register.models import Action, Attendance, Meeting, Organisation, Person, Profession, Seat
from reticulist.register.overview import partnership_overview
from reticulist.register.vocab import ActionStatus, MeetingKind
from reticulist.web.deps import Viewer, api_viewer, get_db
from reticulist.web.pages import in_partnership

router = APIRouter()

P = "/partnerships/{partnership_id}"


def partnership_in_reach(
    partnership_id: int, viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)
) -> int:
    """The path's partnership, if the viewer may see it (404 otherwise, for site admins too)."""
    register.get_partnership(db, actor=viewer.actor, partnership_id=partnership_id)
    return partnership_id


def partnership_to_edit(
    partnership_id: int, viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)
) -> int:
    """The path's partnership, if the viewer may change its register: 404 to outsiders, 403 to members,
    decided before the body is read so bad input never answers before authorisation does."""
    partnership_in_reach(partnership_id, viewer, db)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    return partnership_id


# --- partnerships ------------------------------------------------------------------------------------
@router.get(
    "/partnerships", response_model=list[s.PartnershipPublic], tags=["partnerships"], summary="Partnerships"
)
def list_partnerships(viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)) -> list:
    """Partnerships in which you have a role (every partnership, for a site administrator)."""
    return register.list_partnerships(db, actor=viewer.actor)


@router.get(P, response_model=s.PartnershipPublic, tags=["partnerships"], summary="One partnership")
def get_partnership(
    partnership_id: int, viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)
) -> object:
    """One partnership in which you have a role."""
    return register.get_partnership(db, actor=viewer.actor, partnership_id=partnership_id)


@router.get(
    P + "/overview",
    response_model=OverviewFigures,
    tags=["partnerships"],
    summary="Overview figures of a partnership",
)
def get_overview(
    partnership_id: int = Depends(partnership_in_reach),
    # Read as every form reads a date, so a day outside 1900-2199 is refused in words, not overflowed.
    as_of: Annotated[s.OptionalDate, Query(description="The day the figures are for (default today)")] = None,
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> OverviewFigures:
    """The figures of the overview page: per organisation, continuity of representation (002 Table 1
    row 1) and attendance; the hierarchy mix of the board (row 8); momentum of actions (003)."""
    overview = partnership_overview(db, actor=viewer.actor, partnership_id=partnership_id, today=as_of)
    return OverviewFigures.from_overview(overview)


# --- organisations -----------------------------------------------------------------------------------
ORGANISATIONS = P + "/organisations"


@router.get(
    ORGANISATIONS, response_model=list[s.OrganisationPublic], tags=["organisations"], summary="Organisations"
)
def list_organisations(
    partnership_id: int = Depends(partnership_in_reach),
    include_ended: bool = Query(True, description="false: only organisations that have not left"),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list:
    """The partnership's organisations, by name."""
    return register.list_organisations(
        db, actor=viewer.actor, partnership_id=partnership_id, include_ended=include_ended
    )


@router.get(
    ORGANISATIONS + "/{organisation_id}",
    response_model=s.OrganisationPublic,
    tags=["organisations"],
    summary="One organisation",
)
def get_organisation(
    organisation_id: int,
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Organisation:
    """One organisation of the partnership."""
    return in_partnership(
        register.get_organisation(db, actor=viewer.actor, organisation_id=organisation_id), partnership_id
    )


@router.post(
    ORGANISATIONS,
    response_model=s.OrganisationPublic,
    status_code=201,
    tags=["organisations"],
    summary="Add an organisation",
)
def create_organisation(
    data: s.OrganisationCreate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Organisation:
    """Add an organisation to the partnership. Its name must be new in the partnership."""
    organisation = register.create_organisation(
        db, actor=viewer.actor, partnership_id=partnership_id, data=data
    )
    db.commit()
    return organisation


@router.put(
    ORGANISATIONS + "/{organisation_id}",
    response_model=s.OrganisationPublic,
    tags=["organisations"],
    summary="Change an organisation",
)
def update_organisation(
    organisation_id: int,
    data: s.OrganisationUpdate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Organisation:
    """Replace the organisation's details with the full record sent."""
    in_partnership(
        register.get_organisation(db, actor=viewer.actor, organisation_id=organisation_id), partnership_id
    )
    organisation = register.update_organisation(
        db, actor=viewer.actor, organisation_id=organisation_id, data=data
    )
    db.commit()
    return organisation


@router.post(
    ORGANISATIONS + "/{organisation_id}/end",
    response_model=s.OrganisationPublic,
    tags=["organisations"],
    summary="An organisation leaves",
)
def end_organisation(
    organisation_id: int,
    data: s.EndRecord,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Organisation:
    """The organisation leaves the partnership on ``ended_on``; its open seats end the same day."""
    in_partnership(
        register.get_organisation(db, actor=viewer.actor, organisation_id=organisation_id), partnership_id
    )
    organisation = register.end_organisation(
        db, actor=viewer.actor, organisation_id=organisation_id, ended_on=data.ended_on
    )
    db.commit()
    return organisation


# --- professions -------------------------------------------------------------------------------------
PROFESSIONS = P + "/professions"


@router.get(PROFESSIONS, response_model=list[s.ProfessionPublic], tags=["professions"], summary="Professions")
def list_professions(
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list:
    """The professions people in the partnership belong to, by name."""
    return register.list_professions(db, actor=viewer.actor, partnership_id=partnership_id)


@router.get(
    PROFESSIONS + "/{profession_id}",
    response_model=s.ProfessionPublic,
    tags=["professions"],
    summary="One profession",
)
def get_profession(
    profession_id: int,
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Profession:
    """One profession of the partnership."""
    return in_partnership(
        register.get_profession(db, actor=viewer.actor, profession_id=profession_id), partnership_id
    )


@router.post(
    PROFESSIONS,
    response_model=s.ProfessionPublic,
    status_code=201,
    tags=["professions"],
    summary="Add a profession",
)
def create_profession(
    data: s.ProfessionCreate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Profession:
    """Add a profession. Its name must be new in the partnership."""
    profession = register.create_profession(db, actor=viewer.actor, partnership_id=partnership_id, data=data)
    db.commit()
    return profession


@router.put(
    PROFESSIONS + "/{profession_id}",
    response_model=s.ProfessionPublic,
    tags=["professions"],
    summary="Change a profession",
)
def update_profession(
    profession_id: int,
    data: s.ProfessionUpdate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Profession:
    """Rename a profession."""
    in_partnership(
        register.get_profession(db, actor=viewer.actor, profession_id=profession_id), partnership_id
    )
    profession = register.update_profession(db, actor=viewer.actor, profession_id=profession_id, data=data)
    db.commit()
    return profession


@router.post(
    PROFESSIONS + "/{profession_id}/end",
    response_model=s.ProfessionPublic,
    tags=["professions"],
    summary="Retire a profession",
)
def end_profession(
    profession_id: int,
    data: s.EndRecord,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Profession:
    """The profession is no longer used from ``ended_on``; people keep it in their history."""
    in_partnership(
        register.get_profession(db, actor=viewer.actor, profession_id=profession_id), partnership_id
    )
    profession = register.end_profession(
        db, actor=viewer.actor, profession_id=profession_id, ended_on=data.ended_on
    )
    db.commit()
    return profession


# --- people ------------------------------------------------------------------------------------------
PEOPLE = P + "/people"


@router.get(PEOPLE, response_model=list[s.PersonPublic], tags=["people"], summary="People")
def list_people(
    partnership_id: int = Depends(partnership_in_reach),
    organisation_id: int | None = Query(None, description="Only people of this organisation"),
    include_ended: bool = Query(True, description="false: only people who have not left"),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list:
    """People in the partnership, by name."""
    return register.list_people(
        db,
        actor=viewer.actor,
        partnership_id=partnership_id,
        organisation_id=organisation_id,
        include_ended=include_ended,
    )


@router.get(PEOPLE + "/{person_id}", response_model=s.PersonPublic, tags=["people"], summary="One person")
def get_person(
    person_id: int,
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Person:
    """One person: their organisation, profession, hierarchy tier and experience."""
    return in_partnership(register.get_person(db, actor=viewer.actor, person_id=person_id), partnership_id)


@router.post(PEOPLE, response_model=s.PersonPublic, status_code=201, tags=["people"], summary="Add a person")
def create_person(
    data: s.PersonCreate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Person:
    """Add a person. Their organisation and profession must be of this partnership; an email address,
    if given, must be new in it."""
    person = register.create_person(db, actor=viewer.actor, partnership_id=partnership_id, data=data)
    db.commit()
    return person


@router.put(
    PEOPLE + "/{person_id}", response_model=s.PersonPublic, tags=["people"], summary="Change a person"
)
def update_person(
    person_id: int,
    data: s.PersonUpdate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Person:
    """Replace the person's details with the full record sent."""
    in_partnership(register.get_person(db, actor=viewer.actor, person_id=person_id), partnership_id)
    person = register.update_person(db, actor=viewer.actor, person_id=person_id, data=data)
    db.commit()
    return person


@router.post(
    PEOPLE + "/{person_id}/end", response_model=s.PersonPublic, tags=["people"], summary="A person leaves"
)
def end_person(
    person_id: int,
    data: s.EndRecord,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Person:
    """The person leaves the partnership on ``ended_on``; their open seats end the same day."""
    in_partnership(register.get_person(db, actor=viewer.actor, person_id=person_id), partnership_id)
    person = register.end_person(db, actor=viewer.actor, person_id=person_id, ended_on=data.ended_on)
    db.commit()
    return person


# --- seats -------------------------------------------------------------------------------------------
SEATS = P + "/seats"


@router.get(SEATS, response_model=list[s.SeatPublic], tags=["seats"], summary="Seats (tenures)")
def list_seats(
    partnership_id: int = Depends(partnership_in_reach),
    organisation_id: int | None = Query(None, description="Only seats of this organisation"),
    person_id: int | None = Query(None, description="Only seats held by this person"),
    current: bool = Query(False, description="true: only tenures that have not ended"),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list:
    """Who represented which organisation, in what role, from when to when; newest first per
    organisation."""
    return register.list_seats(
        db,
        actor=viewer.actor,
        partnership_id=partnership_id,
        organisation_id=organisation_id,
        person_id=person_id,
        current_only=current,
    )


@router.get(SEATS + "/{seat_id}", response_model=s.SeatPublic, tags=["seats"], summary="One seat")
def get_seat(
    seat_id: int,
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Seat:
    """One tenure."""
    return in_partnership(register.get_seat(db, actor=viewer.actor, seat_id=seat_id), partnership_id)


@router.post(SEATS, response_model=s.SeatPublic, status_code=201, tags=["seats"], summary="Add a seat")
def create_seat(
    data: s.SeatCreate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Seat:
    """Start a tenure: a person represents an organisation from ``started_on``."""
    seat = register.create_seat(db, actor=viewer.actor, partnership_id=partnership_id, data=data)
    db.commit()
    return seat


@router.put(SEATS + "/{seat_id}", response_model=s.SeatPublic, tags=["seats"], summary="Correct a seat")
def update_seat(
    seat_id: int,
    data: s.SeatUpdate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Seat:
    """Correct a tenure's details. To change who holds the seat, hand it over instead."""
    in_partnership(register.get_seat(db, actor=viewer.actor, seat_id=seat_id), partnership_id)
    seat = register.update_seat(db, actor=viewer.actor, seat_id=seat_id, data=data)
    db.commit()
    return seat


@router.post(SEATS + "/{seat_id}/end", response_model=s.SeatPublic, tags=["seats"], summary="End a seat")
def end_seat(
    seat_id: int,
    data: s.EndRecord,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Seat:
    """The tenure ends on ``ended_on``."""
    in_partnership(register.get_seat(db, actor=viewer.actor, seat_id=seat_id), partnership_id)
    seat = register.end_seat(db, actor=viewer.actor, seat_id=seat_id, ended_on=data.ended_on)
    db.commit()
    return seat


@router.post(
    SEATS + "/{seat_id}/hand-over",
    response_model=s.SeatPublic,
    status_code=201,
    tags=["seats"],
    summary="Hand a seat over",
)
def hand_over_seat(
    seat_id: int,
    data: s.SeatHandOver,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Seat:
    """End this tenure ``on`` the day given and start a new one for ``person_id`` the day after, in the
    same role. Returns the new tenure."""
    in_partnership(register.get_seat(db, actor=viewer.actor, seat_id=seat_id), partnership_id)
    seat = register.hand_over_seat(db, actor=viewer.actor, seat_id=seat_id, data=data)
    db.commit()
    return seat


# --- meetings and attendance -------------------------------------------------------------------------
MEETINGS = P + "/meetings"


@router.get(MEETINGS, response_model=list[s.MeetingPublic], tags=["meetings"], summary="Meetings")
def list_meetings(
    partnership_id: int = Depends(partnership_in_reach),
    kind: MeetingKind | None = Query(None, description="Only meetings of this kind"),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list:
    """The partnership's meetings, newest first, cancelled ones included."""
    return register.list_meetings(
        db, actor=viewer.actor, partnership_id=partnership_id, kind=kind.value if kind else None
    )


@router.get(
    MEETINGS + "/{meeting_id}", response_model=s.MeetingPublic, tags=["meetings"], summary="One meeting"
)
def get_meeting(
    meeting_id: int,
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Meeting:
    """One meeting."""
    return in_partnership(register.get_meeting(db, actor=viewer.actor, meeting_id=meeting_id), partnership_id)


@router.post(
    MEETINGS, response_model=s.MeetingPublic, status_code=201, tags=["meetings"], summary="Add a meeting"
)
def create_meeting(
    data: s.MeetingCreate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Meeting:
    """Record a meeting: a board, sub-group, away day or development day."""
    meeting = register.create_meeting(db, actor=viewer.actor, partnership_id=partnership_id, data=data)
    db.commit()
    return meeting


@router.put(
    MEETINGS + "/{meeting_id}", response_model=s.MeetingPublic, tags=["meetings"], summary="Change a meeting"
)
def update_meeting(
    meeting_id: int,
    data: s.MeetingUpdate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Meeting:
    """Replace the meeting's details with the full record sent."""
    in_partnership(register.get_meeting(db, actor=viewer.actor, meeting_id=meeting_id), partnership_id)
    meeting = register.update_meeting(db, actor=viewer.actor, meeting_id=meeting_id, data=data)
    db.commit()
    return meeting


@router.post(
    MEETINGS + "/{meeting_id}/cancel",
    response_model=s.MeetingPublic,
    tags=["meetings"],
    summary="Cancel a meeting",
)
def cancel_meeting(
    meeting_id: int,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Meeting:
    """Cancel the meeting. The record stays, so the history is honest; it no longer counts for
    attendance."""
    in_partnership(register.get_meeting(db, actor=viewer.actor, meeting_id=meeting_id), partnership_id)
    meeting = register.cancel_meeting(db, actor=viewer.actor, meeting_id=meeting_id)
    db.commit()
    return meeting


@router.get(
    MEETINGS + "/{meeting_id}/attendance",
    response_model=list[s.AttendancePublic],
    tags=["meetings"],
    summary="Attendance at a meeting",
)
def get_attendance(
    meeting_id: int,
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list[Attendance]:
    """Who was expected at the meeting, for which organisation, and whether they came."""
    in_partnership(register.get_meeting(db, actor=viewer.actor, meeting_id=meeting_id), partnership_id)
    return register.list_attendance(db, actor=viewer.actor, meeting_id=meeting_id)


@router.put(
    MEETINGS + "/{meeting_id}/attendance",
    response_model=list[s.AttendancePublic],
    tags=["meetings"],
    summary="Record attendance at a meeting",
)
def set_attendance(
    meeting_id: int,
    entries: list[s.AttendanceEntry],
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list[Attendance]:
    """Record each listed person's status; a person listed again gets the new status, people not listed
    keep theirs. ``organisation_id`` defaults to the person's organisation. Returns the whole list."""
    in_partnership(register.get_meeting(db, actor=viewer.actor, meeting_id=meeting_id), partnership_id)
    attendance = register.set_attendance(db, actor=viewer.actor, meeting_id=meeting_id, entries=entries)
    db.commit()
    return attendance


# --- actions and decisions ---------------------------------------------------------------------------
ACTIONS = P + "/actions"


@router.get(ACTIONS, response_model=list[s.ActionPublic], tags=["actions"], summary="Actions and decisions")
def list_actions(
    partnership_id: int = Depends(partnership_in_reach),
    status: ActionStatus | None = Query(None, description="Only actions with this status"),
    owner_person_id: int | None = Query(None, description="Only actions owned by this person"),
    meeting_id: int | None = Query(None, description="Only actions from this meeting"),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list:
    """The partnership's actions and decisions, soonest due first."""
    return register.list_actions(
        db,
        actor=viewer.actor,
        partnership_id=partnership_id,
        status=status.value if status else None,
        owner_person_id=owner_person_id,
        meeting_id=meeting_id,
    )


@router.get(ACTIONS + "/{action_id}", response_model=s.ActionPublic, tags=["actions"], summary="One action")
def get_action(
    action_id: int,
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Action:
    """One action or decision."""
    return in_partnership(register.get_action(db, actor=viewer.actor, action_id=action_id), partnership_id)


@router.post(
    ACTIONS, response_model=s.ActionPublic, status_code=201, tags=["actions"], summary="Add an action"
)
def create_action(
    data: s.ActionCreate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Action:
    """Record an action or decision, with its owner and due date, so its momentum can be followed."""
    action = register.create_action(db, actor=viewer.actor, partnership_id=partnership_id, data=data)
    db.commit()
    return action


@router.put(
    ACTIONS + "/{action_id}", response_model=s.ActionPublic, tags=["actions"], summary="Change an action"
)
def update_action(
    action_id: int,
    data: s.ActionUpdate,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Action:
    """Replace the action's details with the full record sent. Sending it unchanged does not count as
    progress (the stall clock keeps running)."""
    in_partnership(register.get_action(db, actor=viewer.actor, action_id=action_id), partnership_id)
    action = register.update_action(db, actor=viewer.actor, action_id=action_id, data=data)
    db.commit()
    return action


@router.post(
    ACTIONS + "/{action_id}/close",
    response_model=s.ActionPublic,
    tags=["actions"],
    summary="Close an action",
)
def close_action(
    action_id: int,
    data: ActionClose,
    partnership_id: int = Depends(partnership_to_edit),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Action:
    """Close the action today, as ``done`` or ``dropped``."""
    in_partnership(register.get_action(db, actor=viewer.actor, action_id=action_id), partnership_id)
    action = register.close_action(db, actor=viewer.actor, action_id=action_id, status=data.status)
    db.commit()
    return action
