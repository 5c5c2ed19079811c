"""The access matrix extended to the routes that only let one read (SQLite and PostgreSQL): a practitioner a
decision shared the record with, and one using emergency access, over every casework page and API route.
They read the record (the parts shared, without shielded addresses), get "forbidden" on every change and on
"who has seen", and write nothing; once the share ends or the emergency access expires, "not found" again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Role
from reticulist.audit.models import AuditEvent
from reticulist.casework import break_glass, sharing
from reticulist.casework import schemas as cs
from reticulist.casework.models import BreakGlass, SharingDecision
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.casework.conftest import ROOT, TODAY, CaseWorld
from tests.conftest import APP_SECRET, PASSWORD, Browser
from tests.web.test_fuzz import _all_routes


def _practitioner(db: Session, cw: CaseWorld, name: str) -> tuple[str, int]:
    email = f"{name}@case.example.org"
    person = register.create_person(
        db,
        actor=ROOT,
        partnership_id=cw.world.partnership_id,
        data=s.parse(
            s.PersonCreate,
            {
                "full_name": f"{name.title()} Reader",
                "email": email,
                "organisation_id": cw.health_id,
                "hierarchy_tier": 5,
            },
        ),
    )
    user = accounts.create_user(db, actor=ROOT, email=email, display_name=name, password=PASSWORD)
    accounts.set_role(
        db, actor=ROOT, partnership_id=cw.world.partnership_id, user_id=user.id, role=Role.PRACTITIONER
    )
    from reticulist.casework import service as casework

    casework.link_practitioner(
        db, actor=ROOT, partnership_id=cw.world.partnership_id, user_id=user.id, person_id=person.id
    )
    db.commit()
    return email, person.id


@pytest.fixture
def readers(db: Session, case_world: CaseWorld) -> dict[str, str]:
    """Two practitioners of Brempton Health outside the team: one the lead shared people and plan with, one
    who used emergency access."""
    recipient, recipient_person = _practitioner(db, case_world, "recipient")
    glass, _ = _practitioner(db, case_world, "glass")
    sharing.record_decision(
        db,
        actor=case_world.actors["lead"],
        family_id=case_world.family_id,
        data=cs.parse(
            cs.SharingDecisionCreate,
            {
                "kinds": "people,plan",
                "recipient_organisation_id": case_world.health_id,
                "recipient_person_id": recipient_person,
                "purpose": "Health visiting.",
                "decision": "share",
                "reasons": "The school nurse needs the family's details and plan.",
                "family_told": "yes",
                "basis": "public_task",
                "access_until": (TODAY + timedelta(days=7)).isoformat(),
                "decided_on": TODAY.isoformat(),
            },
        ),
    )
    db.commit()
    from reticulist.access.models import User

    glass_actor = accounts.actor_for(db, db.scalar(select(User).where(User.email == glass)))
    break_glass.open_break_glass(
        db,
        actor=glass_actor,
        partnership_id=case_world.world.partnership_id,
        family_id=case_world.family_id,
        reason="Brought to A&E tonight; need the lead practitioner's contact.",
    )
    db.commit()
    return {"recipient": recipient, "glass": glass}


def _writes(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event != "viewed")) or 0


def test_readers_read_and_change_nothing_on_every_casework_page(
    app,
    db: Session,
    case_world: CaseWorld,
    readers: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    pid, fid = case_world.world.partnership_id, case_world.family_id
    ids = {
        "partnership_id": pid,
        "family_id": fid,
        "assessment_id": 1,
        "referral_id": 1,
        "consent_id": 1,
        "use_id": 1,
    }
    for persona, email in readers.items():
        browser = Browser(app, email)
        record = browser.get(f"/p/{pid}/cases/{fid}")
        assert record.status_code == 200, persona
        assert "Refuge" not in record.text  # never the shielded address
        assert "Record a sharing decision" not in record.text and "Add the note" not in record.text
        if persona == "recipient":
            assert "share decision" in record.text and "Ellie Marsh" in record.text
        assert browser.get(f"/p/{pid}/cases/{fid}/seen").status_code == 403
        before = _writes(db)
        for method, path in _all_routes(app):
            if method != "POST" or path.startswith("/api/") or "/cases/{family_id}/" not in path:
                continue
            if path.endswith("/break-glass"):
                continue  # asking for emergency access is every practitioner's (and recorded)
            url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
            status = browser.post(
                url, {"text": "x", "happened_on": TODAY.isoformat(), "kind": "other"}
            ).status_code
            assert status in (403, 404), (persona, path, status)
        assert _writes(db) == before, persona


def test_readers_through_the_api_and_when_their_access_ends(
    app,
    db: Session,
    case_world: CaseWorld,
    readers: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    from reticulist.access.models import User

    client = TestClient(app, base_url="https://testserver")
    base = f"/api/v1/partnerships/{case_world.world.partnership_id}/families/{case_world.family_id}"
    tokens = {}
    for persona, email in readers.items():
        actor = accounts.actor_for(db, db.scalar(select(User).where(User.email == email)))
        _, tokens[persona] = accounts.create_api_token(db, actor=actor, name="r", secret_key=APP_SECRET)
    db.commit()

    def call(persona: str, method: str, url: str, **kw):  # type: ignore[no-untyped-def]
        return client.request(
            method, base + url, headers={"Authorization": f"Bearer {tokens[persona]}"}, **kw
        )

    routes = {"recipient": "share decision", "glass": "break-glass"}
    for persona, route in routes.items():
        got = call(persona, "GET", "")
        assert got.status_code == 200 and got.json()["access"]["route"] == route
        assert "Refuge" not in got.text
        for url, body in [
            ("/notes", {"happened_on": TODAY.isoformat(), "kind": "other", "text": "x"}),
            ("/outcomes", {"text": "x"}),
            ("/assessment", {}),
            ("/sharing-decisions", {}),
        ]:
            assert call(persona, "POST", url, json=body).status_code in (403, 422), (persona, url)
        assert call(persona, "GET", "/seen").status_code == 403
    shared = call("recipient", "GET", "").json()
    assert shared["notes"] == [] and shared["assessments"] == [] and shared["members"]
    # When the share ends and the emergency access expires: not found, as for anyone outside.
    db.execute(update(SharingDecision).values(access_until=TODAY - timedelta(days=1)))
    db.execute(update(BreakGlass).values(expires_at=BreakGlass.opened_at))
    db.commit()
    for persona in routes:
        assert call(persona, "GET", "").status_code == 404
