"""Casework as tie sources of the network: who works with whom in practice, not only at the board.

- ``shared_cases``: two practitioners in the team around the same family in the same episode, at times
  that overlap the window (undirected; weight = episodes shared).
- ``referrals``: a practitioner's referral accepted by a practitioner of the receiving organisation
  (directed, from the sender to whoever accepted; weight = referrals).

Only people and counts leave casework: no family, child, reason or date of a case travels with a tie. The
network's own rules then apply (pseudonyms for members, names for managers).
"""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from reticulist.casework.models import Episode, Involvement, Referral
from reticulist.casework.vocab import ReferralStatus
from reticulist.network import ties as t
from reticulist.network.service import ObservedSource, register_observed_source

SHARED_CASES = "shared_cases"
REFERRALS = "referrals"


def shared_cases(session: Session, partnership_id: int, since: date | None, as_of: date) -> t.Edges:
    query = (
        select(Involvement.episode_id, Involvement.person_id)
        .join(Episode, Episode.id == Involvement.episode_id)
        .where(Episode.partnership_id == partnership_id, Involvement.from_on <= as_of)
    )
    if since is not None:  # in the team at some time in the window
        query = query.where(or_(Involvement.to_on.is_(None), Involvement.to_on >= since))
    return t.co_membership(session.execute(query).all())


def referrals(session: Session, partnership_id: int, since: date | None, as_of: date) -> t.Edges:
    sender, receiver = aliased(Involvement), aliased(Involvement)
    query = (
        select(sender.person_id, receiver.person_id, func.count())
        .select_from(Referral)
        .join(sender, sender.id == Referral.from_involvement_id)
        .join(receiver, receiver.id == Referral.accepted_involvement_id)
        .where(
            Referral.partnership_id == partnership_id,
            Referral.status == ReferralStatus.ACCEPTED.value,
            Referral.sent_on <= as_of,
            sender.person_id != receiver.person_id,
        )
        .group_by(sender.person_id, receiver.person_id)
    )
    if since:
        query = query.where(Referral.sent_on >= since)
    rows = session.execute(query).all()
    if not rows:
        return t.empty_edges(directed=True)
    data = np.array(rows, dtype=np.int64)
    return t.Edges(data[:, 0].copy(), data[:, 1].copy(), data[:, 2].astype(np.float64), directed=True)


register_observed_source(
    ObservedSource(
        SHARED_CASES,
        False,
        "in the team around the same family at the same time; weight = episodes shared",
        shared_cases,
    )
)
register_observed_source(
    ObservedSource(
        REFERRALS,
        True,
        "a referral from one accepted by the other's organisation, by them; weight = referrals",
        referrals,
    )
)
