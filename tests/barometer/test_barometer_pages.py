"""Barometer pages for the manager, the member (read-only) and the outsider (404), on both databases."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.barometer.models import BarometerInstrument, BarometerInvitation, BarometerRound
from tests.barometer.barometer_fixtures import (
    REF,
    open_test_round,
    small_builtin,  # noqa: F401  (autouse)
    small_instrument,  # noqa: F401
    small_instrument_json,
)
from tests.conftest import Browser, World


def _round_form(**overrides: str) -> dict[str, str]:
    return {
        "instrument": REF,
        "title": "Spring 2026",
        "opens_on": date.today().isoformat(),
        "closes_on": (date.today() + timedelta(days=21)).isoformat(),
        "anonymity_threshold": "5",
        **overrides,
    }


def test_rounds_list_for_each_persona(browsers: dict[str, Browser], world: World, db: Session) -> None:
    open_test_round(db, world)
    url = f"/p/{world.partnership_id}/barometer"
    for persona in ("admin", "manager", "member"):
        page = browsers[persona].get(url)
        assert page.status_code == 200 and "Spring 2026" in page.text
        assert f'<a href="/p/{world.partnership_id}/barometer" aria-current="page">Barometer</a>' in page.text
        assert "Test Barometer" in page.text  # the instruments list
    assert "Open a round" in browsers["manager"].get(url).text
    assert "Open a round" not in browsers["member"].get(url).text
    assert browsers["outsider"].get(url).status_code == 404
    assert browsers["anonymous"].get(url).status_code == 303
    # The register's pages link to it.
    assert (
        f'href="/p/{world.partnership_id}/barometer"'
        in browsers["member"].get(f"/p/{world.partnership_id}").text
    )


def test_manager_opens_changes_and_closes_a_round(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/barometer"
    form = manager.get(f"{base}/new")
    assert form.status_code == 200 and f'value="{REF}"' in form.text
    created = manager.post(f"{base}/new", _round_form())
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    page = manager.get(created.headers["location"])
    assert "the round is set up" in page.text and "Open</span>" in page.text
    assert "Test Barometer (version 1.0)" in page.text and "Create personal links" in page.text

    changed = manager.post(
        f"{url}/edit",
        {
            key: value
            for key, value in _round_form(
                title="Spring 2026 (extended)", closes_on=(date.today() + timedelta(days=40)).isoformat()
            ).items()
            if key != "instrument"  # a round keeps its instrument
        },
    )
    assert changed.status_code == 303
    assert "Spring 2026 (extended)" in manager.get(url).text

    assert manager.post(f"{url}/close").status_code == 303
    closed = manager.get(url)
    assert "Closed</span>" in closed.text and "closed early on" in closed.text
    assert "Create personal links" not in closed.text
    again = manager.post(f"{url}/close")
    assert again.status_code == 422 and "already closed" in again.text


def test_bad_round_form_is_shown_again_and_nothing_is_stored(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/barometer"
    page = manager.post(
        f"{base}/new", _round_form(title="", closes_on="2020-01-01", anonymity_threshold="2", instrument="")
    )
    assert page.status_code == 422
    assert "Title: is required" in page.text and "Instrument: is required" in page.text
    assert "Anonymity threshold: must be at least 3" in page.text
    assert 'aria-invalid="true"' in page.text
    dates = manager.post(f"{base}/new", _round_form(closes_on="2020-01-01"))
    assert dates.status_code == 422 and "is before the opening day" in dates.text
    assert db.scalars(select(BarometerRound)).all() == []


def test_member_and_outsider_cannot_change(browsers: dict[str, Browser], world: World, db: Session) -> None:
    round_id = open_test_round(db, world)
    base = f"/p/{world.partnership_id}/barometer"
    url = f"{base}/rounds/{round_id}"
    member_page = browsers["member"].get(url)
    assert member_page.status_code == 200 and "Spring 2026" in member_page.text
    assert "Create personal links" not in member_page.text and "Close this round" not in member_page.text
    for persona, status in (("member", 403), ("outsider", 404)):
        browser = browsers[persona]
        assert browser.get(f"{base}/new").status_code == status
        assert browser.get(f"{url}/edit").status_code == status
        assert browser.get(f"{base}/instruments/new").status_code == status
        assert browser.post(f"{base}/new", _round_form()).status_code == status
        assert browser.post(f"{url}/invitations", {"invitees": "a@example.org"}).status_code == status
        assert browser.post(f"{url}/open-link").status_code == status
        assert browser.post(f"{url}/close").status_code == status
    assert browsers["outsider"].get(url).status_code == 404
    # A round reached through another partnership's address is not found there.
    assert (
        browsers["admin"].get(f"/p/{world.other_partnership_id}/barometer/rounds/{round_id}").status_code
        == 404
    )
    assert db.scalars(select(BarometerInvitation)).all() == []
    db.expire_all()
    assert db.get(BarometerRound, round_id).closed_early_on is None


def test_issuing_invitations_shows_the_links_once_with_the_mail_merge_csv(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    round_id = open_test_round(db, world)
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    page = manager.post(
        f"{url}/invitations", {"invitees": "Jo Bloggs <jo@police.example>\nsam@health.example\n"}
    )
    assert page.status_code == 200 and "2 personal links created" in page.text
    assert "shown only once" in page.text and page.headers["cache-control"] == "no-store"
    links = re.findall(r"https://testserver/s/[A-Za-z0-9_-]+", page.text)
    assert len(set(links)) == 2
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="([^"]+)"', page.text)
    assert href is not None and href.group(2) == f"barometer-round-{round_id}-invitations.csv"
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(href.group(1)).decode("utf-8"))))
    assert [(r["name"], r["email"]) for r in rows] == [
        ("Jo Bloggs", "jo@police.example"),
        ("sam@health.example", "sam@health.example"),
    ]
    assert {r["link"] for r in rows} == set(links)
    stored = db.scalars(select(BarometerInvitation)).all()
    assert len(stored) == 2
    for link in links:
        token = link.rsplit("/", 1)[1]
        assert all(token not in (row.token_hash, row.label, row.email) for row in stored)
    # The round page counts them; the links cannot be shown again.
    round_page = manager.get(url)
    assert "2 issued, 0 answered (0%)" in round_page.text
    assert not any(link in round_page.text for link in links)
    # The survey link works without logging in.
    assert browsers["anonymous"].get(links[0].replace("https://testserver", "")).status_code == 200

    bad = manager.post(f"{url}/invitations", {"invitees": "nobody <not-an-email>"})
    assert bad.status_code == 422 and "line 1: &#34;not-an-email&#34; is not an email address" in bad.text
    assert len(db.scalars(select(BarometerInvitation)).all()) == 2


def test_open_link_created_replaced_and_removed(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    round_id = open_test_round(db, world)
    manager, anonymous = browsers["manager"], browsers["anonymous"]
    url = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    first = manager.post(f"{url}/open-link")
    assert first.status_code == 200 and "Open link created" in first.text
    link = re.search(r"https://testserver(/s/[A-Za-z0-9_-]+)", first.text).group(1)
    assert anonymous.get(link).status_code == 200
    second = manager.post(f"{url}/open-link")
    assert "previous open link no longer works" in second.text
    new_link = re.search(r"https://testserver(/s/[A-Za-z0-9_-]+)", second.text).group(1)
    assert anonymous.get(link).status_code == 404 and anonymous.get(new_link).status_code == 200
    assert manager.post(f"{url}/open-link/remove").status_code == 303
    assert anonymous.get(new_link).status_code == 404
    assert "Open link</dt><dd>None" in manager.get(url).text


def test_loading_a_custom_instrument_and_reading_it(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/barometer"
    assert manager.get(f"{base}/instruments/new").status_code == 200
    text = small_instrument_json(key="our-barometer", version="2.0")
    loaded = manager.client.post(
        f"{base}/instruments/new",
        data={"csrf_token": manager.csrf},
        files={"file": ("ours.json", text.encode(), "application/json")},
    )
    assert loaded.status_code == 303
    assert loaded.headers["location"] == f"{base}/instruments/our-barometer@2.0?done=instrument-loaded"
    page = browsers["member"].get(f"{base}/instruments/our-barometer@2.0")
    assert page.status_code == 200
    assert "Section 1: Working together" in page.text and "Statement 3 about trust." in page.text
    assert "Source: 003, Themes" in page.text and "reverse-scored" in page.text
    assert 'value="our-barometer@2.0"' in manager.get(f"{base}/new").text

    changed = text.replace("Statement 1 about trust.", "Statement one about trust.")
    refused = manager.client.post(
        f"{base}/instruments/new",
        data={"csrf_token": manager.csrf},
        files={"file": ("ours.json", changed.encode(), "application/json")},
    )
    assert refused.status_code == 422 and "change the version" in refused.text
    bad = small_instrument_json(key="BAD KEY").replace('"title": "Test Barometer"', '"title": ""')
    refused = manager.client.post(
        f"{base}/instruments/new",
        data={"csrf_token": manager.csrf},
        files={"file": ("bad.json", bad.encode(), "application/json")},
    )
    assert refused.status_code == 422
    assert "<code>key</code>" in refused.text and "<code>title</code>" in refused.text
    assert "The file was not loaded: 2 problems" in refused.text
    none = manager.client.post(f"{base}/instruments/new", data={"csrf_token": manager.csrf})
    assert none.status_code == 422 and "choose an instrument file" in none.text
    rows = db.scalars(select(BarometerInstrument)).all()
    assert [(r.key, r.version) for r in rows] == [("our-barometer", "2.0")]
    # Someone else's partnership cannot read it.
    assert browsers["outsider"].get(f"{base}/instruments/our-barometer@2.0").status_code == 404
    assert (
        browsers["outsider"]
        .get(f"/p/{world.other_partnership_id}/barometer/instruments/our-barometer@2.0")
        .status_code
        == 404
    )
