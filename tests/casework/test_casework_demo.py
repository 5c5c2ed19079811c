"""The demo's casework (SQLite and PostgreSQL): about 400 families over three years, one current lead per
open episode, referrals declined and late, one shielded address, 004's vignette, and a practitioner who
bridges agencies in practice without a board seat; the same seed gives the same casework."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.models import User
from reticulist.casework import figures
from reticulist.casework import service as casework
from reticulist.casework.demo import add_demo_casework
from reticulist.casework.models import CaseNote, Episode, Family, LeadPractitioner, MemberAddress, Referral
from reticulist.network import service as network
from reticulist.register.demo import build_demo, create_demo_accounts, demo_actor
from reticulist.register.models import Person, Seat

TODAY = date.today()


def test_the_demo_casework_tells_its_story(db: Session) -> None:
    pid = build_demo(db, today=TODAY)
    cases = add_demo_casework(db, actor=demo_actor(), partnership_id=pid, seed=2016, today=TODAY)
    create_demo_accounts(db, partnership_id=pid, practitioner_person_id=cases.lead_person_id)
    db.commit()
    assert cases.families == 400 == db.scalar(select(func.count()).select_from(Family))
    open_episodes = db.scalars(select(Episode.id).where(Episode.closed_on.is_(None))).all()
    assert 50 <= len(open_episodes) <= 200
    current_leads = db.execute(
        select(LeadPractitioner.episode_id, func.count())
        .where(LeadPractitioner.to_on.is_(None))
        .group_by(LeadPractitioner.episode_id)
    ).all()
    assert {e for e, _ in current_leads} == set(open_episodes) and all(n == 1 for _, n in current_leads)
    statuses = dict(db.execute(select(Referral.status, func.count()).group_by(Referral.status)).all())
    assert (
        statuses.get("declined", 0) >= 5 and statuses.get("accepted", 0) >= 10 and statuses.get("sent") == 3
    )
    assert all(r.decline_reason for r in db.scalars(select(Referral).where(Referral.status == "declined")))
    assert db.scalar(select(func.count()).select_from(MemberAddress).where(MemberAddress.shielded)) == 1
    vignette = db.scalars(select(CaseNote.text).where(CaseNote.family_id == cases.vignette_family_id)).all()
    assert any("the teacher spoke first" in text for text in vignette)

    # The practitioner login leads families; the coordinator opens any record; the manager none.
    practitioner = accounts.actor_for(
        db, db.scalar(select(User).where(User.email.startswith("practitioner@")))
    )
    caseload = casework.my_caseload(db, actor=practitioner, partnership_id=pid)
    assert caseload and any(line.leads for line in caseload)
    coordinator = accounts.actor_for(db, db.scalar(select(User).where(User.email.startswith("coordinator@"))))
    record = casework.family_record(db, actor=coordinator, family_id=caseload[0].family_id)
    assert record.access.route == "early help coordinator"
    (late,) = [
        r for r in casework.referrals_to_my_organisation(db, actor=coordinator, partnership_id=pid)
    ] or [None]
    assert late is None  # the coordinator is no practitioner of children's social care: no inbox

    # The bridge: no board seat, in teams with practitioners of many organisations.
    bridge = db.get(Person, cases.bridge_person_id)
    assert bridge is not None
    assert db.scalar(select(func.count()).select_from(Seat).where(Seat.person_id == bridge.id)) == 0
    ties = network.ties_from(db, actor=demo_actor(), partnership_id=pid, source="shared_cases")
    partners = {
        t.person_b if t.person_a == bridge.id else t.person_a
        for t in ties
        if bridge.id in (t.person_a, t.person_b)
    }
    organisations = {db.get(Person, p).organisation_id for p in partners}  # type: ignore[union-attr]
    assert len(organisations) >= 8

    # The board's casework figures: every ended quarter published but the latest, left for the manager;
    # the last one published shows some organisations' figures.
    manager = accounts.actor_for(db, db.scalar(select(User).where(User.email.startswith("manager@"))))
    left = figures.publishable_quarters(db, actor=manager, partnership_id=pid, today=TODAY)
    assert left == [figures.quarter_key(figures.quarter_of(figures.quarter_of(TODAY) - timedelta(days=1)))]
    published = figures.releases(db, actor=manager, partnership_id=pid)
    assert len(published) >= 10
    latest = figures.release(db, actor=manager, partnership_id=pid, quarter=published[0].quarter)
    shown = [r for t in latest.tables for r in t["breakdowns"][0]["rows"] if r["count"] is not None]
    assert len(shown) >= 2


def test_the_same_seed_gives_the_same_casework(db: Session) -> None:
    pid = build_demo(db, today=TODAY)
    add_demo_casework(db, actor=demo_actor(), partnership_id=pid, seed=5, today=TODAY, families=40)
    first = db.execute(select(Family.reference, Episode.opened_on, Episode.outcome).join(Episode)).all()
    db.rollback()
    pid = build_demo(db, today=TODAY)
    add_demo_casework(db, actor=demo_actor(), partnership_id=pid, seed=5, today=TODAY, families=40)
    assert (
        db.execute(select(Family.reference, Episode.opened_on, Episode.outcome).join(Episode)).all() == first
    )
