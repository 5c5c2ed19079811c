"""Register services on SQLite and PostgreSQL: validation, authorisation per persona, audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from tests.conftest import World

from reticulist.access.policy import NotAllowed, NotFound
from reticulist.audit.models import AuditEvent
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register


def _person(world: World, **extra: object) -> s.PersonCreate:
    data = {
        "full_name": "Dana Okafor",
        "email": "dana@police.example",
        "organisation_id": world.organisation_id,
        "profession_id": world.profession_id,
        "hierarchy_tier": 3,
        "years_in_profession": 12,
    }
    data.update(extra)
    return s.parse(s.PersonCreate, data)


def test_manager_creates_person_and_it_is_audited(db: Session, world: World) -> None:
    person = register.create_person(
        db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world)
    )
    db.commit()
    assert person.id is not None
    event = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "person")).one()
    assert event.event == "created"
    assert event.actor_label == world.emails["manager"]
    assert event.after is not None and event.after["full_name"] == "Dana Okafor"


def test_member_reads_but_cannot_edit(db: Session, world: World) -> None:
    register.create_person(db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world))
    db.commit()
    people = register.list_people(db, actor=world.member, partnership_id=world.partnership_id)
    assert [p.full_name for p in people] == ["Dana Okafor"]
    with pytest.raises(NotAllowed):
        register.create_person(
            db,
            actor=world.member,
            partnership_id=world.partnership_id,
            data=_person(world, email="other@police.example"),
        )


def test_outsider_sees_nothing_and_cannot_probe(db: Session, world: World) -> None:
    person = register.create_person(
        db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world)
    )
    db.commit()
    with pytest.raises(NotFound):
        register.list_people(db, actor=world.outsider, partnership_id=world.partnership_id)
    with pytest.raises(NotFound):
        register.get_person(db, actor=world.outsider, person_id=person.id)
    with pytest.raises(NotFound):
        register.get_person(db, actor=world.outsider, person_id=999_999)
    assert [p.id for p in register.list_partnerships(db, actor=world.outsider)] == [
        world.other_partnership_id
    ]


def test_change_is_audited_with_before_and_after(db: Session, world: World) -> None:
    person = register.create_person(
        db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world)
    )
    register.update_person(
        db, actor=world.manager, person_id=person.id, data=_person(world, hierarchy_tier=2)
    )
    db.commit()
    change = db.scalars(
        select(AuditEvent).where(AuditEvent.event == "changed", AuditEvent.record_type == "person")
    ).one()
    assert change.before == {"id": person.id, "hierarchy_tier": 3}
    assert change.after == {"id": person.id, "hierarchy_tier": 2}


def test_duplicate_email_refused(db: Session, world: World) -> None:
    register.create_person(db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world))
    with pytest.raises(InputError, match="already someone else's email") as err:
        register.create_person(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=_person(world, full_name="Another"),
        )
    assert err.value.problems[0].field == "email"


def test_organisation_of_another_partnership_refused(db: Session, world: World) -> None:
    from reticulist.access.policy import cli_actor

    foreign = register.create_organisation(
        db,
        actor=cli_actor(),
        partnership_id=world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    with pytest.raises(InputError) as err:
        register.create_person(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=_person(world, organisation_id=foreign.id),
        )
    assert err.value.problems[0].field == "organisation_id"


def test_seat_hand_over_keeps_history(db: Session, world: World) -> None:
    first = register.create_person(
        db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world)
    )
    second = register.create_person(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=_person(world, full_name="Sam Reid", email="sam@police.example"),
    )
    seat = register.create_seat(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.SeatCreate(
            organisation_id=world.organisation_id,
            person_id=first.id,
            role="member",
            started_on=date(2023, 1, 1),
        ),
    )
    new_seat = register.hand_over_seat(
        db,
        actor=world.manager,
        seat_id=seat.id,
        data=s.SeatHandOver(person_id=second.id, on=date(2024, 6, 30)),
    )
    db.commit()
    seats = register.list_seats(db, actor=world.member, partnership_id=world.partnership_id)
    assert {(x.person_id, x.started_on, x.ended_on) for x in seats} == {
        (first.id, date(2023, 1, 1), date(2024, 6, 30)),
        (second.id, date(2024, 7, 1), None),
    }
    assert new_seat.role == "member"
    with pytest.raises(InputError, match="hand it over"):
        register.update_seat(
            db,
            actor=world.manager,
            seat_id=new_seat.id,
            data=s.SeatUpdate(
                organisation_id=world.organisation_id,
                person_id=first.id,
                role="member",
                started_on=date(2024, 7, 1),
            ),
        )


def test_seat_end_before_start_refused(db: Session, world: World) -> None:
    person = register.create_person(
        db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world)
    )
    with pytest.raises(InputError) as err:
        register.create_seat(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.SeatCreate(
                organisation_id=world.organisation_id,
                person_id=person.id,
                started_on=date(2024, 1, 1),
                ended_on=date(2023, 1, 1),
            ),
        )
    assert err.value.problems[0].field == "ended_on"


def test_action_close_and_reopen_dates(db: Session, world: World) -> None:
    action = register.create_action(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.ActionCreate(title="Refresh threshold document", due_on=date(2030, 1, 1)),
    )
    assert action.closed_on is None and action.opened_on == date.today()
    closed = register.close_action(db, actor=world.manager, action_id=action.id)
    assert closed.status == "done" and closed.closed_on == date.today()
    with pytest.raises(NotAllowed):
        register.close_action(db, actor=world.member, action_id=action.id)


def test_attendance_recorded_and_replaced(db: Session, world: World) -> None:
    person = register.create_person(
        db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world)
    )
    meeting = register.create_meeting(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.MeetingCreate(title="Board", held_on=date(2025, 3, 4)),
    )
    register.set_attendance(
        db,
        actor=world.manager,
        meeting_id=meeting.id,
        entries=[s.AttendanceEntry(person_id=person.id, status="apologies")],
    )
    rows = register.set_attendance(
        db,
        actor=world.manager,
        meeting_id=meeting.id,
        entries=[s.AttendanceEntry(person_id=person.id, status="present")],
    )
    db.commit()
    assert [(r.person_id, r.organisation_id, r.status) for r in rows] == [
        (person.id, world.organisation_id, "present")
    ]


def test_end_person_ends_their_open_seats(db: Session, world: World) -> None:
    person = register.create_person(
        db, actor=world.manager, partnership_id=world.partnership_id, data=_person(world)
    )
    register.create_seat(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.SeatCreate(
            organisation_id=world.organisation_id, person_id=person.id, started_on=date(2023, 1, 1)
        ),
    )
    register.end_person(db, actor=world.manager, person_id=person.id, ended_on=date(2025, 1, 31))
    db.commit()
    (seat,) = register.list_seats(db, actor=world.manager, partnership_id=world.partnership_id)
    assert seat.ended_on == date(2025, 1, 31)


def test_audit_log_is_append_only(db: Session, world: World) -> None:
    db.commit()
    with pytest.raises(Exception, match="append-only"):
        db.execute(text("UPDATE audit_event SET summary = 'tampered'"))
        db.flush()
    db.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.execute(text("DELETE FROM audit_event"))
        db.flush()
    db.rollback()
    assert db.scalar(text("SELECT count(*) FROM audit_event WHERE summary = 'tampered'")) == 0
