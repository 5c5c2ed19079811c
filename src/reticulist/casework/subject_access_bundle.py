"""The subject access bundle: everything casework holds about one person, for the data protection officer
to review and answer a subject access request with (UK GDPR Article 15).

It is built for a request in the register whose requester's identity is confirmed and which is not yet
answered: the request is the reason the officer, who otherwise opens no records, may read the family's
record, and that read is audited as "subject access request (request N)" like any other.

The bundle is a review copy. Other people's details are marked for redaction review, shielded addresses
are never copied into it (not even out of a note), and where the subject is a child, records that may be
"child abuse data" (DPA 2018 Schedule 3 Part 5) are flagged for a decision (casework/redaction.py).
Staff names are kept: people acting in their professional role are normally named in an answer (ICO).

The same ``Bundle`` feeds the page, the JSON and the PDF (subject_access_pdf.py), so they cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, ensure_allowed
from reticulist.audit import service as audit
from reticulist.audit.models import AuditEvent
from reticulist.casework.models import (
    Assessment,
    BreakGlass,
    CaseNote,
    Consent,
    Episode,
    Family,
    FamilyMember,
    Involvement,
    LeadPractitioner,
    MemberAddress,
    PlanAction,
    PlanOutcome,
    Referral,
    Review,
    ReviewProgress,
    SharingDecision,
    SubjectAccessRequest,
)
from reticulist.casework.need_to_know import through
from reticulist.casework.redaction import (
    CHILD_ABUSE,
    RELATIONSHIP_WORDS,
    SHIELDED,
    THIRD_PARTY,
    WITHHELD,
    Piece,
    Terms,
    address_terms,
    mark,
    marks_in,
    name_terms,
)
from reticulist.casework.subject_access_dates import due_on
from reticulist.casework.vocab import LABELS
from reticulist.db.base import utcnow
from reticulist.errors import InputError
from reticulist.register.models import Organisation, Partnership, Person
from reticulist.text import refused_character

FLAG_WORDS = {
    THIRD_PARTY: "Other people's details: review for redaction",
    SHIELDED: "A shielded address was withheld: decide whether the subject may have it",
    CHILD_ABUSE: "May be child abuse data (DPA 2018 Sch. 3 Part 5): decide before release",
    "sensitive": "A sensitive note (seen only by its author, the lead and the coordinator)",
}


@dataclass(frozen=True)
class Field:
    label: str
    pieces: tuple[Piece, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)


@dataclass(frozen=True)
class Item:
    """One record: what it is (``record``, e.g. "case note 12"), a heading, its date, its fields, and the
    flags the officer must decide on."""

    record: str
    title: str
    when: date | None
    fields: tuple[Field, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    about: str
    items: tuple[Item, ...] = ()
    headings: tuple[str, ...] = ()  # a table instead of items (who has seen the record)
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Bundle:
    request_id: int
    partnership_name: str
    family_reference: str
    subject: str
    subject_is_child: bool
    requester: str
    received_on: date
    identity_checked_on: date
    due: date
    built_at: datetime
    built_by: str
    sections: tuple[Section, ...]
    flag_counts: dict[str, int] = field(default_factory=dict)  # flag -> items carrying it

    @property
    def items(self) -> int:
        return sum(len(s.items) + len(s.rows) for s in self.sections)


def _label(value: str | None) -> str:
    if value is None:
        return ""
    return LABELS.get(value, value.replace("_", " ").capitalize())


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d %b %Y %H:%M UTC")
    return value.strftime("%d %b %Y")


class _Builder:
    """Builds items, marking every text through the bundle's terms and collecting the flags."""

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        self.shielded_only = Terms({}, terms.shielded, False)  # one pattern, compiled once

    def field(self, label: str, value: Any, *, free_text: bool = True) -> Field | None:
        text = value if isinstance(value, str) else _day(value) if isinstance(value, date) else str(value)
        if value is None or text == "":
            return None
        pieces = mark(text, self.terms) if free_text else [Piece(text)]
        return Field(label, tuple(pieces))

    def shielded_out(self, text: str) -> str:
        """Plain text (a table cell) with any shielded detail withheld, nothing else marked."""
        return "".join(p.text for p in mark(text, self.shielded_only))

    def joined(self, label: str, *parts: tuple[str, bool]) -> Field:
        """A field made of parts, each (text, whether it is free text to mark): a plan action's words are
        marked, the staff name of its owner is not."""
        pieces: list[Piece] = []
        for text, free_text in parts:
            pieces += mark(text, self.terms) if free_text else [Piece(text)]
        return Field(label, tuple(pieces))

    def third_party(self, label: str, text: str, who: str) -> Field:
        return Field(label, (Piece(text, THIRD_PARTY, who),))

    def item(
        self,
        record: str,
        title: str,
        when: date | None,
        fields: Iterable[Field | None],
        extra_flags: Iterable[str] = (),
        *,
        child_abuse_record: bool = False,
    ) -> Item:
        kept = tuple(f for f in fields if f is not None)
        marks = marks_in(p for f in kept for p in f.pieces)
        if child_abuse_record and self.terms.child_abuse:
            marks.add(CHILD_ABUSE)
        if not self.terms.child_abuse:
            marks.discard(CHILD_ABUSE)
        flags = [FLAG_WORDS[m] for m in (SHIELDED, CHILD_ABUSE, THIRD_PARTY) if m in marks]
        flags += [FLAG_WORDS.get(f, f) for f in extra_flags]
        return Item(record, title, when, kept, tuple(flags))


def _request(session: Session, actor: Actor, partnership_id: int, request_id: int) -> SubjectAccessRequest:
    ensure_allowed(actor, Can.HANDLE_SUBJECT_ACCESS, partnership_id)
    request = session.get(SubjectAccessRequest, request_id)
    if request is None or request.partnership_id != partnership_id:
        raise NotFound("No such subject access request.")
    if request.identity_checked_on is None:
        raise InputError(
            "the requester's identity is not confirmed yet: record the identity check first", field="request"
        )
    if request.done_on is not None:
        raise InputError(
            "this request is answered: record a new request to build a new bundle", field="request"
        )
    return request


def _age_on(born: date | None, day: date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _terms(subject: FamilyMember, members: list[FamilyMember], addresses: list[MemberAddress]) -> Terms:
    """Other people's names and identifiers; every shielded address (a shielded person's are all
    shielded); child abuse words when the subject is a child."""
    by_member: dict[int, list[MemberAddress]] = {}
    for a in addresses:
        by_member.setdefault(a.member_id, []).append(a)
    own_address_terms = {
        t.casefold()
        for a in by_member.get(subject.id, [])
        if not _shielded(a, subject)
        for t in address_terms(a.lines, a.postcode)
    }
    third: dict[str, str] = {}
    shielded: set[str] = set()
    for m in members:
        name = f"{m.forenames} {m.surname}"
        for a in by_member.get(m.id, []):
            if _shielded(a, m):
                shielded.update(address_terms(a.lines, a.postcode))
            elif m.id != subject.id:
                for t in address_terms(a.lines, a.postcode):
                    if t.casefold() not in own_address_terms:  # where they live together it is theirs too
                        third.setdefault(t, name)
        if m.id == subject.id:
            continue
        for t in name_terms(m.forenames, m.surname, m.known_as, subject_surname=subject.surname):
            third.setdefault(t, name)
        if m.relationship_to_children != subject.relationship_to_children:
            for t in RELATIONSHIP_WORDS.get(m.relationship_to_children, ()):
                third.setdefault(t, name)
        for identifier in (m.nhs_number, m.upn):
            if identifier:
                third.setdefault(identifier, name)
    # The subject's own names are theirs, even where another member shares a first name.
    for t in name_terms(subject.forenames, subject.surname, subject.known_as, subject_surname=""):
        third.pop(t, None)
    is_child = subject.kind == "child" or (
        (age := _age_on(subject.date_of_birth, date.today())) is not None and age < 18
    )
    return Terms(third, tuple(sorted(shielded)), is_child)


def _shielded(address: MemberAddress, member: FamilyMember) -> bool:
    return address.shielded or member.shielded


def build_bundle(
    session: Session, *, actor: Actor, partnership_id: int, request_id: int, form: str
) -> Bundle:
    """The bundle for the request; ``form`` ("page", "JSON", "PDF", "command line") is said in the audit."""
    request = _request(session, actor, partnership_id, request_id)
    subject = session.get(FamilyMember, request.member_id)
    assert subject is not None  # the request's member is a foreign key (deleted with it)
    family = session.get(Family, subject.family_id)
    assert family is not None
    partnership = session.get(Partnership, partnership_id)
    assert partnership is not None
    members = list(
        session.scalars(
            select(FamilyMember).where(FamilyMember.family_id == family.id).order_by(FamilyMember.id)
        )
    )
    member_ids = [m.id for m in members]
    addresses = list(
        session.scalars(
            select(MemberAddress)
            .where(MemberAddress.member_id.in_(member_ids))
            .order_by(MemberAddress.from_on, MemberAddress.id)
        )
    )
    terms = _terms(subject, members, addresses)
    b = _Builder(terms)
    names = {m.id: f"{m.forenames} {m.surname}" for m in members}

    def member_field(label: str, member_id: int | None) -> Field | None:
        if member_id is None:
            return None
        if member_id == subject.id:
            return Field(label, (Piece(names[member_id]),))
        return b.third_party(label, names.get(member_id, "another person"), names.get(member_id, ""))

    sections: list[Section] = []

    # --- the person and their addresses ---
    person_flags = ["The person is recorded as 'do not disclose location'"] if subject.shielded else []
    sections.append(
        Section(
            "person",
            "The person",
            "What is recorded about who they are.",
            (
                b.item(
                    f"family member {subject.id}",
                    names[subject.id],
                    None,
                    [
                        b.field("Name", names[subject.id], free_text=False),
                        b.field("Known as", subject.known_as, free_text=False),
                        b.field("Date of birth", subject.date_of_birth),
                        b.field("Sex", _label(subject.sex.replace("-", "_"))),
                        b.field("Child or adult", _label(subject.kind)),
                        b.field("Relationship to the children", _label(subject.relationship_to_children)),
                        b.field(
                            "Parental responsibility", "yes" if subject.parental_responsibility else "no"
                        ),
                        b.field("NHS number", subject.nhs_number, free_text=False),
                        b.field("Unique pupil number", subject.upn, free_text=False),
                        b.field("Family's case reference", family.reference, free_text=False),
                    ],
                    person_flags,
                ),
            ),
        )
    )
    address_items = []
    for a in (a for a in addresses if a.member_id == subject.id):
        span = f"from {_day(a.from_on)}" + (f" to {_day(a.to_on)}" if a.to_on else " (current)")
        if _shielded(a, subject):
            fields: list[Field | None] = [Field("Address", (Piece(WITHHELD, SHIELDED),))]
        else:
            fields = [b.field("Address", a.lines), b.field("Postcode", a.postcode)]
        address_items.append(b.item(f"address {a.id}", f"Address {span}", a.from_on, fields))
    sections.append(
        Section("addresses", "Addresses", "Where they were recorded as living.", tuple(address_items))
    )

    others = [m for m in members if m.id != subject.id]
    sections.append(
        Section(
            "family",
            "The family",
            "The other members of the family recorded with them (their details are other people's).",
            tuple(
                b.item(
                    f"family member {m.id}",
                    "Another member of the family",
                    None,
                    [
                        b.third_party("Name", names[m.id], names[m.id]),
                        b.field("Relationship to the children", _label(m.relationship_to_children)),
                        b.field("Child or adult", _label(m.kind)),
                    ],
                )
                for m in others
            ),
        )
    )

    # --- early help: episodes, team, assessments, plan and reviews ---
    episodes = list(
        session.scalars(select(Episode).where(Episode.family_id == family.id).order_by(Episode.opened_on))
    )
    episode_ids = [e.id for e in episodes]
    involvements = list(
        session.scalars(
            select(Involvement).where(Involvement.episode_id.in_(episode_ids)).order_by(Involvement.from_on)
        )
    )
    people = _people(session, {i.person_id for i in involvements})
    organisations = _organisations(session, partnership_id)
    involvement_words = {
        i.id: f"{people.get(i.person_id, 'someone')} ({i.role}, {organisations.get(i.organisation_id, '')})"
        for i in involvements
    }
    leads = list(
        session.scalars(
            select(LeadPractitioner)
            .where(LeadPractitioner.episode_id.in_(episode_ids))
            .order_by(LeadPractitioner.from_on)
        )
    )
    episode_items = []
    for e in episodes:
        team = [
            f"{involvement_words[i.id]}, from {_day(i.from_on)}" + (f" to {_day(i.to_on)}" if i.to_on else "")
            for i in involvements
            if i.episode_id == e.id
        ]
        lead_lines = [
            f"{involvement_words.get(lp.involvement_id, '')}, from {_day(lp.from_on)}"
            + (f" to {_day(lp.to_on)}" if lp.to_on else "")
            + ("; the family had a say" if lp.family_had_say else "")
            for lp in leads
            if lp.episode_id == e.id
        ]
        episode_items.append(
            b.item(
                f"episode {e.id}",
                f"Early help from {_day(e.opened_on)}" + (f" to {_day(e.closed_on)}" if e.closed_on else ""),
                e.opened_on,
                [
                    b.field("Asked for by", e.requested_by),
                    b.field("Asked for on", e.requested_on),
                    b.field("Why", e.request_reason),
                    member_field("Agreed to by", e.agreed_by_member_id),
                    b.field("Agreed on", e.agreed_on),
                    b.field("Outcome", _label(e.outcome) if e.outcome else None),
                    b.field("The team", "; ".join(team), free_text=False),
                    b.field("Lead practitioner", "; ".join(lead_lines), free_text=False),
                ],
            )
        )
    sections.append(
        Section(
            "episodes",
            "Early help",
            "Each episode of early help and the team around the family.",
            tuple(episode_items),
        )
    )

    assessments = session.scalars(
        select(Assessment)
        .where(Assessment.episode_id.in_(episode_ids))
        .order_by(Assessment.episode_id, Assessment.version)
    )
    sections.append(
        Section(
            "assessments",
            "Assessments",
            "Early help assessments, every version kept.",
            tuple(
                b.item(
                    f"assessment {a.id}",
                    f"Assessment, version {a.version} ({a.status})",
                    (a.completed_at or a.changed_at).date(),
                    [
                        b.field("Development: strengths", a.development_strengths),
                        b.field("Development: needs", a.development_needs),
                        b.field("Parenting: strengths", a.parenting_strengths),
                        b.field("Parenting: needs", a.parenting_needs),
                        b.field("Family and environment: strengths", a.family_strengths),
                        b.field("Family and environment: needs", a.family_needs),
                        b.field("The child's words", a.childs_words),
                        b.field("The family's view", a.family_view),
                        b.field("Drafted by", a.drafted_by_label, free_text=False),
                        b.field("Completed by", a.completed_by_label, free_text=False),
                    ],
                )
                for a in assessments
            ),
        )
    )

    outcomes = list(
        session.scalars(
            select(PlanOutcome).where(PlanOutcome.episode_id.in_(episode_ids)).order_by(PlanOutcome.id)
        )
    )
    actions = list(
        session.scalars(
            select(PlanAction)
            .where(PlanAction.outcome_id.in_([o.id for o in outcomes]))
            .order_by(PlanAction.id)
        )
    )
    plan_items = [
        b.item(
            f"plan outcome {o.id}",
            "Plan outcome",
            o.created_on,
            [b.field("Outcome", o.text)]
            + [
                b.joined(
                    f"Action {n}",
                    (a.text, True),
                    (
                        f" (owner: {involvement_words.get(a.owner_involvement_id, '')}; "
                        f"due {_day(a.due_on)}; {_label(a.status).lower()})",
                        False,
                    ),
                )
                for n, a in enumerate((a for a in actions if a.outcome_id == o.id), start=1)
            ],
        )
        for o in outcomes
    ]
    reviews = list(
        session.scalars(select(Review).where(Review.episode_id.in_(episode_ids)).order_by(Review.held_on))
    )
    progress = list(
        session.scalars(select(ReviewProgress).where(ReviewProgress.review_id.in_([r.id for r in reviews])))
    )
    action_text = {a.id: a.text for a in actions}
    for r in reviews:
        plan_items.append(
            b.item(
                f"review {r.id}",
                f"Review held on {_day(r.held_on)}",
                r.held_on,
                [
                    b.field("Summary", r.summary),
                    b.field("Who came", r.attended),
                    b.field("Next review", r.next_review_on),
                ]
                + [
                    b.field(
                        "Progress",
                        f"{action_text.get(p.action_id, '')}: {_label(p.status).lower()}. {p.note}",
                    )
                    for p in progress
                    if p.review_id == r.id
                ],
            )
        )
    sections.append(
        Section("plan", "Family plan and reviews", "What the plan is for and how it went.", tuple(plan_items))
    )

    referrals = session.scalars(
        select(Referral).where(Referral.family_id == family.id).order_by(Referral.sent_on)
    )
    referral_items = []
    for r in referrals:
        about_other = r.child_member_id != subject.id
        referral_items.append(
            b.item(
                f"referral {r.id}",
                f"Referral to {organisations.get(r.to_organisation_id, 'an organisation')}",
                r.sent_on,
                [
                    member_field("About", r.child_member_id),
                    b.field("From", involvement_words.get(r.from_involvement_id, ""), free_text=False),
                    b.field("Why", r.reason),
                    b.field("Sent on", r.sent_on),
                    b.field("Status", _label(r.status)),
                    b.field("Decided on", r.decided_on),
                    b.field("Decided by", r.decided_by_label, free_text=False),
                    b.field("Why declined", r.decline_reason),
                ],
                ["The referral is about another child of the family"] if about_other else [],
                child_abuse_record=not about_other,
            )
        )
    sections.append(
        Section(
            "referrals",
            "Referrals",
            "Referrals to other organisations about the family's children.",
            tuple(referral_items),
        )
    )

    notes = session.scalars(
        select(CaseNote).where(CaseNote.family_id == family.id).order_by(CaseNote.happened_on, CaseNote.id)
    )
    sections.append(
        Section(
            "notes",
            "Chronology",
            "The family's case notes, oldest first. Notes are never edited: a correction is a later note.",
            tuple(
                b.item(
                    f"case note {n.id}",
                    f"{_label(n.kind)} on {_day(n.happened_on)}",
                    n.happened_on,
                    [b.field("Note", n.text), b.field("Written by", n.author_label, free_text=False)],
                    ["sensitive"] if n.sensitive else [],
                    child_abuse_record=n.sensitive,
                )
                for n in notes
            ),
        )
    )

    # --- sharing: consents, decisions, who has seen, break-glass, earlier requests ---
    consents = session.scalars(
        select(Consent).where(Consent.family_id == family.id).order_by(Consent.given_on)
    )
    sections.append(
        Section(
            "consents",
            "Consent to share",
            "Consents to share information, and their withdrawal.",
            tuple(
                b.item(
                    f"consent {c.id}",
                    f"Consent given on {_day(c.given_on)}",
                    c.given_on,
                    [
                        member_field("Given by", c.given_by_member_id),
                        b.field(
                            "With",
                            ", ".join(organisations.get(o, "?") for o in c.organisation_ids),
                            free_text=False,
                        ),
                        b.field("What", ", ".join(_label(k) for k in c.kinds), free_text=False),
                        b.field("Recorded by", c.recorded_by_label, free_text=False),
                        b.field("Withdrawn on", c.withdrawn_on),
                    ],
                )
                for c in consents
            ),
        )
    )
    decisions = list(
        session.scalars(
            select(SharingDecision)
            .where(SharingDecision.family_id == family.id)
            .order_by(SharingDecision.decided_on)
        )
    )
    recipients = _people(session, {d.recipient_person_id for d in decisions if d.recipient_person_id})
    sections.append(
        Section(
            "sharing",
            "Information shared, and not shared",
            "Every decision to share information outside the team and every decision not to (the recipients "
            "of the person's data, Article 15(1)(c)).",
            tuple(
                b.item(
                    f"sharing decision {d.id}",
                    ("Shared with " if d.decision == "share" else "Not shared with ")
                    + organisations.get(d.recipient_organisation_id, "an organisation"),
                    d.decided_on,
                    [
                        b.field("Recipient", recipients.get(d.recipient_person_id or 0), free_text=False),
                        b.field("What", ", ".join(_label(k) for k in d.kinds), free_text=False),
                        b.field("Purpose", d.purpose),
                        b.field("Reasons", d.reasons),
                        b.field("Lawful basis", _label(d.basis) if d.basis else None),
                        b.field("Special category condition", _label(d.condition) if d.condition else None),
                        b.field("The family was told", "yes" if d.family_told else "no"),
                        b.field("Why not told", d.not_told_reason),
                        b.field("The family's views", d.family_views),
                        b.field("Access until", d.access_until),
                        b.field("Decided by", d.decided_by_label, free_text=False),
                    ],
                    child_abuse_record=d.condition == "safeguarding_children"
                    or d.basis == "recognised_legitimate_interest",
                )
                for d in decisions
            ),
        )
    )
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "family", AuditEvent.record_id == family.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    sections.append(
        Section(
            "seen",
            "Who has seen the record",
            "Every audited read and change of the family's record: who, when, what, and through which route.",
            headings=("When", "Who", "What", "Through"),
            rows=tuple((_day(e.at), e.actor_label, b.shielded_out(e.summary), through(e)) for e in events),
        )
    )
    uses = session.scalars(
        select(BreakGlass).where(BreakGlass.family_id == family.id).order_by(BreakGlass.opened_at)
    )
    sections.append(
        Section(
            "break_glass",
            "Emergency access",
            "Each time someone outside the team opened the record in an emergency, and its review.",
            tuple(
                b.item(
                    f"break-glass use {u.id}",
                    f"Emergency access by {u.actor_label}",
                    u.opened_at.date(),
                    [
                        b.field("Reason given", u.reason),
                        b.field("Opened", _day(u.opened_at), free_text=False),
                        b.field("Review", _label(u.review)),
                        b.field("Review note", u.review_note),
                    ],
                )
                for u in uses
            ),
        )
    )
    requests = session.scalars(
        select(SubjectAccessRequest)
        .where(SubjectAccessRequest.member_id == subject.id)
        .order_by(SubjectAccessRequest.received_on)
    )
    sections.append(
        Section(
            "requests",
            "Subject access requests",
            "Requests for this person's information, this one included.",
            tuple(
                b.item(
                    f"subject access request {r.id}",
                    f"Request received on {_day(r.received_on)}",
                    r.received_on,
                    [
                        b.field("From", r.requester, free_text=False),
                        b.field("Identity confirmed on", r.identity_checked_on),
                        b.field("Extended because", r.extension_reason),
                        b.field("Answered on", r.done_on),
                    ],
                )
                for r in requests
            ),
        )
    )

    counts: dict[str, int] = {}
    for s in sections:
        for item in s.items:
            for flag in item.flags:
                counts[flag] = counts.get(flag, 0) + 1
    audit.record(
        session,
        actor=actor,
        event="viewed",
        record_type="family",
        record_id=family.id,
        partnership_id=partnership_id,
        summary=f"Built the subject access bundle for request {request.id} ({form})",
        after={
            "access": "subject access request",
            "request_id": request.id,
            "member_id": subject.id,
            "what": f"subject access bundle ({form})",
        },
    )
    return Bundle(
        request_id=request.id,
        partnership_name=partnership.name,
        family_reference=family.reference,
        subject=names[subject.id],
        subject_is_child=terms.child_abuse,
        requester=request.requester,
        received_on=request.received_on,
        identity_checked_on=request.identity_checked_on or request.received_on,
        due=due_on(request.received_on, request.identity_checked_on, extended=bool(request.extension_reason)),
        built_at=utcnow(),
        built_by=actor.label,
        sections=tuple(sections),
        flag_counts=counts,
    )


def _people(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        i: name for i, name in session.execute(select(Person.id, Person.full_name).where(Person.id.in_(ids)))
    }


def _organisations(session: Session, partnership_id: int) -> dict[int, str]:
    query = select(Organisation.id, Organisation.name).where(Organisation.partnership_id == partnership_id)
    return {i: name for i, name in session.execute(query)}


# --- the JSON form -----------------------------------------------------------------------------------------
def bundle_json(bundle: Bundle) -> dict[str, Any]:
    """The bundle as JSON: each field's text with its marks as [start, end) character ranges."""

    def field_json(f: Field) -> dict[str, Any]:
        marks, at = [], 0
        for p in f.pieces:
            if p.mark:
                marks.append(
                    {
                        "start": at,
                        "end": at + len(p.text),
                        "mark": p.mark,
                        **({"whose": p.who} if p.who else {}),
                    }
                )
            at += len(p.text)
        return {"label": f.label, "text": f.text, "marks": marks}

    return {
        "subject_access_request": bundle.request_id,
        "partnership": bundle.partnership_name,
        "family_reference": bundle.family_reference,
        "subject": bundle.subject,
        "subject_is_child": bundle.subject_is_child,
        "requester": bundle.requester,
        "received_on": bundle.received_on.isoformat(),
        "identity_checked_on": bundle.identity_checked_on.isoformat(),
        "due_on": bundle.due.isoformat(),
        "built_at": bundle.built_at.isoformat(timespec="seconds"),
        "built_by": bundle.built_by,
        "review_copy": True,
        "flags": bundle.flag_counts,
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "about": s.about,
                **(
                    {"headings": list(s.headings), "rows": [list(r) for r in s.rows]}
                    if s.headings
                    else {
                        "items": [
                            {
                                "record": i.record,
                                "title": i.title,
                                "date": i.when.isoformat() if i.when else None,
                                "flags": list(i.flags),
                                "fields": [field_json(f) for f in i.fields],
                            }
                            for i in s.items
                        ]
                    }
                ),
            }
            for s in bundle.sections
        ],
    }


def request_for(session: Session, *, actor: Actor, partnership_id: int, person: str) -> int:
    """The open request a command line names: its number, or the person as REFERENCE/SURNAME[/FIRST NAME]
    (then their one open request whose requester's identity is confirmed)."""
    ensure_allowed(actor, Can.HANDLE_SUBJECT_ACCESS, partnership_id)
    person = (person or "").strip()
    if problem := refused_character(person):
        raise InputError(problem, field="person")
    if person.isdigit() and len(person) < 10:
        return int(person)
    parts = [p.strip() for p in person.split("/")]
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise InputError(
            "give the request's number, or the person as REFERENCE/SURNAME or REFERENCE/SURNAME/FIRST NAME",
            field="person",
        )
    reference, surname, forenames = parts[0], parts[1], parts[2] if len(parts) == 3 else ""
    rows = session.execute(
        select(SubjectAccessRequest.id, FamilyMember.forenames, FamilyMember.known_as)
        .join(FamilyMember, FamilyMember.id == SubjectAccessRequest.member_id)
        .join(Family, Family.id == FamilyMember.family_id)
        .where(
            SubjectAccessRequest.partnership_id == partnership_id,
            Family.reference == reference,
            FamilyMember.surname_key == surname.casefold(),
            SubjectAccessRequest.done_on.is_(None),
            SubjectAccessRequest.identity_checked_on.is_not(None),
        )
        .order_by(SubjectAccessRequest.id)
    ).all()
    if forenames:
        rows = [r for r in rows if forenames.casefold() in f"{r.forenames} {r.known_as}".casefold()]
    if not rows:
        raise InputError(
            f"no open request with a confirmed identity is about {person}: record the request and the "
            "identity check in the register first",
            field="person",
        )
    if len(rows) > 1:
        raise InputError(
            f"several open requests are about {person}: give the number of one ("
            + ", ".join(str(r.id) for r in rows)
            + ")",
            field="person",
        )
    return int(rows[0].id)
