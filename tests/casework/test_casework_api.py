"""Casework's JSON API (SQLite and PostgreSQL): the access matrix over every casework API route, one audit
row per read with ``via`` api, shielded details absent, and bad bodies refused at their field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.audit.models import AuditEvent
from tests.casework.conftest import TODAY, CaseWorld, family_data
from tests.conftest import APP_SECRET

PERSONAS = ("lead", "team", "colleague", "coordinator", "dpo", "manager", "member", "admin", "outsider")


@pytest.fixture
def api(app, db: Session, case_world: CaseWorld):  # type: ignore[no-untyped-def]
    tokens = {}
    for persona in PERSONAS:
        _, tokens[persona] = accounts.create_api_token(
            db, actor=case_world.actors[persona], name="casework", secret_key=APP_SECRET
        )
    db.commit()
    client = TestClient(app, base_url="https://testserver")

    def call(persona: str, method: str, url: str, **kw: Any) -> Any:
        base = f"/api/v1/partnerships/{case_world.world.partnership_id}"
        headers = {"Authorization": f"Bearer {tokens[persona]}"}
        return client.request(method, base + url, headers=headers, **kw)

    return call


def test_the_access_matrix_over_the_casework_api(api, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    fid = case_world.family_id
    dob = (TODAY - timedelta(days=9 * 365)).isoformat()
    expected = {
        "/cases": dict(
            lead=200,
            team=200,
            colleague=200,
            coordinator=200,
            dpo=403,
            manager=403,
            member=403,
            admin=403,
            outsider=404,
        ),
        f"/cases/search?surname=Marsh&date_of_birth={dob}": dict(
            lead=200,
            team=200,
            colleague=200,
            coordinator=200,
            dpo=403,
            manager=403,
            member=403,
            admin=403,
            outsider=404,
        ),
        f"/families/{fid}": dict(
            lead=200,
            team=200,
            colleague=404,
            coordinator=200,
            dpo=403,
            manager=403,
            member=403,
            admin=403,
            outsider=404,
        ),
        f"/families/{fid}/seen": dict(
            lead=200,
            team=403,
            colleague=404,
            coordinator=403,
            dpo=200,
            manager=404,
            member=404,
            admin=404,
            outsider=404,
        ),
        "/referrals": dict(
            lead=200,
            team=200,
            colleague=200,
            coordinator=200,
            dpo=403,
            manager=403,
            member=403,
            admin=403,
            outsider=404,
        ),
    }
    for url, by_persona in expected.items():
        got = {p: api(p, "GET", url).status_code for p in PERSONAS}
        assert got == by_persona, url
    assert api("lead", "GET", f"/families/{fid + 1000}").status_code == 404
    assert (
        api("colleague", "GET", f"/families/{fid}").json()
        == api("lead", "GET", f"/families/{fid + 1000}").json()
    )


def test_the_record_by_api_is_audited_and_leaves_out_what_the_reader_may_not_see(
    api,
    case_world: CaseWorld,
    db: Session,  # type: ignore[no-untyped-def]
) -> None:
    fid = case_world.family_id
    lead = api("lead", "GET", f"/families/{fid}")
    team = api("team", "GET", f"/families/{fid}")
    assert lead.status_code == team.status_code == 200
    assert (
        lead.json()["access"]["route"] == "lead practitioner"
        and team.json()["access"]["route"] == "team member"
    )
    assert "Refuge" in lead.text and "Refuge" not in team.text and "BN2 9ZZ" not in team.text
    assert team.json()["members"][1]["addresses_withheld"] == 1
    db.rollback()
    reads = db.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "family", AuditEvent.event == "viewed", AuditEvent.via == "api"
        )
    ).all()
    assert sorted(r.actor_label for r in reads) == ["lead@case.example.org", "team@case.example.org"]


def test_bad_bodies_are_refused_at_their_field_and_write_nothing(api, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    fid = case_world.family_id
    note = {"happened_on": TODAY.isoformat(), "kind": "meeting", "text": "Met at school."}
    assert api("team", "POST", f"/families/{fid}/notes", json=note).status_code == 201
    for body, field, words in [
        ({**note, "kind": "gossip"}, "kind", "is not one of"),
        ({**note, "happened_on": (TODAY + timedelta(days=1)).isoformat()}, "happened_on", "is in the future"),
        ({**note, "text": ""}, "text", "is required"),
        ({**note, "extra": 1}, "extra", "is not a field of this record"),
    ]:
        refused = api("team", "POST", f"/families/{fid}/notes", json=body)
        assert refused.status_code == 422, body
        problems = {p["field"]: p["message"] for p in refused.json()["detail"]}
        assert words in problems.get(field, ""), problems
    assert api("colleague", "POST", f"/families/{fid}/notes", json=note).status_code == 404
    assert api("manager", "POST", f"/families/{fid}/notes", json=note).status_code == 403
    family = family_data(None, case_world.person_ids["lead"], reference="EH-API")
    bad = {**family, "members": [{**family["members"][0], "nhs_number": "943 476 5918"}], "agreed_by": 1}
    refused = api("lead", "POST", "/families", json=bad)
    assert refused.status_code == 422
    assert {p["field"] for p in refused.json()["detail"]} == {"members.0.nhs_number"}
    agreed = api("lead", "POST", "/families", json={**family, "agreed_by": 9})
    assert agreed.status_code == 422 and agreed.json()["detail"][0]["field"] == "agreed_by"
    created = api("lead", "POST", "/families", json=family)
    assert created.status_code == 201 and created.json()["reference"] == "EH-API"
    assert api("lead", "GET", f"/families/{created.json()['id']}").status_code == 200
    record = api("team", "GET", f"/families/{fid}").json()
    assert [n["text"] for n in record["notes"]] == ["Met at school."]


def test_the_whole_episode_through_the_api(api, case_world: CaseWorld, db: Session) -> None:  # type: ignore[no-untyped-def]
    """Team, plan, review, assessment, referral, lead and closing through the API, with the same rules and
    words as the pages; those not allowed get 403 or 404 and change nothing."""
    fid = case_world.family_id
    base = f"/families/{fid}"
    today = TODAY.isoformat()
    join = {"person_id": case_world.person_ids["colleague"], "role": "Youth worker", "from_on": today}
    assert api("team", "POST", f"{base}/team", json=join).status_code == 403  # only the lead or coordinator
    assert api("colleague", "POST", f"{base}/team", json=join).status_code == 404
    assert api("manager", "POST", f"{base}/team", json=join).status_code == 403
    joined = api("lead", "POST", f"{base}/team", json=join)
    assert joined.status_code == 201
    again = api("lead", "POST", f"{base}/team", json=join)
    assert again.status_code == 422 and "already in the team" in again.json()["detail"][0]["message"]
    outcome = api("team", "POST", f"{base}/outcomes", json={"text": "Ellie is at school every day"}).json()[
        "id"
    ]
    action = {
        "outcome_id": outcome,
        "text": "Walking bus",
        "owner_involvement_id": joined.json()["id"],
        "due_on": today,
    }
    action_id = api("lead", "POST", f"{base}/actions", json=action).json()["id"]
    bad = api("lead", "POST", f"{base}/actions", json={**action, "owner_involvement_id": 999_999})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "owner_involvement_id"
    review = {
        "held_on": today,
        "progress": [{"action_id": action_id, "status": "done"}],
        "attendee_involvement_ids": [],
    }
    assert api("lead", "POST", f"{base}/reviews", json=review).status_code == 201
    early = api("lead", "POST", f"{base}/reviews", json={**review, "held_on": "2001-01-01"})
    assert early.status_code == 422 and early.json()["detail"][0]["field"] == "held_on"
    draft = api("team", "POST", f"{base}/assessment").json()["id"]
    whole = {
        "development_needs": "Attendance",
        "parenting_strengths": "Warm",
        "family_needs": "Housing",
        "childs_words": "Mornings are hard.",
    }
    incomplete = api(
        "team", "PUT", f"{base}/assessment/{draft}?complete=true", json={**whole, "childs_words": ""}
    )
    assert incomplete.status_code == 422 and incomplete.json()["detail"][0]["field"] == "childs_words"
    assert api("team", "PUT", f"{base}/assessment/{draft}?complete=true", json=whole).status_code == 200
    locked = api("team", "PUT", f"{base}/assessment/{draft}", json=whole)
    assert locked.status_code == 422 and "locked" in locked.json()["detail"][0]["message"]
    assert api("team", "PUT", f"{base}/assessment/{draft + 999}", json=whole).status_code == 404
    record = api("lead", "GET", base).json()
    assert (
        record["assessments"][0]["status"] == "completed"
        and record["plan"][0]["actions"][0]["status"] == "done"
    )
    child = record["members"][0]["id"]
    referral = {
        "to_organisation_id": case_world.health_id,
        "child_member_id": child,
        "reason": "Health needs",
        "sent_on": today,
    }
    assert api("team", "POST", f"{base}/referrals", json=referral).status_code == 201
    assert (
        api("coordinator", "POST", f"{base}/referrals", json=referral).status_code == 403
    )  # not in the team
    nurse = next(t for t in record["episodes"][0]["team"] if t["name"] == "Team Practitioner")
    lead = {"involvement_id": nurse["involvement_id"], "from_on": today, "family_had_say": True}
    assert api("team", "POST", f"{base}/lead", json=lead).status_code == 403
    assert api("lead", "POST", f"{base}/lead", json=lead).status_code == 200
    close = {"closed_on": today, "outcome": "stepped_down"}
    assert api("lead", "POST", f"{base}/close", json=close).status_code == 403  # no longer the lead
    assert api("team", "POST", f"{base}/close", json={**close, "outcome": "gone"}).status_code == 422
    assert api("team", "POST", f"{base}/close", json=close).status_code == 200
    assert api("team", "GET", base).status_code == 404  # the team's sight ended with the episode
    closed = api("coordinator", "POST", f"{base}/outcomes", json={"text": "x"})
    assert (
        closed.status_code == 422
        and closed.json()["detail"][0]["message"] == "this family has no open episode"
    )
