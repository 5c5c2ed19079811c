"""Casework feeds the network (SQLite and PostgreSQL): practitioners in the same family's team are tied
("shared_cases"), an accepted referral ties its sender to whoever accepted it ("referrals"), and nothing
of the case travels with the tie."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.network import service as network
from tests.casework.conftest import TODAY, CaseWorld
from tests.casework.test_referrals import Receivers, receivers  # noqa: F401  (fixture)


def test_shared_cases_and_accepted_referrals_become_ties(
    db: Session,
    case_world: CaseWorld,
    receivers: Receivers,  # noqa: F811
) -> None:
    pid, manager, ids = case_world.world.partnership_id, case_world.world.manager, case_world.person_ids
    shared = network.ties_from(db, actor=manager, partnership_id=pid, source="shared_cases")
    assert [(t.person_a, t.person_b, t.weight, t.directed) for t in shared] == [
        (min(ids["lead"], ids["team"]), max(ids["lead"], ids["team"]), 1.0, False)
    ]
    # Before the team member joined (20 days ago), the window holds the lead alone: no tie.
    early = network.ties_from(
        db,
        actor=manager,
        partnership_id=pid,
        source="shared_cases",
        since=TODAY - timedelta(days=29),
        as_of=TODAY - timedelta(days=25),
    )
    assert early == []
    referral = casework.send_referral(
        db,
        actor=case_world.actors["team"],
        family_id=case_world.family_id,
        data=cs.ReferralCreate(
            to_organisation_id=receivers.csc_id, child_member_id=receivers.child_id, reason="x", sent_on=TODAY
        ),
    )
    declined = casework.send_referral(
        db,
        actor=case_world.actors["lead"],
        family_id=case_world.family_id,
        data=cs.ReferralCreate(
            to_organisation_id=receivers.csc_id, child_member_id=receivers.child_id, reason="y", sent_on=TODAY
        ),
    )
    db.commit()
    assert network.ties_from(db, actor=manager, partnership_id=pid, source="referrals") == []  # none decided
    casework.decide_referral(
        db,
        actor=receivers.social_worker,
        referral_id=referral.id,
        data=cs.ReferralDecision(decision="accept", decided_on=TODAY),
    )
    casework.decide_referral(
        db,
        actor=receivers.social_worker,
        referral_id=declined.id,
        data=cs.ReferralDecision(decision="decline", decided_on=TODAY, reason="no"),
    )
    db.commit()
    (tie,) = network.ties_from(db, actor=manager, partnership_id=pid, source="referrals")
    assert tie.person_a == ids["team"] and tie.directed and tie.weight == 1.0
    sw = tie.person_b
    shared = {
        (t.person_a, t.person_b)
        for t in network.ties_from(db, actor=manager, partnership_id=pid, source="shared_cases")
    }
    assert len(shared) == 3 and all(
        sw in pair or ids["lead"] in pair for pair in shared
    )  # the accepter joined the team
    figures = network.network_for(
        db, actor=manager, partnership_id=pid, sources={"shared_cases": 1, "referrals": 1}
    )
    assert figures is not None
