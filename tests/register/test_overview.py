"""The overview read from storage (SQLite and PostgreSQL): the figures of a small, hand-built partnership."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session
from tests.conftest import World

from reticulist.access.policy import NotFound
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.overview import partnership_overview

TODAY = date.today()


def _person(db: Session, world: World, name: str, organisation_id: int, tier: int) -> int:
    data = s.PersonCreate(full_name=name, organisation_id=organisation_id, hierarchy_tier=tier)
    return register.create_person(db, actor=world.manager, partnership_id=world.partnership_id, data=data).id


def _build(db: Session, world: World) -> dict[str, int]:
    pid, police = world.partnership_id, world.organisation_id
    health = register.create_organisation(
        db,
        actor=world.manager,
        partnership_id=pid,
        data=s.OrganisationCreate(name="Brempton NHS Trust", kind="health", tier="statutory"),
    ).id
    ids = {
        "p1": _person(db, world, "Police One", police, 3),
        "p2": _person(db, world, "Police Two", police, 3),
        "p3": _person(db, world, "Police Three", police, 3),
        "director": _person(db, world, "Health Director", health, 1),
        "nurse": _person(db, world, "School Nurse", health, 5),
    }
    # The police seat changes hands twice within 24 months; health keeps one representative.
    first = register.create_seat(
        db,
        actor=world.manager,
        partnership_id=pid,
        data=s.SeatCreate(
            organisation_id=police, person_id=ids["p1"], started_on=TODAY - timedelta(days=600)
        ),
    )
    second = register.hand_over_seat(
        db,
        actor=world.manager,
        seat_id=first.id,
        data=s.SeatHandOver(person_id=ids["p2"], on=TODAY - timedelta(days=400)),
    )
    register.hand_over_seat(
        db,
        actor=world.manager,
        seat_id=second.id,
        data=s.SeatHandOver(person_id=ids["p3"], on=TODAY - timedelta(days=100)),
    )
    for person, role in (("director", "member"), ("nurse", "deputy")):
        register.create_seat(
            db,
            actor=world.manager,
            partnership_id=pid,
            data=s.SeatCreate(
                organisation_id=health,
                person_id=ids[person],
                role=role,
                started_on=TODAY - timedelta(days=900),
            ),
        )
    # Four meetings in the last year: police represented at one, health at all four.
    for n in range(4):
        meeting = register.create_meeting(
            db,
            actor=world.manager,
            partnership_id=pid,
            data=s.MeetingCreate(title=f"Board {n}", held_on=TODAY - timedelta(days=30 + 60 * n)),
        )
        register.set_attendance(
            db,
            actor=world.manager,
            meeting_id=meeting.id,
            entries=[
                s.AttendanceEntry(person_id=ids["p3"], status="present" if n == 0 else "apologies"),
                s.AttendanceEntry(person_id=ids["director"], status="apologies" if n else "present"),
                s.AttendanceEntry(person_id=ids["nurse"], status="deputy_attended" if n else "absent"),
            ],
        )
    long_ago = TODAY - timedelta(days=200)
    for title, status, due, changed in (
        ("Overdue and stalled", "open", TODAY - timedelta(days=10), long_ago),
        ("Fresh", "in_progress", TODAY + timedelta(days=30), TODAY),
        ("Finished", "done", TODAY - timedelta(days=50), long_ago),
    ):
        register.create_action(
            db,
            actor=world.manager,
            partnership_id=pid,
            data=s.ActionCreate(
                title=title,
                status=status,
                due_on=due,
                opened_on=long_ago,
                last_changed_on=changed,
                closed_on=changed if status == "done" else None,
            ),
        )
    db.commit()
    ids.update(police=police, health=health)
    return ids


def test_overview_figures(db: Session, world: World) -> None:
    ids = _build(db, world)
    overview = partnership_overview(db, actor=world.member, partnership_id=world.partnership_id)
    rows = {row.organisation_id: row for row in overview.tiers["statutory"]}
    police, health = rows[ids["police"]], rows[ids["health"]]

    assert [r.full_name for r in police.representatives] == ["Police Three"]
    assert police.continuity is not None and police.continuity.representatives_in_window == 3
    assert police.continuity.discontinued
    assert [r.organisation_id for r in overview.discontinued] == [ids["police"]]
    assert health.continuity is not None and not health.continuity.discontinued
    # The deputy is a current representative but does not count towards continuity.
    assert {r.full_name for r in health.representatives} == {"Health Director", "School Nurse"}

    assert police.attendance is not None
    assert (police.attendance.meetings_represented, police.attendance.meetings_expected) == (1, 4)
    assert health.attendance is not None and health.attendance.rate == 1.0
    assert [r.organisation_id for r in overview.low_attendance] == [ids["police"]]

    assert overview.hierarchy.counts == {1: 1, 3: 1, 5: 1}
    assert overview.hierarchy.top_and_practitioner_together

    assert overview.momentum.open_count == 2
    assert overview.momentum.overdue_count == 1
    assert overview.momentum.stalled_count == 1
    assert overview.people_count == 5
    assert overview.meetings_last_12_months == 4


def test_outsider_gets_no_overview(db: Session, world: World) -> None:
    with pytest.raises(NotFound):
        partnership_overview(db, actor=world.outsider, partnership_id=world.partnership_id)


def test_overview_page_shows_the_flags_and_links(browsers, world: World, db: Session) -> None:  # type: ignore[no-untyped-def]
    ids = _build(db, world)
    page = browsers["member"].get(f"/p/{world.partnership_id}")
    assert page.status_code == 200
    text = page.text
    assert "Discontinued membership" in text and "Brempton Police" in text
    assert "Top management (1) and practitioners (1)" in text
    assert f'href="/p/{world.partnership_id}/actions?view=stalled"' in text
    assert f'href="/p/{world.partnership_id}/organisations/{ids["police"]}#attendance"' in text
    assert "25%" in text  # police represented at 1 of 4 meetings
    assert browsers["outsider"].get(f"/p/{world.partnership_id}").status_code == 404
