"""The append-only audit log. Database triggers (see the migration) refuse UPDATE and DELETE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reticulist.db.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    # "Who has seen this family's record, and when": one record's events in time order, from the index.
    __table_args__ = (Index("ix_audit_event_record", "record_type", "record_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # No foreign keys to the actor or record: the log must outlive what it describes.
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor_label: Mapped[str] = mapped_column(String(320))
    partnership_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(40))  # created / changed / ended / ...
    record_type: Mapped[str] = mapped_column(String(40), index=True)
    record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    summary: Mapped[str] = mapped_column(String(500))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    via: Mapped[str] = mapped_column(String(20))  # web / api / cli / import / demo
