"""Comparison records: groups of partnerships that opted in, the group's analysts, and each partnership's
figures as stored when its data changed.

A comparison never reads another partnership's people, answers or ties: it reads ``PartnershipFigures``
(whole-partnership figures) and, for the study, ``PersonFigures`` (one row per person, no name). Both
are written by ``comparison.figures.refresh`` and nothing else.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from reticulist.db.base import Base, UTCDateTime, utcnow


class ComparisonGroup(Base):
    """A named group of partnerships compared with each other: a region, a national network of councils, a
    research team's sample. Created by a site administrator; partnerships join it by opting in."""

    __tablename__ = "comparison_group"
    __table_args__ = (CheckConstraint("threshold >= 3", name="threshold_at_least_three"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The anonymity threshold of every cell the group publishes (the barometer's rule, at least 3).
    threshold: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_label: Mapped[str] = mapped_column(String(320))


# Group names are unique ignoring case, as the register's names are.
Index("uq_comparison_group_name", func.lower(ComparisonGroup.name), unique=True)


class ComparisonMember(Base):
    """A partnership that opted in to a group. Opting out deletes the row: every later comparison leaves
    the partnership out, and its research keys (made with ``extract_secret``) can no longer be made."""

    __tablename__ = "comparison_member"
    __table_args__ = (UniqueConstraint("group_id", "partnership_id", name="uq_comparison_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("comparison_group.id", ondelete="CASCADE"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    # Whether the group's analysts may see the partnership's name; others see it under a pseudonym.
    named: Mapped[bool] = mapped_column(Boolean, default=False)
    # The partnership's secret for this group: research keys are keyed hashes with it (comparison.extract),
    # so nobody without it can turn a key back into a person, and keys differ from group to group.
    extract_secret: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    joined_by_label: Mapped[str] = mapped_column(String(320))


class ComparisonAnalyst(Base):
    """A user who analyses a group: sees its aggregates of opted-in partnerships, never a person, a
    response or a tie, and no partnership's name unless it agreed."""

    __tablename__ = "comparison_analyst"
    __table_args__ = (UniqueConstraint("group_id", "user_id", name="uq_comparison_analyst"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("comparison_group.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PartnershipFigures(Base):
    """One partnership's whole figures (register, network, released barometer rounds) as last computed.

    ``changed_at`` is set when the partnership's data change after ``computed_at`` (comparison.figures
    watches every flush), so a comparison knows which figures are behind, and a refresh recomputes only
    those: a network's figures are not recomputed for every comparison."""

    __tablename__ = "partnership_figures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), unique=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    as_of: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)


class PersonFigures(Base):
    """One person's figures for the study, as of the partnership's last refresh: what the register says
    (no name, no contact details) and their boundary spanning in the partnership's network."""

    __tablename__ = "person_figures"
    __table_args__ = (
        CheckConstraint("hierarchy_tier BETWEEN 1 AND 5", name="tier_range"),
        CheckConstraint("spanner_score BETWEEN 0 AND 1", name="score_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    organisation_kind: Mapped[str] = mapped_column(String(40))
    profession: Mapped[str] = mapped_column(String(200))
    hierarchy_tier: Mapped[int] = mapped_column(Integer)
    years_in_profession: Mapped[int | None] = mapped_column(Integer, nullable=True)
    late_entry: Mapped[bool] = mapped_column(Boolean)
    interprofessional_training: Mapped[bool] = mapped_column(Boolean)
    spanner_score: Mapped[float] = mapped_column(Float)
    liaison: Mapped[int] = mapped_column(Integer)  # liaison brokerage between organisations (Gould-Fernandez)
    cross_organisation_brokerage: Mapped[int] = mapped_column(Integer)
    ties: Mapped[int] = mapped_column(Integer)
