"""Lawful information sharing around a family's record: the consent ledger and sharing decisions.

- **Consent to share** is given by a child of sufficient understanding or a person with parental
  responsibility, for named organisations and kinds of information, and may be withdrawn. It is kept apart
  from the agreement to take part in early help (the episode's), as the guidance keeps them apart.
- **A sharing decision** is recorded for every disclosure outside the team and every decision not to share
  (the government's advice for practitioners, 2024: "record the reasons for your information-sharing
  decision, irrespective of whether you decide to share"): what, with whom, the purpose, the reasons,
  whether the child and family were told (and why not), their views, and the lawful basis.
- **The rules** (each refused with a message at its field): a public authority (by the kind of the deciding
  practitioner's organisation in the register) may not rely on legitimate interests or a recognised
  legitimate interest for its own tasks; consent is a basis only where a live consent covers that recipient
  organisation and every kind of information shared; special category data needs an Article 9 condition,
  and explicit consent as that condition needs the same live consent.
- **A decision to share grants** the named recipient (a practitioner with a login) read access to those
  parts of the record until its date (casework/need_to_know.py); each of their reads names the decisions it
  relied on. Withdrawing a consent ends at once every access that rested on it, leaves access on other
  bases alone, and tells the lead practitioner in the family's chronology.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, ensure_allowed
from reticulist.casework import schemas as cs
from reticulist.casework.models import CaseNote, Consent, FamilyMember, SharingDecision
from reticulist.casework.need_to_know import (
    access_to_family,
    audit_change,
    audit_read,
    ensure_may_change,
    practitioner_person_id,
)
from reticulist.casework.vocab import (
    PUBLIC_AUTHORITY_KINDS,
    LawfulBasis,
    MemberKind,
    SharingChoice,
    SpecialCategoryCondition,
)
from reticulist.errors import InputError
from reticulist.register.models import Organisation, Person

# Bases a public authority may not rely on for its own tasks (UK GDPR Article 6(1) last sentence, and the
# Data (Use and Access) Act 2025 for the recognised legitimate interest).
NOT_FOR_PUBLIC_AUTHORITIES = {
    LawfulBasis.LEGITIMATE_INTERESTS.value,
    LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST.value,
}


def _organisation(session: Session, partnership_id: int, organisation_id: int, field: str) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.partnership_id != partnership_id:
        raise InputError("no such organisation in this partnership", field=field)
    return organisation


# --- consent --------------------------------------------------------------------------------------------
def record_consent(session: Session, *, actor: Actor, family_id: int, data: cs.ConsentCreate) -> Consent:
    """A consent to share, recorded by a member of the team (or the coordinator)."""
    access = access_to_family(session, actor, family_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    ensure_may_change(access)
    giver = session.get(FamilyMember, data.given_by_member_id)
    if giver is None or giver.family_id != family_id:
        raise InputError("is not one of this family's people", field="given_by_member_id")
    if giver.kind != MemberKind.CHILD.value and not giver.parental_responsibility:
        raise InputError(
            "consent is given by the child (of sufficient understanding) or a person with parental "
            "responsibility",
            field="given_by_member_id",
        )
    for organisation_id in data.organisation_ids:
        _organisation(session, access.partnership_id, organisation_id, "organisation_ids")
    consent = Consent(
        family_id=family_id,
        given_by_member_id=giver.id,
        organisation_ids=list(data.organisation_ids),
        kinds=list(data.kinds),
        given_on=data.given_on,
        recorded_by_label=actor.label,
    )
    session.add(consent)
    session.flush()
    audit_change(
        session,
        actor,
        access,
        "consent-given",
        f"Consent to share recorded (consent {consent.id})",
        consent_id=consent.id,
        organisation_ids=list(data.organisation_ids),
        kinds=list(data.kinds),
    )
    return consent


def withdraw_consent(
    session: Session,
    *,
    actor: Actor,
    consent_id: int,
    data: cs.ConsentWithdraw,
    partnership_id: int | None = None,
) -> list[SharingDecision]:
    """Withdraw a consent: every access resting on it ends now (the access check sees the withdrawal);
    access under decisions on other bases stays. The lead practitioner is told in the chronology. Returns
    the decisions whose access ended."""
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFound("No such consent.")
    access = access_to_family(session, actor, consent.family_id, partnership_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    ensure_may_change(access)
    if consent.withdrawn_on is not None:
        raise InputError("this consent is already withdrawn", field="withdrawn_on")
    if data.withdrawn_on < consent.given_on:
        raise InputError("is before the consent was given", field="withdrawn_on")
    consent.withdrawn_on, consent.withdrawn_by_label = data.withdrawn_on, actor.label
    ended = list(
        session.scalars(
            select(SharingDecision).where(
                SharingDecision.consent_id == consent.id,
                SharingDecision.decision == SharingChoice.SHARE.value,
                SharingDecision.access_until >= date.today(),
            )
        )
    )
    names = _recipient_names(session, ended)
    what = "; ".join(names[d.id] for d in ended) or "no access rested on it"
    session.add(
        CaseNote(
            family_id=consent.family_id,
            episode_id=None,
            author_user_id=None,
            author_person_id=None,
            author_label="Reticulist",
            happened_on=data.withdrawn_on,
            kind="other",
            text=f"Consent to share (consent {consent.id}) was withdrawn. Access that rested on it ended at "
            f"once: {what}. Access on other lawful bases is unchanged.",
            sensitive=False,
        )
    )
    audit_change(
        session,
        actor,
        access,
        "consent-withdrawn",
        f"Consent {consent.id} withdrawn; {len(ended)} shares ended",
        consent_id=consent.id,
        ended_decisions=[d.id for d in ended],
    )
    return ended


# --- sharing decisions ----------------------------------------------------------------------------------
def live_consent(
    session: Session, *, family_id: int, organisation_id: int, kinds: list[str], on: date
) -> Consent | None:
    """A consent given by ``on``, not withdrawn, covering that organisation and every kind."""
    for consent in session.scalars(
        select(Consent)
        .where(Consent.family_id == family_id, Consent.withdrawn_on.is_(None), Consent.given_on <= on)
        .order_by(Consent.given_on.desc(), Consent.id.desc())
    ):
        if organisation_id in consent.organisation_ids and set(kinds) <= set(consent.kinds):
            return consent
    return None


def record_decision(
    session: Session, *, actor: Actor, family_id: int, data: cs.SharingDecisionCreate
) -> SharingDecision:
    """Record a decision to share or not to share, enforcing the rules on the lawful basis."""
    access = access_to_family(session, actor, family_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    ensure_may_change(access)
    pid = access.partnership_id
    recipient = _organisation(session, pid, data.recipient_organisation_id, "recipient_organisation_id")
    if data.recipient_person_id is not None:
        person = session.get(Person, data.recipient_person_id)
        if person is None or person.partnership_id != pid or person.organisation_id != recipient.id:
            raise InputError("is not a person of the recipient organisation", field="recipient_person_id")
    decider_person_id = practitioner_person_id(session, actor, pid)
    decider = session.get(Person, decider_person_id) if decider_person_id is not None else None
    decider_organisation = session.get(Organisation, decider.organisation_id) if decider else None
    sharing = data.decision == SharingChoice.SHARE.value
    consent = None
    if sharing:
        # The coordinator (no register organisation) is taken as a public authority: the strict side.
        public = decider_organisation is None or decider_organisation.kind in PUBLIC_AUTHORITY_KINDS
        if data.basis in NOT_FOR_PUBLIC_AUTHORITIES and public:
            where = f"{decider_organisation.name} is" if decider_organisation else "you act for"
            raise InputError(
                f"{where} a public authority, which may not rely on legitimate interests (or a recognised "
                "legitimate interest) for its own tasks: use public task or legal obligation, or consent",
                field="basis",
            )
        needs_consent = data.basis == LawfulBasis.CONSENT.value or (
            data.special_category and data.condition == SpecialCategoryCondition.EXPLICIT_CONSENT.value
        )
        if needs_consent:
            consent = live_consent(
                session,
                family_id=family_id,
                organisation_id=recipient.id,
                kinds=data.kinds,
                on=data.decided_on,
            )
            if consent is None:
                field = "basis" if data.basis == LawfulBasis.CONSENT.value else "condition"
                raise InputError(
                    f"no live consent covers sharing {', '.join(data.kinds)} with {recipient.name}: record "
                    "the consent first, or choose another basis",
                    field=field,
                )
    decision = SharingDecision(
        family_id=family_id,
        partnership_id=pid,
        kinds=list(data.kinds),
        recipient_organisation_id=recipient.id,
        recipient_person_id=data.recipient_person_id,
        purpose=data.purpose,
        decision=data.decision,
        reasons=data.reasons,
        family_told=data.family_told,
        not_told_reason="" if data.family_told else data.not_told_reason,
        family_views=data.family_views,
        basis=data.basis if sharing else None,
        special_category=data.special_category if sharing else False,
        condition=(data.condition or None) if sharing and data.special_category else None,
        consent_id=consent.id if consent else None,
        access_until=data.access_until if sharing else None,
        decided_by_label=actor.label,
        decider_organisation_id=decider_organisation.id if decider_organisation else None,
        decided_on=data.decided_on,
    )
    session.add(decision)
    session.flush()
    audit_change(
        session,
        actor,
        access,
        "shared" if sharing else "not-shared",
        f"Decided {'to share' if sharing else 'not to share'} {', '.join(data.kinds)} with {recipient.name} "
        f"(decision {decision.id})",
        decision_id=decision.id,
        basis=decision.basis,
        condition=decision.condition,
        consent_id=decision.consent_id,
        recipient_organisation_id=recipient.id,
        recipient_person_id=data.recipient_person_id,
        access_until=decision.access_until.isoformat() if decision.access_until else None,
    )
    return decision


@dataclass(frozen=True)
class DecisionView:
    id: int
    decided_on: date
    decided_by: str
    decision: str
    kinds: list[str]
    recipient: str  # "Organisation" or "Person (Organisation)"
    purpose: str
    reasons: str
    family_told: bool
    not_told_reason: str
    family_views: str
    basis: str | None
    condition: str | None
    consent_id: int | None
    access_until: date | None
    in_force: bool  # grants access today


@dataclass(frozen=True)
class ConsentView:
    id: int
    given_by: str
    organisations: list[str]
    kinds: list[str]
    given_on: date
    recorded_by: str
    withdrawn_on: date | None


def _recipient_names(session: Session, decisions: list[SharingDecision]) -> dict[int, str]:
    organisations = {
        o.id: o.name
        for o in session.scalars(
            select(Organisation).where(Organisation.id.in_({d.recipient_organisation_id for d in decisions}))
        )
    }
    people = {
        p.id: p.full_name
        for p in session.scalars(
            select(Person).where(
                Person.id.in_({d.recipient_person_id for d in decisions if d.recipient_person_id})
            )
        )
    }
    out = {}
    for d in decisions:
        organisation = organisations.get(d.recipient_organisation_id, "?")
        person = people.get(d.recipient_person_id, "?") if d.recipient_person_id else None
        out[d.id] = f"{person} ({organisation})" if person else organisation
    return out


def family_sharing(
    session: Session, *, actor: Actor, family_id: int, audited: bool = False
) -> tuple[list[DecisionView], list[ConsentView]]:
    """The family's sharing decisions and consents, for those who may change the record (its team and the
    coordinator). On the record's page it is part of that read (audited there); read on its own (the API),
    ``audited`` writes its own audit entry."""
    access = access_to_family(session, actor, family_id)
    ensure_may_change(access)
    if audited:
        audit_read(session, actor, access, "the family's sharing decisions and consents")
    decisions = list(
        session.scalars(
            select(SharingDecision)
            .where(SharingDecision.family_id == family_id)
            .order_by(SharingDecision.decided_on.desc(), SharingDecision.id.desc())
        )
    )
    consents = list(
        session.scalars(
            select(Consent).where(Consent.family_id == family_id).order_by(Consent.given_on.desc())
        )
    )
    live = {c.id for c in consents if c.withdrawn_on is None}
    names = _recipient_names(session, decisions)
    today = date.today()
    decision_views = [
        DecisionView(
            d.id,
            d.decided_on,
            d.decided_by_label,
            d.decision,
            list(d.kinds),
            names[d.id],
            d.purpose,
            d.reasons,
            d.family_told,
            d.not_told_reason,
            d.family_views,
            d.basis,
            d.condition,
            d.consent_id,
            d.access_until,
            d.decision == SharingChoice.SHARE.value
            and d.recipient_person_id is not None
            and d.access_until is not None
            and d.access_until >= today
            and (d.consent_id is None or d.consent_id in live),
        )
        for d in decisions
    ]
    members = {
        m.id: f"{m.forenames} {m.surname}"
        for m in session.scalars(select(FamilyMember).where(FamilyMember.family_id == family_id))
    }
    organisation_names = {
        o.id: o.name
        for o in session.scalars(
            select(Organisation).where(Organisation.partnership_id == access.partnership_id)
        )
    }
    consent_views = [
        ConsentView(
            c.id,
            members.get(c.given_by_member_id, "?"),
            [organisation_names.get(i, "?") for i in c.organisation_ids],
            list(c.kinds),
            c.given_on,
            c.recorded_by_label,
            c.withdrawn_on,
        )
        for c in consents
    ]
    return decision_views, consent_views
