"""Referrals between agencies: sent by a team member, accepted, declined or withdrawn; the receiving
organisation sees a limited view until it accepts. Time to decision in working days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotAllowed, NotFound, allowed, ensure_allowed
from reticulist.audit import service as audit
from reticulist.casework import schemas as cs
from reticulist.casework.models import (
    Episode,
    FamilyMember,
    Involvement,
    Referral,
)
from reticulist.casework.need_to_know import (
    Access,
    access_to_family,
    audit_change,
    check_practitioner,
    current_episode_id,
    practitioner_person_id,
)
from reticulist.casework.vocab import (
    CHILDRENS_SOCIAL_CARE_DECISION_DAYS,
    MemberKind,
    ReferralChoice,
    ReferralStatus,
)
from reticulist.casework.working_days import working_days_between
from reticulist.errors import InputError
from reticulist.register.models import Organisation, Person


@dataclass(frozen=True)
class ReferralView:
    """A referral as its sender's team sees it on the record, or as the receiving organisation sees it
    before accepting (``limited``: the child, the reason and who sent it; nothing else of the record)."""

    id: int
    family_id: int
    child: str
    child_born: date | None
    from_name: str
    from_organisation: str
    to_organisation: str
    to_organisation_kind: str
    reason: str
    sent_on: date
    status: str
    decided_on: date | None
    decline_reason: str | None
    working_days: int  # to the decision, or so far while waiting
    late: bool  # children's social care took, or is taking, longer than one working day
    limited: bool = False


def _referral_views(session: Session, referrals: Sequence[Referral], *, limited: bool) -> list[ReferralView]:
    if not referrals:
        return []
    today = date.today()
    members = {
        m.id: m
        for m in session.scalars(
            select(FamilyMember).where(FamilyMember.id.in_({r.child_member_id for r in referrals}))
        )
    }
    senders = dict(
        (i, (name, org))
        for i, name, org in session.execute(
            select(Involvement.id, Person.full_name, Organisation.name)
            .join(Person, Person.id == Involvement.person_id)
            .join(Organisation, Organisation.id == Involvement.organisation_id)
            .where(Involvement.id.in_({r.from_involvement_id for r in referrals}))
        )
    )
    receivers = {
        o.id: o
        for o in session.scalars(
            select(Organisation).where(Organisation.id.in_({r.to_organisation_id for r in referrals}))
        )
    }
    days = working_days_between([r.sent_on for r in referrals], [r.decided_on or today for r in referrals])
    views = []
    for r, n in zip(referrals, days, strict=True):
        child = members.get(r.child_member_id)
        receiver = receivers[r.to_organisation_id]
        deciding = r.status in (
            ReferralStatus.SENT.value,
            ReferralStatus.ACCEPTED.value,
            ReferralStatus.DECLINED.value,
        )
        late = (
            receiver.kind == "childrens_social_care"
            and deciding
            and int(n) > CHILDRENS_SOCIAL_CARE_DECISION_DAYS
        )
        sender = senders.get(r.from_involvement_id, ("?", "?"))
        views.append(
            ReferralView(
                r.id,
                r.family_id,
                f"{child.forenames} {child.surname}" if child else "?",
                child.date_of_birth if child else None,
                sender[0],
                sender[1],
                receiver.name,
                receiver.kind,
                r.reason,
                r.sent_on,
                r.status,
                r.decided_on,
                r.decline_reason,
                int(n),
                late,
                limited,
            )
        )
    return views


def family_referrals(session: Session, access: Access) -> list[ReferralView]:
    """The family's referrals for someone who may see the record (part of the record's read)."""
    referrals = session.scalars(
        select(Referral)
        .where(Referral.family_id == access.family_id)
        .order_by(Referral.sent_on.desc(), Referral.id.desc())
    ).all()
    return _referral_views(session, referrals, limited=False)


def send_referral(
    session: Session,
    *,
    actor: Actor,
    family_id: int,
    data: cs.ReferralCreate,
    partnership_id: int | None = None,
) -> Referral:
    """A member of the team refers the child to an organisation of the partnership."""
    access = access_to_family(session, actor, family_id, partnership_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    if access.involvement_id is None:
        raise NotAllowed("Only a member of the team around the family sends a referral.")
    episode_id = current_episode_id(session, family_id)
    if episode_id is None:
        raise InputError("this family has no open episode", field="episode")
    receiver = session.get(Organisation, data.to_organisation_id)
    if receiver is None or receiver.partnership_id != access.partnership_id or receiver.ended_on is not None:
        raise InputError("is not an organisation of this partnership", field="to_organisation_id")
    child = session.get(FamilyMember, data.child_member_id)
    if child is None or child.family_id != family_id or child.kind != MemberKind.CHILD.value:
        raise InputError("is not one of this family's children", field="child_member_id")
    opened_on = session.get(Episode, episode_id).opened_on  # type: ignore[union-attr]
    if data.sent_on < opened_on:
        raise InputError("is before the episode opened", field="sent_on")
    referral = Referral(
        family_id=family_id,
        episode_id=episode_id,
        partnership_id=access.partnership_id,
        from_involvement_id=access.involvement_id,
        to_organisation_id=receiver.id,
        child_member_id=child.id,
        reason=data.reason,
        sent_on=data.sent_on,
        status=ReferralStatus.SENT.value,
    )
    session.add(referral)
    session.flush()
    audit_change(
        session,
        actor,
        access,
        "referred",
        f"Referred a child of the family to {receiver.name}",
        referral_id=referral.id,
    )
    return referral


def _my_organisation(session: Session, actor: Actor, partnership_id: int) -> int | None:
    person_id = practitioner_person_id(session, actor, partnership_id)
    if person_id is None or not allowed(actor, Can.WORK_CASES, partnership_id):
        return None
    return session.scalar(select(Person.organisation_id).where(Person.id == person_id))


def referrals_to_my_organisation(
    session: Session, *, actor: Actor, partnership_id: int
) -> list[ReferralView]:
    """Referrals waiting for a decision by the actor's organisation (the limited view). Listing them shows
    children's names, so it is audited."""
    ensure_allowed(actor, Can.WORK_CASES, partnership_id)
    organisation_id = _my_organisation(session, actor, partnership_id)
    if organisation_id is None:
        return []
    referrals = session.scalars(
        select(Referral)
        .where(
            Referral.partnership_id == partnership_id,
            Referral.to_organisation_id == organisation_id,
            Referral.status == ReferralStatus.SENT.value,
        )
        .order_by(Referral.sent_on, Referral.id)
    ).all()
    if referrals:
        audit.record(
            session,
            actor=actor,
            event="viewed",
            record_type="referral_inbox",
            record_id=organisation_id,
            partnership_id=partnership_id,
            summary=f"Viewed {len(referrals)} referrals waiting for a decision",
            after={"referral_ids": [r.id for r in referrals]},
        )
    return _referral_views(session, referrals, limited=True)


def _as_recipient(session: Session, actor: Actor, referral_id: int, partnership_id: int | None) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None or (partnership_id is not None and referral.partnership_id != partnership_id):
        raise NotFound("No such referral.")
    if _my_organisation(session, actor, referral.partnership_id) != referral.to_organisation_id:
        raise NotFound("No such referral.")
    return referral


def referral_for_recipient(
    session: Session, *, actor: Actor, referral_id: int, partnership_id: int | None = None
) -> ReferralView:
    """The receiving organisation's view of one referral: the child, the reason and the sender, never the
    rest of the record (until it accepts and its practitioner joins the team). Audited as a read."""
    referral = _as_recipient(session, actor, referral_id, partnership_id)
    (view,) = _referral_views(session, [referral], limited=True)
    audit.record(
        session,
        actor=actor,
        event="viewed",
        record_type="family",
        record_id=referral.family_id,
        partnership_id=referral.partnership_id,
        summary=f"Viewed referral {referral.id} as its receiving organisation",
        after={"access": "referral recipient", "referral_id": referral.id, "what": "the referral"},
    )
    return view


def decide_referral(
    session: Session,
    *,
    actor: Actor,
    referral_id: int,
    data: cs.ReferralDecision,
    partnership_id: int | None = None,
) -> Referral:
    """Accept (the deciding practitioner joins the team around the family) or decline with a reason."""
    referral = _as_recipient(session, actor, referral_id, partnership_id)
    if referral.status != ReferralStatus.SENT.value:
        raise InputError(f"this referral was already {referral.status}", field="decision")
    if data.decided_on < referral.sent_on:
        raise InputError("is before the referral was sent", field="decided_on")
    referral.decided_on = data.decided_on
    referral.decided_by_label = actor.label
    if data.decision == ReferralChoice.ACCEPT.value:
        person_id = practitioner_person_id(session, actor, referral.partnership_id)
        assert person_id is not None  # _as_recipient found the actor's organisation through it
        person = check_practitioner(session, referral.partnership_id, person_id, "decision")
        episode = session.get(Episode, referral.episode_id)
        if episode is None or episode.closed_on is not None:
            raise InputError(
                "the family's episode has closed: the referral can only be declined", field="decision"
            )
        involvement = Involvement(
            episode_id=episode.id,
            person_id=person.id,
            organisation_id=person.organisation_id,
            role=data.role or "Accepted the referral",
            from_on=data.decided_on,
        )
        session.add(involvement)
        session.flush()
        referral.status = ReferralStatus.ACCEPTED.value
        referral.accepted_involvement_id = involvement.id
    else:
        referral.status = ReferralStatus.DECLINED.value
        referral.decline_reason = data.reason
    session.flush()
    audit.record(
        session,
        actor=actor,
        event=referral.status,
        record_type="family",
        record_id=referral.family_id,
        partnership_id=referral.partnership_id,
        summary=f"Referral {referral.id} {referral.status} by the receiving organisation",
        after={"access": "referral recipient", "referral_id": referral.id},
    )
    return referral


def withdraw_referral(
    session: Session, *, actor: Actor, referral_id: int, partnership_id: int | None = None
) -> Referral:
    """The sender or the lead practitioner withdraws a referral not yet decided."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("No such referral.")
    access = access_to_family(session, actor, referral.family_id, partnership_id)
    if access.involvement_id != referral.from_involvement_id and access.route != "lead practitioner":
        raise NotAllowed("Only who sent the referral, or the lead practitioner, may withdraw it.")
    if referral.status != ReferralStatus.SENT.value:
        raise InputError(f"this referral was already {referral.status}", field="referral")
    referral.status = ReferralStatus.WITHDRAWN.value
    referral.decided_on = date.today()
    referral.decided_by_label = actor.label
    session.flush()
    audit_change(
        session, actor, access, "withdrawn", f"Withdrew referral {referral.id}", referral_id=referral.id
    )
    return referral
