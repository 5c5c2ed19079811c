"""Profession and people pages for each persona: list, read, add, edit and end, and bad input refused."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import cli_actor
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Person, Profession
from tests.conftest import Browser, World

ROOT = cli_actor("test")


def add_person(db: Session, world: World, name: str, **extra: object) -> Person:
    data: dict[str, object] = {
        "full_name": name,
        "organisation_id": world.organisation_id,
        "profession_id": world.profession_id,
        "hierarchy_tier": 3,
    }
    data.update(extra)
    person = register.create_person(
        db, actor=ROOT, partnership_id=world.partnership_id, data=s.parse(s.PersonCreate, data)
    )
    db.commit()
    return person


def add_organisation(db: Session, partnership_id: int, name: str) -> int:
    organisation = register.create_organisation(
        db,
        actor=ROOT,
        partnership_id=partnership_id,
        data=s.OrganisationCreate(name=name, kind="health", tier="statutory"),
    )
    db.commit()
    return organisation.id


def people_named(db: Session, world: World) -> list[str]:
    db.rollback()  # end the test's read transaction so the app's commits are seen
    return sorted(
        db.scalars(select(Person.full_name).where(Person.partnership_id == world.partnership_id)).all()
    )


def person_form(world: World, **extra: str) -> dict[str, str]:
    form = {
        "full_name": "Dana Okafor",
        "email": "dana@police.example",
        "organisation_id": str(world.organisation_id),
        "profession_id": str(world.profession_id),
        "hierarchy_tier": "3",
        "years_in_profession": "12",
        "late_entry": "yes",
        "interprofessional_training": "no",
        "joined_on": "2022-04-01",
    }
    form.update(extra)
    return form


# --- professions ---------------------------------------------------------------------------------------
def test_professions_for_each_persona(browsers: dict[str, Browser], world: World) -> None:
    base = f"/p/{world.partnership_id}/professions"
    page = f"{base}/{world.profession_id}"
    for persona in ("admin", "manager", "member"):
        for url in (base, page):
            response = browsers[persona].get(url)
            assert response.status_code == 200 and "Police officer" in response.text
    assert "Add a profession" in browsers["manager"].get(base).text
    assert "Add a profession" not in browsers["member"].get(base).text
    assert f"{page}/edit" in browsers["manager"].get(page).text
    member_page = browsers["member"].get(page).text
    assert f"{page}/edit" not in member_page and "End profession" not in member_page
    for url in (f"{base}/new", f"{page}/edit"):
        assert browsers["manager"].get(url).status_code == 200
        assert browsers["member"].get(url).status_code == 403
    for url in (base, page, f"{base}/new", f"{page}/edit"):
        assert browsers["outsider"].get(url).status_code == 404
    posts = [
        (f"{base}/new", {"name": "Nurse"}),
        (f"{page}/edit", {"name": "Nurse"}),
        (f"{page}/end", {"ended_on": "2026-01-01"}),
    ]
    for url, form in posts:
        assert browsers["member"].post(url, form).status_code == 403
        assert browsers["outsider"].post(url, form).status_code == 404
    elsewhere = f"/p/{world.other_partnership_id}/professions/{world.profession_id}"
    assert browsers["admin"].get(elsewhere).status_code == 404
    assert browsers["outsider"].post(f"{elsewhere}/edit", {"name": "Nurse"}).status_code == 404
    assert "Nurse" not in browsers["manager"].get(base).text


def test_manager_adds_edits_and_ends_a_profession(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/professions"
    created = manager.post(f"{base}/new", {"name": "Health visitor"})
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    assert "Health visitor" in manager.get(url).text
    assert manager.post(f"{url}/edit", {"name": "Health visitor (0-5)"}).status_code == 303
    assert "Health visitor (0-5)" in manager.get(base).text
    assert manager.post(f"{url}/end", {"ended_on": "2026-02-28"}).status_code == 303
    assert "Ended 28 Feb 2026" in manager.get(base).text
    # An ended profession is no longer offered for new people.
    assert "Health visitor (0-5)" not in manager.get(f"/p/{world.partnership_id}/people/new").text


def test_bad_profession_form_is_shown_again_and_nothing_saved(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/professions"
    blank = manager.post(f"{base}/new", {"name": "  "})
    assert blank.status_code == 422 and "Name: is required" in blank.text
    duplicate = manager.post(f"{base}/new", {"name": "Police officer"})
    assert duplicate.status_code == 422 and "already in this partnership" in duplicate.text
    renamed = manager.post(f"{base}/{world.profession_id}/edit", {"name": ""})
    assert renamed.status_code == 422 and 'aria-invalid="true"' in renamed.text
    no_date = manager.post(f"{base}/{world.profession_id}/end", {"ended_on": "soon"})
    assert no_date.status_code == 422 and "is not a date" in no_date.text
    db.rollback()
    professions = db.scalars(
        select(Profession).where(Profession.partnership_id == world.partnership_id)
    ).all()
    assert [(p.name, p.ended_on) for p in professions] == [("Police officer", None)]


# --- people --------------------------------------------------------------------------------------------
def test_people_pages_for_each_persona(browsers: dict[str, Browser], world: World, db: Session) -> None:
    person = add_person(db, world, "Dana Okafor")
    base = f"/p/{world.partnership_id}/people"
    page = f"{base}/{person.id}"
    for persona in ("admin", "manager", "member"):
        for url in (base, page):
            response = browsers[persona].get(url)
            assert response.status_code == 200 and "Dana Okafor" in response.text
    assert "Add a person" in browsers["manager"].get(base).text
    assert "Add a person" not in browsers["member"].get(base).text
    assert f"{page}/edit" in browsers["manager"].get(page).text
    member_page = browsers["member"].get(page).text
    assert f"{page}/edit" not in member_page and f"{page}/end" not in member_page
    for url in (f"{base}/new", f"{page}/edit"):
        assert browsers["manager"].get(url).status_code == 200
        assert browsers["member"].get(url).status_code == 403
    for url in (base, page, f"{base}/new", f"{page}/edit"):
        assert browsers["outsider"].get(url).status_code == 404
    posts = [
        (f"{base}/new", person_form(world, email="x@police.example")),
        (f"{page}/edit", person_form(world, full_name="Changed")),
        (f"{page}/end", {"ended_on": "2026-01-01"}),
    ]
    for url, form in posts:
        assert browsers["member"].post(url, form).status_code == 403
        assert browsers["outsider"].post(url, form).status_code == 404
    elsewhere = f"/p/{world.other_partnership_id}/people/{person.id}"
    assert browsers["admin"].get(elsewhere).status_code == 404
    assert browsers["outsider"].get(elsewhere).status_code == 404
    assert browsers["outsider"].post(f"{elsewhere}/end", {"ended_on": "2026-01-01"}).status_code == 404
    assert people_named(db, world) == ["Dana Okafor"]
    db.rollback()
    assert db.get(Person, person.id).ended_on is None  # type: ignore[union-attr]


def test_manager_adds_a_person_and_sees_them_whole(browsers: dict[str, Browser], world: World) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/people"
    form = manager.get(f"{base}/new").text
    assert '<label for="f-hierarchy_tier">' in form and "5 – practitioner" in form
    assert 'type="checkbox"' in form and '<label for="f-late_entry">' in form
    created = manager.post(f"{base}/new", person_form(world))
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    page = manager.get(url).text
    for fact in (
        "Dana Okafor",
        "Brempton Police",
        "Police officer",
        "3 – middle management",
        "dana@police.example",
        "1 Apr 2022",
    ):
        assert fact in page
    assert "<dt>Years in profession</dt><dd>12</dd>" in page
    assert "<dt>Late entry</dt><dd>Yes</dd>" in page
    assert "<dt>Inter-professional training</dt><dd>No</dd>" in page
    listing = manager.get(base).text
    assert "Dana Okafor" in listing and "3 – middle management" in listing and "Current" in listing


def test_manager_edits_and_ends_a_person(browsers: dict[str, Browser], world: World, db: Session) -> None:
    person = add_person(db, world, "Dana Okafor", joined_on="2022-04-01")
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/people/{person.id}"
    edit_form = manager.get(f"{url}/edit").text
    assert 'value="Dana Okafor"' in edit_form
    changed = manager.post(
        f"{url}/edit",
        person_form(
            world, full_name="Dana Okafor-Reid", hierarchy_tier="2", interprofessional_training="yes"
        ),
    )
    assert changed.status_code == 303
    page = manager.get(url).text
    assert "Dana Okafor-Reid" in page and "2 – senior management" in page
    assert "<dt>Inter-professional training</dt><dd>Yes</dd>" in page
    assert manager.post(f"{url}/end", {"ended_on": "2026-03-31"}).status_code == 303
    assert "Left 31 Mar 2026" in manager.get(f"/p/{world.partnership_id}/people").text


def test_bad_person_forms_are_shown_again_and_nothing_saved(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    add_person(db, world, "Sam Taken", email="taken@police.example")
    elsewhere_organisation = add_organisation(db, world.other_partnership_id, "Elsewhere Health")
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/people/new"
    cases = [
        ({"full_name": ""}, "Full name: is required"),
        ({"hierarchy_tier": "six"}, "&#34;six&#34; is not 1-5"),
        ({"hierarchy_tier": "6"}, "&#34;6&#34; is not 1-5"),
        ({"organisation_id": "99999"}, "no such organisation in this partnership"),
        ({"organisation_id": str(elsewhere_organisation)}, "no such organisation in this partnership"),
        ({"organisation_id": ""}, "Organisation: is required"),
        ({"email": "taken@police.example"}, "already someone else&#39;s email in this partnership"),
        ({"email": "not-an-address"}, "is not an email address"),
        ({"years_in_profession": "many"}, "is not a whole number of years"),
    ]
    for change, message in cases:
        page = manager.post(url, person_form(world, **change))
        assert page.status_code == 422, change
        assert message in page.text, (change, page.text[:3000])
        assert 'class="error-summary"' in page.text
    # The form keeps what was typed, including the ticked box.
    again = manager.post(url, person_form(world, hierarchy_tier="six"))
    assert 'value="Dana Okafor"' in again.text
    assert 'id="f-late_entry" name="late_entry" type="checkbox" value="yes" checked' in again.text
    assert people_named(db, world) == ["Sam Taken"]


def test_edit_refuses_a_duplicate_email_and_end_before_joining(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    add_person(db, world, "Sam Taken", email="taken@police.example")
    person = add_person(db, world, "Dana Okafor", email="dana@police.example", joined_on="2022-04-01")
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/people/{person.id}"
    duplicate = manager.post(f"{url}/edit", person_form(world, email="taken@police.example"))
    assert duplicate.status_code == 422 and "already someone else" in duplicate.text
    too_early = manager.post(f"{url}/end", {"ended_on": "2021-01-01"})
    assert too_early.status_code == 422 and "is before joined_on 2022-04-01" in too_early.text
    db.rollback()
    stored = db.get(Person, person.id)
    assert stored is not None and stored.email == "dana@police.example" and stored.ended_on is None


def test_people_filtered_by_organisation(browsers: dict[str, Browser], world: World, db: Session) -> None:
    health = add_organisation(db, world.partnership_id, "Brempton Health")
    add_person(db, world, "Pat Police")
    add_person(db, world, "Hana Health", organisation_id=health, profession_id="")
    member = browsers["member"]
    base = f"/p/{world.partnership_id}/people"
    everyone = member.get(base).text
    assert "Pat Police" in everyone and "Hana Health" in everyone
    filtered = member.get(f"{base}?organisation={health}").text
    assert "Hana Health" in filtered and "Pat Police" not in filtered
    assert "People in Brempton Health" in filtered
    unknown = member.get(f"{base}?organisation=abc")
    assert unknown.status_code == 200 and "is not an organisation" in unknown.text


def test_people_come_a_page_at_a_time_and_can_be_found_by_name(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    """A register of thousands (after an import) is listed 100 at a time, by name, with the filters kept
    on every page link; a name or email finds people in any case, and LIKE's wildcards are plain text."""
    health = add_organisation(db, world.partnership_id, "Brempton Health")
    for n in range(230):
        add_person(db, world, f"Person {n:03d}", email=f"p{n:03d}@police.example")
    add_person(db, world, "Hana 100% Health", organisation_id=health, profession_id="")
    member = browsers["member"]
    base = f"/p/{world.partnership_id}/people"
    first = member.get(base).text
    assert "231 people, by name: 1 to 100 shown" in first and "Page 1 of 3" in first
    assert "Hana 100% Health" in first and "Person 098" in first and "Person 099" not in first
    assert 'href="?page=2" rel="next"' in first and 'rel="prev"' not in first
    last = member.get(f"{base}?page=3").text
    assert (
        "201 to 231 shown" in last
        and "Person 198" not in last
        and "Person 199" in last
        and "Person 229" in last
    )
    assert "Page 3 of 3" in last and 'rel="next"' not in last and 'href="?page=2" rel="prev"' in last
    assert "Page 3 of 3" in member.get(f"{base}?page=999999").text  # past the end: the last page
    found = member.get(f"{base}?name=  person 05&organisation={world.organisation_id}").text
    assert "10 people in Brempton Police whose name or email contains “person 05”" in found
    assert found.count("Person 05") == 10 and "Page 1 of" not in found
    assert (
        "1 person whose name or email contains “P123@POLICE”" in member.get(f"{base}?name=P123@POLICE").text
    )
    percent = member.get(f"{base}?name=100%25").text
    assert "1 person whose" in percent and "Hana 100% Health" in percent
    assert "No one whose name or email contains “_x_”" in member.get(f"{base}?name=_x_").text
    paged = member.get(f"{base}?name=person&page=2").text
    assert "230 people whose" in paged and 'href="?name=person&amp;page=3" rel="next"' in paged
    for query, message in [
        ("page=two", "&#34;two&#34; is not a page number"),
        ("page=-1", "&#34;-1&#34; is not a page number"),
        ("name=a%00b", "contains a control character (U+0000)"),
        ("name=" + "x" * 201, "at most 200 characters"),
    ]:
        response = member.get(f"{base}?{query}")
        assert response.status_code == 200 and message in response.text, query
        assert "231 people, by name" in response.text  # the bad filter is dropped, everyone listed
    assert browsers["outsider"].get(f"{base}?name=person").status_code == 404


def test_person_page_shows_seats_attendance_and_actions(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    person = add_person(db, world, "Dana Okafor")
    register.create_seat(
        db,
        actor=ROOT,
        partnership_id=world.partnership_id,
        data=s.SeatCreate(
            organisation_id=world.organisation_id,
            person_id=person.id,
            role="chair",
            started_on=date(2023, 1, 1),
            ended_on=date(2024, 6, 30),
        ),
    )
    today = date.today()
    for days_ago, title, status in [(100, "Older board", "apologies"), (10, "Recent board", "present")]:
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
    register.create_action(
        db,
        actor=ROOT,
        partnership_id=world.partnership_id,
        data=s.ActionCreate(title="Write the neglect strategy", owner_person_id=person.id),
    )
    db.commit()
    page = browsers["member"].get(f"/p/{world.partnership_id}/people/{person.id}").text
    assert "Chair" in page and "30 Jun 2024" in page
    assert page.index("Recent board") < page.index("Older board")
    assert "Apologies" in page and "Present" in page
    assert "Write the neglect strategy" in page
