"""Referrals between agencies (SQLite and PostgreSQL): the receiving organisation sees only the referral
until it accepts, accepting puts its practitioner in the team, declining needs a reason, and the time to a
decision is counted in England and Wales working days, flagged past one for children's social care."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Actor, NotAllowed, NotFound, Role
from reticulist.audit.models import AuditEvent
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.models import Referral
from reticulist.casework.working_days import working_days, working_days_between
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.casework.conftest import ROOT, TODAY, CaseWorld
from tests.conftest import PASSWORD, Browser


@dataclass
class Receivers:
    social_worker: Actor
    social_worker_email: str
    csc_id: int
    child_id: int


@pytest.fixture
def receivers(db: Session, case_world: CaseWorld) -> Receivers:
    pid = case_world.world.partnership_id
    csc = register.create_organisation(
        db,
        actor=ROOT,
        partnership_id=pid,
        data=s.OrganisationCreate(
            name="Brempton Children's Social Care", kind="childrens_social_care", tier="statutory"
        ),
    )
    db.flush()
    email = "social.worker@case.example.org"
    user = accounts.create_user(db, actor=ROOT, email=email, display_name="Sol", password=PASSWORD)
    accounts.set_role(db, actor=ROOT, partnership_id=pid, user_id=user.id, role=Role.PRACTITIONER)
    person = register.create_person(
        db,
        actor=ROOT,
        partnership_id=pid,
        data=s.parse(
            s.PersonCreate, {"full_name": "Sol Worker", "organisation_id": csc.id, "hierarchy_tier": 5}
        ),
    )
    casework.link_practitioner(db, actor=ROOT, partnership_id=pid, user_id=user.id, person_id=person.id)
    db.commit()
    record = casework.family_record(db, actor=case_world.actors["lead"], family_id=case_world.family_id)
    db.commit()
    return Receivers(accounts.actor_for(db, user), email, csc.id, record.members[0].id)


def _refer(
    db: Session, case_world: CaseWorld, receivers: Receivers, *, by: str = "team", sent_on: date = TODAY
) -> Referral:
    referral = casework.send_referral(
        db,
        actor=case_world.actors[by],
        family_id=case_world.family_id,
        data=cs.ReferralCreate(
            to_organisation_id=receivers.csc_id,
            child_member_id=receivers.child_id,
            reason="Ellie disclosed harm at home.",
            sent_on=sent_on,
        ),
    )
    db.commit()
    return referral


def test_working_days_skip_weekends_and_england_and_wales_bank_holidays() -> None:
    assert working_days(date(2026, 11, 27), date(2026, 11, 30)) == 1  # Friday to Monday
    assert working_days(date(2026, 11, 30), date(2026, 11, 30)) == 0  # the same day
    assert working_days(date(2026, 11, 28), date(2026, 11, 30)) == 0  # sent on a Saturday: counts from Monday
    assert working_days(date(2026, 4, 2), date(2026, 4, 7)) == 1  # over Good Friday and Easter Monday
    assert working_days(date(2026, 12, 24), date(2026, 12, 29)) == 1  # Christmas, and Boxing Day observed
    assert working_days(date(2026, 8, 28), date(2026, 9, 1)) == 1  # the late summer bank holiday (31 Aug)
    assert working_days(date(2026, 12, 1), date(2026, 11, 30)) == -1
    many = working_days_between(
        [date(2026, 1, 5)] * 3, [date(2026, 1, 5), date(2026, 1, 9), date(2026, 1, 12)]
    )
    assert many.tolist() == [0, 4, 5]


def test_the_receiving_organisation_sees_the_referral_not_the_record(
    db: Session, case_world: CaseWorld, receivers: Receivers
) -> None:
    referral = _refer(db, case_world, receivers)
    sw = receivers.social_worker
    (waiting,) = casework.referrals_to_my_organisation(
        db, actor=sw, partnership_id=case_world.world.partnership_id
    )
    assert waiting.child == "Ellie Marsh" and waiting.limited and waiting.from_name == "Team Practitioner"
    view = casework.referral_for_recipient(db, actor=sw, referral_id=referral.id)
    assert view.reason == "Ellie disclosed harm at home." and view.status == "sent"
    with pytest.raises(NotFound):
        casework.family_record(db, actor=sw, family_id=case_world.family_id)
    for persona in ("colleague", "lead", "manager", "coordinator", "outsider"):
        with pytest.raises(NotFound):
            casework.referral_for_recipient(db, actor=case_world.actors[persona], referral_id=referral.id)
    db.commit()
    reads = db.scalars(
        select(AuditEvent).where(AuditEvent.record_type == "family", AuditEvent.event == "viewed")
    ).all()
    assert any(
        e.actor_label == receivers.social_worker_email and e.after["access"] == "referral recipient"
        for e in reads
    )  # type: ignore[index]


def test_accepting_puts_the_practitioner_in_the_team_and_declining_needs_a_reason(
    db: Session, case_world: CaseWorld, receivers: Receivers
) -> None:
    first = _refer(db, case_world, receivers)
    second = _refer(db, case_world, receivers, by="lead")
    sw = receivers.social_worker
    with pytest.raises(InputError) as no_reason:
        cs.parse(cs.ReferralDecision, {"decision": "decline", "decided_on": TODAY.isoformat()})
    assert no_reason.value.by_field() == {"reason": "say why the referral is declined"}
    with pytest.raises(InputError) as early:
        casework.decide_referral(
            db,
            actor=sw,
            referral_id=first.id,
            data=cs.ReferralDecision(decision="accept", decided_on=TODAY - timedelta(days=1)),
        )
    assert early.value.by_field() == {"decided_on": "is before the referral was sent"}
    db.rollback()
    for persona in ("team", "lead", "colleague"):
        with pytest.raises(NotFound):
            casework.decide_referral(
                db,
                actor=case_world.actors[persona],
                referral_id=first.id,
                data=cs.ReferralDecision(decision="accept", decided_on=TODAY),
            )
    casework.decide_referral(
        db,
        actor=sw,
        referral_id=first.id,
        data=cs.ReferralDecision(decision="accept", decided_on=TODAY, role="Social worker"),
    )
    casework.decide_referral(
        db,
        actor=sw,
        referral_id=second.id,
        data=cs.ReferralDecision(
            decision="decline", decided_on=TODAY, reason="Already known; see the first."
        ),
    )
    db.commit()
    record = casework.family_record(db, actor=sw, family_id=case_world.family_id)
    assert record.access.route == "team member"
    assert "Social worker" in {t.role for t in record.episodes[0].team}
    statuses = {r.id: (r.status, r.decline_reason) for r in record.referrals}
    assert statuses == {
        first.id: ("accepted", None),
        second.id: ("declined", "Already known; see the first."),
    }
    with pytest.raises(InputError) as twice:
        casework.decide_referral(
            db,
            actor=sw,
            referral_id=first.id,
            data=cs.ReferralDecision(decision="decline", decided_on=TODAY, reason="x"),
        )
    assert twice.value.by_field() == {"decision": "this referral was already accepted"}


def test_late_decisions_by_childrens_social_care_are_flagged(
    db: Session, case_world: CaseWorld, receivers: Receivers
) -> None:
    sent = TODAY - timedelta(days=10)  # at least six working days ago, whatever today is
    referral = _refer(db, case_world, receivers, sent_on=max(sent, TODAY - timedelta(days=29)))
    record = casework.family_record(db, actor=case_world.actors["lead"], family_id=case_world.family_id)
    (view,) = record.referrals
    assert view.status == "sent" and view.working_days >= 5 and view.late
    casework.decide_referral(
        db,
        actor=receivers.social_worker,
        referral_id=referral.id,
        data=cs.ReferralDecision(decision="accept", decided_on=referral.sent_on),
    )
    db.commit()
    (view,) = casework.family_record(
        db, actor=case_world.actors["lead"], family_id=case_world.family_id
    ).referrals
    assert view.working_days == 0 and not view.late


def test_bad_referrals_are_refused_and_only_the_sender_or_lead_withdraws(
    db: Session, case_world: CaseWorld, receivers: Receivers
) -> None:
    a = case_world.actors
    cases = [
        ({"to_organisation_id": 999_999}, "to_organisation_id", "is not an organisation of this partnership"),
        ({"child_member_id": 999_999}, "child_member_id", "is not one of this family's children"),
        ({"sent_on": TODAY - timedelta(days=365)}, "sent_on", "is before the episode opened"),
    ]
    for change, field, words in cases:
        data = {
            "to_organisation_id": receivers.csc_id,
            "child_member_id": receivers.child_id,
            "reason": "x",
            "sent_on": TODAY,
            **change,
        }
        with pytest.raises(InputError) as refused:
            casework.send_referral(
                db, actor=a["team"], family_id=case_world.family_id, data=cs.ReferralCreate(**data)
            )
        assert words in refused.value.by_field()[field]
        db.rollback()
    mother = casework.family_record(db, actor=a["lead"], family_id=case_world.family_id).members[1].id
    db.commit()
    with pytest.raises(InputError):
        casework.send_referral(
            db,
            actor=a["team"],
            family_id=case_world.family_id,
            data=cs.ReferralCreate(
                to_organisation_id=receivers.csc_id, child_member_id=mother, reason="x", sent_on=TODAY
            ),
        )
    db.rollback()
    with pytest.raises(NotAllowed):  # the coordinator sees the record but is not in the team
        _refer(db, case_world, receivers, by="coordinator")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Referral)) == 0
    referral = _refer(db, case_world, receivers)
    casework.withdraw_referral(db, actor=a["lead"], referral_id=referral.id)
    db.commit()
    with pytest.raises(InputError):
        casework.withdraw_referral(db, actor=a["team"], referral_id=referral.id)
    db.rollback()
    (view,) = casework.family_record(db, actor=a["lead"], family_id=case_world.family_id).referrals
    assert view.status == "withdrawn" and not view.late


def test_referral_pages(app, db: Session, case_world: CaseWorld, receivers: Receivers) -> None:  # type: ignore[no-untyped-def]
    pid, fid = case_world.world.partnership_id, case_world.family_id
    team, sw = Browser(app, case_world.emails["team"]), Browser(app, receivers.social_worker_email)
    form = {
        "to_organisation_id": str(receivers.csc_id),
        "child_member_id": str(receivers.child_id),
        "referral_reason": "",
        "sent_on": TODAY.isoformat(),
    }
    refused = team.post(f"/p/{pid}/cases/{fid}/referrals", form)
    assert refused.status_code == 422 and "is required" in refused.text
    sent = team.post(f"/p/{pid}/cases/{fid}/referrals", {**form, "referral_reason": "Disclosure at school."})
    assert sent.status_code == 303
    referral_id = db.scalar(select(Referral.id))
    inbox = sw.get(f"/p/{pid}/referrals").text
    assert "Ellie Marsh" in inbox and f"/p/{pid}/referrals/{referral_id}" in inbox
    page = sw.get(f"/p/{pid}/referrals/{referral_id}").text
    assert "Disclosure at school." in page and "1 Canal Row" not in page and "943 476 5919" not in page
    assert sw.get(f"/p/{pid}/cases/{fid}").status_code == 404
    assert team.get(f"/p/{pid}/referrals/{referral_id}").status_code == 404
    bad = sw.post(
        f"/p/{pid}/referrals/{referral_id}",
        {"decision": "decline", "decided_on": TODAY.isoformat(), "reason": ""},
    )
    assert bad.status_code == 422 and "say why the referral is declined" in bad.text
    accepted = sw.post(
        f"/p/{pid}/referrals/{referral_id}",
        {"decision": "accept", "decided_on": TODAY.isoformat(), "role": "Social worker"},
    )
    assert accepted.status_code == 303 and accepted.headers["location"].startswith(f"/p/{pid}/cases/{fid}")
    assert "1 Canal Row" in sw.get(f"/p/{pid}/cases/{fid}").text


def test_the_referral_recipient_on_every_casework_page_and_api_route(  # type: ignore[no-untyped-def]
    app, db: Session, case_world: CaseWorld, receivers: Receivers
) -> None:
    """The access matrix's referral recipient: their own casework pages, the referral itself, and nothing of
    the family's record until they accept."""
    from fastapi.testclient import TestClient

    from tests.conftest import APP_SECRET

    referral = _refer(db, case_world, receivers)
    pid, fid = case_world.world.partnership_id, case_world.family_id
    dob = (TODAY - timedelta(days=9 * 365)).isoformat()
    pages = {
        f"/p/{pid}/cases": 200,
        f"/p/{pid}/cases/new": 200,
        f"/p/{pid}/cases/search?surname=Marsh&date_of_birth={dob}": 200,
        f"/p/{pid}/cases/{fid}": 404,
        f"/p/{pid}/cases/{fid}/seen": 404,
        f"/p/{pid}/case-access": 403,
        f"/p/{pid}/referrals": 200,
        f"/p/{pid}/referrals/{referral.id}": 200,
    }
    browser = Browser(app, receivers.social_worker_email)
    assert {url: browser.get(url).status_code for url in pages} == pages
    search = browser.get(f"/p/{pid}/cases/search?surname=Marsh&date_of_birth={dob}").text
    assert "Known to early help." in search and f'/cases/{fid}"' not in search
    _, token = accounts.create_api_token(db, actor=receivers.social_worker, name="t", secret_key=APP_SECRET)
    db.commit()
    client = TestClient(app, base_url="https://testserver")
    headers = {"Authorization": f"Bearer {token}"}
    api = {
        "/cases": 200,
        f"/cases/search?surname=Marsh&date_of_birth={dob}": 200,
        f"/families/{fid}": 404,
        f"/families/{fid}/seen": 404,
        "/referrals": 200,
        f"/referrals/{referral.id}": 200,
    }
    got = {url: client.get(f"/api/v1/partnerships/{pid}{url}", headers=headers).status_code for url in api}
    assert got == api
    note = {"happened_on": TODAY.isoformat(), "kind": "meeting", "text": "x"}
    assert (
        client.post(
            f"/api/v1/partnerships/{pid}/families/{fid}/notes", json=note, headers=headers
        ).status_code
        == 404
    )
