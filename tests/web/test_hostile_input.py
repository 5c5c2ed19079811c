"""Hostile input, as an attacker would send it, at every door: refused with a message naming the field
(and row, for files), never stored, never a server error.

Text: control characters, NUL and bidirectional overrides are refused in names and every other text,
and text is stored in NFC. Numbers, ids, dates, tokens and bodies: out of range or malformed values are
refused in words, a body past the limit gets 413.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.access import service as accounts
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import MAX_DEPTH, parse_instrument
from reticulist.cli.main import app as cli_app
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import transfer
from reticulist.register.models import Organisation
from reticulist.text import clean
from tests.barometer.barometer_fixtures import small_instrument_data
from tests.conftest import Browser, World

SECRET = "test-secret-key-" + "x" * 20
runner = CliRunner()
REFUSED = {
    "\x00": "a control character (U+0000)",
    "\x1b": "a control character (U+001B)",
    "\x85": "a control character (U+0085)",
    "\u202e": "an invisible text-direction control (U+202E RIGHT-TO-LEFT OVERRIDE)",
    "\u2066": "an invisible text-direction control (U+2066 LEFT-TO-RIGHT ISOLATE)",
    "\u200f": "an invisible character (U+200F RIGHT-TO-LEFT MARK)",
    "\ufeff": "an invisible character (U+FEFF ZERO WIDTH NO-BREAK SPACE)",
}
SPOOF = "Brempton \u202eecilop"  # shows as "Brempton police" backwards: a Trojan Source name


def _organisations(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Organisation)) or 0


# --- the rule --------------------------------------------------------------------------------------
def test_the_text_rule() -> None:
    for char, words in REFUSED.items():
        with pytest.raises(ValueError) as caught:
            clean(f"Police{char}")
        assert str(caught.value) == f"contains {words} at character 7; remove it"
    assert clean("Cafe\u0301") == "Café" == unicodedata.normalize("NFC", "Cafe\u0301")
    assert clean("line one\nline two\ttabbed") == "line one\nline two\ttabbed"  # ordinary whitespace stays
    assert clean("عربي English") == "عربي English"  # right-to-left text itself is welcome


# --- forms, the API, files and the command line ----------------------------------------------------
def test_a_form_refuses_a_spoofed_name_and_stores_nfc(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    manager = browsers["manager"]
    base = f"/p/{world.partnership_id}/organisations"
    before = _organisations(db)
    for name in (SPOOF, "Police\x00", "\x1b[31mPolice"):
        page = manager.post(f"{base}/new", {"name": name, "kind": "police", "tier": "statutory"})
        assert page.status_code == 422
        assert "Name: contains " in page.text and "remove it" in page.text
    assert _organisations(db) == before
    assert (
        manager.post(
            f"{base}/new", {"name": "Cafe\u0301 Services", "kind": "voluntary", "tier": "involved"}
        ).status_code
        == 303
    )
    db.expire_all()
    assert db.scalar(select(Organisation.name).where(Organisation.name.like("Caf%"))) == "Café Services"


def test_the_api_refuses_control_characters_naming_the_field(db: Session, app, world: World) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    _, token = accounts.create_api_token(db, actor=world.manager, name="t", secret_key=SECRET)
    db.commit()
    client = TestClient(app, base_url="https://testserver")
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/partnerships/{world.partnership_id}"
    response = client.post(
        f"{url}/organisations",
        headers=headers,
        json={"name": "Police\u0000", "kind": "police", "tier": "statutory"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "name", "message": "contains a control character (U+0000) at character 7; remove it"}
    ]
    person = {"full_name": "Ann\u2066 Example", "organisation_id": world.organisation_id, "hierarchy_tier": 3}
    response = client.post(f"{url}/people", headers=headers, json=person)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "full_name"
    response = client.post(f"{url}/professions", headers=headers, json={"name": "Nurse\u0301"})
    assert response.status_code == 201 and response.json()["name"] == "Nursé"
    assert _organisations(db) == 1


def test_imports_name_the_row_and_column_of_a_control_character(
    db: Session, world: World, tmp_path: Path
) -> None:
    csv_file = tmp_path / "organisations.csv"
    csv_file.write_text(
        f"name,kind,tier\nBrempton Health,health,statutory\n{SPOOF},police,statutory\n", encoding="utf-8"
    )
    book = openpyxl.Workbook()
    book.active.append(["name", "kind", "tier"])
    book.active.append(["Brempton\u200f Schools", "education", "statutory"])
    xlsx_file = tmp_path / "organisations.xlsx"
    book.save(xlsx_file)
    before = _organisations(db)
    messages = []
    for path in (csv_file, xlsx_file):
        with pytest.raises(InputError) as caught:
            transfer.import_file(
                db,
                actor=world.manager,
                partnership_id=world.partnership_id,
                kind=transfer.RecordType.ORGANISATIONS,
                path=path,
            )
        messages.extend(str(p) for p in caught.value.problems)
    assert messages == [
        'organisations.csv row 3, column A "name": contains an invisible text-direction control '
        "(U+202E RIGHT-TO-LEFT OVERRIDE) at character 10; remove it",
        'organisations.xlsx row 2, column A "name": contains an invisible character '
        "(U+200F RIGHT-TO-LEFT MARK) at character 9; remove it",
    ]
    assert _organisations(db) == before


def test_the_command_line_refuses_control_characters(database_url: str, world: World, tmp_path: Path) -> None:
    added = runner.invoke(
        cli_app,
        [
            "user",
            "add",
            "new@example.org",
            "--name",
            "New\x1b[2J User",
            "--password",
            "x" * 12,
            "--database",
            database_url,
        ],
    )
    assert added.exit_code == 1
    assert "display_name: contains a control character (U+001B) at character 4; remove it" in " ".join(
        added.stderr.split()
    )
    people = tmp_path / "people.csv"
    people.write_text(
        "full_name,organisation,hierarchy_tier\nAnn\u202d Example,Brempton Police,3\n", encoding="utf-8"
    )
    imported = runner.invoke(
        cli_app,
        [
            "import",
            "people",
            str(people),
            "--partnership",
            str(world.partnership_id),
            "--database",
            database_url,
        ],
    )
    assert imported.exit_code == 1
    assert (
        'people.csv row 2, column A "full_name": contains an invisible text-direction control (U+202D'
        in imported.stderr
    )


def test_barometer_text_is_cleaned_too(db: Session, browsers: dict[str, Browser], world: World) -> None:
    data = small_instrument_data(key="spoofed")
    data["constructs"][1]["name"] = "Momentum\u202e"
    with pytest.raises(InputError) as caught:
        parse_instrument(json.dumps(data), source="ours.json")
    assert [(p.field, p.message) for p in caught.value.problems] == [
        (
            "constructs.1.name",
            "contains an invisible text-direction control (U+202E RIGHT-TO-LEFT OVERRIDE) at character 9; "
            "remove it",
        )
    ]
    base = f"/p/{world.partnership_id}/barometer"
    today = date.today()
    page = browsers["manager"].post(
        f"{base}/new",
        {
            "instrument": "partnership-barometer@1.0",
            "title": "Spring\x00",
            "opens_on": today.isoformat(),
            "closes_on": (today + timedelta(days=9)).isoformat(),
        },
    )
    assert page.status_code == 422 and "contains a control character (U+0000)" in page.text
    round_id = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument="partnership-barometer@1.0",
            title="Spring",
            opens_on=today,
            closes_on=today + timedelta(9),
        ),
    ).id
    db.commit()
    page = browsers["manager"].post(
        f"{base}/rounds/{round_id}/invitations", {"invitees": "ann@example.org\nBen\x07 <ben@example.org>"}
    )
    assert page.status_code == 422 and "line 2: contains a control character (U+0007)" in page.text


def test_nul_never_reaches_postgresql(db: Session, browsers: dict[str, Browser], world: World) -> None:
    """PostgreSQL refuses NUL in text: places that only look things up must not pass it on."""
    anonymous = Browser(browsers["manager"].client.app, None)
    assert anonymous.login("manager@example.org\x00", "wrong password x").status_code == 401
    audit = browsers["manager"].get(
        f"/p/{world.partnership_id}/audit", params={"who": "\x00", "event": "\u202e"}
    )
    assert audit.status_code == 200
    people = browsers["manager"].get(f"/p/{world.partnership_id}/meetings", params={"kind": "\x00"})
    assert people.status_code < 500


# --- tokens, ids, dates, numbers, nesting ----------------------------------------------------------
def test_non_ascii_csrf_and_form_tokens_are_refused_not_crashed(
    browsers: dict[str, Browser], world: World
) -> None:
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/organisations/new"
    form = {"name": "X", "kind": "police", "tier": "statutory", "csrf_token": "ünïcödé-tökén"}
    assert manager.client.post(url, data=form).status_code == 403
    api = manager.client.post(
        f"/api/v1/partnerships/{world.partnership_id}/professions",
        json={"name": "X"},
        headers={"X-CSRF-Token": "ü".encode("latin-1")},
    )
    assert api.status_code == 403
    anonymous = Browser(manager.client.app, None)
    anonymous.client.get("/login")
    login = anonymous.client.post("/login", data={"email": "a@b.org", "password": "p", "csrf_token": "ü"})
    assert login.status_code in (200, 403)
    survey = anonymous.client.post("/s/" + "x" * 43 + "/start", data={"form_token": "ü"})
    assert survey.status_code < 500


HUGE = [str(2**63), str(2**64 + 1), "9" * 40, str(2**31), "-" + str(2**63)]


def test_ids_no_record_can_have_are_not_found_or_refused(
    app, db: Session, browsers: dict[str, Browser], world: World
) -> None:  # type: ignore[no-untyped-def]
    manager = browsers["manager"]
    _, token = accounts.create_api_token(db, actor=world.manager, name="t", secret_key=SECRET)
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    pid = world.partnership_id
    for huge in HUGE:
        assert manager.get(f"/p/{huge}/organisations").status_code == 404
        assert manager.get(f"/p/{pid}/people/{huge}").status_code == 404
        assert (
            manager.post(f"/p/{pid}/organisations/{huge}/end", {"ended_on": "2026-01-01"}).status_code == 404
        )
        assert (
            manager.client.get(f"/api/v1/partnerships/{pid}/seats/{huge}", headers=headers).status_code == 404
        )
        listed = manager.client.get(
            f"/api/v1/partnerships/{pid}/people?organisation_id={huge}", headers=headers
        )
        assert listed.status_code == 422 and listed.json()["detail"][0]["field"] == "organisation_id"
        body = {"full_name": "Ann", "organisation_id": int(huge), "hierarchy_tier": 3}
        created = manager.client.post(f"/api/v1/partnerships/{pid}/people", headers=headers, json=body)
        assert created.status_code == 422
        assert created.json()["detail"] == [
            {"field": "organisation_id", "message": f'"{huge}" is not a record number'}
        ]
        form = {"full_name": "Ann", "organisation_id": huge, "hierarchy_tier": "3"}
        page = manager.post(f"/p/{pid}/people/new", form)
        assert page.status_code == 422
        assert manager.get(f"/p/{pid}/audit", params={"record_id": huge}).status_code == 200


@pytest.mark.parametrize("day", ["0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01", "31/12/9999"])
def test_extreme_dates_are_refused_in_words(browsers: dict[str, Browser], world: World, day: str) -> None:
    manager = browsers["manager"]
    pid = world.partnership_id
    page = manager.post(f"/p/{pid}/meetings/new", {"kind": "board", "title": "Board", "held_on": day})
    assert page.status_code == 422
    assert re.search(r"Held on: (.*is not a date|.*is not between 1900 and 2199; check the year)", page.text)
    assert manager.get(f"/p/{pid}/network", params={"as_of": day}).status_code == 422
    assert manager.get(f"/p/{pid}/network/change", params={"from": day, "to": day}).status_code == 422
    assert manager.get(f"/p/{pid}/audit", params={"since": day, "until": day}).status_code == 200


def test_the_api_reads_dates_as_the_forms_do(app, db: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    _, token = accounts.create_api_token(db, actor=world.manager, name="t", secret_key=SECRET)
    db.commit()
    client = TestClient(app, base_url="https://testserver")
    url = f"/api/v1/partnerships/{world.partnership_id}/overview"
    headers = {"Authorization": f"Bearer {token}"}
    for day in ("0002-09-27", "9999-12-31"):  # the year before 0002-09-27 is year 1, before that year 0
        response = client.get(url, params={"as_of": day}, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"field": "as_of", "message": f"{day} is not between 1900 and 2199; check the year"}
        ]
    assert client.get(url, params={"as_of": "2026-03-31"}, headers=headers).json()["as_of"] == "2026-03-31"
    schema = client.get("/api/v1/openapi.json").json()
    (as_of,) = [
        p
        for p in schema["paths"]["/api/v1/partnerships/{partnership_id}/overview"]["get"]["parameters"]
        if p["name"] == "as_of"
    ]
    assert {"type": "string", "format": "date"} in as_of["schema"]["anyOf"]


def test_parse_date_keeps_dates_inside_the_years_records_hold() -> None:
    assert s.parse_date("2199-12-31") == date(2199, 12, 31)
    with pytest.raises(ValueError, match="9999-12-31 is not between 1900 and 2199"):
        s.parse_date(date(9999, 12, 31))


@pytest.mark.parametrize("weight", ["1e308", "nan", "inf", "-inf", "1e7"])
def test_weights_out_of_range_are_refused(
    browsers: dict[str, Browser], world: World, weight: str, tmp_path: Path, db: Session
) -> None:
    pid = world.partnership_id
    for params in (
        {"sources": "co_attendance", "w_co_attendance": weight},
        {"sources": "co_attendance", "min_weight": weight},
    ):
        page = browsers["manager"].get(f"/p/{pid}/network", params=params)
        assert page.status_code == 422, params
    from reticulist.network import ties

    with pytest.raises(ValueError):
        ties.parse_weight(weight)


def test_deeply_nested_instrument_files_are_refused(browsers: dict[str, Browser], world: World) -> None:
    manager = browsers["manager"]
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000, "[" * (MAX_DEPTH + 1)):
        page = manager.client.post(
            f"/p/{world.partnership_id}/barometer/instruments/new",
            data={"csrf_token": manager.csrf},
            files={"file": ("deep.json", text.encode(), "application/json")},
        )
        assert page.status_code == 422
        assert f"deep.json nests lists or objects more than {MAX_DEPTH} levels deep" in page.text
    # Brackets inside strings are text, not nesting.
    data = small_instrument_data(key="brackets")
    data["description"] = "[[[[" * 50
    assert parse_instrument(json.dumps(data)).description == "[[[[" * 50


# --- the size of a request -------------------------------------------------------------------------
@pytest.fixture
def small_limit_app(database_url: str, world: World):  # type: ignore[no-untyped-def]
    from reticulist.settings import Settings
    from reticulist.web.app import create_app

    return create_app(Settings(database_url=database_url, secret_key=SECRET, max_request_bytes=64 * 1024))


def test_a_body_past_the_limit_gets_413_with_words(small_limit_app, db: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    browser = Browser(small_limit_app, world.emails["manager"])
    pid = world.partnership_id
    big = "x" * (65 * 1024)
    page = browser.post(f"/p/{pid}/organisations/new", {"name": big, "kind": "police", "tier": "statutory"})
    assert page.status_code == 413
    assert "larger than 0.0625 MB, the most this server takes in one request" in page.text
    assert "<html" in page.text  # a page, in the layout
    _, token = accounts.create_api_token(db, actor=world.manager, name="t", secret_key=SECRET)
    db.commit()
    api = browser.client.post(
        f"/api/v1/partnerships/{pid}/professions",
        json={"name": big},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 413 and "larger than 0.0625 MB" in api.json()["detail"]

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):  # sent without a Content-Length: counted as it arrives
            yield b"x" * 8192

    streamed = browser.client.post(
        f"/api/v1/partnerships/{pid}/professions",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    upload = browser.client.post(
        f"/p/{pid}/barometer/instruments/new",
        data={"csrf_token": browser.csrf},
        files={"file": ("big.json", b" " * (70 * 1024), "application/json")},
    )
    assert upload.status_code == 413
    assert browser.post(f"/p/{pid}/professions/new", {"name": "Nurse"}).status_code == 303  # small: fine
