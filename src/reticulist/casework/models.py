"""Casework records: families and their people, addresses (history kept), early help episodes and the
team around the family (involvements and the lead practitioner), and the link from a login to the
practitioner's person in the register.

Rules that two requests at once could break are constraints here, not only checks in the service: one
open episode per family, one current lead practitioner per episode, one login per register person.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reticulist.barometer.models import MIN_THRESHOLD
from reticulist.db.base import Base, UTCDateTime, utcnow


class PractitionerLink(Base):
    """A login that acts as a practitioner: the register person it is, in that person's partnership.
    Casework finds what a practitioner may see through this person's involvements."""

    __tablename__ = "practitioner_link"
    __table_args__ = (
        UniqueConstraint("user_id", "partnership_id", name="uq_practitioner_link_user_partnership"),
        UniqueConstraint("person_id", name="uq_practitioner_link_person"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Family(Base):
    """A household the partnership works with. ``reference`` is the partnership's own case reference."""

    __tablename__ = "family"
    __table_args__ = (UniqueConstraint("partnership_id", "reference", name="uq_family_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[FamilyMember]] = relationship(
        back_populates="family", order_by="FamilyMember.id", lazy="selectin"
    )


class FamilyMember(Base):
    """A child or an adult of the family. Identifiers are evidence, never proof: a valid NHS number or
    UPN is stored as given (normalised) and never used alone to decide who someone is. ``shielded``: "do
    not disclose location" (the person's addresses are hidden from all but the lead practitioner and
    named roles, and left out of every export)."""

    __tablename__ = "family_member"
    __table_args__ = (Index("ix_family_member_search", "partnership_id", "surname_key", "date_of_birth"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    kind: Mapped[str] = mapped_column(String(10))  # child / adult
    forenames: Mapped[str] = mapped_column(String(200))
    surname: Mapped[str] = mapped_column(String(200))
    surname_key: Mapped[str] = mapped_column(String(200))  # lower case, for "is this child known?"
    known_as: Mapped[str] = mapped_column(String(200), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str] = mapped_column(String(20), default="not-known")
    relationship_to_children: Mapped[str] = mapped_column(String(40), default="")
    parental_responsibility: Mapped[bool] = mapped_column(Boolean, default=False)
    nhs_number: Mapped[str | None] = mapped_column(String(12), nullable=True)
    upn: Mapped[str | None] = mapped_column(String(13), nullable=True)
    upn_temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    shielded: Mapped[bool] = mapped_column(Boolean, default=False)

    family: Mapped[Family] = relationship(back_populates="members")


class MemberAddress(Base):
    """Where a family member lived from one date to another; the current one has no ``to_on``. Earlier
    addresses are kept (history), never overwritten."""

    __tablename__ = "member_address"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id", ondelete="CASCADE"), index=True)
    lines: Mapped[str] = mapped_column(Text)
    postcode: Mapped[str] = mapped_column(String(8))
    from_on: Mapped[date] = mapped_column(Date)
    to_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    shielded: Mapped[bool] = mapped_column(Boolean, default=False)


class Episode(Base):
    """An early help episode: opened with the request for support and the family's agreement to take part
    (kept apart from any consent to share information), closed with an outcome."""

    __tablename__ = "episode"
    __table_args__ = (
        # At most one open episode per family, in the database as well as in the service.
        Index(
            "uq_episode_one_open_per_family",
            "family_id",
            unique=True,
            sqlite_where=text("closed_on IS NULL"),
            postgresql_where=text("closed_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    request_reason: Mapped[str] = mapped_column(Text)
    requested_on: Mapped[date] = mapped_column(Date)
    agreed_by_member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id"))
    agreed_on: Mapped[date] = mapped_column(Date)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Involvement(Base):
    """A practitioner (a register person, with their organisation) in the team around the family."""

    __tablename__ = "involvement"
    __table_args__ = (Index("ix_involvement_person_episode", "person_id", "episode_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[str] = mapped_column(String(200))
    from_on: Mapped[date] = mapped_column(Date)
    to_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class LeadPractitioner(Base):
    """Who leads the team, from when to when (history kept), and whether the family had a say in the
    choice (Working Together 2023). Exactly one current lead per open episode."""

    __tablename__ = "lead_practitioner"
    __table_args__ = (
        Index(
            "uq_lead_practitioner_one_current",
            "episode_id",
            unique=True,
            sqlite_where=text("to_on IS NULL"),
            postgresql_where=text("to_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), index=True)
    # Every access check asks whether an involvement leads: looked up by involvement.
    involvement_id: Mapped[int] = mapped_column(ForeignKey("involvement.id"), index=True)
    from_on: Mapped[date] = mapped_column(Date)
    to_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    family_had_say: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseNote(Base):
    """An entry in the family's chronology, by a member of the team. Notes are not edited: a correction is
    a new note. ``sensitive``: seen only by its author, the lead practitioner and the coordinator."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_family_happened", "family_id", "happened_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episode.id"), nullable=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    author_label: Mapped[str] = mapped_column(String(320))
    happened_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanOutcome(Base):
    """What the family plan is for: an outcome the family and the team agreed, with actions under it."""

    __tablename__ = "plan_outcome"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_on: Mapped[date] = mapped_column(Date)


class PlanAction(Base):
    """An action towards an outcome: who in the team owns it, by when, and how it stands."""

    __tablename__ = "plan_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("plan_outcome.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_involvement_id: Mapped[int] = mapped_column(ForeignKey("involvement.id"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    changed_on: Mapped[date] = mapped_column(Date)


class Review(Base):
    """A team around the family review: when, who came, progress on each action, and the next review."""

    __tablename__ = "case_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    attended: Mapped[str] = mapped_column(Text, default="")  # the family and others, as written


class ReviewAttendee(Base):
    """A member of the team who came to a review."""

    __tablename__ = "review_attendee"
    __table_args__ = (UniqueConstraint("review_id", "involvement_id", name="uq_review_attendee"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("case_review.id", ondelete="CASCADE"), index=True)
    involvement_id: Mapped[int] = mapped_column(ForeignKey("involvement.id"))


class ReviewProgress(Base):
    """Progress on one plan action as reported at a review (the action's status changes with it)."""

    __tablename__ = "review_progress"
    __table_args__ = (UniqueConstraint("review_id", "action_id", name="uq_review_progress_action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("case_review.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("plan_action.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")


class Referral(Base):
    """A referral from a member of the team to another organisation (stepping up to children's social
    care, for example): sent, then accepted, declined (with a reason) or withdrawn. Until it accepts, the
    receiving organisation sees only the referral itself, not the family's record."""

    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_to_status", "to_organisation_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"))
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    from_involvement_id: Mapped[int] = mapped_column(ForeignKey("involvement.id"))
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    child_member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id"))
    reason: Mapped[str] = mapped_column(Text)
    sent_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="sent")
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    decided_by_label: Mapped[str | None] = mapped_column(String(320), nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    accepted_involvement_id: Mapped[int | None] = mapped_column(ForeignKey("involvement.id"), nullable=True)


class Assessment(Base):
    """An early help assessment in the three Working Together domains, with the child's own words and the
    family's view. Drafted, then completed: a completed version is locked (who, when); a later change is
    a new version, and the old ones are kept."""

    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("episode_id", "version", name="uq_assessment_version"),
        Index(
            "uq_assessment_one_draft",
            "episode_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    development_strengths: Mapped[str] = mapped_column(Text, default="")
    development_needs: Mapped[str] = mapped_column(Text, default="")
    parenting_strengths: Mapped[str] = mapped_column(Text, default="")
    parenting_needs: Mapped[str] = mapped_column(Text, default="")
    family_strengths: Mapped[str] = mapped_column(Text, default="")
    family_needs: Mapped[str] = mapped_column(Text, default="")
    childs_words: Mapped[str] = mapped_column(Text, default="")
    family_view: Mapped[str] = mapped_column(Text, default="")
    drafted_by_label: Mapped[str] = mapped_column(String(320))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_by_label: Mapped[str | None] = mapped_column(String(320), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CaseworkRelease(Base):
    """One quarter's casework figures for managers, published once and never recomputed: a second look
    later must not let anyone subtract the figures from themselves (DESIGN.md, publishing aggregates
    safely). ``figures`` holds the protected tables as published (JSON); nothing below the threshold."""

    __tablename__ = "casework_release"
    __table_args__ = (
        UniqueConstraint("partnership_id", "quarter", name="uq_casework_release_quarter"),
        CheckConstraint(f"threshold >= {MIN_THRESHOLD}", name="threshold_min"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    quarter: Mapped[date] = mapped_column(Date)  # its first day
    threshold: Mapped[int] = mapped_column(Integer)
    figures: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_label: Mapped[str] = mapped_column(String(320))


class BreakGlass(Base):
    """Emergency access to a family's record by a practitioner who is not in its team: a written reason,
    a time limit, and a review by the partnership's data protection role (justified or not, with a note).
    """

    __tablename__ = "break_glass"
    __table_args__ = (Index("ix_break_glass_user_family", "user_id", "family_id", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    actor_label: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    review: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting / justified / not_justified
    reviewed_by_label: Mapped[str | None] = mapped_column(String(320), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Consent(Base):
    """Consent to share, given by a child of sufficient understanding or a person with parental
    responsibility: which organisations, which kinds of information; given on, withdrawn on. Kept apart from
    the agreement to take part in early help (Episode.agreed_by), as the guidance keeps them apart."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    given_by_member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id"))
    organisation_ids: Mapped[list[int]] = mapped_column(JSON)  # who may receive
    kinds: Mapped[list[str]] = mapped_column(JSON)  # InformationKind values
    given_on: Mapped[date] = mapped_column(Date)
    recorded_by_label: Mapped[str] = mapped_column(String(320))
    withdrawn_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    withdrawn_by_label: Mapped[str | None] = mapped_column(String(320), nullable=True)


class SharingDecision(Base):
    """A decision to share information outside the team, or not to: what, with whom, why, on what lawful
    basis, whether the family was told. A decision to share grants the named recipient read access to those
    parts of the record until ``access_until`` (casework/need_to_know.py)."""

    __tablename__ = "sharing_decision"
    __table_args__ = (Index("ix_sharing_decision_recipient", "recipient_person_id", "family_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    recipient_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    recipient_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    purpose: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(20))  # share / not_share
    reasons: Mapped[str] = mapped_column(Text)
    family_told: Mapped[bool] = mapped_column(Boolean)
    not_told_reason: Mapped[str] = mapped_column(Text, default="")
    family_views: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str | None] = mapped_column(String(40), nullable=True)  # Article 6; None when not shared
    special_category: Mapped[bool] = mapped_column(Boolean, default=False)
    condition: Mapped[str | None] = mapped_column(String(40), nullable=True)  # Article 9, when special
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent.id"), nullable=True)
    access_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    decided_by_label: Mapped[str] = mapped_column(String(320))
    decider_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    decided_on: Mapped[date] = mapped_column(Date)


class SubjectAccessRequest(Base):
    """A subject access request about a person in casework: received, identity checked (the clock waits
    for it), extended for complexity with a reason, done. Its due date is worked out, not stored
    (casework/subject_access_dates.py)."""

    __tablename__ = "subject_access_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id", ondelete="CASCADE"), index=True)
    requester: Mapped[str] = mapped_column(String(200))  # "the person", "their mother, for them"...
    received_on: Mapped[date] = mapped_column(Date)
    identity_checked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    extension_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_by_label: Mapped[str] = mapped_column(String(320))


class RetentionRule(Base):
    """A partnership's own retention period for one record type, in place of the default
    (casework/retention_rules.py gives the defaults and their reasons). ``child_age``: for the family
    record, kept until the youngest child reaches this age."""

    __tablename__ = "retention_rule"
    __table_args__ = (
        UniqueConstraint("partnership_id", "record_type", name="uq_retention_rule_record_type"),
        CheckConstraint("years >= 1 AND years <= 50", name="years_range"),
        CheckConstraint("child_age IS NULL OR (child_age >= 18 AND child_age <= 50)", name="child_age_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(40))
    years: Mapped[int] = mapped_column(Integer)
    child_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text)  # why the partnership departs from the default
    set_by_label: Mapped[str] = mapped_column(String(320))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LegalHold(Base):
    """A hold that stops a family's record being erased (litigation, an inquiry, a safeguarding practice
    review), until lifted. The foreign key has no cascade: while a hold row exists the database itself
    refuses to delete the family; retention removes lifted holds first (casework/retention.py)."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_on: Mapped[date] = mapped_column(Date)
    placed_by_label: Mapped[str] = mapped_column(String(320))
    lifted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    lifted_by_label: Mapped[str | None] = mapped_column(String(320), nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
