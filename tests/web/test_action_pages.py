"""Action and decision pages for each persona: the open / overdue / stalled views agree with the overview,
filters, add (from a meeting too), edit and close."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Role, cli_actor
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Action
from reticulist.register.overview import partnership_overview
from tests.conftest import Browser, World

TODAY = date.today()


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@dataclass
class Setting:
    owner_id: int  # a person of Brempton Police
    other_owner_id: int  # a person of Brempton Health
    health_id: int
    meeting_id: int
    stranger_id: int  # a person of another partnership
    other_meeting_id: int  # a meeting of another partnership
    other_action_id: int  # an action of another partnership
    ids: dict[str, int]  # action title -> id


# Titles, and the views each must appear in (besides "all").
EXPECTED = {
    "Fresh action": {"open"},
    "Overdue action": {"open", "overdue"},
    "Stalled decision": {"open", "stalled"},
    "Overdue and stalled action": {"open", "overdue", "stalled"},
    "Done action": {"closed"},
    "Dropped action": {"closed"},
}


@pytest.fixture
def setting(db: Session, world: World) -> Setting:
    root = cli_actor()
    pid = world.partnership_id
    health = register.create_organisation(
        db,
        actor=root,
        partnership_id=pid,
        data=s.OrganisationCreate(name="Brempton Health", kind="health", tier="statutory"),
    ).id
    owner = register.create_person(
        db,
        actor=root,
        partnership_id=pid,
        data=s.PersonCreate(full_name="Olu Owner", organisation_id=world.organisation_id, hierarchy_tier=2),
    ).id
    other_owner = register.create_person(
        db,
        actor=root,
        partnership_id=pid,
        data=s.PersonCreate(full_name="Hana Health", organisation_id=health, hierarchy_tier=3),
    ).id
    meeting = register.create_meeting(
        db,
        actor=root,
        partnership_id=pid,
        data=s.MeetingCreate(kind="board", title="Autumn board", held_on=ago(400)),
    ).id
    specs = [
        # title, kind, status, owner, organisation, opened, due, last changed, closed
        ("Fresh action", "action", "open", owner, world.organisation_id, ago(10), ago(-30), ago(5), None),
        ("Overdue action", "action", "open", other_owner, health, ago(30), ago(3), ago(10), None),
        ("Stalled decision", "decision", "open", owner, health, ago(200), None, ago(90), None),
        (
            "Overdue and stalled action",
            "action",
            "in_progress",
            owner,
            world.organisation_id,
            ago(300),
            ago(100),
            ago(61),
            None,
        ),
        ("Done action", "action", "done", other_owner, health, ago(300), ago(200), ago(20), ago(20)),
        ("Dropped action", "decision", "dropped", None, None, ago(300), ago(250), ago(100), ago(100)),
    ]
    ids = {}
    for title, kind, status, who, organisation, opened, due, changed, closed in specs:
        ids[title] = register.create_action(
            db,
            actor=root,
            partnership_id=pid,
            data=s.ActionCreate(
                title=title,
                kind=kind,
                status=status,
                owner_person_id=who,
                organisation_id=organisation,
                meeting_id=meeting if title == "Fresh action" else None,
                opened_on=opened,
                due_on=due,
                last_changed_on=changed,
                closed_on=closed,
            ),
        ).id
    other = world.other_partnership_id
    other_org = register.create_organisation(
        db,
        actor=root,
        partnership_id=other,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    ).id
    stranger = register.create_person(
        db,
        actor=root,
        partnership_id=other,
        data=s.PersonCreate(full_name="Sam Stranger", organisation_id=other_org, hierarchy_tier=2),
    ).id
    other_meeting = register.create_meeting(
        db,
        actor=root,
        partnership_id=other,
        data=s.MeetingCreate(kind="board", title="Elsewhere board", held_on=ago(10)),
    ).id
    other_action = register.create_action(
        db,
        actor=root,
        partnership_id=other,
        data=s.ActionCreate(title="Elsewhere overdue action", opened_on=ago(50), due_on=ago(1)),
    ).id
    db.commit()
    return Setting(owner, other_owner, health, meeting, stranger, other_meeting, other_action, ids)


def _titles(html: str) -> list[str]:
    return re.findall(r'<td data-label="Title"><a href="/p/\d+/actions/\d+">([^<]+)</a>', html)


def _action(db: Session, action_id: int) -> Action:
    db.rollback()  # a fresh snapshot: the app committed in its own session
    action = db.get(Action, action_id)
    assert action is not None
    return action


def _count(db: Session, partnership_id: int) -> int:
    db.rollback()
    query = select(func.count()).select_from(Action).where(Action.partnership_id == partnership_id)
    return int(db.scalar(query) or 0)


# --- the views and the overview --------------------------------------------------------------------------
def test_views_list_exactly_what_the_overview_counts(
    db: Session, browsers: dict[str, Browser], world: World, setting: Setting
) -> None:
    base = f"/p/{world.partnership_id}/actions"
    overview = partnership_overview(db, actor=world.member, partnership_id=world.partnership_id)
    figures = {
        "open": overview.momentum.open_count,
        "overdue": overview.momentum.overdue_count,
        "stalled": overview.momentum.stalled_count,
    }
    assert figures == {"open": 4, "overdue": 2, "stalled": 2}
    member = browsers["member"]
    for view in ("open", "overdue", "stalled", "closed"):
        page = member.get(f"{base}?view={view}")
        assert page.status_code == 200
        expected = {title for title, views in EXPECTED.items() if view in views}
        assert sorted(_titles(page.text)) == sorted(expected), view
        if view in figures:
            assert len(_titles(page.text)) == figures[view]
    assert sorted(_titles(member.get(f"{base}?view=all").text)) == sorted(EXPECTED)
    assert _titles(member.get(base).text) == _titles(member.get(f"{base}?view=open").text)  # open by default
    # The overview page links to these views with the same figures.
    front = member.get(f"/p/{world.partnership_id}").text
    for view, figure in figures.items():
        assert f'<a href="/p/{world.partnership_id}/actions?view={view}">{figure}</a>' in front


def test_rows_mark_overdue_and_stalled(browsers: dict[str, Browser], world: World, setting: Setting) -> None:
    page = browsers["member"].get(f"/p/{world.partnership_id}/actions?view=all").text
    rows = {title: row for row in page.split("<tr>")[1:] for title in _titles(row)}
    assert "overdue" in rows["Overdue action"] and "no change for" not in rows["Overdue action"]
    assert "no change for 90 days" in rows["Stalled decision"] and "overdue" not in rows["Stalled decision"]
    both = rows["Overdue and stalled action"]
    assert "overdue" in both and "no change for 61 days" in both and "In progress" in both
    assert "overdue" not in rows["Done action"]  # a closed action is never overdue
    assert "Olu Owner" in rows["Fresh action"] and "Brempton Police" in rows["Fresh action"]
    assert "Decision" in rows["Stalled decision"] and "Dropped" in rows["Dropped action"]
    assert "Elsewhere overdue action" not in page


def test_filters_by_owner_and_organisation(
    browsers: dict[str, Browser], world: World, setting: Setting
) -> None:
    base = f"/p/{world.partnership_id}/actions"
    member = browsers["member"]
    by_owner = _titles(member.get(f"{base}?view=open&owner={setting.owner_id}").text)
    assert sorted(by_owner) == ["Fresh action", "Overdue and stalled action", "Stalled decision"]
    by_org = _titles(member.get(f"{base}?view=all&organisation={setting.health_id}").text)
    assert sorted(by_org) == ["Done action", "Overdue action", "Stalled decision"]
    both = _titles(
        member.get(f"{base}?view=stalled&owner={setting.owner_id}&organisation={setting.health_id}").text
    )
    assert both == ["Stalled decision"]
    assert _titles(member.get(f"{base}?view=all&owner={setting.stranger_id}").text) == []


# --- the action page -------------------------------------------------------------------------------------
def test_action_page_shows_its_facts(browsers: dict[str, Browser], world: World, setting: Setting) -> None:
    pid = world.partnership_id
    page = browsers["member"].get(f"/p/{pid}/actions/{setting.ids['Fresh action']}")
    assert page.status_code == 200
    text = page.text
    assert f'<a href="/p/{pid}/meetings/{setting.meeting_id}">Autumn board</a>' in text
    assert "Olu Owner" in text and "Brempton Police" in text and "not closed" in text
    assert f"{ago(10).day} {ago(10):%b %Y}" in text  # opened, as a UK date
    assert "Edit" not in re.sub(r"<title>.*?</title>", "", text) and "/close" not in text
    done = browsers["member"].get(f"/p/{pid}/actions/{setting.ids['Done action']}").text
    assert f"{ago(20).day} {ago(20):%b %Y}" in done and "Done" in done
    stalled = browsers["manager"].get(f"/p/{pid}/actions/{setting.ids['Overdue and stalled action']}").text
    assert "overdue" in stalled and "no change for 61 days" in stalled
    assert "Edit" in stalled and f"/actions/{setting.ids['Overdue and stalled action']}/close" in stalled


# --- add, edit, close ------------------------------------------------------------------------------------
def test_manager_adds_from_a_meeting_edits_and_closes(
    db: Session, browsers: dict[str, Browser], world: World, setting: Setting
) -> None:
    manager = browsers["manager"]
    pid = world.partnership_id
    form = manager.get(f"/p/{pid}/actions/new?meeting={setting.meeting_id}")
    assert form.status_code == 200
    assert f'<option value="{setting.meeting_id}" selected>' in form.text
    assert "Sam Stranger" not in form.text and "Elsewhere board" not in form.text
    created = manager.post(
        f"/p/{pid}/actions/new",
        {
            "title": "Audit neglect cases",
            "kind": "action",
            "description": "Dip sample of 20 cases.",
            "owner_person_id": str(setting.other_owner_id),
            "organisation_id": str(setting.health_id),
            "meeting_id": str(setting.meeting_id),
            "opened_on": "",
            "due_on": (TODAY + timedelta(days=60)).isoformat(),
            "status": "open",
        },
    )
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    action_id = int(url.rsplit("/", 1)[1])
    page = manager.get(url).text
    assert "Audit neglect cases" in page and "Hana Health" in page and "Autumn board" in page
    assert "Dip sample of 20 cases." in page
    meeting_page = manager.get(f"/p/{pid}/meetings/{setting.meeting_id}").text
    assert "Audit neglect cases" in meeting_page
    edit = manager.get(f"{url}/edit")
    assert edit.status_code == 200 and 'value="Audit neglect cases"' in edit.text
    changed = manager.post(
        f"{url}/edit",
        {
            "title": "Audit neglect cases (all districts)",
            "kind": "decision",
            "description": "",
            "owner_person_id": str(setting.owner_id),
            "organisation_id": "",
            "meeting_id": "",
            "opened_on": TODAY.isoformat(),
            "due_on": "",
            "status": "in_progress",
        },
    )
    assert changed.status_code == 303
    action = _action(db, action_id)
    assert (action.title, action.kind, action.status, action.owner_person_id) == (
        "Audit neglect cases (all districts)",
        "decision",
        "in_progress",
        setting.owner_id,
    )
    assert action.meeting_id is None and action.due_on is None and action.closed_on is None
    closed = manager.post(f"{url}/close", {"status": "dropped"})
    assert closed.status_code == 303 and closed.headers["location"].endswith("?done=closed")
    action = _action(db, action_id)
    assert action.status == "dropped" and action.closed_on == TODAY
    page = manager.get(url).text
    assert "Dropped" in page and "not closed" not in page and f"/actions/{action_id}/close" not in page
    assert "Audit neglect cases (all districts)" in manager.get(f"/p/{pid}/actions?view=closed").text


BAD_ACTION = {
    "missing title": ({"title": ""}, "Title: is required"),
    "unknown kind": ({"kind": "wish"}, "&#34;wish&#34; is not one of"),
    "bad date": ({"due_on": "31/02/2025"}, "&#34;31/02/2025&#34; is not a date"),
    "due before opened": (
        {"opened_on": "2025-03-01", "due_on": "2025-02-01"},
        "2025-02-01 is before opened_on 2025-03-01",
    ),
    "owner from elsewhere": ({"owner_person_id": "{stranger}"}, "no such person in this partnership"),
    "meeting from elsewhere": ({"meeting_id": "{other_meeting}"}, "no such meeting in this partnership"),
    "unknown status": ({"status": "someday"}, "&#34;someday&#34; is not one of"),
}


def _good_form() -> dict[str, str]:
    return {"title": "Good title", "kind": "action", "status": "open", "due_on": "", "opened_on": ""}


@pytest.mark.parametrize("case", list(BAD_ACTION))
def test_bad_action_form_is_shown_again_and_nothing_saved(
    db: Session, browsers: dict[str, Browser], world: World, setting: Setting, case: str
) -> None:
    change, message = BAD_ACTION[case]
    ids = {"stranger": setting.stranger_id, "other_meeting": setting.other_meeting_id}
    form = {**_good_form(), **{k: v.format(**ids) for k, v in change.items()}}
    pid = world.partnership_id
    before = _count(db, pid)
    page = browsers["manager"].post(f"/p/{pid}/actions/new", form)
    assert page.status_code == 422
    assert message in page.text and 'aria-invalid="true"' in page.text
    assert _count(db, pid) == before
    # The same on the edit form: the action keeps its values.
    action_id = setting.ids["Fresh action"]
    page = browsers["manager"].post(f"/p/{pid}/actions/{action_id}/edit", form)
    assert page.status_code == 422 and message in page.text
    action = _action(db, action_id)
    assert action.title == "Fresh action" and action.last_changed_on == ago(5)


def test_closing_with_an_open_status_is_refused(
    db: Session, browsers: dict[str, Browser], world: World, setting: Setting
) -> None:
    action_id = setting.ids["Overdue action"]
    url = f"/p/{world.partnership_id}/actions/{action_id}/close"
    for status, message in [("open", "closing needs status done or dropped"), ("maybe", "is not one of")]:
        page = browsers["manager"].post(url, {"status": status})
        assert page.status_code == 422 and message in page.text, status
        assert "Overdue action" in page.text
    action = _action(db, action_id)
    assert action.status == "open" and action.closed_on is None and action.last_changed_on == ago(10)


# --- who may do what -------------------------------------------------------------------------------------
def _routes(world: World, setting: Setting) -> tuple[list[str], list[tuple[str, dict]]]:
    base = f"/p/{world.partnership_id}/actions"
    one = f"{base}/{setting.ids['Fresh action']}"
    gets = [base, f"{base}?view=stalled", f"{base}/new", one, f"{one}/edit"]
    posts = [
        (f"{base}/new", _good_form()),
        (f"{one}/edit", _good_form()),
        (f"{one}/close", {"status": "done"}),
    ]
    return gets, posts


def test_member_reads_but_cannot_change(
    db: Session, browsers: dict[str, Browser], world: World, setting: Setting
) -> None:
    member = browsers["member"]
    gets, posts = _routes(world, setting)
    for url in gets:
        expected = 403 if url.endswith(("/new", "/edit")) else 200
        assert member.get(url).status_code == expected, url
    for url, form in posts:
        assert member.post(url, form).status_code == 403, url
    listing = member.get(gets[0]).text
    assert "Add an action" not in listing and "/actions/new" not in listing
    assert _count(db, world.partnership_id) == len(EXPECTED)
    action = _action(db, setting.ids["Fresh action"])
    assert action.title == "Fresh action" and action.status == "open"
    assert "Add an action" in browsers["manager"].get(gets[0]).text


def test_outsider_gets_not_found_everywhere(
    db: Session, browsers: dict[str, Browser], world: World, setting: Setting
) -> None:
    outsider = browsers["outsider"]
    gets, posts = _routes(world, setting)
    for url in gets:
        assert outsider.get(url).status_code == 404, url
    for url, form in posts:
        assert outsider.post(url, form).status_code == 404, url
    assert _count(db, world.partnership_id) == len(EXPECTED)
    assert _action(db, setting.ids["Fresh action"]).status == "open"


def test_action_reached_through_another_partnerships_url_is_not_found(
    db: Session, browsers: dict[str, Browser], world: World, setting: Setting
) -> None:
    # The manager may manage the other partnership too, so only the URL's mismatch can refuse them.
    accounts.set_role(
        db,
        actor=cli_actor(),
        partnership_id=world.other_partnership_id,
        user_id=world.manager.user_id,
        role=Role.MANAGER,
    )
    db.commit()
    manager = browsers["manager"]
    other_list = manager.get(f"/p/{world.other_partnership_id}/actions?view=all")
    assert other_list.status_code == 200 and _titles(other_list.text) == ["Elsewhere overdue action"]
    wrong = f"/p/{world.other_partnership_id}/actions/{setting.ids['Fresh action']}"
    for url in (wrong, f"{wrong}/edit"):
        assert manager.get(url).status_code == 404, url
    for url, form in [(f"{wrong}/edit", _good_form()), (f"{wrong}/close", {"status": "done"})]:
        assert manager.post(url, form).status_code == 404, url
    assert manager.get(f"/p/{world.partnership_id}/actions/{setting.other_action_id}").status_code == 404
    action = _action(db, setting.ids["Fresh action"])
    assert action.title == "Fresh action" and action.status == "open"
