"""Casework services: every read and write of a family's record goes through here (the family plan,
referrals and the assessment are kept in modules of their own and re-exported), and ``need_to_know``
alone decides who may see it and writes the audit entry that says who saw it and why.

Who may see a family's record:
- a practitioner (a login linked to a register person) while involved in one of the family's episodes,
  as a team member or the lead practitioner (the involvement is named in the audit);
- the partnership's early help coordinator (``Action.VIEW_ALL_CASES``; the role is named in the audit);
- nobody else: partnership managers and admins of the register included. They get "not found", exactly
  as for a family that does not exist, so ids cannot be probed.

Shielded people ("do not disclose location"): their addresses, and shielded addresses, are shown only to
the lead practitioner and the coordinator, and to nobody else who may see the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotAllowed, NotFound, allowed, ensure_allowed
from reticulist.audit import service as audit
from reticulist.audit.models import AuditEvent
from reticulist.casework import schemas as cs
from reticulist.casework.assessments import (
    ASSESSMENT_RULES,
    AssessmentView,
    assessments,
    complete_assessment,
    save_assessment,
    save_family_assessment,
    start_assessment,
)
from reticulist.casework.identifiers import read_upn
from reticulist.casework.models import (
    CaseNote,
    Episode,
    Family,
    FamilyMember,
    Involvement,
    LeadPractitioner,
    MemberAddress,
    PlanAction,
    PlanOutcome,
    PractitionerLink,
    Review,
)
from reticulist.casework.need_to_know import (
    LINK_RULES,
    Access,
    access_to_family,
    audit_change,
    audit_read,
    check_practitioner,
    current_episode_id,
    ensure_may_change,
    link_practitioner,
    needs_lead_or_coordinator,
    open_episode_id,
    open_episode_of,
    practitioner_person_id,
)
from reticulist.casework.plans import (
    ActionView,
    OutcomeView,
    ReviewView,
    add_outcome,
    add_plan_action,
    plan_and_reviews,
    record_review,
)
from reticulist.casework.referrals import (
    ReferralView,
    decide_referral,
    family_referrals,
    referral_for_recipient,
    referrals_to_my_organisation,
    send_referral,
    withdraw_referral,
)
from reticulist.casework.vocab import (
    OPEN_ACTION_STATUSES,
    MemberKind,
)
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.register.models import Organisation, Person

# What callers use: this module's own and, re-exported, the records kept in their own modules
# (need_to_know, plans, referrals, assessments).
__all__ = [
    "ASSESSMENT_RULES",
    "FAMILY_REFERENCE_RULE",
    "LINK_RULES",
    "ONE_LEAD_RULE",
    "ONE_OPEN_EPISODE_RULE",
    "Access",
    "ActionView",
    "AddressView",
    "AssessmentView",
    "CaseloadLine",
    "EpisodeView",
    "FamilyRecord",
    "KnownChild",
    "MemberView",
    "NoteView",
    "OutcomeView",
    "ReferralView",
    "ReviewView",
    "TeamMemberView",
    "access_to_family",
    "add_note",
    "add_outcome",
    "add_plan_action",
    "add_to_team",
    "assessments",
    "audit_change",
    "audit_read",
    "change_lead",
    "check_practitioner",
    "close_episode",
    "complete_assessment",
    "current_episode_id",
    "decide_referral",
    "ensure_may_change",
    "family_id_by_reference",
    "family_record",
    "family_referrals",
    "link_practitioner",
    "my_caseload",
    "needs_lead_or_coordinator",
    "note_view",
    "open_episode",
    "open_episode_id",
    "open_episode_of",
    "plan_and_reviews",
    "practitioner_person_id",
    "practitioners",
    "record_family",
    "record_review",
    "referral_for_recipient",
    "referrals_to_my_organisation",
    "save_assessment",
    "save_family_assessment",
    "search_child",
    "send_referral",
    "start_assessment",
    "who_has_seen",
    "withdraw_referral",
]


FAMILY_REFERENCE_RULE = "uq_family_reference"
ONE_OPEN_EPISODE_RULE = "uq_episode_one_open_per_family"
ONE_LEAD_RULE = "uq_lead_practitioner_one_current"


# --- recording a family ------------------------------------------------------------------------------


def _add_member(session: Session, family: Family, data: cs.MemberCreate) -> FamilyMember:
    upn = read_upn(data.upn) if data.upn else None
    member = FamilyMember(
        family_id=family.id,
        partnership_id=family.partnership_id,
        kind=data.kind,
        forenames=data.forenames,
        surname=data.surname,
        surname_key=data.surname.casefold(),
        known_as=data.known_as,
        date_of_birth=data.date_of_birth,
        sex=data.sex,
        relationship_to_children=data.relationship_to_children,
        parental_responsibility=data.parental_responsibility,
        nhs_number=data.nhs_number,
        upn=upn.value if upn else None,
        upn_temporary=bool(upn and upn.temporary),
        shielded=data.shielded,
    )
    session.add(member)
    session.flush()
    if data.address is not None:
        session.add(
            MemberAddress(
                member_id=member.id,
                lines=data.address.lines,
                postcode=data.address.postcode,
                from_on=data.address.from_on,
                shielded=data.address.shielded,
            )
        )
    return member


def _open(
    session: Session,
    actor: Actor,
    family: Family,
    data: cs.EpisodeRequest,
    agreed_by: FamilyMember,
) -> Episode:
    if agreed_by.kind == MemberKind.ADULT.value and not agreed_by.parental_responsibility:
        raise InputError(
            f"{agreed_by.forenames} {agreed_by.surname} does not hold parental responsibility: the family's "
            "agreement comes from a child of sufficient understanding or a person who does",
            field="agreed_by",
        )
    lead = check_practitioner(session, family.partnership_id, data.lead_person_id, "lead_person_id")
    episode = Episode(
        family_id=family.id,
        partnership_id=family.partnership_id,
        requested_by=data.requested_by,
        request_reason=data.request_reason,
        requested_on=data.requested_on,
        agreed_by_member_id=agreed_by.id,
        agreed_on=data.agreed_on,
        opened_on=data.opened_on,
    )
    with refusing_duplicates(
        session, {ONE_OPEN_EPISODE_RULE: ("episode", "this family already has an open episode")}
    ):
        session.add(episode)
    involvement = Involvement(
        episode_id=episode.id,
        person_id=lead.id,
        organisation_id=lead.organisation_id,
        role=data.lead_role,
        from_on=data.opened_on,
    )
    session.add(involvement)
    session.flush()
    session.add(
        LeadPractitioner(
            episode_id=episode.id,
            involvement_id=involvement.id,
            from_on=data.opened_on,
            family_had_say=data.family_had_say,
        )
    )
    # Whoever records the episode joins the team unless they lead it: otherwise the record they have just
    # written would be hidden from them at once.
    recorder = practitioner_person_id(session, actor, family.partnership_id)
    if recorder is not None and recorder != lead.id:
        me = check_practitioner(session, family.partnership_id, recorder, "lead_person_id")
        session.add(
            Involvement(
                episode_id=episode.id,
                person_id=me.id,
                organisation_id=me.organisation_id,
                role="Recorded the request for support",
                from_on=data.opened_on,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="opened",
        record_type="episode",
        record_id=episode.id,
        partnership_id=family.partnership_id,
        summary=f"Early help episode opened for family {family.reference}",
    )
    return episode


def record_family(session: Session, *, actor: Actor, partnership_id: int, data: cs.FamilyCreate) -> Family:
    """A new family with its people and first episode, led by the named practitioner. Not committed."""
    ensure_allowed(actor, Can.WORK_CASES, partnership_id)
    if not (
        allowed(actor, Can.VIEW_ALL_CASES, partnership_id)
        or practitioner_person_id(session, actor, partnership_id)
    ):
        raise NotAllowed("Your login is not linked to a practitioner in the register: ask an admin.")
    family = Family(partnership_id=partnership_id, reference=data.reference)
    with refusing_duplicates(
        session, {FAMILY_REFERENCE_RULE: ("reference", "another family already has this reference")}
    ):
        session.add(family)
    members = [_add_member(session, family, m) for m in data.members]
    _open(session, actor, family, data.episode, members[data.agreed_by - 1])
    audit.record(
        session,
        actor=actor,
        event="created",
        record_type="family",
        record_id=family.id,
        partnership_id=partnership_id,
        summary=f"Family {family.reference} recorded with {len(members)} people",
    )
    return family


def open_episode(session: Session, *, actor: Actor, family_id: int, data: cs.EpisodeOpen) -> Episode:
    """A new episode for a recorded family (none may be open). Needs sight of the record."""
    access = access_to_family(session, actor, family_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    ensure_may_change(access)
    family = session.get(Family, family_id)
    assert family is not None
    if current_episode_id(session, family_id) is not None:
        raise InputError("this family already has an open episode", field="episode")
    agreed_by = session.get(FamilyMember, data.agreed_by_member_id)
    if agreed_by is None or agreed_by.family_id != family_id:
        raise InputError("is not one of this family's people", field="agreed_by_member_id")
    return _open(session, actor, family, data, agreed_by)


def add_to_team(
    session: Session, *, actor: Actor, episode_id: int, data: cs.InvolvementCreate
) -> Involvement:
    """A practitioner joins the team around the family (the lead practitioner or coordinator adds them)."""
    episode, access = open_episode_of(session, actor, episode_id)
    needs_lead_or_coordinator(access, "change the team")
    person = check_practitioner(session, access.partnership_id, data.person_id, "person_id")
    if data.from_on < episode.opened_on:
        raise InputError("is before the episode opened", field="from_on")
    in_team = session.scalar(
        select(Involvement.id).where(
            Involvement.episode_id == episode.id,
            Involvement.person_id == person.id,
            Involvement.to_on.is_(None),
        )
    )
    if in_team is not None:
        raise InputError(f"{person.full_name} is already in the team", field="person_id")
    involvement = Involvement(
        episode_id=episode.id,
        person_id=person.id,
        organisation_id=person.organisation_id,
        role=data.role,
        from_on=data.from_on,
    )
    session.add(involvement)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="joined",
        record_type="involvement",
        record_id=involvement.id,
        partnership_id=access.partnership_id,
        summary=f"{person.full_name} joined the team of episode {episode.id} as {data.role}",
    )
    return involvement


def change_lead(session: Session, *, actor: Actor, episode_id: int, data: cs.LeadChange) -> LeadPractitioner:
    """Hand the lead to another team member; the previous lead's term ends the day before."""
    episode, access = open_episode_of(session, actor, episode_id)
    needs_lead_or_coordinator(access, "change the lead practitioner")
    involvement = session.get(Involvement, data.involvement_id)
    if involvement is None or involvement.episode_id != episode.id or involvement.to_on is not None:
        raise InputError("is not a current member of this episode's team", field="involvement_id")
    current = session.scalar(
        select(LeadPractitioner).where(
            LeadPractitioner.episode_id == episode.id, LeadPractitioner.to_on.is_(None)
        )
    )
    if current is not None:
        if current.involvement_id == involvement.id:
            raise InputError("already leads this episode", field="involvement_id")
        if data.from_on <= current.from_on:
            raise InputError("must be after the current lead practitioner started", field="from_on")
        current.to_on = date.fromordinal(data.from_on.toordinal() - 1)
        session.flush()
    lead = LeadPractitioner(
        episode_id=episode.id,
        involvement_id=involvement.id,
        from_on=data.from_on,
        family_had_say=data.family_had_say,
    )
    with refusing_duplicates(
        session, {ONE_LEAD_RULE: ("involvement_id", "another lead practitioner was named at the same moment")}
    ):
        session.add(lead)
    audit.record(
        session,
        actor=actor,
        event="lead-changed",
        record_type="episode",
        record_id=episode.id,
        partnership_id=access.partnership_id,
        summary=f"Lead practitioner of episode {episode.id} changed (involvement {involvement.id})",
    )
    return lead


def close_episode(session: Session, *, actor: Actor, episode_id: int, data: cs.EpisodeClose) -> Episode:
    """Close with an outcome: the lead's term and every open involvement end on the same day."""
    episode, access = open_episode_of(session, actor, episode_id)
    needs_lead_or_coordinator(access, "close the episode")
    if data.closed_on < episode.opened_on:
        raise InputError("is before the episode opened", field="closed_on")
    episode.closed_on = data.closed_on
    episode.outcome = data.outcome
    for lead in session.scalars(
        select(LeadPractitioner).where(
            LeadPractitioner.episode_id == episode.id, LeadPractitioner.to_on.is_(None)
        )
    ):
        lead.to_on = data.closed_on
    for involvement in session.scalars(
        select(Involvement).where(Involvement.episode_id == episode.id, Involvement.to_on.is_(None))
    ):
        involvement.to_on = data.closed_on
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="closed",
        record_type="episode",
        record_id=episode.id,
        partnership_id=access.partnership_id,
        summary=f"Episode {episode.id} closed: {data.outcome}",
    )
    return episode


# --- reading -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AddressView:
    lines: str
    postcode: str
    from_on: date
    to_on: date | None


@dataclass(frozen=True)
class MemberView:
    id: int
    kind: str
    forenames: str
    surname: str
    known_as: str
    date_of_birth: date | None
    sex: str
    relationship_to_children: str
    parental_responsibility: bool
    nhs_number: str | None
    upn: str | None
    upn_temporary: bool
    shielded: bool
    addresses: list[AddressView]
    addresses_withheld: int  # shielded addresses not shown to this reader

    @property
    def name(self) -> str:
        return f"{self.forenames} {self.surname}"


@dataclass(frozen=True)
class TeamMemberView:
    involvement_id: int
    person_id: int
    name: str
    organisation: str
    role: str
    from_on: date
    to_on: date | None
    leads: bool


@dataclass(frozen=True)
class EpisodeView:
    id: int
    requested_by: str
    request_reason: str
    requested_on: date
    agreed_by: str
    agreed_on: date
    opened_on: date
    closed_on: date | None
    outcome: str | None
    team: list[TeamMemberView]
    leads: list[tuple[str, date, date | None, bool]]  # name, from, to, family had a say


@dataclass(frozen=True)
class NoteView:
    id: int
    happened_on: date
    kind: str
    text: str
    author: str
    sensitive: bool
    written_at: datetime


@dataclass(frozen=True)
class FamilyRecord:
    id: int
    partnership_id: int
    reference: str
    access: Access
    members: list[MemberView]
    episodes: list[EpisodeView] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)
    sensitive_notes_withheld: int = 0
    plan: list[OutcomeView] = field(default_factory=list)  # the open episode's
    reviews: list[ReviewView] = field(default_factory=list)  # the open episode's, latest first
    review_overdue: bool = False
    referrals: list[ReferralView] = field(default_factory=list)
    assessments: list[AssessmentView] = field(default_factory=list)  # newest version first

    @property
    def overdue_actions(self) -> int:
        return sum(a.overdue for o in self.plan for a in o.actions)

    @property
    def open_episode(self) -> EpisodeView | None:
        return next((e for e in self.episodes if e.closed_on is None), None)


def family_record(
    session: Session, *, actor: Actor, family_id: int, partnership_id: int | None = None
) -> FamilyRecord:
    """The family's record as the actor may see it; the read is audited with the access route (the caller
    commits, so that the audit entry is kept)."""
    access = access_to_family(session, actor, family_id, partnership_id)
    family = session.get(Family, family_id)
    assert family is not None
    members = list(family.members)
    addresses: dict[int, list[MemberAddress]] = {}
    for address in session.scalars(
        select(MemberAddress)
        .where(MemberAddress.member_id.in_([m.id for m in members]))
        .order_by(MemberAddress.from_on.desc(), MemberAddress.id.desc())
    ):
        addresses.setdefault(address.member_id, []).append(address)
    member_views = []
    for m in members:
        shown, withheld = [], 0
        for a in addresses.get(m.id, []):
            if (m.shielded or a.shielded) and not access.sees_shielded:
                withheld += 1
                continue
            shown.append(AddressView(a.lines, a.postcode, a.from_on, a.to_on))
        member_views.append(
            MemberView(
                m.id,
                m.kind,
                m.forenames,
                m.surname,
                m.known_as,
                m.date_of_birth,
                m.sex,
                m.relationship_to_children,
                m.parental_responsibility,
                m.nhs_number,
                m.upn,
                m.upn_temporary,
                m.shielded,
                shown,
                withheld,
            )
        )
    names = {m.id: f"{m.forenames} {m.surname}" for m in members}
    episodes = list(
        session.scalars(
            select(Episode).where(Episode.family_id == family_id).order_by(Episode.opened_on.desc())
        )
    )
    team_rows = session.execute(
        select(Involvement, Person.full_name, Organisation.name)
        .join(Person, Person.id == Involvement.person_id)
        .join(Organisation, Organisation.id == Involvement.organisation_id)
        .where(Involvement.episode_id.in_([e.id for e in episodes]))
        .order_by(Involvement.from_on, Involvement.id)
    ).all()
    leads = list(
        session.scalars(
            select(LeadPractitioner)
            .where(LeadPractitioner.episode_id.in_([e.id for e in episodes]))
            .order_by(LeadPractitioner.from_on)
        )
    )
    current_lead = {lp.involvement_id for lp in leads if lp.to_on is None}
    person_of = {inv.id: name for inv, name, _org in team_rows}
    episode_views = [
        EpisodeView(
            e.id,
            e.requested_by,
            e.request_reason,
            e.requested_on,
            names.get(e.agreed_by_member_id, "?"),
            e.agreed_on,
            e.opened_on,
            e.closed_on,
            e.outcome,
            [
                TeamMemberView(
                    inv.id, inv.person_id, name, org, inv.role, inv.from_on, inv.to_on, inv.id in current_lead
                )
                for inv, name, org in team_rows
                if inv.episode_id == e.id
            ],
            [
                (person_of.get(lp.involvement_id, "?"), lp.from_on, lp.to_on, lp.family_had_say)
                for lp in leads
                if lp.episode_id == e.id
            ],
        )
        for e in episodes
    ]
    open_episode = next((e for e in episodes if e.closed_on is None), None)
    notes, withheld = _notes(session, actor, access, family_id)
    plan, reviews = plan_and_reviews(session, open_episode.id) if open_episode else ([], [])
    due = reviews[0].next_review_on if reviews else None
    audit_read(session, actor, access, "the family's record")
    granted = access.kinds
    if granted is not None:  # shared under a decision: only the parts it names leave the service
        if "notes" not in granted:
            notes, withheld = [], 0
        if "plan" not in granted:
            plan, reviews, due = [], [], None
    return FamilyRecord(
        family.id,
        family.partnership_id,
        family.reference,
        access,
        member_views if granted is None or "people" in granted else [],
        episode_views if granted is None or "episodes" in granted else [],
        notes,
        withheld,
        plan,
        reviews,
        review_overdue=due is not None and due < date.today(),
        referrals=family_referrals(session, access) if granted is None or "referrals" in granted else [],
        assessments=assessments(session, access) if granted is None or "assessment" in granted else [],
    )


@dataclass(frozen=True)
class CaseloadLine:
    family_id: int
    reference: str
    children: str  # the children's names, for the practitioner to recognise the family
    my_role: str
    leads: bool
    opened_on: date
    overdue_actions: int = 0
    review_overdue: bool = False


def my_caseload(session: Session, *, actor: Actor, partnership_id: int) -> list[CaseloadLine]:
    """The families the actor is currently involved with, lead first. The list shows children's names, so
    it is a read of case data and is audited (one entry naming the families listed)."""
    ensure_allowed(actor, Can.WORK_CASES, partnership_id)
    person_id = practitioner_person_id(session, actor, partnership_id)
    if person_id is None:
        return []
    today = date.today()
    rows = session.execute(
        select(Family.id, Family.reference, Involvement.role, LeadPractitioner.id, Episode.opened_on)
        .join(Episode, Episode.family_id == Family.id)
        .join(Involvement, Involvement.episode_id == Episode.id)
        .outerjoin(
            LeadPractitioner,
            and_(LeadPractitioner.involvement_id == Involvement.id, LeadPractitioner.to_on.is_(None)),
        )
        .where(
            Family.partnership_id == partnership_id,
            Involvement.person_id == person_id,
            Episode.closed_on.is_(None),
            Involvement.from_on <= today,
            or_(Involvement.to_on.is_(None), Involvement.to_on >= today),
        )
        .order_by(LeadPractitioner.id.is_(None), Episode.opened_on.desc(), Family.id)
    ).all()
    seen: dict[int, CaseloadLine] = {}
    children: dict[int, list[str]] = {}
    family_ids = list(dict.fromkeys(r[0] for r in rows))
    for member in session.scalars(
        select(FamilyMember)
        .where(FamilyMember.family_id.in_(family_ids), FamilyMember.kind == MemberKind.CHILD.value)
        .order_by(FamilyMember.date_of_birth)
    ):
        children.setdefault(member.family_id, []).append(member.known_as or member.forenames)
    overdue = dict(
        session.execute(
            select(Episode.family_id, func.count(PlanAction.id))
            .join(PlanOutcome, PlanOutcome.episode_id == Episode.id)
            .join(PlanAction, PlanAction.outcome_id == PlanOutcome.id)
            .where(
                Episode.family_id.in_(family_ids),
                Episode.closed_on.is_(None),
                PlanAction.status.in_(OPEN_ACTION_STATUSES),
                PlanAction.due_on < today,
            )
            .group_by(Episode.family_id)
        ).all()
    )
    next_review: dict[int, date | None] = {}
    for family_id, next_on in session.execute(
        select(Episode.family_id, Review.next_review_on)
        .join(Review, Review.episode_id == Episode.id)
        .where(Episode.family_id.in_(family_ids), Episode.closed_on.is_(None))
        .order_by(Review.held_on.desc(), Review.id.desc())
    ):
        next_review.setdefault(family_id, next_on)
    for family_id, reference, role, lead_id, opened_on in rows:
        if family_id not in seen:
            due = next_review.get(family_id)
            seen[family_id] = CaseloadLine(
                family_id,
                reference,
                ", ".join(children.get(family_id, [])),
                role,
                lead_id is not None,
                opened_on,
                int(overdue.get(family_id, 0)),
                due is not None and due < today,
            )
    lines = list(seen.values())
    if lines:
        audit.record(
            session,
            actor=actor,
            event="viewed",
            record_type="caseload",
            record_id=person_id,
            partnership_id=partnership_id,
            summary=f"Viewed own caseload of {len(lines)} families",
            after={"family_ids": [line.family_id for line in lines]},
        )
    return lines


# --- "is this child known?" ------------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownChild:
    """A match: only that the child is known, and whom to contact. The record itself only if involved."""

    family_id: int | None  # None unless the searcher may open the record
    lead_name: str | None
    lead_organisation: str | None
    lead_email: str | None
    open_episode: bool
    # For a practitioner who may not open it: the family to ask emergency (break-glass) access to.
    emergency_family_id: int | None = None


def search_child(
    session: Session, *, actor: Actor, partnership_id: int, data: cs.ChildSearch
) -> list[KnownChild]:
    """Children recorded in the partnership with this surname (any case) and date of birth, and the
    forenames when given. The search is audited with its parameters and the number of matches."""
    ensure_allowed(actor, Can.WORK_CASES, partnership_id)
    query = select(FamilyMember).where(
        FamilyMember.partnership_id == partnership_id,
        FamilyMember.surname_key == data.surname.casefold(),
        FamilyMember.date_of_birth == data.date_of_birth,
        FamilyMember.kind == MemberKind.CHILD.value,
    )
    if data.forenames:
        needle = data.forenames.casefold()
        query = query.where(
            or_(
                func.lower(FamilyMember.forenames).contains(needle, autoescape=True),
                func.lower(FamilyMember.known_as).contains(needle, autoescape=True),
            )
        )
    matches = list(session.scalars(query.order_by(FamilyMember.id).limit(20)))
    # A practitioner with a linked login may ask for emergency access to a record they cannot open.
    linked = practitioner_person_id(session, actor, partnership_id) is not None
    found: list[KnownChild] = []
    for child in matches:
        lead = session.execute(
            select(Person.full_name, Organisation.name, Person.email, Episode.id)
            .select_from(Episode)
            .join(
                LeadPractitioner,
                and_(LeadPractitioner.episode_id == Episode.id, LeadPractitioner.to_on.is_(None)),
            )
            .join(Involvement, Involvement.id == LeadPractitioner.involvement_id)
            .join(Person, Person.id == Involvement.person_id)
            .join(Organisation, Organisation.id == Involvement.organisation_id)
            .where(Episode.family_id == child.family_id, Episode.closed_on.is_(None))
        ).first()
        try:
            access_to_family(session, actor, child.family_id)
            family_id: int | None = child.family_id
        except NotFound:
            family_id = None
        may_break_glass = family_id is None and linked
        found.append(
            KnownChild(
                family_id,
                lead[0] if lead else None,
                lead[1] if lead else None,
                lead[2] if lead else None,
                lead is not None,
                child.family_id if may_break_glass else None,
            )
        )
    audit.record(
        session,
        actor=actor,
        event="searched",
        record_type="child_search",
        record_id=None,
        partnership_id=partnership_id,
        summary=f"Searched for a child: {len(found)} found",
        after={
            "surname": data.surname,
            "forenames": data.forenames,
            "date_of_birth": data.date_of_birth.isoformat(),
            "results": len(found),
        },
    )
    return found


# --- who has seen a record -------------------------------------------------------------------------------
def who_has_seen(
    session: Session, *, actor: Actor, family_id: int, partnership_id: int | None = None
) -> Sequence[AuditEvent]:
    """Every audited read and write of the family's record, newest first: for the lead practitioner and
    the partnership's data protection role (and nobody else). Reading this list is itself audited."""
    family = session.get(Family, family_id)
    if family is None or (partnership_id is not None and family.partnership_id != partnership_id):
        raise NotFound("No such family.")
    if allowed(actor, Can.VIEW_CASE_ACCESS, family.partnership_id):
        route = "data protection"
    else:
        access = access_to_family(session, actor, family_id, partnership_id)  # NotFound: may not know of it
        if access.route != "lead practitioner":
            raise NotAllowed("Only the lead practitioner and the data protection role see who has read this.")
        route = access.route
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "family", AuditEvent.record_id == family_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    audit.record(
        session,
        actor=actor,
        event="viewed-access",
        record_type="family",
        record_id=family_id,
        partnership_id=family.partnership_id,
        summary=f"Viewed who has seen the family's record, as {route}",
        after={"access": route, "what": "who has seen the record"},
    )
    return events


def family_id_by_reference(session: Session, *, actor: Actor, partnership_id: int, reference: str) -> int:
    """The data protection role finds a family by its case reference to see who has read its record (it
    cannot open records, so it has no caseload to find them in)."""
    ensure_allowed(actor, Can.VIEW_CASE_ACCESS, partnership_id)
    wanted = reference.strip()
    found = session.scalar(
        select(Family.id).where(Family.partnership_id == partnership_id, Family.reference == wanted)
    )
    if found is None:
        raise InputError("no family has this reference", field="reference")
    return found


def practitioners(
    session: Session, *, actor: Actor, partnership_id: int, matching: str = "", limit: int | None = None
) -> list[tuple[int, str]]:
    """Register people who log in as practitioners and are still in post, as choices for a team or a
    lead: "Name (Organisation)", by name. ``matching``: only those whose name or email contains it
    (ignoring case); ``limit``: at most that many."""
    ensure_allowed(actor, Can.WORK_CASES, partnership_id)
    query = (
        select(Person.id, Person.full_name, Organisation.name)
        .join(PractitionerLink, PractitionerLink.person_id == Person.id)
        .join(Organisation, Organisation.id == Person.organisation_id)
        .where(PractitionerLink.partnership_id == partnership_id, Person.ended_on.is_(None))
        .order_by(Person.full_name, Person.id)
    )
    if matching.strip():
        needle = matching.strip().lower()
        query = query.where(
            or_(
                func.lower(Person.full_name).contains(needle, autoescape=True),
                func.lower(func.coalesce(Person.email, "")).contains(needle, autoescape=True),
            )
        )
    if limit is not None:
        query = query.limit(limit)
    return [(pid, f"{name} ({organisation})") for pid, name, organisation in session.execute(query).all()]


# --- the chronology ----------------------------------------------------------------------------------------
def note_view(note: CaseNote) -> NoteView:
    return NoteView(
        note.id, note.happened_on, note.kind, note.text, note.author_label, note.sensitive, note.written_at
    )


def _notes(session: Session, actor: Actor, access: Access, family_id: int) -> tuple[list[NoteView], int]:
    """The family's notes, newest first, without the sensitive ones this reader may not see (and how many
    those are): a sensitive note is for its author, the lead practitioner and the coordinator."""
    sees_all = access.route in ("lead practitioner", "early help coordinator", "command line")
    shown, withheld = [], 0
    for note in session.scalars(
        select(CaseNote)
        .where(CaseNote.family_id == family_id)
        .order_by(CaseNote.happened_on.desc(), CaseNote.id.desc())
    ):
        if note.sensitive and not sees_all and note.author_user_id != actor.user_id:
            withheld += 1
            continue
        shown.append(note_view(note))
    return shown, withheld


def add_note(
    session: Session, *, actor: Actor, family_id: int, data: cs.NoteCreate, partnership_id: int | None = None
) -> CaseNote:
    """A dated entry in the family's chronology by someone who may see the record."""
    access = access_to_family(session, actor, family_id, partnership_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    ensure_may_change(access)
    episode_id = current_episode_id(session, family_id)
    person_id = practitioner_person_id(session, actor, access.partnership_id)
    author = session.get(Person, person_id) if person_id else None
    note = CaseNote(
        family_id=family_id,
        episode_id=episode_id,
        author_user_id=actor.user_id,
        author_person_id=person_id,
        author_label=author.full_name if author else actor.label,
        happened_on=data.happened_on,
        kind=data.kind,
        text=data.text,
        sensitive=data.sensitive,
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="note-added",
        record_type="family",
        record_id=family_id,
        partnership_id=access.partnership_id,
        summary=f"Added a {'sensitive ' if data.sensitive else ''}case note as {access.words}",
        after={"access": access.route, "note_id": note.id},
    )
    return note
