"""The partnership overview: reads the register in a few column queries, hands plain records to the
pure functions in ``register.metrics`` and returns what the page and the API show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.register import metrics
from reticulist.register.models import Action, Attendance, Meeting, Organisation, Partnership, Person, Seat
from reticulist.register.vocab import SeatRole, WorkingTogetherTier

# Continuity is about who speaks for an organisation: deputies stand in and advisers advise.
REPRESENTING_ROLES = (SeatRole.CHAIR.value, SeatRole.MEMBER.value)


@dataclass(frozen=True)
class Representative:
    person_id: int
    full_name: str
    role: str
    hierarchy_tier: int
    since: date


@dataclass(frozen=True)
class OrganisationRow:
    organisation_id: int
    name: str
    kind: str
    tier: str
    representatives: list[Representative]
    continuity: metrics.Continuity | None
    attendance: metrics.AttendanceRate | None


@dataclass(frozen=True)
class Overview:
    partnership_id: int
    name: str
    today: date
    tiers: dict[str, list[OrganisationRow]]  # Working Together tier -> organisations, statutory first
    hierarchy: metrics.HierarchyMix
    momentum: metrics.Momentum
    discontinued: list[OrganisationRow] = field(default_factory=list)
    low_attendance: list[OrganisationRow] = field(default_factory=list)
    people_count: int = 0
    meetings_last_12_months: int = 0


LOW_ATTENDANCE = 0.6  # below this share of meetings represented, the page flags an organisation


def partnership_overview(
    session: Session, *, actor: Actor, partnership_id: int, today: date | None = None
) -> Overview:
    """Everything on the overview page for one partnership, as of ``today`` (default: the real today)."""
    ensure_allowed(actor, Can.VIEW_REGISTER, partnership_id)
    today = today or date.today()
    partnership = session.get(Partnership, partnership_id)
    assert partnership is not None  # ensure_allowed has refused unknown ids for everyone but site admins

    organisations = session.execute(
        select(Organisation.id, Organisation.name, Organisation.kind, Organisation.tier)
        .where(Organisation.partnership_id == partnership_id, Organisation.ended_on.is_(None))
        .order_by(Organisation.name)
    ).all()

    seat_rows = session.execute(
        select(
            Seat.organisation_id,
            Seat.person_id,
            Seat.role,
            Seat.started_on,
            Seat.ended_on,
            Person.full_name,
            Person.hierarchy_tier,
        )
        .join(Person, Person.id == Seat.person_id)
        .where(Seat.partnership_id == partnership_id)
    ).all()
    tenures = [
        metrics.SeatTenure(r.organisation_id, r.person_id, r.role, r.started_on, r.ended_on)
        for r in seat_rows
    ]
    continuity = metrics.representation_continuity(tenures, today=today, roles=REPRESENTING_ROLES)

    current = [r for r in seat_rows if r.started_on <= today and (r.ended_on is None or r.ended_on >= today)]
    representatives: dict[int, list[Representative]] = {}
    for r in sorted(current, key=lambda r: (r.role != SeatRole.CHAIR.value, r.full_name)):
        representatives.setdefault(r.organisation_id, []).append(
            Representative(r.person_id, r.full_name, r.role, r.hierarchy_tier, r.started_on)
        )
    # The board's hierarchy mix counts each current seat holder once, whatever number of seats they hold.
    board_tiers = {r.person_id: r.hierarchy_tier for r in current}
    hierarchy = metrics.hierarchy_mix(board_tiers.values())

    window_start = metrics.months_before(today, 12)
    attendance_rows = session.execute(
        select(Attendance.meeting_id, Meeting.held_on, Attendance.organisation_id, Attendance.status)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            Meeting.partnership_id == partnership_id,
            Meeting.cancelled.is_(False),
            Meeting.held_on > window_start,
            Meeting.held_on <= today,
        )
    ).all()
    attendance = metrics.attendance_rates(
        [
            metrics.AttendanceRecord(r.meeting_id, r.held_on, r.organisation_id, r.status)
            for r in attendance_rows
        ],
        today=today,
    )

    action_rows = session.execute(
        select(
            Action.id,
            Action.status,
            Action.due_on,
            Action.opened_on,
            Action.closed_on,
            Action.last_changed_on,
        ).where(Action.partnership_id == partnership_id)
    ).all()
    momentum = metrics.action_momentum([metrics.ActionRecord(*r) for r in action_rows], today=today)

    tiers: dict[str, list[OrganisationRow]] = {t.value: [] for t in WorkingTogetherTier}
    for o in organisations:
        row = OrganisationRow(
            o.id,
            o.name,
            o.kind,
            o.tier,
            representatives.get(o.id, []),
            continuity.get(o.id),
            attendance.get(o.id),
        )
        tiers.setdefault(o.tier, []).append(row)
    rows = [row for group in tiers.values() for row in group]
    people_count = session.scalar(
        select(func.count())
        .select_from(Person)
        .where(Person.partnership_id == partnership_id, Person.ended_on.is_(None))
    )
    return Overview(
        partnership_id=partnership_id,
        name=partnership.name,
        today=today,
        tiers=tiers,
        hierarchy=hierarchy,
        momentum=momentum,
        discontinued=[r for r in rows if r.continuity and r.continuity.discontinued],
        low_attendance=[
            r
            for r in rows
            if r.attendance and r.attendance.rate is not None and r.attendance.rate < LOW_ATTENDANCE
        ],
        people_count=people_count or 0,
        meetings_last_12_months=len({r.meeting_id for r in attendance_rows}),
    )
