"""Seat (tenure) pages for each persona: current and historic seats, the tier filter the overview links
to, add, correct, hand over and end; and the organisation page's seat history and attendance."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Seat
from tests.conftest import Browser, World
from tests.web.test_people_pages import ROOT, add_organisation, add_person


def add_seat(db: Session, world: World, person_id: int, **extra: object) -> Seat:
    data: dict[str, object] = {
        "organisation_id": world.organisation_id,
        "person_id": person_id,
        "role": "member",
        "started_on": "2023-01-01",
    }
    data.update(extra)
    seat = register.create_seat(
        db, actor=ROOT, partnership_id=world.partnership_id, data=s.parse(s.SeatCreate, data)
    )
    db.commit()
    return seat


def seats_stored(db: Session, world: World) -> list[tuple[int, date, date | None]]:
    db.rollback()  # end the test's read transaction so the app's commits are seen
    rows = db.execute(
        select(Seat.person_id, Seat.started_on, Seat.ended_on)
        .where(Seat.partnership_id == world.partnership_id)
        .order_by(Seat.started_on)
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_seat_pages_for_each_persona(browsers: dict[str, Browser], world: World, db: Session) -> None:
    holder = add_person(db, world, "Dana Okafor")
    successor = add_person(db, world, "Lee Marsh")
    seat = add_seat(db, world, holder.id)
    base = f"/p/{world.partnership_id}/seats"
    page = f"{base}/{seat.id}"
    for persona in ("admin", "manager", "member"):
        for url in (base, page, f"{base}?history=1"):
            response = browsers[persona].get(url)
            assert response.status_code == 200 and "Dana Okafor" in response.text
    assert "Add a seat" in browsers["manager"].get(base).text
    assert "Add a seat" not in browsers["member"].get(base).text
    manager_page = browsers["manager"].get(page).text
    assert (
        f"{page}/edit" in manager_page
        and f"{page}/hand-over" in manager_page
        and f"{page}/end" in manager_page
    )
    member_page = browsers["member"].get(page).text
    for hidden in (f"{page}/edit", f"{page}/hand-over", f"{page}/end"):
        assert hidden not in member_page
    forms = (f"{base}/new", f"{page}/edit", f"{page}/hand-over")
    for url in forms:
        assert browsers["manager"].get(url).status_code == 200
        assert browsers["member"].get(url).status_code == 403
    for url in (base, page, *forms):
        assert browsers["outsider"].get(url).status_code == 404
    posts = [
        (
            f"{base}/new",
            {"organisation_id": world.organisation_id, "person_id": successor.id, "started_on": "2024-01-01"},
        ),
        (
            f"{page}/edit",
            {
                "organisation_id": world.organisation_id,
                "person_id": holder.id,
                "role": "chair",
                "started_on": "2023-01-01",
            },
        ),
        (f"{page}/hand-over", {"person_id": successor.id, "last_day": "2024-06-30"}),
        (f"{page}/end", {"ended_on": "2024-06-30"}),
    ]
    for url, form in posts:
        assert browsers["member"].post(url, form).status_code == 403
        assert browsers["outsider"].post(url, form).status_code == 404
    elsewhere = f"/p/{world.other_partnership_id}/seats/{seat.id}"
    assert browsers["admin"].get(elsewhere).status_code == 404
    assert browsers["outsider"].get(elsewhere).status_code == 404
    assert browsers["outsider"].post(f"{elsewhere}/end", {"ended_on": "2024-06-30"}).status_code == 404
    assert (
        browsers["outsider"]
        .post(f"{elsewhere}/hand-over", {"person_id": successor.id, "last_day": "2024-06-30"})
        .status_code
        == 404
    )
    assert seats_stored(db, world) == [(holder.id, date(2023, 1, 1), None)]


def test_manager_adds_a_seat_and_corrects_it(browsers: dict[str, Browser], world: World, db: Session) -> None:
    person = add_person(db, world, "Dana Okafor")
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/seats"
    form = {
        "organisation_id": world.organisation_id,
        "person_id": person.id,
        "role": "member",
        "started_on": "2023-01-01",
    }
    created = manager.post(f"{base}/new", form)
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    page = manager.get(url).text
    assert "Dana Okafor for Brempton Police" in page and "1 Jan 2023" in page and "now (current)" in page
    assert "Dana Okafor" in manager.get(base).text
    corrected = manager.post(f"{url}/edit", {**form, "role": "chair", "started_on": "2023-02-01"})
    assert corrected.status_code == 303
    page = manager.get(url).text
    assert "<dt>Role</dt><dd>Chair</dd>" in page and "1 Feb 2023" in page


def test_bad_seat_forms_are_shown_again_and_nothing_saved(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    person = add_person(db, world, "Dana Okafor")
    elsewhere_organisation = add_organisation(db, world.other_partnership_id, "Elsewhere Health")
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/seats/new"
    good = {
        "organisation_id": str(world.organisation_id),
        "person_id": str(person.id),
        "role": "member",
        "started_on": "2023-01-01",
    }
    cases = [
        ({"started_on": ""}, "Started on: is required"),
        ({"ended_on": "2022-12-31"}, "2022-12-31 is before started_on 2023-01-01"),
        ({"person_id": "99999"}, "no such person in this partnership"),
        ({"person_id": ""}, "Person: is required"),
        ({"organisation_id": str(elsewhere_organisation)}, "no such organisation in this partnership"),
        ({"role": "king"}, "&#34;king&#34; is not one of"),
    ]
    for change, message in cases:
        page = manager.post(url, {**good, **change})
        assert page.status_code == 422, change
        assert message in page.text, change
    assert seats_stored(db, world) == []


def test_editing_a_seat_cannot_change_its_holder_or_end_before_it_starts(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    holder = add_person(db, world, "Dana Okafor")
    other = add_person(db, world, "Lee Marsh")
    seat = add_seat(db, world, holder.id)
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/seats/{seat.id}"
    form = {
        "organisation_id": world.organisation_id,
        "person_id": holder.id,
        "role": "member",
        "started_on": "2023-01-01",
    }
    edit_form = manager.get(f"{url}/edit").text
    assert "hand it over" in edit_form and 'name="person_id" value="' in edit_form
    swapped = manager.post(f"{url}/edit", {**form, "person_id": other.id})
    assert swapped.status_code == 422 and "hand it over so the history is kept" in swapped.text
    backwards = manager.post(f"{url}/edit", {**form, "ended_on": "2022-01-01"})
    assert backwards.status_code == 422 and "is before started_on" in backwards.text
    early_end = manager.post(f"{url}/end", {"ended_on": "2022-01-01"})
    assert early_end.status_code == 422 and "is before started_on" in early_end.text
    assert seats_stored(db, world) == [(holder.id, date(2023, 1, 1), None)]


def test_hand_over_keeps_the_earlier_tenure(browsers: dict[str, Browser], world: World, db: Session) -> None:
    holder = add_person(db, world, "Dana Okafor")
    successor = add_person(db, world, "Lee Marsh")
    seat = add_seat(db, world, holder.id, role="chair")
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/seats/{seat.id}"
    form = manager.get(f"{url}/hand-over").text
    assert "Lee Marsh — Brempton Police" in form
    assert "Dana Okafor — Brempton Police" not in form  # the holder is not offered
    handed = manager.post(f"{url}/hand-over", {"person_id": successor.id, "last_day": "2024-06-30"})
    assert handed.status_code == 303 and "done=handed-over" in handed.headers["location"]
    new_url = handed.headers["location"].split("?")[0]
    assert new_url != url
    page = manager.get(new_url).text
    assert "Lee Marsh for Brempton Police" in page and "<dt>Role</dt><dd>Chair</dd>" in page
    history = page[page.index('id="history"') :]
    assert "Dana Okafor" in history and "30 Jun 2024" in history and "1 Jul 2024" in history
    assert seats_stored(db, world) == [
        (holder.id, date(2023, 1, 1), date(2024, 6, 30)),
        (successor.id, date(2024, 7, 1), None),
    ]
    current = manager.get(f"/p/{world.partnership_id}/seats").text
    assert "Lee Marsh" in current and "Dana Okafor" not in current
    everything = manager.get(f"/p/{world.partnership_id}/seats?history=1").text
    assert "Lee Marsh" in everything and "Dana Okafor" in everything
    organisation_page = manager.get(f"/p/{world.partnership_id}/organisations/{world.organisation_id}").text
    seats_section = organisation_page[organisation_page.index('id="seats"') :]
    assert "Dana Okafor" in seats_section and "Lee Marsh" in seats_section


def test_bad_hand_overs_are_refused_and_change_nothing(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    holder = add_person(db, world, "Dana Okafor")
    successor = add_person(db, world, "Lee Marsh")
    seat = add_seat(db, world, holder.id)
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/seats/{seat.id}/hand-over"
    to_holder = manager.post(url, {"person_id": holder.id, "last_day": "2024-06-30"})
    assert to_holder.status_code == 422 and "is already the holder of this seat" in to_holder.text
    before_start = manager.post(url, {"person_id": successor.id, "last_day": "2022-06-30"})
    assert before_start.status_code == 422
    assert "is before started_on 2023-01-01" in before_start.text and 'id="e-last_day"' in before_start.text
    no_one = manager.post(url, {"person_id": "", "last_day": "2024-06-30"})
    assert no_one.status_code == 422 and "Person: is required" in no_one.text
    no_date = manager.post(url, {"person_id": successor.id, "last_day": ""})
    assert no_date.status_code == 422 and "Last day: is required" in no_date.text
    assert seats_stored(db, world) == [(holder.id, date(2023, 1, 1), None)]


def test_manager_ends_a_seat(browsers: dict[str, Browser], world: World, db: Session) -> None:
    holder = add_person(db, world, "Dana Okafor")
    seat = add_seat(db, world, holder.id)
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/seats/{seat.id}"
    assert manager.post(f"{url}/end", {"ended_on": "2024-03-31"}).status_code == 303
    page = manager.get(url).text
    assert "31 Mar 2024" in page and f"{url}/hand-over" not in page
    assert "Dana Okafor" not in manager.get(f"/p/{world.partnership_id}/seats").text
    assert seats_stored(db, world) == [(holder.id, date(2023, 1, 1), date(2024, 3, 31))]


def test_tier_filter_shows_current_holders_of_that_tier(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    health = add_organisation(db, world.partnership_id, "Brempton Health")
    director = add_person(db, world, "Tia Director", hierarchy_tier=1)
    practitioner = add_person(db, world, "Pip Practitioner", hierarchy_tier=5, organisation_id=health)
    former = add_person(db, world, "Fay Former", hierarchy_tier=1)
    add_seat(db, world, director.id)
    add_seat(db, world, practitioner.id, organisation_id=health)
    add_seat(db, world, former.id, ended_on="2023-12-31")
    member = browsers["member"]
    overview = member.get(f"/p/{world.partnership_id}").text
    assert f"/p/{world.partnership_id}/seats?tier=1" in overview
    top = member.get(f"/p/{world.partnership_id}/seats?tier=1")
    assert top.status_code == 200
    assert "Tia Director" in top.text and "Pip Practitioner" not in top.text and "Fay Former" not in top.text
    assert "hierarchy tier 1" in top.text
    practitioners = member.get(f"/p/{world.partnership_id}/seats?tier=5").text
    assert "Pip Practitioner" in practitioners and "Tia Director" not in practitioners
    with_history = member.get(f"/p/{world.partnership_id}/seats?tier=1&history=1").text
    assert "Tia Director" in with_history and "Fay Former" in with_history
    assert "Pip Practitioner" not in member.get(f"/p/{world.partnership_id}/seats?tier=3").text
    bad = member.get(f"/p/{world.partnership_id}/seats?tier=six")
    assert bad.status_code == 200 and "is not a hierarchy tier" in bad.text
    assert "is not a hierarchy tier" in member.get(f"/p/{world.partnership_id}/seats?tier=6").text
    # Grouped by organisation: Brempton Health comes before Brempton Police.
    everyone = member.get(f"/p/{world.partnership_id}/seats").text
    assert everyone.index("Pip Practitioner") < everyone.index("Tia Director")


def test_people_on_seat_forms_are_current_sorted_and_named_with_organisation(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    health = add_organisation(db, world.partnership_id, "Brempton Health")
    add_person(db, world, "Zoe Zed")
    add_person(db, world, "Abe Able", organisation_id=health)
    gone = add_person(db, world, "Gail Gone")
    register.end_person(db, actor=ROOT, person_id=gone.id, ended_on=date(2024, 1, 1))
    db.commit()
    form = browsers["manager"].get(f"/p/{world.partnership_id}/seats/new?organisation={health}").text
    assert "Abe Able — Brempton Health" in form and "Zoe Zed — Brempton Police" in form
    assert form.index("Abe Able") < form.index("Zoe Zed")
    assert "Gail Gone" not in form
    assert f'<option value="{health}" selected>Brempton Health</option>' in form


def test_organisation_page_shows_attendance_for_the_last_12_months(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    person = add_person(db, world, "Dana Okafor")
    today = date.today()
    meetings = [
        (20, "Spring board", "present"),
        (60, "Winter board", "apologies"),
        (90, "Away day", "deputy_attended"),
        (500, "Long ago board", "present"),
    ]
    for days_ago, title, status in meetings:
        meeting = register.create_meeting(
            db,
            actor=ROOT,
            partnership_id=world.partnership_id,
            data=s.MeetingCreate(title=title, held_on=today - timedelta(days=days_ago)),
        )
        register.set_attendance(
            db,
            actor=ROOT,
            meeting_id=meeting.id,
            entries=[s.AttendanceEntry(person_id=person.id, status=status)],
        )
    db.commit()
    page = browsers["member"].get(f"/p/{world.partnership_id}/organisations/{world.organisation_id}").text
    section = page[page.index('id="attendance"') :]
    assert "Represented at 2 of 3 meetings" in section
    assert section.index("Spring board") < section.index("Winter board") < section.index("Away day")
    assert "Long ago board" not in section
    winter_row = section[section.index("Winter board") : section.index("Away day")]
    assert "No" in winter_row
