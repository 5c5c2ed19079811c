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
