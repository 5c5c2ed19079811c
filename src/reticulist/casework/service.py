"""Casework services: every read and write of a family's record goes through here, and here alone decides
who may see it (need-to-know) and writes the audit entry that says who saw it and why.

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
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from reticulist.access.models import User
from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotAllowed, NotFound, allowed, ensure_allowed
from reticulist.audit import service as audit
from reticulist.audit.models import AuditEvent
from reticulist.casework import schemas as cs
from reticulist.casework.identifiers import read_upn
from reticulist.casework.models import (
    Assessment,
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
    Referral,
    Review,
    ReviewAttendee,
    ReviewProgress,
)
from reticulist.casework.vocab import (
    CHILDRENS_SOCIAL_CARE_DECISION_DAYS,
    OPEN_ACTION_STATUSES,
    MemberKind,
    ReferralChoice,
    ReferralStatus,
)
from reticulist.casework.working_days import working_days_between
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import FieldProblem, InputError
from reticulist.register.models import Organisation, Person

FAMILY_REFERENCE_RULE = "uq_family_reference"
ONE_OPEN_EPISODE_RULE = "uq_episode_one_open_per_family"
ONE_LEAD_RULE = "uq_lead_practitioner_one_current"
LINK_RULES = {
    "uq_practitioner_link_user_partnership": ("user", "that account is already linked to a person here"),
    "uq_practitioner_link_person": ("person_id", "that person already has a login linked to them"),
}


# --- who the actor is, as a practitioner -----------------------------------------------------------
def practitioner_person_id(session: Session, actor: Actor, partnership_id: int) -> int | None:
    """The register person the actor's login is linked to in this partnership, while that person is in it:
    someone who has left the partnership (their end date has passed) works no cases through it."""
    if actor.user_id is None:
        return None
    return session.scalar(
        select(PractitionerLink.person_id)
        .join(Person, Person.id == PractitionerLink.person_id)
        .where(
            PractitionerLink.user_id == actor.user_id,
            PractitionerLink.partnership_id == partnership_id,
            or_(Person.ended_on.is_(None), Person.ended_on >= date.today()),
        )
    )


def link_practitioner(
    session: Session, *, actor: Actor, partnership_id: int, user_id: int, person_id: int
) -> PractitionerLink:
    """Link a login to the register person it is (admins: the same people who give roles)."""
    ensure_allowed(actor, Can.MANAGE_ROLES, partnership_id)
    user = session.get(User, user_id)
    if user is None:
        raise InputError("no such account", field="user")
    person = session.get(Person, person_id)
    if person is None or person.partnership_id != partnership_id:
        raise InputError("no such person in this partnership", field="person_id")
    if person.ended_on is not None:
        raise InputError("that person has left the partnership", field="person_id")
    # The friendly checks first, in a fixed order; the constraints catch what a simultaneous request adds.
    linked = select(PractitionerLink.id).where(
        PractitionerLink.user_id == user_id, PractitionerLink.partnership_id == partnership_id
    )
    if session.scalar(linked) is not None:
        field, message = LINK_RULES["uq_practitioner_link_user_partnership"]
        raise InputError(message, field=field)
    if session.scalar(select(PractitionerLink.id).where(PractitionerLink.person_id == person_id)):
        field, message = LINK_RULES["uq_practitioner_link_person"]
        raise InputError(message, field=field)
    link = PractitionerLink(user_id=user_id, partnership_id=partnership_id, person_id=person_id)
    with refusing_duplicates(session, LINK_RULES):
        session.add(link)
    audit.record(
        session,
        actor=actor,
        event="linked",
        record_type="practitioner_link",
        record_id=link.id,
        partnership_id=partnership_id,
        summary=f"Login {user.email} linked to register person {person.full_name}",
    )
    return link


# --- need-to-know ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Access:
    """How the actor may see a family's record: the route the audit names."""

    family_id: int
    partnership_id: int
    route: str  # "lead practitioner", "team member", "early help coordinator", "command line"
    involvement_id: int | None = None
    sees_shielded: bool = False

    @property
    def words(self) -> str:
        return self.route + (f" (involvement {self.involvement_id})" if self.involvement_id else "")


def _current_involvements(session: Session, person_id: int, family_id: int, today: date) -> list[Any]:
    """The person's current involvements in the family's open episodes, with whether each leads."""
    return list(
        session.execute(
            select(Involvement.id, LeadPractitioner.id)
            .join(Episode, Episode.id == Involvement.episode_id)
            .outerjoin(
                LeadPractitioner,
                and_(LeadPractitioner.involvement_id == Involvement.id, LeadPractitioner.to_on.is_(None)),
            )
            .where(
                Involvement.person_id == person_id,
                Episode.family_id == family_id,
                Episode.closed_on.is_(None),
                Involvement.from_on <= today,
                or_(Involvement.to_on.is_(None), Involvement.to_on >= today),
            )
            .order_by(LeadPractitioner.id.is_(None), Involvement.id)
        ).all()
    )


def access_to_family(
    session: Session, actor: Actor, family_id: int, partnership_id: int | None = None
) -> Access:
    """How ``actor`` may see the family's record, or NotFound (as for a family that does not exist).
    ``partnership_id``: the partnership the request came through; a family of another is not found."""
    family = session.get(Family, family_id)
    if family is None or (partnership_id is not None and family.partnership_id != partnership_id):
        raise NotFound("No such family.")
    pid = family.partnership_id
    person_id = practitioner_person_id(session, actor, pid)
    if person_id is not None and allowed(actor, Can.WORK_CASES, pid):
        found = _current_involvements(session, person_id, family_id, date.today())
        if found:
            involvement_id, lead_id = found[0]
            route = "lead practitioner" if lead_id is not None else "team member"
            return Access(family_id, pid, route, involvement_id, sees_shielded=lead_id is not None)
    if allowed(actor, Can.VIEW_ALL_CASES, pid):
        route = "command line" if actor.is_site_admin else "early help coordinator"
        return Access(family_id, pid, route, sees_shielded=True)
    raise NotFound("No such family.")


def _audit_read(session: Session, actor: Actor, access: Access, what: str) -> None:
    audit.record(
        session,
        actor=actor,
        event="viewed",
        record_type="family",
        record_id=access.family_id,
        partnership_id=access.partnership_id,
        summary=f"Viewed {what} as {access.words}",
        after={"access": access.route, "involvement_id": access.involvement_id, "what": what},
    )


# --- recording a family ------------------------------------------------------------------------------
def _check_practitioner(session: Session, partnership_id: int, person_id: int, field: str) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.partnership_id != partnership_id:
        raise InputError("no such person in this partnership's register", field=field)
    if person.ended_on is not None:
        raise InputError(f"{person.full_name} has left the partnership", field=field)
    return person


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
    lead = _check_practitioner(session, family.partnership_id, data.lead_person_id, "lead_person_id")
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
        me = _check_practitioner(session, family.partnership_id, recorder, "lead_person_id")
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


def _open_episode_id(session: Session, family_id: int) -> int | None:
    return session.scalar(
        select(Episode.id).where(Episode.family_id == family_id, Episode.closed_on.is_(None))
    )


def open_episode_id(
    session: Session, *, actor: Actor, family_id: int, partnership_id: int | None = None
) -> int:
    """The family's open episode, for someone who may see the family (NotFound otherwise); InputError
    when none is open. Every change to the team, plan, reviews and assessment goes through it."""
    access = access_to_family(session, actor, family_id, partnership_id)
    episode_id = _open_episode_id(session, access.family_id)
    if episode_id is None:
        raise InputError("this family has no open episode", field="episode")
    return episode_id


def open_episode(session: Session, *, actor: Actor, family_id: int, data: cs.EpisodeOpen) -> Episode:
    """A new episode for a recorded family (none may be open). Needs sight of the record."""
    access = access_to_family(session, actor, family_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    family = session.get(Family, family_id)
    assert family is not None
    if _open_episode_id(session, family_id) is not None:
        raise InputError("this family already has an open episode", field="episode")
    agreed_by = session.get(FamilyMember, data.agreed_by_member_id)
    if agreed_by is None or agreed_by.family_id != family_id:
        raise InputError("is not one of this family's people", field="agreed_by_member_id")
    return _open(session, actor, family, data, agreed_by)


def _open_episode_of(session: Session, actor: Actor, episode_id: int) -> tuple[Episode, Access]:
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound("No such episode.")
    access = access_to_family(session, actor, episode.family_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    if episode.closed_on is not None:
        raise InputError("this episode is closed", field="episode")
    return episode, access


def _needs_lead_or_coordinator(access: Access, what: str) -> None:
    if access.route not in ("lead practitioner", "early help coordinator", "command line"):
        raise NotAllowed(f"Only the lead practitioner or the early help coordinator may {what}.")


def add_to_team(
    session: Session, *, actor: Actor, episode_id: int, data: cs.InvolvementCreate
) -> Involvement:
    """A practitioner joins the team around the family (the lead practitioner or coordinator adds them)."""
    episode, access = _open_episode_of(session, actor, episode_id)
    _needs_lead_or_coordinator(access, "change the team")
    person = _check_practitioner(session, access.partnership_id, data.person_id, "person_id")
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
    episode, access = _open_episode_of(session, actor, episode_id)
    _needs_lead_or_coordinator(access, "change the lead practitioner")
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
    episode, access = _open_episode_of(session, actor, episode_id)
    _needs_lead_or_coordinator(access, "close the episode")
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
class ActionView:
    id: int
    text: str
    owner: str
    owner_involvement_id: int
    due_on: date
    status: str
    overdue: bool


@dataclass(frozen=True)
class OutcomeView:
    id: int
    text: str
    actions: list[ActionView]


@dataclass(frozen=True)
class ReviewView:
    id: int
    held_on: date
    next_review_on: date | None
    summary: str
    attended: str
    team_present: list[str]
    progress: list[tuple[str, str, str]]  # action, status, note


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
    plan, reviews = _plan_and_reviews(session, open_episode.id) if open_episode else ([], [])
    due = reviews[0].next_review_on if reviews else None
    _audit_read(session, actor, access, "the family's record")
    return FamilyRecord(
        family.id,
        family.partnership_id,
        family.reference,
        access,
        member_views,
        episode_views,
        notes,
        withheld,
        plan,
        reviews,
        review_overdue=due is not None and due < date.today(),
        referrals=family_referrals(session, access),
        assessments=assessments(session, access),
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
        found.append(
            KnownChild(
                family_id,
                lead[0] if lead else None,
                lead[1] if lead else None,
                lead[2] if lead else None,
                lead is not None,
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


def practitioners(session: Session, *, actor: Actor, partnership_id: int) -> list[tuple[int, str]]:
    """Register people who log in as practitioners, as choices for a team or a lead: "Name (Organisation)"."""
    ensure_allowed(actor, Can.WORK_CASES, partnership_id)
    rows = session.execute(
        select(Person.id, Person.full_name, Organisation.name)
        .join(PractitionerLink, PractitionerLink.person_id == Person.id)
        .join(Organisation, Organisation.id == Person.organisation_id)
        .where(PractitionerLink.partnership_id == partnership_id, Person.ended_on.is_(None))
        .order_by(Person.full_name, Person.id)
    ).all()
    return [(pid, f"{name} ({organisation})") for pid, name, organisation in rows]


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
    episode_id = _open_episode_id(session, family_id)
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


# --- the family plan and reviews ---------------------------------------------------------------------------
def _plan_and_reviews(session: Session, episode_id: int) -> tuple[list[OutcomeView], list[ReviewView]]:
    today = date.today()
    names = dict(
        session.execute(
            select(Involvement.id, Person.full_name)
            .join(Person, Person.id == Involvement.person_id)
            .where(Involvement.episode_id == episode_id)
        ).all()
    )
    outcomes = list(
        session.scalars(
            select(PlanOutcome).where(PlanOutcome.episode_id == episode_id).order_by(PlanOutcome.id)
        )
    )
    actions = list(
        session.scalars(
            select(PlanAction)
            .where(PlanAction.outcome_id.in_([o.id for o in outcomes]))
            .order_by(PlanAction.due_on, PlanAction.id)
        )
    )
    plan = [
        OutcomeView(
            o.id,
            o.text,
            [
                ActionView(
                    a.id,
                    a.text,
                    names.get(a.owner_involvement_id, "?"),
                    a.owner_involvement_id,
                    a.due_on,
                    a.status,
                    a.status in OPEN_ACTION_STATUSES and a.due_on < today,
                )
                for a in actions
                if a.outcome_id == o.id
            ],
        )
        for o in outcomes
    ]
    action_text = {a.id: a.text for a in actions}
    reviews = list(
        session.scalars(
            select(Review)
            .where(Review.episode_id == episode_id)
            .order_by(Review.held_on.desc(), Review.id.desc())
        )
    )
    review_ids = [r.id for r in reviews]
    present: dict[int, list[str]] = {}
    for review_id, involvement_id in session.execute(
        select(ReviewAttendee.review_id, ReviewAttendee.involvement_id).where(
            ReviewAttendee.review_id.in_(review_ids)
        )
    ):
        present.setdefault(review_id, []).append(names.get(involvement_id, "?"))
    progress: dict[int, list[tuple[str, str, str]]] = {}
    for entry in session.scalars(
        select(ReviewProgress).where(ReviewProgress.review_id.in_(review_ids)).order_by(ReviewProgress.id)
    ):
        progress.setdefault(entry.review_id, []).append(
            (action_text.get(entry.action_id, "?"), entry.status, entry.note)
        )
    return plan, [
        ReviewView(
            r.id,
            r.held_on,
            r.next_review_on,
            r.summary,
            r.attended,
            present.get(r.id, []),
            progress.get(r.id, []),
        )
        for r in reviews
    ]


def _audit_change(
    session: Session, actor: Actor, access: Access, event: str, summary: str, **after: Any
) -> None:
    audit.record(
        session,
        actor=actor,
        event=event,
        record_type="family",
        record_id=access.family_id,
        partnership_id=access.partnership_id,
        summary=f"{summary}, as {access.words}",
        after={"access": access.route, **after},
    )


def add_outcome(session: Session, *, actor: Actor, episode_id: int, data: cs.OutcomeCreate) -> PlanOutcome:
    """An outcome in the family plan; anyone in the team may write the plan the team agreed."""
    episode, access = _open_episode_of(session, actor, episode_id)
    outcome = PlanOutcome(episode_id=episode.id, text=data.text, created_on=date.today())
    session.add(outcome)
    session.flush()
    _audit_change(
        session, actor, access, "plan-changed", "Added an outcome to the family plan", outcome_id=outcome.id
    )
    return outcome


def add_plan_action(
    session: Session, *, actor: Actor, episode_id: int, data: cs.PlanActionCreate
) -> PlanAction:
    """An action towards one of the plan's outcomes, owned by a current member of the team."""
    episode, access = _open_episode_of(session, actor, episode_id)
    outcome = session.get(PlanOutcome, data.outcome_id)
    if outcome is None or outcome.episode_id != episode.id:
        raise InputError("is not an outcome of this family's plan", field="outcome_id")
    owner = session.get(Involvement, data.owner_involvement_id)
    if owner is None or owner.episode_id != episode.id or owner.to_on is not None:
        raise InputError(
            "is not a current member of the team around the family", field="owner_involvement_id"
        )
    if data.due_on < episode.opened_on:
        raise InputError("is before the episode opened", field="due_on")
    action = PlanAction(
        outcome_id=outcome.id,
        text=data.text,
        owner_involvement_id=owner.id,
        due_on=data.due_on,
        status="open",
        changed_on=date.today(),
    )
    session.add(action)
    session.flush()
    _audit_change(
        session, actor, access, "plan-changed", "Added an action to the family plan", action_id=action.id
    )
    return action


def record_review(session: Session, *, actor: Actor, episode_id: int, data: cs.ReviewCreate) -> Review:
    """A team around the family review: who came, progress on each action (which sets its status), and
    when the next one is due."""
    episode, access = _open_episode_of(session, actor, episode_id)
    if data.held_on < episode.opened_on:
        raise InputError("is before the episode opened", field="held_on")
    team = {i.id for i in session.scalars(select(Involvement).where(Involvement.episode_id == episode.id))}
    for n, involvement_id in enumerate(data.attendee_involvement_ids):
        if involvement_id not in team:
            raise InputError("is not a member of this family's team", field=f"attendee_involvement_ids.{n}")
    actions = {
        a.id: a
        for a in session.scalars(
            select(PlanAction).join(PlanOutcome).where(PlanOutcome.episode_id == episode.id)
        )
    }
    seen: set[int] = set()
    for n, entry in enumerate(data.progress):
        if entry.action_id not in actions:
            raise InputError("is not an action of this family's plan", field=f"progress.{n}.action_id")
        if entry.action_id in seen:
            raise InputError("is reported twice in this review", field=f"progress.{n}.action_id")
        seen.add(entry.action_id)
    review = Review(
        episode_id=episode.id,
        held_on=data.held_on,
        next_review_on=data.next_review_on,
        summary=data.summary,
        attended=data.attended,
    )
    session.add(review)
    session.flush()
    for involvement_id in dict.fromkeys(data.attendee_involvement_ids):
        session.add(ReviewAttendee(review_id=review.id, involvement_id=involvement_id))
    for entry in data.progress:
        session.add(
            ReviewProgress(
                review_id=review.id, action_id=entry.action_id, status=entry.status, note=entry.note
            )
        )
        action = actions[entry.action_id]
        action.status = entry.status
        action.changed_on = data.held_on
    session.flush()
    _audit_change(
        session, actor, access, "reviewed", "Recorded a team around the family review", review_id=review.id
    )
    return review


# --- referrals between agencies ---------------------------------------------------------------------------
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
    episode_id = _open_episode_id(session, family_id)
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
    _audit_change(
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
        person = _check_practitioner(session, referral.partnership_id, person_id, "decision")
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
    _audit_change(
        session, actor, access, "withdrawn", f"Withdrew referral {referral.id}", referral_id=referral.id
    )
    return referral


# --- the early help assessment ------------------------------------------------------------------------------
ASSESSMENT_RULES = {
    "uq_assessment_one_draft": ("assessment", "a draft of this assessment is already open"),
    "uq_assessment_version": ("assessment", "another version was started at the same moment"),
}
# Completing needs each domain looked at (strengths or needs written) and the child's own words.
_DOMAINS = {
    "development": "the child's developmental needs",
    "parenting": "parenting capacity",
    "family": "family and environmental factors",
}


@dataclass(frozen=True)
class AssessmentView:
    id: int
    episode_id: int
    version: int
    status: str  # draft / completed
    development_strengths: str
    development_needs: str
    parenting_strengths: str
    parenting_needs: str
    family_strengths: str
    family_needs: str
    childs_words: str
    family_view: str
    drafted_by_label: str
    changed_at: datetime
    completed_by_label: str | None
    completed_at: datetime | None


def assessments(session: Session, access: Access) -> list[AssessmentView]:
    """The family's assessment versions, newest first (part of the record's read)."""
    found = session.scalars(
        select(Assessment)
        .join(Episode, Episode.id == Assessment.episode_id)
        .where(Episode.family_id == access.family_id)
        .order_by(Assessment.episode_id.desc(), Assessment.version.desc())
    )
    return [
        AssessmentView(
            a.id,
            a.episode_id,
            a.version,
            a.status,
            *(getattr(a, k) for k in cs.ASSESSMENT_FIELDS),
            a.drafted_by_label,
            a.changed_at,
            a.completed_by_label,
            a.completed_at,
        )
        for a in found
    ]


def start_assessment(session: Session, *, actor: Actor, episode_id: int) -> Assessment:
    """A new draft: the first version, or a copy of the latest completed one to change (which stays)."""
    episode, access = _open_episode_of(session, actor, episode_id)
    latest = session.scalar(
        select(Assessment)
        .where(Assessment.episode_id == episode.id)
        .order_by(Assessment.version.desc())
        .limit(1)
    )
    if latest is not None and latest.status == "draft":
        raise InputError("a draft of this assessment is already open", field="assessment")
    draft = Assessment(
        episode_id=episode.id,
        version=(latest.version + 1) if latest else 1,
        status="draft",
        drafted_by_label=actor.label,
        **({k: getattr(latest, k) for k in cs.ASSESSMENT_FIELDS} if latest else {}),
    )
    with refusing_duplicates(session, ASSESSMENT_RULES):
        session.add(draft)
    _audit_change(
        session,
        actor,
        access,
        "assessment-started",
        f"Started version {draft.version} of the assessment",
        assessment_id=draft.id,
    )
    return draft


def save_family_assessment(
    session: Session,
    *,
    actor: Actor,
    family_id: int,
    assessment_id: int,
    data: cs.AssessmentDraft,
    complete: bool = False,
    partnership_id: int | None = None,
) -> Assessment:
    """Save a draft of the family's open episode (NotFound for an assessment of another family or an
    earlier episode), and with ``complete`` lock it; the caller commits, so both or neither are kept."""
    episode_id = open_episode_id(session, actor=actor, family_id=family_id, partnership_id=partnership_id)
    if session.scalar(select(Assessment.episode_id).where(Assessment.id == assessment_id)) != episode_id:
        raise NotFound("No such assessment.")
    assessment = save_assessment(session, actor=actor, assessment_id=assessment_id, data=data)
    return complete_assessment(session, actor=actor, assessment_id=assessment_id) if complete else assessment


def _draft(session: Session, actor: Actor, assessment_id: int) -> tuple[Assessment, Access]:
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound("No such assessment.")
    _episode, access = _open_episode_of(session, actor, assessment.episode_id)
    if assessment.status != "draft":
        raise InputError(
            "this version is completed and locked: start a new version to change it", field="assessment"
        )
    return assessment, access


def save_assessment(
    session: Session, *, actor: Actor, assessment_id: int, data: cs.AssessmentDraft
) -> Assessment:
    """Change a draft (a completed version is never changed)."""
    assessment, access = _draft(session, actor, assessment_id)
    for key in cs.ASSESSMENT_FIELDS:
        setattr(assessment, key, getattr(data, key))
    assessment.drafted_by_label = actor.label
    assessment.changed_at = datetime.now(UTC)
    session.flush()
    _audit_change(
        session,
        actor,
        access,
        "assessment-saved",
        f"Saved the draft of version {assessment.version}",
        assessment_id=assessment.id,
    )
    return assessment


def complete_assessment(session: Session, *, actor: Actor, assessment_id: int) -> Assessment:
    """Lock the draft as completed (who, when); it must cover the three domains and the child's words."""
    assessment, access = _draft(session, actor, assessment_id)
    problems = [
        FieldProblem(f"{key}_needs", f"write the strengths or the needs for {words}")
        for key, words in _DOMAINS.items()
        if not (getattr(assessment, f"{key}_strengths") or getattr(assessment, f"{key}_needs"))
    ]
    if not assessment.childs_words:
        problems.append(FieldProblem("childs_words", "the child's own words are part of the assessment"))
    if problems:
        raise InputError(problems=problems)
    assessment.status = "completed"
    assessment.completed_by_label = actor.label
    assessment.completed_at = datetime.now(UTC)
    session.flush()
    _audit_change(
        session,
        actor,
        access,
        "assessment-completed",
        f"Completed version {assessment.version} of the assessment",
        assessment_id=assessment.id,
    )
    return assessment
