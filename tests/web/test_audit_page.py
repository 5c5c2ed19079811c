"""The audit log page: managers and admins read and filter it; members and outsiders do not."""

from __future__ import annotations

from datetime import date, timedelta

from tests.conftest import Browser, World


def _add_two_people(manager: Browser, world: World) -> str:
    base = f"/p/{world.partnership_id}/people/new"
    for name in ("Ada Audit", "Ben Before"):
        created = manager.post(
            base, {"full_name": name, "organisation_id": str(world.organisation_id), "hierarchy_tier": "3"}
        )
        assert created.status_code == 303
    return created.headers["location"].split("?")[0]


def test_manager_and_admin_read_the_log_members_and_outsiders_do_not(
    browsers: dict[str, Browser], world: World
) -> None:
    _add_two_people(browsers["manager"], world)
    url = f"/p/{world.partnership_id}/audit"
    for persona in ("manager", "admin"):
        page = browsers[persona].get(url)
        assert page.status_code == 200
        assert "Person Ada Audit created" in page.text and world.emails["manager"] in page.text
    assert browsers["member"].get(url).status_code == 403
    assert "Audit log" not in browsers["member"].get(f"/p/{world.partnership_id}").text
    assert browsers["outsider"].get(url).status_code == 404
    assert browsers["anonymous"].get(url).status_code == 303


def test_filters_and_before_after(browsers: dict[str, Browser], world: World) -> None:
    manager = browsers["manager"]
    person_url = _add_two_people(manager, world)
    person_id = person_url.rsplit("/", 1)[1]
    changed = manager.post(
        f"{person_url}/edit",
        {"full_name": "Ben After", "organisation_id": str(world.organisation_id), "hierarchy_tier": "2"},
    )
    assert changed.status_code == 303
    url = f"/p/{world.partnership_id}/audit"

    only_changes = manager.get(url, params={"event": "changed", "record_type": "person"}).text
    assert "1 events" in only_changes
    assert "Ben Before → Ben After" in only_changes and "hierarchy_tier</strong>: 3 → 2" in only_changes
    assert "Ada Audit" not in only_changes

    by_record = manager.get(url, params={"record_type": "person", "record_id": person_id}).text
    assert "2 events" in by_record  # created and changed

    assert "0 events" in manager.get(url, params={"who": "nobody@"}).text
    today = date.today()
    assert "0 events" in manager.get(url, params={"until": (today - timedelta(days=1)).isoformat()}).text
    assert (
        "No events match"
        not in manager.get(url, params={"since": today.isoformat(), "until": today.isoformat()}).text
    )

    bad = manager.get(url, params={"since": "31/02/2025", "record_id": "abc"})
    assert bad.status_code == 200
    assert "is not a date" in bad.text and "is not a record number" in bad.text


def test_pages_of_the_log_keep_the_filters(browsers: dict[str, Browser], world: World) -> None:
    manager = browsers["manager"]
    for n in range(55):
        manager.post(f"/p/{world.partnership_id}/professions/new", {"name": f"Profession {n} & co"})
    page = manager.get(
        f"/p/{world.partnership_id}/audit", params={"record_type": "profession", "who": "manager@"}
    )
    # The fixture's own profession was made by the set-up, not the manager.
    assert "55 events, page 1" in page.text
    page = manager.get(f"/p/{world.partnership_id}/audit", params={"who": "manager@"})
    assert "Older events" in page.text
    assert 'href="?who=manager%40&amp;page=2"' in page.text
