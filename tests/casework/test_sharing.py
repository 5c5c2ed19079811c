"""Lawful information sharing (SQLite and PostgreSQL): each rule tried as someone would break it. A share
grants its named recipient only the parts it names, until its date; not sharing grants nothing; a public
authority may not rely on legitimate interests; consent is a basis only where a live consent covers the
recipient and the information; withdrawing it ends the access resting on it at once (not other access)
and tells the lead; bad input is refused at its field and writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reticulist.access.policy import NotAllowed, NotFound
from reticulist.audit.models import AuditEvent
from reticulist.casework import break_glass, sharing
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.models import CaseNote, Consent, SharingDecision
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.casework.conftest import ROOT, TODAY, CaseWorld

POLICE_SHARE = {
    "kinds": "people,plan",
    "purpose": "Joint safety planning with the neighbourhood team.",
    "decision": "share",
    "reasons": "Risk from an adult outside the home; the plan needs police input.",
    "family_told": "yes",
    "family_views": "Mother agrees; Ellie would rather the school did not know.",
    "basis": "public_task",
    "decided_on": TODAY.isoformat(),
}


def _decision(cw: CaseWorld, **change: Any) -> cs.SharingDecisionCreate:
    data = {
        **POLICE_SHARE,
        "recipient_organisation_id": cw.world.organisation_id,
        "recipient_person_id": cw.person_ids["colleague"],
        "access_until": (TODAY + timedelta(days=30)).isoformat(),
        **change,
    }
    return cs.parse(cs.SharingDecisionCreate, {k: v for k, v in data.items() if v is not None})


def _counts(db: Session) -> tuple[int, int]:
    db.rollback()
    return (
        db.scalar(select(func.count()).select_from(SharingDecision)) or 0,
        db.scalar(select(func.count()).select_from(Consent)) or 0,
    )


def _consent(db: Session, cw: CaseWorld, organisation_id: int, kinds: str = "people,plan") -> Consent:
    record = casework.family_record(db, actor=cw.actors["lead"], family_id=cw.family_id)
    consent = sharing.record_consent(
        db,
        actor=cw.actors["lead"],
        family_id=cw.family_id,
        data=cs.parse(
            cs.ConsentCreate,
            {
                "given_by_member_id": record.members[1].id,  # the mother, with parental responsibility
                "organisation_ids": str(organisation_id),
                "kinds": kinds,
                "given_on": TODAY.isoformat(),
            },
        ),
    )
    db.commit()
    return consent


def test_a_share_grants_its_recipient_only_the_parts_it_names_until_its_date(
    db: Session, case_world: CaseWorld
) -> None:
    a, fid = case_world.actors, case_world.family_id
    with pytest.raises(NotFound):
        casework.family_record(db, actor=a["colleague"], family_id=fid)
    decision = sharing.record_decision(db, actor=a["lead"], family_id=fid, data=_decision(case_world))
    db.commit()
    record = casework.family_record(db, actor=a["colleague"], family_id=fid)
    db.commit()
    assert record.access.route == "share decision" and record.access.sharing_decision_ids == (decision.id,)
    assert record.members and record.members[1].addresses == []  # people, never the shielded address
    assert (
        record.episodes == [] and record.notes == [] and record.assessments == [] and record.referrals == []
    )
    read = db.scalars(
        select(AuditEvent).where(AuditEvent.event == "viewed").order_by(AuditEvent.id.desc())
    ).first()
    assert read is not None and read.after["sharing_decisions"] == [decision.id]
    assert f"share decision ({decision.id})" in read.summary
    with pytest.raises(NotAllowed):  # to read, not to change
        casework.add_note(
            db,
            actor=a["colleague"],
            family_id=fid,
            data=cs.NoteCreate(happened_on=TODAY, kind="other", text="x"),
        )
    db.rollback()
    db.execute(update(SharingDecision).values(access_until=TODAY - timedelta(days=1)))
    db.commit()
    with pytest.raises(NotFound):
        casework.family_record(db, actor=a["colleague"], family_id=fid)


def test_a_decision_not_to_share_is_recorded_with_its_reasons_and_grants_nothing(
    db: Session, case_world: CaseWorld
) -> None:
    a = case_world.actors
    decision = sharing.record_decision(
        db,
        actor=a["lead"],
        family_id=case_world.family_id,
        data=_decision(
            case_world,
            decision="not_share",
            reasons="Not needed for their purpose; the family objected.",
            family_told="no",
            not_told_reason="Telling the father would put the mother at risk.",
        ),
    )
    db.commit()
    assert decision.basis is None and decision.access_until is None and not decision.family_told
    with pytest.raises(NotFound):
        casework.family_record(db, actor=a["colleague"], family_id=case_world.family_id)
    event = db.scalar(select(AuditEvent).where(AuditEvent.event == "not-shared"))
    assert event is not None and event.after["decision_id"] == decision.id


def test_a_public_authority_may_not_rely_on_legitimate_interests(db: Session, case_world: CaseWorld) -> None:
    a, fid = case_world.actors, case_world.family_id
    before = _counts(db)
    for basis in ("legitimate_interests", "recognised_legitimate_interest"):
        with pytest.raises(InputError) as refused:  # the lead works for the police, a public authority
            sharing.record_decision(
                db, actor=a["lead"], family_id=fid, data=_decision(case_world, basis=basis)
            )
        assert "Brempton Police is a public authority" in refused.value.by_field()["basis"]
        db.rollback()
    assert _counts(db) == before
    # A voluntary organisation's practitioner in the team may.
    charity = register.create_organisation(
        db,
        actor=ROOT,
        partnership_id=case_world.world.partnership_id,
        data=s.OrganisationCreate(name="Home-Start Brempton", kind="voluntary", tier="other_member"),
    )
    db.flush()
    volunteer = register.create_person(
        db,
        actor=ROOT,
        partnership_id=case_world.world.partnership_id,
        data=s.parse(
            s.PersonCreate, {"full_name": "Vi Volunteer", "organisation_id": charity.id, "hierarchy_tier": 5}
        ),
    )
    from reticulist.access import service as accounts
    from reticulist.access.policy import Role
    from tests.conftest import PASSWORD

    user = accounts.create_user(
        db, actor=ROOT, email="vi@case.example.org", display_name="Vi", password=PASSWORD
    )
    accounts.set_role(
        db,
        actor=ROOT,
        partnership_id=case_world.world.partnership_id,
        user_id=user.id,
        role=Role.PRACTITIONER,
    )
    casework.link_practitioner(
        db,
        actor=ROOT,
        partnership_id=case_world.world.partnership_id,
        user_id=user.id,
        person_id=volunteer.id,
    )
    casework.add_to_team(
        db,
        actor=a["lead"],
        episode_id=case_world.episode_id,
        data=cs.InvolvementCreate(person_id=volunteer.id, role="Family support volunteer", from_on=TODAY),
    )
    db.commit()
    vi = accounts.actor_for(db, user)
    decision = sharing.record_decision(
        db, actor=vi, family_id=fid, data=_decision(case_world, basis="legitimate_interests")
    )
    db.commit()
    assert decision.basis == "legitimate_interests" and decision.decider_organisation_id == charity.id


def test_consent_is_a_basis_only_where_a_live_consent_covers_it_and_withdrawing_ends_that_access(
    db: Session, case_world: CaseWorld
) -> None:
    a, fid, police = case_world.actors, case_world.family_id, case_world.world.organisation_id
    with pytest.raises(InputError) as refused:
        sharing.record_decision(
            db, actor=a["lead"], family_id=fid, data=_decision(case_world, basis="consent")
        )
    assert "no live consent covers" in refused.value.by_field()["basis"]
    db.rollback()
    _consent(db, case_world, case_world.health_id)  # another organisation
    _consent(db, case_world, police, kinds="people")  # not the plan
    with pytest.raises(InputError):
        sharing.record_decision(
            db, actor=a["lead"], family_id=fid, data=_decision(case_world, basis="consent")
        )
    db.rollback()
    covering = _consent(db, case_world, police)
    on_consent = sharing.record_decision(
        db, actor=a["lead"], family_id=fid, data=_decision(case_world, basis="consent")
    )
    db.commit()
    assert on_consent.consent_id == covering.id
    assert casework.family_record(db, actor=a["colleague"], family_id=fid).access.route == "share decision"
    db.commit()
    # Withdrawn: the access resting on it ends at once, and the lead is told in the chronology.
    ended = sharing.withdraw_consent(
        db, actor=a["lead"], consent_id=covering.id, data=cs.ConsentWithdraw(withdrawn_on=TODAY)
    )
    db.commit()
    assert [d.id for d in ended] == [on_consent.id]
    with pytest.raises(NotFound):
        casework.family_record(db, actor=a["colleague"], family_id=fid)
    note = db.scalar(select(CaseNote).where(CaseNote.author_label == "Reticulist"))
    assert note is not None and "withdrawn" in note.text and "Colleague Practitioner" in note.text
    assert any(
        "withdrawn" in n.text for n in casework.family_record(db, actor=a["lead"], family_id=fid).notes
    )
    db.commit()
    with pytest.raises(InputError):  # once
        sharing.withdraw_consent(
            db, actor=a["lead"], consent_id=covering.id, data=cs.ConsentWithdraw(withdrawn_on=TODAY)
        )
    db.rollback()
    # Access on another basis is not touched by a withdrawal.
    other = _consent(db, case_world, police)
    sharing.record_decision(
        db, actor=a["lead"], family_id=fid, data=_decision(case_world, basis="public_task")
    )
    sharing.record_decision(db, actor=a["lead"], family_id=fid, data=_decision(case_world, basis="consent"))
    db.commit()
    sharing.withdraw_consent(
        db, actor=a["lead"], consent_id=other.id, data=cs.ConsentWithdraw(withdrawn_on=TODAY)
    )
    db.commit()
    record = casework.family_record(db, actor=a["colleague"], family_id=fid)
    assert record.access.route == "share decision" and len(record.access.sharing_decision_ids) == 1


def test_special_category_data_needs_a_condition_and_explicit_consent_a_consent(
    db: Session, case_world: CaseWorld
) -> None:
    a, fid = case_world.actors, case_world.family_id
    with pytest.raises(InputError) as refused:
        _decision(case_world, special_category="yes")
    assert "Article 9 condition" in refused.value.by_field()["condition"]
    with pytest.raises(InputError) as refused:
        sharing.record_decision(
            db,
            actor=a["lead"],
            family_id=fid,
            data=_decision(case_world, special_category="yes", condition="explicit_consent"),
        )
    assert "no live consent" in refused.value.by_field()["condition"]
    db.rollback()
    decision = sharing.record_decision(
        db,
        actor=a["lead"],
        family_id=fid,
        data=_decision(case_world, special_category="yes", condition="safeguarding_children"),
    )
    db.commit()
    assert decision.condition == "safeguarding_children"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"purpose": ""}, "purpose"),
        ({"reasons": " "}, "reasons"),
        ({"family_told": "no", "not_told_reason": ""}, "not_told_reason"),
        ({"basis": ""}, "basis"),
        ({"basis": "because"}, "basis"),
        ({"kinds": ""}, "kinds"),
        ({"kinds": "people,secrets"}, "kinds"),
        ({"access_until": None}, "access_until"),
        ({"access_until": (TODAY - timedelta(days=2)).isoformat()}, "access_until"),
        ({"access_until": (TODAY + timedelta(days=400)).isoformat()}, "access_until"),
        ({"decided_on": (TODAY + timedelta(days=1)).isoformat()}, "decided_on"),
        ({"recipient_organisation_id": "abc"}, "recipient_organisation_id"),
        ({"purpose": "a\x00b"}, "purpose"),
    ],
)
def test_a_decision_missing_what_the_advice_asks_for_is_refused_at_its_field(
    db: Session, case_world: CaseWorld, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputError) as refused:
        _decision(case_world, **change)
    assert field in refused.value.by_field()


def test_recipients_consents_and_who_may_decide(db: Session, case_world: CaseWorld) -> None:
    a, fid, pid = case_world.actors, case_world.family_id, case_world.world.partnership_id
    before = _counts(db)
    other_org = register.create_organisation(
        db,
        actor=ROOT,
        partnership_id=case_world.world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Health", kind="health", tier="statutory"),
    )
    db.flush()
    for change, field in [
        (
            {"recipient_organisation_id": other_org.id, "recipient_person_id": None},
            "recipient_organisation_id",
        ),
        (
            {"recipient_organisation_id": case_world.health_id},
            "recipient_person_id",
        ),  # the colleague is police
    ]:
        with pytest.raises(InputError) as refused:
            sharing.record_decision(db, actor=a["lead"], family_id=fid, data=_decision(case_world, **change))
        assert field in refused.value.by_field()
        db.rollback()
    record = casework.family_record(db, actor=a["lead"], family_id=fid)
    db.commit()
    child, mother = record.members[0].id, record.members[1].id
    consent = {
        "organisation_ids": str(case_world.health_id),
        "kinds": "people",
        "given_on": TODAY.isoformat(),
    }
    assert sharing.record_consent(
        db,
        actor=a["lead"],
        family_id=fid,
        data=cs.parse(cs.ConsentCreate, {**consent, "given_by_member_id": child}),
    )  # the child, of sufficient understanding
    db.rollback()
    for change, field in [
        ({"given_by_member_id": 999_999}, "given_by_member_id"),
        ({"given_by_member_id": mother, "organisation_ids": str(other_org.id)}, "organisation_ids"),
        ({"given_by_member_id": mother, "organisation_ids": "x"}, "organisation_ids"),
        ({"given_by_member_id": mother, "kinds": "everything"}, "kinds"),
        ({"given_by_member_id": mother, "given_on": (TODAY + timedelta(days=3)).isoformat()}, "given_on"),
    ]:
        with pytest.raises(InputError) as refused:
            sharing.record_consent(
                db, actor=a["lead"], family_id=fid, data=cs.parse(cs.ConsentCreate, {**consent, **change})
            )
        assert field in refused.value.by_field()
        db.rollback()
    for persona, error in [
        ("manager", NotFound),
        ("member", NotFound),
        ("outsider", NotFound),
        ("colleague", NotFound),
    ]:
        with pytest.raises(error):
            sharing.record_decision(db, actor=a[persona], family_id=fid, data=_decision(case_world))
        db.rollback()
    # Emergency access reads; it does not decide.
    break_glass.open_break_glass(
        db,
        actor=a["colleague"],
        partnership_id=pid,
        family_id=fid,
        reason="Child missing tonight; need contacts.",
    )
    db.commit()
    with pytest.raises(NotAllowed):
        sharing.record_decision(db, actor=a["colleague"], family_id=fid, data=_decision(case_world))
    db.rollback()
    assert _counts(db) == before


def test_the_record_page_records_consents_and_decisions(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import Browser

    pid, fid = case_world.world.partnership_id, case_world.family_id
    lead, colleague = Browser(app, case_world.emails["lead"]), Browser(app, case_world.emails["colleague"])
    url = f"/p/{pid}/cases/{fid}"
    page = lead.get(url).text
    assert "Record a sharing decision" in page and "Record consent to share" in page
    record = casework.family_record(db, actor=case_world.actors["lead"], family_id=fid)
    db.commit()
    mother = record.members[1].id
    police = case_world.world.organisation_id
    before = _counts(db)
    bad = lead.post(f"{url}/consents", {"given_by_member_id": str(mother), "given_on": TODAY.isoformat()})
    assert bad.status_code == 422 and "choose at least one organisation" in bad.text
    assert _counts(db) == before
    consent = {
        "given_by_member_id": str(mother),
        f"consent_org_{police}": "yes",
        "consent_kind_people": "yes",
        "consent_kind_plan": "yes",
        "given_on": TODAY.isoformat(),
    }
    assert lead.post(f"{url}/consents", consent).status_code == 303
    decision = {
        "kind_people": "yes",
        "recipient_organisation_id": str(police),
        "recipient_person_id_search": "",
        "recipient_person_id": str(case_world.person_ids["colleague"]),
        "purpose": "Joint safety planning.",
        "decision": "share",
        "reasons": "Risk outside the home.",
        "basis": "legitimate_interests",
        "access_until": (TODAY + timedelta(days=10)).isoformat(),
        "family_told": "yes",
        "decided_on": TODAY.isoformat(),
    }
    refused = lead.post(f"{url}/sharing", decision)
    assert refused.status_code == 422 and "public authority" in refused.text
    assert lead.post(f"{url}/sharing", {**decision, "basis": "consent"}).status_code == 303
    shown = colleague.get(url)
    assert (
        shown.status_code == 200
        and "share decision" in shown.text
        and "Record a sharing decision" not in shown.text
    )
    assert colleague.post(f"{url}/sharing", {**decision, "basis": "public_task"}).status_code == 403
    consent_id = db.scalar(select(Consent.id))
    assert (
        lead.post(
            f"{url}/consents/{consent_id}/withdraw", {f"withdrawn_on_{consent_id}": "not a date"}
        ).status_code
        == 422
    )
    assert (
        lead.post(
            f"{url}/consents/{consent_id}/withdraw", {f"withdrawn_on_{consent_id}": TODAY.isoformat()}
        ).status_code
        == 303
    )
    assert colleague.get(url).status_code == 404
    assert "was withdrawn" in lead.get(url).text


def test_the_api_for_consents_and_decisions(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from reticulist.access import service as accounts
    from tests.conftest import APP_SECRET

    tokens = {}
    for persona in ("lead", "colleague", "manager", "outsider"):
        _, tokens[persona] = accounts.create_api_token(
            db, actor=case_world.actors[persona], name="s", secret_key=APP_SECRET
        )
    record = casework.family_record(db, actor=case_world.actors["lead"], family_id=case_world.family_id)
    db.commit()
    client = TestClient(app, base_url="https://testserver")
    base = f"/api/v1/partnerships/{case_world.world.partnership_id}"
    family = f"{base}/families/{case_world.family_id}"

    def call(persona: str, method: str, url: str, **kw):  # type: ignore[no-untyped-def]
        return client.request(method, url, headers={"Authorization": f"Bearer {tokens[persona]}"}, **kw)

    police = case_world.world.organisation_id
    consent = {
        "given_by_member_id": record.members[1].id,
        "organisation_ids": [police],
        "kinds": ["people"],
        "given_on": TODAY.isoformat(),
    }
    assert call("manager", "POST", f"{family}/consents", json=consent).status_code == 403
    assert call("outsider", "POST", f"{family}/consents", json=consent).status_code == 404
    assert call("lead", "POST", f"{family}/consents", json={**consent, "kinds": []}).status_code == 422
    created = call("lead", "POST", f"{family}/consents", json=consent)
    assert created.status_code == 201
    decision = {
        "kinds": ["people"],
        "recipient_organisation_id": police,
        "recipient_person_id": case_world.person_ids["colleague"],
        "purpose": "Safety planning.",
        "decision": "share",
        "reasons": "Risk outside the home.",
        "family_told": True,
        "basis": "recognised_legitimate_interest",
        "access_until": (TODAY + timedelta(days=5)).isoformat(),
        "decided_on": TODAY.isoformat(),
    }
    refused = call("lead", "POST", f"{family}/sharing-decisions", json=decision)
    assert refused.status_code == 422 and "public authority" in refused.text
    assert (
        call("lead", "POST", f"{family}/sharing-decisions", json={**decision, "basis": "consent"}).status_code
        == 201
    )
    db.rollback()
    reads = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "viewed")) or 0
    listed = call("lead", "GET", f"{family}/sharing").json()
    assert listed["decisions"][0]["in_force"] and listed["consents"][0]["withdrawn_on"] is None
    db.rollback()
    assert (
        db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "viewed"))
        == reads + 1
    )
    assert call("colleague", "GET", family).json()["access"]["route"] == "share decision"
    assert call("colleague", "GET", f"{family}/sharing").status_code == 403
    consent_id = created.json()["id"]
    assert (
        call(
            "lead", "POST", f"{base}/consents/{consent_id}/withdraw", json={"withdrawn_on": "nonsense"}
        ).status_code
        == 422
    )
    assert (
        call(
            "lead", "POST", f"{base}/consents/{consent_id}/withdraw", json={"withdrawn_on": TODAY.isoformat()}
        ).status_code
        == 200
    )
    assert call("colleague", "GET", family).status_code == 404
    assert (
        call(
            "lead", "POST", f"{base}/consents/999999/withdraw", json={"withdrawn_on": TODAY.isoformat()}
        ).status_code
        == 404
    )
