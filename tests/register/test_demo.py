"""The generated demo partnership on SQLite and PostgreSQL: reproducible, tells 002's Brempton story, and
every record is in the audit log as written by the demo."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from reticulist.audit.models import AuditEvent
from reticulist.register.demo import build_demo, demo_actor, demo_partnership_name
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
from reticulist.register.overview import partnership_overview

TODAY = date.today()


def _content(db: Session, partnership_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Everything in a partnership, by value rather than by id, so two builds can be compared."""
    owner = aliased(Person)
    return {
        "organisations": sorted(
            db.execute(
                select(Organisation.name, Organisation.kind, Organisation.tier, Organisation.joined_on).where(
                    Organisation.partnership_id == partnership_id
                )
            ).all()
        ),
        "people": sorted(
            db.execute(
                select(
                    Person.full_name,
                    Person.email,
                    Organisation.name,
                    Person.hierarchy_tier,
                    Person.years_in_profession,
                    Person.late_entry,
                    Person.interprofessional_training,
                    Person.joined_on,
                    Person.ended_on,
                )
                .join(Organisation, Organisation.id == Person.organisation_id)
                .where(Person.partnership_id == partnership_id)
            ).all()
        ),
        "seats": sorted(
            db.execute(
                select(Organisation.name, Person.full_name, Seat.role, Seat.started_on, Seat.ended_on)
                .join(Organisation, Organisation.id == Seat.organisation_id)
                .join(Person, Person.id == Seat.person_id)
                .where(Seat.partnership_id == partnership_id)
            ).all(),
            key=str,
        ),
        "attendance": sorted(
            db.execute(
                select(Meeting.kind, Meeting.title, Meeting.held_on, Person.full_name, Attendance.status)
                .join(Meeting, Meeting.id == Attendance.meeting_id)
                .join(Person, Person.id == Attendance.person_id)
                .where(Meeting.partnership_id == partnership_id)
            ).all()
        ),
        "actions": sorted(
            db.execute(
                select(
                    Action.kind,
                    Action.title,
                    owner.full_name,
                    Action.status,
                    Action.opened_on,
                    Action.due_on,
                    Action.closed_on,
                    Action.last_changed_on,
                )
                .join(owner, owner.id == Action.owner_person_id)
                .where(Action.partnership_id == partnership_id)
            ).all(),
            key=str,
        ),
    }


def test_same_seed_gives_the_same_partnership_and_another_seed_does_not(db: Session) -> None:
    first = build_demo(db, today=TODAY, name="Brempton A")
    second = build_demo(db, today=TODAY, name="Brempton B")
    other = build_demo(db, today=TODAY, name="Brempton C", seed=7)
    db.commit()
    a, b, c = (_content(db, pid) for pid in (first, second, other))
    assert a == b
    assert a["organisations"] == c["organisations"]  # the Annex is content, not chance
    assert a["people"] != c["people"] and a["attendance"] != c["attendance"]


def test_the_demo_tells_the_brempton_story(db: Session) -> None:
    pid = build_demo(db, today=TODAY)
    db.commit()
    partnership = db.get(Partnership, pid)
    assert partnership is not None and partnership.name == demo_partnership_name()
    organisations = {
        o.name: o for o in db.scalars(select(Organisation).where(Organisation.partnership_id == pid))
    }
    tiers = {o.tier for o in organisations.values()}
    assert tiers == {"statutory", "other_member", "involved"}  # the three tiers of 002 Annex
    assert {"police", "probation", "youth_justice", "health", "education", "voluntary", "faith"} <= {
        o.kind for o in organisations.values()
    }

    seats = list(db.scalars(select(Seat).where(Seat.partnership_id == pid)))
    three_years_ago = months_before(TODAY, 36)
    # 002: "over the three years of our research, three police delegates were observed", middle managers.
    police = [s for s in seats if s.organisation.kind == "police" and s.role == "member"]
    police.sort(key=lambda s: s.started_on)
    assert len({s.person_id for s in police}) == 3
    assert police[0].started_on == three_years_ago and police[-1].ended_on is None
    assert all(s.person.hierarchy_tier == 3 for s in police)
    assert police[-1].person.late_entry and not police[0].person.late_entry
    # The chair changed once: from a member organisation's director to an independent chair (002 row 2).
    chairs = sorted((s for s in seats if s.role == "chair"), key=lambda s: s.started_on)
    assert len(chairs) == 2 and len({s.person_id for s in chairs}) == 2
    assert chairs[0].ended_on is not None and chairs[1].ended_on is None
    assert chairs[0].organisation.kind == "childrens_social_care" and chairs[0].person.hierarchy_tier == 1
    assert chairs[1].organisation.name == "Office of the Independent Chair"
    assert any(s.role == "partnership_manager" for s in seats) and any(s.role == "deputy" for s in seats)
    assert any(s.role == "adviser" for s in seats)

    people = list(db.scalars(select(Person).where(Person.partnership_id == pid)))
    seated = {s.person_id for s in seats}
    assert len(people) == 190
    assert 35 <= len(seated) <= 45  # about 40 board-level people
    practitioners = [p for p in people if p.id not in seated]
    assert 140 <= len(practitioners) <= 160
    assert sum(p.hierarchy_tier >= 4 for p in practitioners) / len(practitioners) > 0.8
    assert {p.hierarchy_tier for p in people if p.id in seated} == {1, 2, 3, 4, 5}
    assert all(p.email and p.profession_id for p in practitioners)

    meetings = list(db.scalars(select(Meeting).where(Meeting.partnership_id == pid)))
    board = [m for m in meetings if m.kind == "board" and m.held_on <= TODAY]
    assert len(board) == 18 and all(m.held_on > three_years_ago for m in board)  # two-monthly, 3 years
    assert any(m.kind == "board" and m.held_on > TODAY for m in meetings)  # the next one is in the diary
    assert sum(m.kind == "away_day" for m in meetings) == 2
    assert sum(m.kind == "development_day" for m in meetings) == 1
    assert sum(m.kind == "sub_group" for m in meetings) >= 40

    overview = partnership_overview(db, actor=demo_actor(), partnership_id=pid, today=TODAY)
    assert [r.kind for r in overview.discontinued] == ["police"]
    assert overview.hierarchy.top_and_practitioner_together
    low = {r.name for r in overview.low_attendance}
    assert {"Cafcass (North West)", "HMP Brempton Moor"} <= low and len(low) <= 3
    assert all(
        r.attendance and r.attendance.rate is not None and r.attendance.rate < 0.6
        for r in overview.low_attendance
    )
    momentum = overview.momentum
    assert momentum.open_count > momentum.overdue_count > 0
    assert momentum.stalled_count > 0
    actions = list(db.scalars(select(Action).where(Action.partnership_id == pid)))
    assert {"done", "dropped", "open", "in_progress"} <= {a.status for a in actions}
    assert any(a.kind == "decision" for a in actions)
    assert all(a.owner_person_id and a.meeting_id and a.organisation_id for a in actions)


def test_every_demo_record_is_audited_as_written_by_the_demo(db: Session) -> None:
    pid = build_demo(db, today=TODAY)
    db.commit()
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.partnership_id == pid)))
    assert events and {e.via for e in events} == {"demo"} and {e.actor_label for e in events} == {"demo"}
    created = {(e.record_type, e.record_id) for e in events if e.event == "created"}
    tables: list[tuple[str, Any]] = [
        ("organisation", select(Organisation.id).where(Organisation.partnership_id == pid)),
        ("profession", select(Profession.id).where(Profession.partnership_id == pid)),
        ("person", select(Person.id).where(Person.partnership_id == pid)),
        ("seat", select(Seat.id).where(Seat.partnership_id == pid)),
        ("meeting", select(Meeting.id).where(Meeting.partnership_id == pid)),
        (
            "attendance",
            select(Attendance.id)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(Meeting.partnership_id == pid),
        ),
        ("action", select(Action.id).where(Action.partnership_id == pid)),
    ]
    assert ("partnership", pid) in created
    for record_type, query in tables:
        ids = set(db.scalars(query))
        assert ids, record_type
        assert {(record_type, i) for i in ids} <= created, record_type
    ended = {(e.record_type, e.record_id) for e in events if e.event == "ended"}
    assert any(t == "seat" for t, _ in ended) and any(t == "person" for t, _ in ended)
