"""The register's JSON API for each persona: bearer tokens and browser sessions, every record type,
audit, refusals and the OpenAPI description."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Role, cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import Browser, World

Body = Callable[[dict[str, int]], dict[str, Any]]


@dataclass(frozen=True)
class Spec:
    """How to exercise one record type through the API."""

    path: str
    record_type: str  # as the audit log names it
    create: Body
    update: Body
    changed: tuple[str, Any]  # a field the update changes, and its new value
    end: str  # the action that ends the record
    end_body: dict[str, Any] | None
    ended: tuple[str, Any]


SPECS = {
    "organisations": Spec(
        "organisations",
        "organisation",
        lambda ids: {"name": "Brempton Homes", "kind": "housing", "tier": "involved"},
        lambda ids: {"name": "Brempton Homes Ltd", "kind": "Housing", "tier": "other_member"},
        ("name", "Brempton Homes Ltd"),
        "end",
        {"ended_on": "2025-01-31"},
        ("ended_on", "2025-01-31"),
    ),
    "professions": Spec(
        "professions",
        "profession",
        lambda ids: {"name": "Health visitor"},
        lambda ids: {"name": "Specialist health visitor"},
        ("name", "Specialist health visitor"),
        "end",
        {"ended_on": "2025-02-28"},
        ("ended_on", "2025-02-28"),
    ),
    "people": Spec(
        "people",
        "person",
        lambda ids: {"full_name": "Ann Jones", "organisation_id": ids["organisation"], "hierarchy_tier": 3},
        lambda ids: {
            "full_name": "Ann Jones",
            "organisation_id": ids["organisation"],
            "profession_id": ids["profession"],
            "hierarchy_tier": "2",
            "late_entry": "yes",
        },
        ("hierarchy_tier", 2),
        "end",
        {"ended_on": "2025-03-31"},
        ("ended_on", "2025-03-31"),
    ),
    "seats": Spec(
        "seats",
        "seat",
        lambda ids: {
            "organisation_id": ids["organisation"],
            "person_id": ids["person"],
            "started_on": "2024-01-01",
        },
        lambda ids: {
            "organisation_id": ids["organisation"],
            "person_id": ids["person"],
            "role": "chair",
            "started_on": "2024-01-01",
        },
        ("role", "chair"),
        "end",
        {"ended_on": "2025-06-30"},
        ("ended_on", "2025-06-30"),
    ),
    "meetings": Spec(
        "meetings",
        "meeting",
        lambda ids: {"title": "Board", "held_on": "2025-03-01"},
        lambda ids: {"kind": "away_day", "title": "Away day", "held_on": "01/03/2025", "notes": "Trust"},
        ("title", "Away day"),
        "cancel",
        None,
        ("cancelled", True),
    ),
    "actions": Spec(
        "actions",
        "action",
        lambda ids: {"title": "Audit referrals", "owner_person_id": ids["person"], "due_on": "2099-01-31"},
        lambda ids: {"title": "Audit referrals", "status": "in_progress", "due_on": "2099-01-31"},
        ("status", "in_progress"),
        "close",
        {"status": "dropped"},
        ("status", "dropped"),
    ),
}
RECORDS = list(SPECS)


@pytest.fixture
def ids(db: Session, world: World) -> dict[str, int]:
    """One record of each type in the partnership, for the personas to try."""
    root = cli_actor("test set-up")
    pid = world.partnership_id
    person = register.create_person(
        db,
        actor=root,
        partnership_id=pid,
        data=s.PersonCreate(full_name="Dana Okafor", organisation_id=world.organisation_id, hierarchy_tier=2),
    )
    seat = register.create_seat(
        db,
        actor=root,
        partnership_id=pid,
        data=s.SeatCreate(
            organisation_id=world.organisation_id, person_id=person.id, started_on="2024-01-01"
        ),
    )
    meeting = register.create_meeting(
        db, actor=root, partnership_id=pid, data=s.MeetingCreate(title="Board", held_on="2025-01-10")
    )
    action = register.create_action(
        db, actor=root, partnership_id=pid, data=s.ActionCreate(title="Publish the annual report")
    )
    db.commit()
    return {
        "organisations": world.organisation_id,
        "professions": world.profession_id,
        "people": person.id,
        "seats": seat.id,
        "meetings": meeting.id,
        "actions": action.id,
        "organisation": world.organisation_id,
        "profession": world.profession_id,
        "person": person.id,
    }


@pytest.fixture
def tokens(app: FastAPI, db: Session, world: World) -> dict[str, str]:
    """A personal API token per persona."""
    out = {}
    for persona in ("manager", "member", "outsider"):
        _, token = accounts.create_api_token(
            db, actor=getattr(world, persona), name="tests", secret_key=app.state.settings.secret_key
        )
        out[persona] = token
    db.commit()
    return out


@pytest.fixture
def api(browsers: dict[str, Browser], tokens: dict[str, str]) -> Callable[..., Any]:
    """``api(persona, method, url, json=...)`` with that persona's bearer token and no cookies."""
    client = browsers["anonymous"].client

    def call(persona: str, method: str, url: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {tokens[persona]}"} if persona in tokens else {}
        headers.update(kw.pop("headers", {}))
        return client.request(method, "/api/v1" + url, headers=headers, **kw)

    return call


def _audit(db: Session, **where: Any) -> list[AuditEvent]:
    db.rollback()  # a fresh read of what the API's own sessions committed
    query = select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(db.scalars(query))


def _audit_count(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.mark.parametrize("record", RECORDS)
def test_manager_creates_reads_updates_and_ends_each_record_type(
    api: Callable[..., Any], db: Session, world: World, ids: dict[str, int], record: str
) -> None:
    spec = SPECS[record]
    base = f"/partnerships/{world.partnership_id}/{spec.path}"
    created = api("manager", "POST", base, json=spec.create(ids))
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    assert created.json()["partnership_id"] == world.partnership_id

    assert api("manager", "GET", f"{base}/{record_id}").json() == created.json()
    assert record_id in [r["id"] for r in api("manager", "GET", base).json()]

    updated = api("manager", "PUT", f"{base}/{record_id}", json=spec.update(ids))
    assert updated.status_code == 200, updated.text
    field, value = spec.changed
    assert updated.json()[field] == value
    assert api("manager", "GET", f"{base}/{record_id}").json()[field] == value

    ended = api("manager", "POST", f"{base}/{record_id}/{spec.end}", json=spec.end_body)
    assert ended.status_code == 200, ended.text
    field, value = spec.ended
    assert ended.json()[field] == value

    events = _audit(db, record_type=spec.record_type, record_id=record_id)
    assert [e.event for e in events] == ["created", "changed", "ended"]
    assert {(e.via, e.actor_label) for e in events} == {("api", world.emails["manager"])}


@pytest.mark.parametrize("record", RECORDS)
def test_member_reads_but_cannot_change(
    api: Callable[..., Any], db: Session, world: World, ids: dict[str, int], record: str
) -> None:
    spec = SPECS[record]
    base = f"/partnerships/{world.partnership_id}/{spec.path}"
    record_id = ids[record]
    assert ids[record] in [r["id"] for r in api("member", "GET", base).json()]
    assert api("member", "GET", f"{base}/{record_id}").json()["id"] == record_id
    before = _audit_count(db)
    writes = [
        ("POST", base, spec.create(ids)),
        ("PUT", f"{base}/{record_id}", spec.update(ids)),
        ("POST", f"{base}/{record_id}/{spec.end}", spec.end_body),
    ]
    for method, url, body in writes:
        response = api("member", method, url, json=body)
        assert response.status_code == 403, (method, url, response.text)
        assert "edit-register" in response.json()["detail"]
    assert _audit_count(db) == before


@pytest.mark.parametrize("record", RECORDS)
def test_outsider_gets_not_found_for_everything(
    api: Callable[..., Any], db: Session, world: World, ids: dict[str, int], record: str
) -> None:
    spec = SPECS[record]
    base = f"/partnerships/{world.partnership_id}/{spec.path}"
    record_id = ids[record]
    before = _audit_count(db)
    calls = [
        ("GET", base, None),
        ("GET", f"{base}/{record_id}", None),
        ("POST", base, spec.create(ids)),
        ("PUT", f"{base}/{record_id}", spec.update(ids)),
        ("POST", f"{base}/{record_id}/{spec.end}", spec.end_body),
    ]
    for method, url, body in calls:
        response = api("outsider", method, url, json=body)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json() == {"detail": "Not found."}
    assert _audit_count(db) == before


def test_partnerships_for_each_persona(api: Callable[..., Any], world: World) -> None:
    listed = api("member", "GET", "/partnerships").json()
    assert [p["name"] for p in listed] == ["Brempton Test Partnership"]
    one = api("member", "GET", f"/partnerships/{world.partnership_id}")
    assert one.status_code == 200 and one.json()["kind"] == "safeguarding_children"
    assert api("outsider", "GET", f"/partnerships/{world.partnership_id}").status_code == 404
    assert api("outsider", "GET", f"/partnerships/{world.partnership_id}/overview").status_code == 404
    assert api("manager", "GET", "/partnerships/999999/organisations").status_code == 404


def test_without_credentials_or_with_a_revoked_token_is_401(
    api: Callable[..., Any], app: FastAPI, db: Session, world: World, tokens: dict[str, str]
) -> None:
    base = f"/partnerships/{world.partnership_id}/organisations"
    body = SPECS["organisations"].create({})
    assert api("anonymous", "GET", base).status_code == 401
    assert api("anonymous", "POST", base, json=body).status_code == 401
    assert api("anonymous", "POST", base, json={"name": ""}).status_code == 401  # before any validation
    token = accounts.list_api_tokens(db, actor=world.manager)[0]
    accounts.revoke_api_token(db, actor=world.manager, token_id=token.id)
    db.commit()
    assert api("manager", "GET", base).status_code == 401
    refused = api("manager", "POST", base, json=body)
    assert refused.status_code == 401 and "not valid" in refused.json()["detail"]
    assert not _audit(db, record_type="organisation", via="api")


def test_browser_session_needs_the_csrf_header_on_writes(
    browsers: dict[str, Browser], db: Session, world: World
) -> None:
    manager = browsers["manager"]
    base = f"/api/v1/partnerships/{world.partnership_id}/organisations"
    assert manager.client.get(base).status_code == 200  # reads need no header
    body = SPECS["organisations"].create({})
    refused = manager.client.post(base, json=body)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    wrong = manager.client.post(base, json=body, headers={"X-CSRF-Token": "not-it"})
    assert wrong.status_code == 403
    assert not _audit(db, record_type="organisation", event="created", via="api")
    created = manager.client.post(base, json=body, headers={"X-CSRF-Token": manager.csrf})
    assert created.status_code == 201
    [event] = _audit(db, record_type="organisation", event="created", via="api")
    assert event.record_id == created.json()["id"]


def test_record_of_another_partnership_is_not_found_through_this_one(
    api: Callable[..., Any], db: Session, world: World, ids: dict[str, int]
) -> None:
    root = cli_actor("test set-up")
    elsewhere = register.create_organisation(
        db,
        actor=root,
        partnership_id=world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    user_id = world.manager.user_id
    assert user_id is not None
    accounts.set_role(
        db, actor=root, partnership_id=world.other_partnership_id, user_id=user_id, role=Role.MANAGER
    )
    db.commit()
    here = f"/partnerships/{world.partnership_id}/organisations/{elsewhere.id}"
    there = f"/partnerships/{world.other_partnership_id}/organisations/{elsewhere.id}"
    assert api("manager", "GET", there).status_code == 200
    assert api("manager", "GET", here).status_code == 404
    body = {"name": "Renamed", "kind": "police", "tier": "statutory"}
    assert api("manager", "PUT", here, json=body).status_code == 404
    assert api("manager", "POST", f"{here}/end", json={"ended_on": "2025-01-01"}).status_code == 404
    assert api("manager", "GET", there).json()["name"] == "Elsewhere Police"
    # A seat in this partnership cannot point at the other partnership's organisation either.
    seat = {"organisation_id": elsewhere.id, "person_id": ids["person"], "started_on": "2025-01-01"}
    refused = api("manager", "POST", f"/partnerships/{world.partnership_id}/seats", json=seat)
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {"field": "organisation_id", "message": "no such organisation in this partnership"}
    ]


BAD_BODIES = [
    (
        "POST",
        "people",
        {"full_name": "Ann", "organisation_id": "{organisation}", "hierarchy_tier": "six"},
        "hierarchy_tier",
        '"six" is not 1-5',
    ),
    (
        "POST",
        "organisations",
        {"name": "X", "kind": "polce", "tier": "statutory"},
        "kind",
        '"polce" is not one of',
    ),
    ("POST", "organisations", {"kind": "police", "tier": "statutory"}, "name", "is required"),
    ("POST", "professions", {"name": "X", "colour": "red"}, "colour", "is not a field of this record"),
    (
        "POST",
        "organisations",
        {"name": "Brempton Police", "kind": "police", "tier": "statutory"},
        "name",
        '"Brempton Police" is already in this partnership',
    ),
    (
        "POST",
        "seats",
        {"organisation_id": "abc", "person_id": "{person}", "started_on": "2024-01-01"},
        "organisation_id",
        '"abc" is not a record number',
    ),
    (
        "POST",
        "seats",
        {
            "organisation_id": "{organisation}",
            "person_id": "{person}",
            "started_on": "2024-01-01",
            "ended_on": "2023-01-01",
        },
        "ended_on",
        "2023-01-01 is before started_on 2024-01-01",
    ),
    ("POST", "meetings", {"title": "Board", "held_on": "tomorrow"}, "held_on", '"tomorrow" is not a date'),
    ("POST", "meetings", None, "body", "is required"),
    (
        "POST",
        "actions",
        {"title": "X", "owner_person_id": 999999},
        "owner_person_id",
        "no such person in this partnership",
    ),
    (
        "POST",
        "seats/{seats}/end",
        {"ended_on": "31/12/2023"},
        "ended_on",
        "2023-12-31 is before started_on 2024-01-01",
    ),
    ("POST", "people/{people}/end", {}, "ended_on", "is required"),
    ("POST", "actions/{actions}/close", {"status": "open"}, "status", "closing needs status done or dropped"),
    ("POST", "actions/{actions}/close", {"status": "finished"}, "status", '"finished" is not one of'),
    (
        "POST",
        "seats/{seats}/hand-over",
        {"person_id": "{person}", "on": "2025-01-01"},
        "person_id",
        "is already the holder of this seat",
    ),
    (
        "PUT",
        "seats/{seats}",
        {"organisation_id": "{organisation}", "person_id": 999999, "started_on": "2024-01-01"},
        "person_id",
        "no such person in this partnership",
    ),
    (
        "PUT",
        "meetings/{meetings}/attendance",
        [{"person_id": "{person}", "status": "here"}],
        "entries.0.status",
        '"here" is not one of',
    ),
    (
        "PUT",
        "meetings/{meetings}/attendance",
        [{"person_id": "{person}", "status": "present"}, {"person_id": "{person}", "status": "absent"}],
        "entries.1.person_id",
        "is listed twice",
    ),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    """Put the set-up's record ids into a body or path written with {placeholders}."""
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize(("method", "path", "body", "field", "message"), BAD_BODIES)
def test_bad_body_is_422_naming_the_field_and_changes_nothing(
    api: Callable[..., Any],
    db: Session,
    world: World,
    ids: dict[str, int],
    method: str,
    path: str,
    body: Any,
    field: str,
    message: str,
) -> None:
    before = _audit_count(db)
    url = f"/partnerships/{world.partnership_id}/" + path.format(**ids)
    response = api("manager", method, url, json=_fill(body, ids))
    assert response.status_code == 422, response.text
    problems = {p["field"]: p["message"] for p in response.json()["detail"]}
    assert field in problems, problems
    assert message in problems[field], problems
    assert _audit_count(db) == before


def test_malformed_json_and_bad_filters_are_422(api: Callable[..., Any], world: World) -> None:
    base = f"/partnerships/{world.partnership_id}"
    response = api(
        "manager",
        "POST",
        f"{base}/professions",
        content=b'{"name": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": "body", "message": "is not valid JSON"}]
    status = api("manager", "GET", f"{base}/actions", params={"status": "finished"})
    assert status.status_code == 422 and status.json()["detail"][0]["field"] == "status"
    assert api("manager", "GET", f"{base}/people/abc").json()["detail"][0] == {
        "field": "person_id",
        "message": '"abc" is not a record number',
    }


def test_hand_over_attendance_and_filters(
    api: Callable[..., Any], db: Session, world: World, ids: dict[str, int]
) -> None:
    base = f"/partnerships/{world.partnership_id}"
    newcomer = api(
        "manager",
        "POST",
        f"{base}/people",
        json={"full_name": "Sam Lee", "organisation_id": ids["organisation"], "hierarchy_tier": 4},
    ).json()
    handed = api(
        "manager",
        "POST",
        f"{base}/seats/{ids['seats']}/hand-over",
        json={"person_id": newcomer["id"], "on": "2025-03-31"},
    )
    assert handed.status_code == 201, handed.text
    assert handed.json()["person_id"] == newcomer["id"] and handed.json()["started_on"] == "2025-04-01"
    assert api("manager", "GET", f"{base}/seats/{ids['seats']}").json()["ended_on"] == "2025-03-31"
    current = api("member", "GET", f"{base}/seats", params={"current": "true"}).json()
    assert [seat["person_id"] for seat in current] == [newcomer["id"]]
    assert len(api("member", "GET", f"{base}/seats").json()) == 2
    held = api("member", "GET", f"{base}/seats", params={"person_id": ids["person"]}).json()
    assert [seat["id"] for seat in held] == [ids["seats"]]

    attendance = f"{base}/meetings/{ids['meetings']}/attendance"
    assert api("member", "GET", attendance).json() == []
    entries = [
        {"person_id": ids["person"], "status": "apologies"},
        {"person_id": newcomer["id"], "status": "Deputy attended"},
    ]
    recorded = api("manager", "PUT", attendance, json=entries)
    assert recorded.status_code == 200, recorded.text
    assert {(a["person_id"], a["status"], a["organisation_id"]) for a in recorded.json()} == {
        (ids["person"], "apologies", ids["organisation"]),
        (newcomer["id"], "deputy_attended", ids["organisation"]),
    }
    again = api("manager", "PUT", attendance, json=[{"person_id": ids["person"], "status": "present"}])
    assert {a["person_id"]: a["status"] for a in again.json()} == {
        ids["person"]: "present",
        newcomer["id"]: "deputy_attended",
    }
    assert api("member", "PUT", attendance, json=entries).status_code == 403
    assert api("outsider", "GET", attendance).status_code == 404
    assert [e.event for e in _audit(db, record_type="attendance", via="api")] == [
        "created",
        "created",
        "changed",
    ]

    other = api("manager", "POST", f"{base}/organisations", json=SPECS["organisations"].create({})).json()
    in_other = api("member", "GET", f"{base}/people", params={"organisation_id": other["id"]}).json()
    assert in_other == []
    assert (
        len(api("member", "GET", f"{base}/people", params={"organisation_id": ids["organisation"]}).json())
        == 2
    )

    api("manager", "POST", f"{base}/actions", json={"title": "Dropped idea"})
    last = api("manager", "GET", f"{base}/actions").json()[-1]
    api("manager", "POST", f"{base}/actions/{last['id']}/close", json={"status": "dropped"})
    dropped = api("member", "GET", f"{base}/actions", params={"status": "dropped"}).json()
    assert [a["title"] for a in dropped] == ["Dropped idea"]
    assert [a["id"] for a in api("member", "GET", f"{base}/actions", params={"status": "open"}).json()] == [
        ids["actions"]
    ]


def test_openapi_lists_every_path_with_a_summary_and_tag(browsers: dict[str, Browser]) -> None:
    spec = browsers["anonymous"].get("/api/v1/openapi.json").json()
    records = "/api/v1/partnerships/{partnership_id}"
    expected = {
        "/api/v1/partnerships": {"get"},
        records: {"get"},
        records + "/overview": {"get"},
        records + "/seats/{seat_id}/hand-over": {"post"},
        records + "/meetings/{meeting_id}/attendance": {"get", "put"},
    }
    for path, singular, end in [
        ("organisations", "organisation", "end"),
        ("professions", "profession", "end"),
        ("people", "person", "end"),
        ("seats", "seat", "end"),
        ("meetings", "meeting", "cancel"),
        ("actions", "action", "close"),
    ]:
        expected[f"{records}/{path}"] = {"get", "post"}
        expected[f"{records}/{path}/{{{singular}_id}}"] = {"get", "put"}
        expected[f"{records}/{path}/{{{singular}_id}}/{end}"] = {"post"}
    paths = {p: ops for p, ops in spec["paths"].items() if p.startswith("/api/v1/")}
    for path, methods in expected.items():
        assert methods <= set(paths.get(path, {})), path
        for method in methods:
            operation = paths[path][method]
            assert operation["summary"] and operation["description"] and operation["tags"], (path, method)
    person = spec["components"]["schemas"]["PersonCreate"]["properties"]
    assert {"full_name", "organisation_id", "hierarchy_tier"} <= set(person)
    assert "OverviewFigures" in spec["components"]["schemas"]
