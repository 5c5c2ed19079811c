"""A retried form post or API write is done once: the same form key or Idempotency-Key from the same
account gets the first answer back, on SQLite and PostgreSQL, one after the other and all at once."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reticulist.access import request_keys
from reticulist.access import service as accounts
from reticulist.access.models import ApiToken
from reticulist.access.request_keys import RequestKey
from reticulist.audit.models import AuditEvent
from reticulist.db.base import utcnow
from reticulist.register.models import Meeting, Person
from reticulist.web.deps import SESSION_COOKIE
from reticulist.web.idempotency import _digest
from tests.conftest import Browser, World

MEETING = {"kind": "board", "title": "Spring board", "held_on": "2025-03-27", "notes": ""}


def _form_key(html: str) -> str:
    match = re.search(r'name="form_key" value="([^"]+)"', html)
    assert match, "the form carries no form_key"
    return match.group(1)


def _meetings(db: Session, world: World) -> list[Meeting]:
    db.rollback()  # a fresh read of what the app's own sessions committed
    return list(db.scalars(select(Meeting).where(Meeting.partnership_id == world.partnership_id)))


def _count(db: Session, model: type, **where: Any) -> int:
    db.rollback()
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.scalar(query) or 0


def _new_meeting_key(browser: Browser, world: World) -> str:
    return _form_key(browser.get(f"/p/{world.partnership_id}/meetings/new").text)


# --- forms, one sending after the other ----------------------------------------------------------------
def test_every_form_that_changes_data_carries_a_new_key_each_time_it_is_shown(
    browsers: dict[str, Browser], world: World
) -> None:
    manager = browsers["manager"]
    url = f"/p/{world.partnership_id}/meetings/new"
    first, second = _form_key(manager.get(url).text), _form_key(manager.get(url).text)
    assert first != second and len(first) >= 20
    roles = manager.get(f"/p/{world.partnership_id}/roles").text
    keys = re.findall(r'name="form_key" value="([^"]+)"', roles)
    assert len(keys) == roles.count('name="csrf_token"') - 1  # every form but the log-out button's
    assert len(set(keys)) == len(keys)


def test_a_form_sent_twice_makes_one_meeting_and_both_answers_go_to_it(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    manager = browsers["manager"]
    key = _new_meeting_key(manager, world)
    url = f"/p/{world.partnership_id}/meetings/new"
    first = manager.post(url, {**MEETING, "form_key": key})
    second = manager.post(url, {**MEETING, "form_key": key})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    [meeting] = _meetings(db, world)
    assert first.headers["location"].startswith(f"/p/{world.partnership_id}/meetings/{meeting.id}?")
    assert _count(db, AuditEvent, record_type="meeting", event="created") == 1


def test_the_same_page_sent_again_with_other_values_is_new_work(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    """Back, change a field, send: the browser may send the page's old key again, with other values."""
    manager = browsers["manager"]
    key = _new_meeting_key(manager, world)
    url = f"/p/{world.partnership_id}/meetings/new"
    first = manager.post(url, {**MEETING, "form_key": key})
    second = manager.post(url, {**MEETING, "title": "Summer board", "form_key": key})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] != second.headers["location"]
    assert sorted(m.title for m in _meetings(db, world)) == ["Spring board", "Summer board"]


def test_a_refused_first_sending_does_not_block_its_retry_or_the_corrected_form(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    manager = browsers["manager"]
    key = _new_meeting_key(manager, world)
    url = f"/p/{world.partnership_id}/meetings/new"
    bad = {**MEETING, "held_on": "31/02/2025", "form_key": key}
    refused = manager.post(url, bad)
    assert refused.status_code == 422 and "is not a date" in refused.text
    again = manager.post(url, bad)  # the refusal kept nothing: the retry is checked again
    assert again.status_code == 422 and "is not a date" in again.text
    assert _form_key(refused.text) != key  # the form shown again has a key of its own
    assert _meetings(db, world) == []
    corrected = manager.post(url, {**MEETING, "form_key": key})
    assert corrected.status_code == 303
    assert len(_meetings(db, world)) == 1
    assert _count(db, RequestKey) == 1


def test_another_account_sending_the_same_key_is_not_held_back(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    key = _new_meeting_key(browsers["manager"], world)
    url = f"/p/{world.partnership_id}/meetings/new"
    by_manager = browsers["manager"].post(url, {**MEETING, "form_key": key})
    by_admin = browsers["admin"].post(url, {**MEETING, "form_key": key})
    assert by_manager.status_code == by_admin.status_code == 303
    assert by_manager.headers["location"] != by_admin.headers["location"]
    assert len(_meetings(db, world)) == 2


def test_a_form_without_a_key_works_as_before_and_is_not_held(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    """A page opened before keys existed: each sending is done."""
    url = f"/p/{world.partnership_id}/meetings/new"
    assert browsers["manager"].post(url, MEETING).status_code == 303
    assert browsers["manager"].post(url, MEETING).status_code == 303
    assert len(_meetings(db, world)) == 2
    assert _count(db, RequestKey) == 0


def test_a_form_whose_first_answer_was_a_page_says_it_was_done_once(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    """Making an API token answers with a page that shows the token once; sent again, the token is not
    made again and the page says the form was already done."""
    manager = browsers["manager"]
    key = _form_key(manager.get("/account").text)
    first = manager.post("/account/tokens", {"name": "laptop", "form_key": key})
    assert first.status_code == 200 and "rtl_" in first.text
    second = manager.post(
        "/account/tokens",
        {"name": "laptop", "form_key": key},
        headers={"Referer": "https://testserver/account"},
    )
    assert second.status_code == 200 and "Already sent" in second.text and "rtl_" not in second.text
    assert 'href="/account"' in second.text
    assert _count(db, ApiToken, name="laptop") == 1


def test_a_form_key_gets_around_neither_the_csrf_check_nor_the_role(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    """A refused sending (wrong CSRF token, a member) keeps no claim: the right one is done."""
    manager, member = browsers["manager"], browsers["member"]
    key = _new_meeting_key(manager, world)
    url = f"/p/{world.partnership_id}/meetings/new"
    forged = manager.client.post(url, data={**MEETING, "form_key": key, "csrf_token": "wrong"})
    assert forged.status_code == 403
    assert member.post(url, {**MEETING, "form_key": key}).status_code == 403
    assert _meetings(db, world) == []
    assert _count(db, RequestKey) == 0
    assert manager.post(url, {**MEETING, "form_key": key}).status_code == 303


# --- a second sending while the first is still running --------------------------------------------------
def _form_claim(world: World, key: str, values: dict[str, str]) -> tuple[str, str]:
    """The key and fingerprint as stored for the meeting form sent with ``values`` (web/idempotency.py)."""
    path = f"/p/{world.partnership_id}/meetings/new"
    sent = [item for name, value in values.items() for item in (name, value)]
    fingerprint = _digest("POST", path, "", *sent)
    return _digest("form", key, fingerprint), fingerprint


def _user_id(db: Session, world: World) -> int:
    assert world.manager.user_id is not None
    return world.manager.user_id


@pytest.mark.parametrize("first_commits", [True, False], ids=["first-done", "first-failed"])
def test_a_second_sending_waits_for_the_first_then_answers_as_it_did_or_does_the_work(
    db: Session,
    session_factory: sessionmaker[Session],
    browsers: dict[str, Browser],
    world: World,
    first_commits: bool,
) -> None:
    """The first sending is played by a transaction held open here: the second waits for it (PostgreSQL on
    the unique constraint, SQLite on the write lock). Done: the second answers with the first's redirect
    and does nothing. Rolled back: the second does the work."""
    manager = browsers["manager"]
    key = _new_meeting_key(manager, world)
    values = {**MEETING, "form_key": key}
    stored_key, fingerprint = _form_claim(world, key, MEETING)
    first = session_factory()
    first_location = f"/p/{world.partnership_id}/meetings/999?done=created"
    now = utcnow()
    assert request_keys.claim(
        first, user_id=_user_id(db, world), key=stored_key, fingerprint=fingerprint, now=now
    )
    answers: list[Any] = []
    second = threading.Thread(
        target=lambda: answers.append(manager.post(f"/p/{world.partnership_id}/meetings/new", values))
    )
    second.start()
    time.sleep(0.6)
    assert second.is_alive(), "the second sending did not wait for the first"
    if first_commits:
        first.execute(RequestKey.__table__.update().values(status=303, location=first_location))
        first.commit()
    else:
        first.rollback()
    first.close()
    second.join(timeout=20)
    assert not second.is_alive()
    [answer] = answers
    assert answer.status_code == 303
    if first_commits:
        assert answer.headers["location"] == first_location
        assert _meetings(db, world) == []
    else:
        [meeting] = _meetings(db, world)
        assert answer.headers["location"] == f"/p/{world.partnership_id}/meetings/{meeting.id}?done=created"


def test_an_expired_key_is_claimed_afresh_and_old_keys_are_swept(
    db: Session, browsers: dict[str, Browser], world: World
) -> None:
    manager = browsers["manager"]
    key = _new_meeting_key(manager, world)
    stored_key, fingerprint = _form_claim(world, key, MEETING)
    long_ago = utcnow() - request_keys.KEEP_FOR - timedelta(minutes=1)
    user_id = _user_id(db, world)
    assert request_keys.claim(db, user_id=user_id, key=stored_key, fingerprint=fingerprint, now=long_ago)
    request_keys.record_answer(db, user_id=user_id, key=stored_key, status=303, location="/old", body=None)
    assert request_keys.claim(db, user_id=user_id, key="another", fingerprint="y", now=long_ago)
    db.commit()
    answer = manager.post(f"/p/{world.partnership_id}/meetings/new", {**MEETING, "form_key": key})
    assert answer.status_code == 303 and answer.headers["location"] != "/old"
    assert len(_meetings(db, world)) == 1
    assert request_keys.sweep(db) == 1  # "another"; the claim just made is kept
    db.commit()
    assert _count(db, RequestKey) == 1


def test_a_claim_that_failed_after_committing_is_let_go(db: Session, world: World) -> None:
    user_id = _user_id(db, world)
    assert request_keys.claim(db, user_id=user_id, key="k", fingerprint="f")
    db.commit()
    assert not request_keys.claim(db, user_id=user_id, key="k", fingerprint="f")
    db.rollback()
    assert request_keys.earlier(db, user_id=user_id, key="k") == request_keys.Earlier("f", None, None, None)
    request_keys.release(db, user_id=user_id, key="k")
    db.commit()
    assert request_keys.earlier(db, user_id=user_id, key="k") is None
    assert request_keys.claim(db, user_id=user_id, key="k", fingerprint="f")
    request_keys.record_answer(db, user_id=user_id, key="k", status=303, location="/there", body=None)
    db.commit()
    request_keys.release(db, user_id=user_id, key="k")  # a claim with its answer stays
    db.commit()
    assert request_keys.earlier(db, user_id=user_id, key="k") == request_keys.Earlier(
        "f", 303, "/there", None
    )


# --- a real server, many sendings at once --------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The test app served by uvicorn over real HTTP on 127.0.0.1."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _at_once(count: int, send: Callable[[httpx2.Client], httpx2.Response], base_url: str) -> list[Any]:
    """``count`` clients, each on its own thread and connection, sending together."""
    start = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def client(i: int) -> None:
        with httpx2.Client(base_url=base_url, timeout=60) as http:
            start.wait()
            answers[i] = send(http)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return answers


SENDERS = 8


def test_a_form_sent_by_many_at_once_makes_one_meeting(
    db: Session, browsers: dict[str, Browser], world: World, live_url: str
) -> None:
    manager = browsers["manager"]
    key = _new_meeting_key(manager, world)
    cookie = f"{SESSION_COOKIE}={manager.client.cookies.get(SESSION_COOKIE)}"
    form = {**MEETING, "form_key": key, "csrf_token": manager.csrf}
    path = f"/p/{world.partnership_id}/meetings/new"
    answers = _at_once(SENDERS, lambda http: http.post(path, data=form, headers={"Cookie": cookie}), live_url)
    assert [a.status_code for a in answers] == [303] * SENDERS
    [meeting] = _meetings(db, world)
    assert {a.headers["location"] for a in answers} == {f"{path[:-4]}/{meeting.id}?done=created"}
    assert _count(db, AuditEvent, record_type="meeting", event="created") == 1


def test_an_api_write_sent_by_many_at_once_adds_one_person(
    db: Session, app: FastAPI, world: World, live_url: str
) -> None:
    _, token = accounts.create_api_token(
        db, actor=world.manager, name="script", secret_key=app.state.settings.secret_key
    )
    db.commit()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "c0ffee00-0000-4000-8000-000000000001"}
    body = {"full_name": "Ann Jones", "organisation_id": world.organisation_id, "hierarchy_tier": 3}
    path = f"/api/v1/partnerships/{world.partnership_id}/people"
    answers = _at_once(SENDERS, lambda http: http.post(path, json=body, headers=headers), live_url)
    assert [a.status_code for a in answers] == [201] * SENDERS
    assert len({a.text for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == SENDERS - 1
    assert _count(db, Person, full_name="Ann Jones") == 1


# --- the API's Idempotency-Key --------------------------------------------------------------------------
@pytest.fixture
def api(app: FastAPI, browsers: dict[str, Browser], db: Session, world: World) -> Callable[..., Any]:
    """``api(persona, method, url, key=None, json=...)`` with that persona's bearer token."""
    tokens = {}
    for persona in ("manager", "admin"):
        _, tokens[persona] = accounts.create_api_token(
            db, actor=getattr(world, persona), name="tests", secret_key=app.state.settings.secret_key
        )
    db.commit()
    client = browsers["anonymous"].client

    def call(persona: str, method: str, url: str, key: str | bytes | None = None, **kw: Any) -> Any:
        headers: dict[str, str | bytes] = {"Authorization": f"Bearer {tokens[persona]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.request(
            method, f"/api/v1/partnerships/{world.partnership_id}{url}", headers=headers, **kw
        )

    return call


def _person(world: World, name: str = "Ann Jones") -> dict[str, Any]:
    return {"full_name": name, "organisation_id": world.organisation_id, "hierarchy_tier": 3}


def test_an_api_write_sent_twice_with_one_key_is_done_once_and_answered_alike(
    db: Session, api: Callable[..., Any], world: World
) -> None:
    first = api("manager", "POST", "/people", key="k-1", json=_person(world))
    second = api("manager", "POST", "/people", key='"k-1"', json=_person(world))  # the draft's quoted form
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert "idempotent-replayed" not in first.headers and second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == "application/json"
    assert _count(db, Person, full_name="Ann Jones") == 1
    person_id = first.json()["id"]
    changed = {**_person(world), "hierarchy_tier": 2}
    put = [api("manager", "PUT", f"/people/{person_id}", key="k-2", json=changed) for _ in range(2)]
    assert [p.status_code for p in put] == [200, 200] and put[0].json() == put[1].json()
    assert _count(db, AuditEvent, record_type="person", event="changed") == 1


def test_the_same_key_with_another_request_is_refused(
    db: Session, api: Callable[..., Any], world: World
) -> None:
    assert api("manager", "POST", "/people", key="k-1", json=_person(world)).status_code == 201
    other = api("manager", "POST", "/people", key="k-1", json=_person(world, "Bob Smith"))
    assert other.status_code == 422
    [problem] = other.json()["detail"]
    assert problem["field"] == "Idempotency-Key" and "another request" in problem["message"]
    elsewhere = api("manager", "POST", "/professions", key="k-1", json={"name": "Health visitor"})
    assert elsewhere.status_code == 422
    assert _count(db, Person) == 1


def test_without_a_key_each_api_write_is_done(db: Session, api: Callable[..., Any], world: World) -> None:
    assert api("manager", "POST", "/people", json=_person(world)).status_code == 201
    assert api("manager", "POST", "/people", json=_person(world)).status_code == 201
    assert _count(db, Person, full_name="Ann Jones") == 2
    assert _count(db, RequestKey) == 0


def test_a_refused_api_write_leaves_its_key_free_and_accounts_keep_their_own_keys(
    db: Session, api: Callable[..., Any], world: World
) -> None:
    bad = api("manager", "POST", "/people", key="k-1", json={**_person(world), "hierarchy_tier": 9})
    assert bad.status_code == 422
    assert api("manager", "POST", "/people", key="k-1", json=_person(world)).status_code == 201
    by_admin = api("admin", "POST", "/people", key="k-1", json=_person(world))
    assert by_admin.status_code == 201 and "idempotent-replayed" not in by_admin.headers
    assert _count(db, Person, full_name="Ann Jones") == 2


@pytest.mark.parametrize("key", [b"", b'""', b"x" * 256, "caf\u00e9".encode(), b"tab\there"])
def test_a_bad_idempotency_key_is_refused_naming_the_header(
    db: Session, api: Callable[..., Any], world: World, key: bytes
) -> None:
    answer = api("manager", "POST", "/people", key=key, json=_person(world))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "Idempotency-Key"
    assert _count(db, Person) == 0


def test_reads_ignore_the_idempotency_key(api: Callable[..., Any]) -> None:
    assert api("manager", "GET", "/people", key="x" * 300).status_code == 200
