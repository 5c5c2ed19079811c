"""Network records: stored ties between two people of a partnership.

A tie names both people, so it is not anonymous (unlike barometer answers): who may see names is decided
by the VIEW_NETWORK_NAMES action, never by the table. Observed ties (co-attendance, shared actions) are
not stored: they are derived from the register when asked, so they can never drift from it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from reticulist.barometer.models import random_id
from reticulist.db.base import Base, UTCDateTime, utcnow


class StoredSource(StrEnum):
    REPORTED = "reported"  # from a barometer round's network section
    IMPORTED = "imported"  # from a spreadsheet (`reticulist network import`)


class NetworkTie(Base):
    """One directed tie: ``from_person`` reports on (or is recorded as working with) ``to_person``, or,
    from an organisation-level round's network section, with ``to_organisation`` (exactly one is set).

    frequency is 0-4 (never, yearly, quarterly, monthly, weekly); the trust and value ratings are 1-4;
    each may be unknown (null). ``weight`` is the tie's strength before any source multiplier.

    The id is random, not a sequence, like a barometer response's: sequential ids would give away the
    order in which people sent their network step, which could be lined up with the order of other
    records. A reported tie's ``created_at`` is midnight of its day (no stored time finer than the date).
    """

    __tablename__ = "network_tie"
    __table_args__ = (
        CheckConstraint("from_person_id <> to_person_id", name="not_self"),
        CheckConstraint("(to_person_id IS NULL) <> (to_organisation_id IS NULL)", name="one_target"),
        CheckConstraint("source IN ('reported', 'imported')", name="source_known"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("frequency BETWEEN 0 AND 4", name="frequency_range"),
        CheckConstraint("trust_reliable BETWEEN 1 AND 4", name="trust_reliable_range"),
        CheckConstraint("trust_mission BETWEEN 1 AND 4", name="trust_mission_range"),
        CheckConstraint("trust_open BETWEEN 1 AND 4", name="trust_open_range"),
        CheckConstraint("value_influence BETWEEN 1 AND 4", name="value_influence_range"),
        CheckConstraint("value_involvement BETWEEN 1 AND 4", name="value_involvement_range"),
        CheckConstraint("value_resources BETWEEN 1 AND 4", name="value_resources_range"),
        # The services' uniqueness rules, kept by the database too (reticulist.db.unique): an imported tie
        # is stored once per pair of people and day; a round's network step names each person or
        # organisation once per respondent.
        Index(
            "uq_network_tie_imported",
            "partnership_id",
            "from_person_id",
            "to_person_id",
            "observed_on",
            unique=True,
            sqlite_where=text("source = 'imported'"),
            postgresql_where=text("source = 'imported'"),
        ),
        Index(
            "uq_network_tie_reported_person",
            "round_id",
            "from_person_id",
            "to_person_id",
            unique=True,
            sqlite_where=text("source = 'reported'"),
            postgresql_where=text("source = 'reported'"),
        ),
        Index(
            "uq_network_tie_reported_organisation",
            "round_id",
            "from_person_id",
            "to_organisation_id",
            unique=True,
            sqlite_where=text("source = 'reported'"),
            postgresql_where=text("source = 'reported'"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
        default=random_id,
    )
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    from_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    # Null only for a tie to an organisation; the person network (network_for) leaves those out.
    to_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    to_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id"), nullable=True, index=True
    )
    # Null for imported ties; a reported tie names the round whose network section it came from.
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("barometer_round.id", ondelete="CASCADE"), nullable=True, index=True
    )
    frequency: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trust_reliable: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trust_mission: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trust_open: Mapped[int | None] = mapped_column(Integer, nullable=True)
    value_influence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    value_involvement: Mapped[int | None] = mapped_column(Integer, nullable=True)
    value_resources: Mapped[int | None] = mapped_column(Integer, nullable=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    observed_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
