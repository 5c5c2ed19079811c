"""Casework's need-to-know: who the actor is as a practitioner (a login linked to a register person),
how they may see a family's record (the route the audit names) or "not found", and the audit entries
of reads and changes. Every casework service goes through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from reticulist.access.models import User
from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotAllowed, NotFound, allowed, ensure_allowed
from reticulist.audit import service as audit
from reticulist.casework.models import (
    BreakGlass,
    Consent,
    Episode,
    Family,
    Involvement,
    LeadPractitioner,
    PractitionerLink,
    SharingDecision,
)
from reticulist.db.base import utcnow
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.register.models import Person

LINK_RULES = {
    "uq_practitioner_link_user_partnership": ("user", "that account is already linked to a person here"),
    "uq_practitioner_link_person": ("person_id", "that person already has a login linked to them"),
}


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


@dataclass(frozen=True)
class Access:
    """How the actor may see a family's record: the route the audit names."""

    family_id: int
    partnership_id: int
    # lead practitioner, team member, early help coordinator, share decision, break-glass, command line
    route: str
    involvement_id: int | None = None
    sees_shielded: bool = False
    break_glass_id: int | None = None  # the emergency access this read relies on
    sharing_decision_ids: tuple[int, ...] = ()  # the sharing decisions this read relies on
    kinds: frozenset[str] | None = None  # the parts of the record it may see (None: all)

    @property
    def words(self) -> str:
        if self.break_glass_id is not None:
            return f"{self.route} (use {self.break_glass_id})"
        if self.sharing_decision_ids:
            return f"{self.route} ({', '.join(str(i) for i in self.sharing_decision_ids)})"
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
    if person_id is not None and allowed(actor, Can.WORK_CASES, pid):
        # Shared with them under a decision to share, until its date, while any consent it rests on lasts.
        shares = session.execute(
            select(SharingDecision.id, SharingDecision.kinds)
            .outerjoin(Consent, Consent.id == SharingDecision.consent_id)
            .where(
                SharingDecision.recipient_person_id == person_id,
                SharingDecision.family_id == family_id,
                SharingDecision.decision == "share",
                SharingDecision.access_until >= date.today(),
                or_(SharingDecision.consent_id.is_(None), Consent.withdrawn_on.is_(None)),
            )
            .order_by(SharingDecision.id)
        ).all()
        if shares:
            kinds = frozenset(k for _, ks in shares for k in ks)
            ids = tuple(i for i, _ in shares)
            return Access(family_id, pid, "share decision", sharing_decision_ids=ids, kinds=kinds)
    if actor.user_id is not None and allowed(actor, Can.WORK_CASES, pid):
        # Emergency access, while it lasts (casework/break_glass.py); never shielded details.
        use = session.scalar(
            select(BreakGlass.id)
            .where(
                BreakGlass.user_id == actor.user_id,
                BreakGlass.family_id == family_id,
                BreakGlass.expires_at > utcnow(),
            )
            .order_by(BreakGlass.expires_at.desc())
            .limit(1)
        )
        if use is not None:
            return Access(family_id, pid, "break-glass", break_glass_id=use)
    raise NotFound("No such family.")


def audit_read(session: Session, actor: Actor, access: Access, what: str) -> None:
    audit.record(
        session,
        actor=actor,
        event="viewed",
        record_type="family",
        record_id=access.family_id,
        partnership_id=access.partnership_id,
        summary=f"Viewed {what} as {access.words}",
        after={
            "access": access.route,
            "involvement_id": access.involvement_id,
            "what": what,
            **({"break_glass_id": access.break_glass_id} if access.break_glass_id is not None else {}),
            **({"sharing_decisions": list(shared)} if (shared := access.sharing_decision_ids) else {}),
        },
    )


def through(event: Any) -> str:
    """The route an audited read or change went through, in words: "team member (involvement 12)",
    "break-glass (use 3)", "share decision (decisions 4, 7)", "subject access request (request 2)"."""
    after = event.after or {}
    words = str(after.get("access") or event.via)
    if after.get("request_id"):
        words += f" (request {after['request_id']})"
    elif after.get("break_glass_id"):
        words += f" (use {after['break_glass_id']})"
    elif after.get("sharing_decisions"):
        words += f" (decisions {', '.join(str(i) for i in after['sharing_decisions'])})"
    elif after.get("involvement_id"):
        words += f" (involvement {after['involvement_id']})"
    return words


def check_practitioner(session: Session, partnership_id: int, person_id: int, field: str) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.partnership_id != partnership_id:
        raise InputError("no such person in this partnership's register", field=field)
    if person.ended_on is not None:
        raise InputError(f"{person.full_name} has left the partnership", field=field)
    return person


def current_episode_id(session: Session, family_id: int) -> int | None:
    return session.scalar(
        select(Episode.id).where(Episode.family_id == family_id, Episode.closed_on.is_(None))
    )


def open_episode_id(
    session: Session, *, actor: Actor, family_id: int, partnership_id: int | None = None
) -> int:
    """The family's open episode, for someone who may change the family's record (NotFound to those who
    may not see it, NotAllowed to those who may only read it); InputError when none is open. Every change
    to the team, plan, reviews and assessment goes through it, before its form is read."""
    access = access_to_family(session, actor, family_id, partnership_id)
    ensure_may_change(access)
    episode_id = current_episode_id(session, access.family_id)
    if episode_id is None:
        raise InputError("this family has no open episode", field="episode")
    return episode_id


def ensure_may_change(access: Access) -> None:
    """Emergency access and shared information are for reading: recording needs a place in the team."""
    if access.route == "break-glass":
        raise NotAllowed("Emergency access lets you read the record, not change it: ask the lead to add you.")
    if access.route == "share decision":
        raise NotAllowed("What was shared with you is to read, not to change: ask the lead to add you.")


def open_episode_of(session: Session, actor: Actor, episode_id: int) -> tuple[Episode, Access]:
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound("No such episode.")
    access = access_to_family(session, actor, episode.family_id)
    ensure_allowed(actor, Can.WORK_CASES, access.partnership_id)
    ensure_may_change(access)
    if episode.closed_on is not None:
        raise InputError("this episode is closed", field="episode")
    return episode, access


def needs_lead_or_coordinator(access: Access, what: str) -> None:
    if access.route not in ("lead practitioner", "early help coordinator", "command line"):
        raise NotAllowed(f"Only the lead practitioner or the early help coordinator may {what}.")


def audit_change(
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
