"""Register records: partnerships, organisations, professions, people, seats, meetings, attendance,
actions and decisions. Enumerated fields hold the values of ``register.vocab``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reticulist.db.base import Base, UTCDateTime, utcnow


class Partnership(Base):
    __tablename__ = "partnership"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    area: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # How long emergency (break-glass) access to a family's record lasts (casework/break_glass.py).
    break_glass_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")


class Organisation(Base):
    """Names are unique in a partnership ignoring case (see the index below): imports and other
    partnerships' files name organisations in any case, so two names that differ only in case could not
    be told apart."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(20))  # Working Together tier
    joined_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Profession(Base):
    """Names are unique in a partnership ignoring case, as organisations' are."""

    __tablename__ = "profession"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Person(Base):
    """A person as a "complex whole" (002): individual, profession and organisation at once."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    profession_id: Mapped[int | None] = mapped_column(ForeignKey("profession.id"), nullable=True, index=True)
    hierarchy_tier: Mapped[int] = mapped_column(Integer)  # 1 = top management/policy ... 5 = practitioner
    years_in_profession: Mapped[int | None] = mapped_column(Integer, nullable=True)
    late_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    interprofessional_training: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    profession: Mapped[Profession | None] = relationship(lazy="joined")


# The register's uniqueness rules, kept by the database too (reticulist.db.unique): names and emails are
# compared ignoring case, as the services and imports compare them. The indexes also serve the lookups.
Index(
    "uq_organisation_partnership_name",
    Organisation.partnership_id,
    func.lower(Organisation.name),
    unique=True,
)
Index(
    "uq_profession_partnership_name",
    Profession.partnership_id,
    func.lower(Profession.name),
    unique=True,
)
# A person's email, when they have one, is theirs alone in the partnership (people without one are many).
Index(
    "uq_person_partnership_email",
    Person.partnership_id,
    func.lower(Person.email),
    unique=True,
    sqlite_where=text("email IS NOT NULL"),
    postgresql_where=text("email IS NOT NULL"),
)


class Seat(Base):
    """One tenure: who represented which organisation on the partnership, in what role, from when to
    when. A change of representative ends one seat and starts another, so history is never lost."""

    __tablename__ = "seat"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    person: Mapped[Person] = relationship(lazy="joined")


class Meeting(Base):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    # The organisation represented at that meeting (people move; the record should not).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))

    person: Mapped[Person] = relationship(lazy="joined")


class Action(Base):
    """An action or decision, with an owner and a due date, so momentum (003) can be tracked."""

    __tablename__ = "action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_changed_on: Mapped[date] = mapped_column(Date)

    owner: Mapped[Person | None] = relationship(lazy="joined")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
