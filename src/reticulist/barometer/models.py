"""Barometer records: instruments as used, rounds, invitations, drafts in progress and responses.

Anonymity is built into the tables, not left to the pages: an invitation knows whether it was used but
not when, nor which response came of it; a draft is found only by the hash of its resume token; a
response holds its answers, an optional profile and the day it was sent, and nothing else. See the
docstring of ``BarometerResponse``.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reticulist.db.base import Base, UTCDateTime, utcnow


def random_id() -> int:
    """A random positive id below 2**53 (exact in JSON and JavaScript numbers too)."""
    return secrets.randbelow(2**53 - 1) + 1


DEFAULT_THRESHOLD = 5
MIN_THRESHOLD = 3
# A round's optional, NOT anonymous network section: none, ties to people, or ties to organisations.
NETWORK_SECTIONS = ("none", "people", "organisations")


class BarometerInstrument(Base):
    """One version of an instrument, exactly as a round used it. Built-in instruments are copied in the
    first time a round uses them (partnership_id is null); custom ones belong to one partnership. A row
    never changes, so a round's questions are known forever."""

    __tablename__ = "barometer_instrument"
    __table_args__ = (
        UniqueConstraint("partnership_id", "key", "version"),
        # The constraint above cannot hold the built-in copies (no partnership: NULLs never clash), so two
        # rounds starting the same built-in at the same moment could store it twice without this one.
        Index(
            "uq_barometer_instrument_built_in",
            "key",
            "version",
            unique=True,
            sqlite_where=text("partnership_id IS NULL"),
            postgresql_where=text("partnership_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnership.id"), nullable=True, index=True
    )
    key: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    # The validated instrument, as JSON. Deferred: rounds load their instrument row with them, and the
    # parsed instrument is kept per process (service.instrument_of), so the 45 KB are read only when new.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    built_in: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BarometerRound(Base):
    """A period in which the partnership answers one instrument. Its status follows from the dates and
    ``closed_early_on``; see ``status``."""

    __tablename__ = "barometer_round"
    __table_args__ = (
        CheckConstraint(f"anonymity_threshold >= {MIN_THRESHOLD}", name="threshold_min"),
        CheckConstraint(
            "network_section IN ('none', 'people', 'organisations')", name="network_section_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("barometer_instrument.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    # No breakdown shows a group with fewer respondents than this.
    anonymity_threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_THRESHOLD)
    closed_early_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The keyed hash of the open (shared) link's token; null when there is no open link.
    open_link_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Offered only after the anonymous answers are sent, and stored apart from them (network.reported).
    network_section: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    # Set for good once an open link is made: anyone could then have planted answers, so the round's
    # results are released without breakdowns (barometer.results.release_results).
    had_open_link: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    instrument: Mapped[BarometerInstrument] = relationship(lazy="joined")

    def status(self, today: date) -> str:
        """ "scheduled" before it opens, "open", or "closed" (past its closing day, or closed early)."""
        if self.closed_early_on is not None and self.closed_early_on <= today:
            return "closed"
        if today > self.closes_on:
            return "closed"
        if today < self.opens_on:
            return "scheduled"
        return "open"


class BarometerInvitation(Base):
    """A personal survey link. Only the token's keyed hash is stored (the link is shown once, when
    issued). ``used`` says the invitee has answered; there is deliberately no time of use and no link
    to the response.

    An invitation issued for a person of the register carries that person (``person_id``) and, when the
    round has a network section, a second, separate link for the named network step
    (``network_token_hash``): the only way, besides a logged-in account, to record ties as that person.
    The survey link never opens the network step and the network link never opens the survey."""

    __tablename__ = "barometer_invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("barometer_round.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(320))  # the name or address as the manager pasted it
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    # The register person the links were issued for (null for an address pasted that is no one's).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    # The keyed hash of the network step's own token (network.reported); null without a network link.
    network_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)


class BarometerDraft(Base):
    """Answers in progress, found only by the keyed hash of a resume token (for an invitation, a hash of
    the invitation's token derived differently from the invitation's own, so the two rows cannot be
    joined without the application's secret). On submit the answers are wiped and the row stays, empty,
    as a receipt so a repeated submit answers "already received"; it goes when the round closes."""

    __tablename__ = "barometer_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("barometer_round.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    page: Mapped[str] = mapped_column(String(80), default="")  # the furthest page reached
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_on: Mapped[date] = mapped_column(Date, index=True)


class BarometerResponse(Base):
    """One respondent's answers to a round.

    Anonymity by construction: this row holds the round, the respondent's optional profile (each part
    may be left out: "prefer not to say"), the answers and the *day* they were sent, and nothing else.
    It has no column for, and no foreign key to, the invitation, any token or its hash, the draft, a
    user account or a time finer than the date, so no query can trace a response to a person. Answers
    are ``{item_key: code}`` with codes 1 (strongly disagree) to 5 (strongly agree) and 0 for "don't
    know"; an item left unanswered is absent. ``source`` is "web" or "import".

    The id is random, not a sequence: sequential ids would give away the order responses arrived in,
    which someone with the database could line up with other timed records (the audit log of the
    network step, the order drafts were started in) to guess who sent which response.
    """

    __tablename__ = "barometer_response"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
        default=random_id,
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("barometer_round.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    profession_id: Mapped[int | None] = mapped_column(ForeignKey("profession.id"), nullable=True)
    hierarchy_tier: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1 = top ... 5 = practitioner
    wt_tier: Mapped[str | None] = mapped_column(String(20), nullable=True)  # Working Together tier
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    submitted_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(10), default="web")


class BarometerRelease(Base):
    """A round's results exactly as published: released once, after the round has closed, and never
    recomputed. Every page, download, the API and the report read this row, so a second look later (or
    after answers were imported) shows the same figures, and no one can difference two publications of
    the same people. ``results`` holds only figures that passed the disclosure audit."""

    __tablename__ = "barometer_release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One release per round, enforced by the database too (two managers pressing the button at once).
    round_id: Mapped[int] = mapped_column(
        ForeignKey("barometer_round.id", ondelete="CASCADE"), unique=True, index=True
    )
    released_on: Mapped[date] = mapped_column(Date)
    respondents: Mapped[int] = mapped_column(Integer)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
