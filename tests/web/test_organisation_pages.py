"""Organisation pages for each persona; the pattern every register page test follows."""

from __future__ import annotations

from tests.conftest import Browser, World


def test_every_persona_on_the_list(browsers: dict[str, Browser], world: World) -> None:
    url = f"/p/{world.partnership_id}/organisations"
    for persona in ("admin", "manager", "member"):
        page = browsers[persona].get(url)
        assert page.status_code == 200 and "Brempton Police" in page.text
    assert "Add an organisation" in browsers["manager"].get(url).text
    assert "Add an organisation" not in browsers["member"].get(url).text
    assert browsers["outsider"].get(url).status_code == 404


def test_manager_adds_edits_and_ends_an_organisation(browsers: dict[str, Browser], world: World) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/organisations"
    created = manager.post(f"{base}/new", {"name": "Brempton Homes", "kind": "housing", "tier": "involved"})
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    page = manager.get(url)
    assert "Brempton Homes" in page.text and "Involved agency" in page.text
    assert (
        manager.post(
            f"{url}/edit", {"name": "Brempton Homes Ltd", "kind": "housing", "tier": "other_member"}
        ).status_code
        == 303
    )
    assert "Brempton Homes Ltd" in manager.get(url).text
    assert manager.post(f"{url}/end", {"ended_on": "2026-01-31"}).status_code == 303
    assert "Left 31 Jan 2026" in manager.get(base).text


def test_bad_form_is_shown_again_with_field_errors_and_nothing_saved(
    browsers: dict[str, Browser], world: World
) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/organisations"
    page = manager.post(f"{base}/new", {"name": "", "kind": "polce", "tier": "statutory"})
    assert page.status_code == 422
    assert "Name: is required" in page.text
    assert "&#34;polce&#34; is not one of" in page.text or '"polce" is not one of' in page.text
    assert 'aria-invalid="true"' in page.text
    duplicate = manager.post(
        f"{base}/new", {"name": "Brempton Police", "kind": "police", "tier": "statutory"}
    )
    assert duplicate.status_code == 422 and "already in this partnership" in duplicate.text
    assert (
        manager.get(base).text.count("/organisations/") - manager.get(base).text.count("/organisations/new")
        == 1
    )


def test_member_and_outsider_cannot_change(browsers: dict[str, Browser], world: World) -> None:
    base = f"/p/{world.partnership_id}/organisations"
    member = browsers["member"].post(f"{base}/new", {"name": "X", "kind": "police", "tier": "statutory"})
    assert member.status_code == 403
    outsider = browsers["outsider"].post(f"{base}/new", {"name": "X", "kind": "police", "tier": "statutory"})
    assert outsider.status_code == 404
    edit = browsers["outsider"].post(
        f"{base}/{world.organisation_id}/edit", {"name": "Y", "kind": "police", "tier": "statutory"}
    )
    assert edit.status_code == 404


def test_record_reached_through_another_partnerships_url_is_not_found(
    browsers: dict[str, Browser], world: World
) -> None:
    url = f"/p/{world.other_partnership_id}/organisations/{world.organisation_id}"
    assert browsers["admin"].get(url).status_code == 404
