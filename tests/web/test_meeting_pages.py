"""Meeting and attendance pages for each persona: list, show, add, edit, cancel, record attendance."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Role, cli_actor
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Attendance, Meeting
from tests.conftest import Browser, World

HELD_ON = date(2025, 3, 27)


@dataclass
class Board:
    meeting_id: int
    other_meeting_id: int  # a meeting of another partnership
    health_id: int  # a second organisation
    chair_id: int  # Brempton Police person, holds the chair seat on the day
    deputy_id: int  # Brempton Police person, holds a deputy seat for Health on the day
    gone_id: int  # held a seat that ended before the meeting
    later_id: int  # holds a seat that started after the meeting
    visitor_id: int  # no seat at all
    stranger_id: int  # a person of another partnership


def _person(db: Session, partnership_id: int, organisation_id: int, name: str) -> int:
    data = s.PersonCreate(full_name=name, organisation_id=organisation_id, hierarchy_tier=2)
    return register.create_person(db, actor=cli_actor(), partnership_id=partnership_id, data=data).id


def _seat(
    db: Session, world: World, organisation_id: int, person_id: int, role: str, start: date, end: date | None
) -> None:
    data = s.SeatCreate(
        organisation_id=organisation_id, person_id=person_id, role=role, started_on=start, ended_on=end
    )
    register.create_seat(db, actor=cli_actor(), partnership_id=world.partnership_id, data=data)


@pytest.fixture
def board(db: Session, world: World) -> Board:
    root = cli_actor()
    pid = world.partnership_id
    health = register.create_organisation(
        db,
        actor=root,
        partnership_id=pid,
        data=s.OrganisationCreate(name="Brempton Health", kind="health", tier="statutory"),
    ).id
    police = world.organisation_id
    chair = _person(db, pid, police, "Alice Chair")
    deputy = _person(db, pid, police, "Dev Deputy")
    gone = _person(db, pid, police, "Gina Gone")
    later = _person(db, pid, police, "Lee Later")
    visitor = _person(db, pid, health, "Vic Visitor")
    _seat(db, world, police, chair, "chair", date(2024, 1, 1), None)
    _seat(db, world, health, deputy, "deputy", date(2024, 1, 1), HELD_ON)  # ends on the day: still held
    _seat(db, world, police, gone, "member", date(2023, 1, 1), date(2025, 3, 26))
    _seat(db, world, police, later, "member", date(2025, 3, 28), None)
    meeting = register.create_meeting(
        db,
        actor=root,
        partnership_id=pid,
        data=s.MeetingCreate(kind="board", title="Spring board", held_on=HELD_ON, notes="Thresholds agreed."),
    )
    other = world.other_partnership_id
    other_org = register.create_organisation(
        db,
        actor=root,
        partnership_id=other,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    ).id
    stranger = _person(db, other, other_org, "Sam Stranger")
    other_meeting = register.create_meeting(
        db,
        actor=root,
        partnership_id=other,
        data=s.MeetingCreate(kind="board", title="Elsewhere board", held_on=HELD_ON),
    )
    db.commit()
    return Board(meeting.id, other_meeting.id, health, chair, deputy, gone, later, visitor, stranger)


def _count(db: Session, model: type, **where: object) -> int:
    db.rollback()  # a fresh snapshot: the app committed in its own session
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return int(db.scalar(query) or 0)


def _attendance(db: Session, meeting_id: int) -> dict[int, tuple[str, int]]:
    db.rollback()
    rows = db.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))
    return {a.person_id: (a.status, a.organisation_id) for a in rows}


# --- list ----------------------------------------------------------------------------------------------
def test_meetings_list_for_each_persona(
    db: Session, browsers: dict[str, Browser], world: World, board: Board
) -> None:
    register.create_meeting(
        db,
        actor=cli_actor(),
        partnership_id=world.partnership_id,
        data=s.MeetingCreate(kind="away_day", title="Summer away day", held_on=date(2025, 7, 1)),
    )
    register.set_attendance(
        db,
        actor=cli_actor(),
        meeting_id=board.meeting_id,
        entries=[
            s.AttendanceEntry(person_id=board.chair_id, status="present"),
            s.AttendanceEntry(person_id=board.deputy_id, status="deputy_attended"),
            s.AttendanceEntry(person_id=board.visitor_id, status="apologies"),
        ],
    )
    db.commit()
    url = f"/p/{world.partnership_id}/meetings"
    for persona in ("admin", "manager", "member"):
        page = browsers[persona].get(url)
        assert page.status_code == 200
        assert "Spring board" in page.text and "Summer away day" in page.text
        assert "Elsewhere board" not in page.text
    text = browsers["member"].get(url).text
    assert text.index("Summer away day") < text.index("Spring board")  # newest first
    assert "2 / 3" in text and "not recorded" in text
    assert "Add a meeting" in browsers["manager"].get(url).text
    assert "Add a meeting" not in text
    away = browsers["member"].get(f"{url}?kind=away_day").text
    assert "Summer away day" in away and "Spring board" not in away
    assert browsers["outsider"].get(url).status_code == 404


# --- add, edit, cancel ---------------------------------------------------------------------------------
def test_manager_adds_edits_and_cancels_a_meeting(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/meetings"
    assert manager.get(f"{base}/new").status_code == 200
    created = manager.post(
        f"{base}/new",
        {"kind": "sub_group", "title": "Neglect sub-group", "held_on": "12/02/2025", "notes": ""},
    )
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    page = manager.get(url)
    assert "Neglect sub-group" in page.text and "Sub-group" in page.text and "12 Feb 2025" in page.text
    assert "Edit meeting" in page.text and "Record attendance" in page.text and "Cancel meeting" in page.text
    edit_form = manager.get(f"{url}/edit")
    assert edit_form.status_code == 200 and 'value="Neglect sub-group"' in edit_form.text
    changed = manager.post(
        f"{url}/edit",
        {
            "kind": "development_day",
            "title": "Neglect development day",
            "held_on": "2025-02-13",
            "notes": "x",
        },
    )
    assert changed.status_code == 303
    page = manager.get(url).text
    assert "Neglect development day" in page and "Development day" in page and "13 Feb 2025" in page
    assert manager.post(f"{url}/cancel").status_code == 303
    page = manager.get(url).text
    assert "Cancelled" in page and "Cancel meeting" not in page and "Record attendance" not in page
    listing = manager.get(base).text
    assert "Neglect development day" in listing and "Cancelled" in listing
    assert _count(db, Meeting, partnership_id=world.partnership_id, cancelled=True) == 1


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"kind": "board", "title": "", "held_on": "2025-02-01"}, "Title", "is required"),
        ({"kind": "board", "title": "Board", "held_on": "31/02/2025"}, "Held on", "is not a date"),
        ({"kind": "coffee", "title": "Board", "held_on": "2025-02-01"}, "Kind", "is not one of"),
        ({"kind": "board", "title": "Board", "held_on": ""}, "Held on", "is required"),
    ],
)
def test_bad_meeting_form_is_shown_again_and_nothing_saved(
    db: Session, browsers: dict[str, Browser], world: World, form: dict, field: str, message: str
) -> None:
    base = f"/p/{world.partnership_id}/meetings"
    page = browsers["manager"].post(f"{base}/new", form)
    assert page.status_code == 422
    assert f"{field}: " in page.text and message in page.text
    assert 'aria-invalid="true"' in page.text
    assert _count(db, Meeting, partnership_id=world.partnership_id) == 0


def test_bad_meeting_edit_changes_nothing(
    db: Session, browsers: dict[str, Browser], world: World, board: Board
) -> None:
    url = f"/p/{world.partnership_id}/meetings/{board.meeting_id}/edit"
    page = browsers["manager"].post(url, {"kind": "board", "title": "", "held_on": "31/02/2025"})
    assert page.status_code == 422
    assert "Title: is required" in page.text and "is not a date" in page.text
    db.rollback()
    meeting = db.get(Meeting, board.meeting_id)
    assert meeting is not None and meeting.title == "Spring board" and meeting.held_on == HELD_ON


# --- the meeting page ----------------------------------------------------------------------------------
def test_meeting_page_groups_attendance_by_organisation_and_lists_its_actions(
    db: Session, browsers: dict[str, Browser], world: World, board: Board
) -> None:
    root = cli_actor()
    register.set_attendance(
        db,
        actor=root,
        meeting_id=board.meeting_id,
        entries=[
            s.AttendanceEntry(person_id=board.chair_id, status="present"),
            s.AttendanceEntry(person_id=board.deputy_id, status="apologies", organisation_id=board.health_id),
            s.AttendanceEntry(person_id=board.visitor_id, status="deputy_attended"),
        ],
    )
    register.create_action(
        db,
        actor=root,
        partnership_id=world.partnership_id,
        data=s.ActionCreate(title="Refresh the threshold document", meeting_id=board.meeting_id),
    )
    register.create_action(
        db, actor=root, partnership_id=world.partnership_id, data=s.ActionCreate(title="Unrelated action")
    )
    db.commit()
    page = browsers["member"].get(f"/p/{world.partnership_id}/meetings/{board.meeting_id}")
    assert page.status_code == 200
    text = page.text
    assert "Thresholds agreed." in text and "27 Mar 2025" in text and "Board" in text
    assert "2 present of 3 expected" in text
    health = text.index('<th scope="rowgroup" colspan="3">Brempton Health</th>')
    police = text.index('<th scope="rowgroup" colspan="3">Brempton Police</th>')
    # Health first (by name); the deputy's and visitor's rows sit under it, the chair's under Police.
    assert health < text.index("Dev Deputy") < text.index("Vic Visitor") < police < text.index("Alice Chair")
    assert "Apologies" in text and "Deputy attended" in text and "Present" in text
    assert "Refresh the threshold document" in text and "Unrelated action" not in text
    for control in ("Edit meeting", "Record attendance", "Cancel meeting", "Add an action from this meeting"):
        assert control not in text
    assert (
        "Add an action from this meeting"
        in browsers["manager"].get(f"/p/{world.partnership_id}/meetings/{board.meeting_id}").text
    )


# --- attendance ----------------------------------------------------------------------------------------
def test_attendance_form_lists_seat_holders_on_the_day_with_labelled_selects(
    browsers: dict[str, Browser], world: World, board: Board
) -> None:
    page = browsers["manager"].get(f"/p/{world.partnership_id}/meetings/{board.meeting_id}/attendance")
    assert page.status_code == 200
    rows = dict(re.findall(r'<label for="f-status-(\d+)">([^<]+)</label>', page.text))
    assert rows == {str(board.chair_id): "Alice Chair", str(board.deputy_id): "Dev Deputy"}
    for person_id in (board.chair_id, board.deputy_id):
        assert f'<select id="f-status-{person_id}" name="status-{person_id}">' in page.text
    # Everyone current but not listed can be added; the stranger from elsewhere cannot.
    add = page.text[page.text.index('name="add_person"') :]
    add = add[: add.index("</select>")]
    assert "Vic Visitor" in add and "Gina Gone" in add and "Alice Chair" not in add
    assert "Sam Stranger" not in page.text


def test_manager_records_attendance(
    db: Session, browsers: dict[str, Browser], world: World, board: Board
) -> None:
    url = f"/p/{world.partnership_id}/meetings/{board.meeting_id}/attendance"
    saved = browsers["manager"].post(
        url,
        {
            f"status-{board.chair_id}": "present",
            f"status-{board.deputy_id}": "apologies",
            "add_person": str(board.visitor_id),
            "add_status": "absent",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=attendance")
    assert _attendance(db, board.meeting_id) == {
        board.chair_id: ("present", world.organisation_id),
        board.deputy_id: ("apologies", board.health_id),  # the seat's organisation, not their own
        board.visitor_id: ("absent", board.health_id),  # no seat: their own organisation
    }
    page = browsers["manager"].get(url).text
    # The person added is now a row, pre-filled; recorded rows offer no "Not recorded".
    assert f'<label for="f-status-{board.visitor_id}">Vic Visitor</label>' in page
    select = page[page.index(f'name="status-{board.deputy_id}"') :]
    select = select[: select.index("</select>")]
    assert 'value="apologies" selected' in select and "Not recorded" not in select
    # A second save changes one status and keeps the others.
    again = browsers["manager"].post(url, {f"status-{board.deputy_id}": "present"})
    assert again.status_code == 303
    assert _attendance(db, board.meeting_id)[board.deputy_id] == ("present", board.health_id)
    assert len(_attendance(db, board.meeting_id)) == 3


BAD_ATTENDANCE = {
    # Each form also carries a good row (the deputy present), which must not be saved either.
    "unknown status": (lambda b: {f"status-{b.chair_id}": "maybe"}, "&#34;maybe&#34; is not one of"),
    "stranger added": (
        lambda b: {"add_person": str(b.stranger_id), "add_status": "present"},
        "no such person in this partnership",
    ),
    "stranger as a row": (
        lambda b: {f"status-{b.stranger_id}": "present"},
        "no such person in this partnership",
    ),
    "added without status": (
        lambda b: {"add_person": str(b.visitor_id)},
        "choose the attendance of the person you add",
    ),
    "status without person": (lambda b: {"add_status": "present"}, "choose the person whose attendance"),
}


@pytest.mark.parametrize("case", list(BAD_ATTENDANCE))
def test_bad_attendance_is_shown_again_and_nothing_saved(
    db: Session, browsers: dict[str, Browser], world: World, board: Board, case: str
) -> None:
    build, message = BAD_ATTENDANCE[case]
    form = {f"status-{board.deputy_id}": "present", **build(board)}
    page = browsers["manager"].post(f"/p/{world.partnership_id}/meetings/{board.meeting_id}/attendance", form)
    assert page.status_code == 422
    assert message in page.text and "Please correct" in page.text
    assert _count(db, Attendance, meeting_id=board.meeting_id) == 0


def test_attendance_with_no_status_chosen_is_refused(
    db: Session, browsers: dict[str, Browser], world: World, board: Board
) -> None:
    page = browsers["manager"].post(
        f"/p/{world.partnership_id}/meetings/{board.meeting_id}/attendance",
        {f"status-{board.chair_id}": "", f"status-{board.deputy_id}": ""},
    )
    assert page.status_code == 422 and "choose an attendance for at least one person" in page.text
    assert _count(db, Attendance, meeting_id=board.meeting_id) == 0


def test_bad_row_names_the_person(browsers: dict[str, Browser], world: World, board: Board) -> None:
    page = browsers["manager"].post(
        f"/p/{world.partnership_id}/meetings/{board.meeting_id}/attendance",
        {f"status-{board.chair_id}": "maybe", f"status-{board.deputy_id}": "present"},
    )
    assert page.status_code == 422
    assert f'<a href="#f-status-{board.chair_id}">Alice Chair: &#34;maybe&#34; is not one of' in page.text
    assert f'aria-describedby="e-status-{board.chair_id}"' in page.text
    # The form keeps what was chosen for the good row.
    row = page.text[page.text.index(f'name="status-{board.deputy_id}"') :]
    assert 'value="present" selected' in row[: row.index("</select>")]


# --- who may do what -----------------------------------------------------------------------------------
def _routes(world: World, board: Board) -> tuple[list[str], list[tuple[str, dict]]]:
    base = f"/p/{world.partnership_id}/meetings"
    one = f"{base}/{board.meeting_id}"
    good = {"kind": "board", "title": "Changed", "held_on": "2025-03-27"}
    gets = [base, f"{base}/new", one, f"{one}/edit", f"{one}/attendance"]
    posts = [
        (f"{base}/new", good),
        (f"{one}/edit", good),
        (f"{one}/cancel", {}),
        (f"{one}/attendance", {f"status-{board.chair_id}": "present"}),
    ]
    return gets, posts


def test_member_reads_but_cannot_change(
    db: Session, browsers: dict[str, Browser], world: World, board: Board
) -> None:
    member = browsers["member"]
    gets, posts = _routes(world, board)
    for url in gets:
        expected = 403 if url.endswith(("/new", "/edit", "/attendance")) else 200
        assert member.get(url).status_code == expected, url
    for url, form in posts:
        assert member.post(url, form).status_code == 403, url
    page = member.get(gets[2]).text
    assert "Spring board" in page and "Cancel meeting" not in page and "/attendance" not in page
    assert _count(db, Meeting, partnership_id=world.partnership_id) == 1
    assert _count(db, Meeting, cancelled=True) == 0
    assert _count(db, Attendance) == 0


def test_outsider_gets_not_found_everywhere(
    db: Session, browsers: dict[str, Browser], world: World, board: Board
) -> None:
    outsider = browsers["outsider"]
    gets, posts = _routes(world, board)
    for url in gets:
        assert outsider.get(url).status_code == 404, url
    for url, form in posts:
        assert outsider.post(url, form).status_code == 404, url
    assert _count(db, Meeting, partnership_id=world.partnership_id) == 1
    assert _count(db, Attendance) == 0


def test_meeting_reached_through_another_partnerships_url_is_not_found(
    db: Session, browsers: dict[str, Browser], world: World, board: Board
) -> None:
    # The manager may read the other partnership too, so only the URL's mismatch can refuse them.
    accounts.set_role(
        db,
        actor=cli_actor(),
        partnership_id=world.other_partnership_id,
        user_id=world.manager.user_id,
        role=Role.MANAGER,
    )
    db.commit()
    manager = browsers["manager"]
    assert manager.get(f"/p/{world.other_partnership_id}/meetings").status_code == 200
    wrong = f"/p/{world.other_partnership_id}/meetings/{board.meeting_id}"
    for url in (wrong, f"{wrong}/edit", f"{wrong}/attendance"):
        assert manager.get(url).status_code == 404, url
    for url, form in [
        (f"{wrong}/edit", {"kind": "board", "title": "Moved", "held_on": "2025-03-27"}),
        (f"{wrong}/cancel", {}),
        (f"{wrong}/attendance", {f"status-{board.chair_id}": "present"}),
    ]:
        assert manager.post(url, form).status_code == 404, url
    back = f"/p/{world.partnership_id}/meetings/{board.other_meeting_id}"
    assert manager.get(back).status_code == 404
    assert _count(db, Meeting, cancelled=True) == 0 and _count(db, Attendance) == 0
    db.rollback()
    assert db.get(Meeting, board.meeting_id).title == "Spring board"  # type: ignore[union-attr]
    # Adding an action from another partnership's meeting is refused too.
    assert (
        manager.get(f"/p/{world.partnership_id}/actions/new?meeting={board.other_meeting_id}").status_code
        == 404
    )
