"""The append-only audit log. Database triggers (see the migration) refuse UPDATE and DELETE, and each row
is chained to the one before it by its hash (audit/chain.py), so a change made around the triggers shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reticulist.db.base import Base, SortedJSON, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    # "Who has seen this family's record, and when": one record's events in time order, from the index.
    __table_args__ = (
        Index("ix_audit_event_record", "record_type", "record_id", "at"),
        Index("uq_audit_event_chain_seq", "chain_seq", unique=True),
    )

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
    # Keys sorted as stored, so the hash chain can hash the stored text (db/base.py SortedJSON).
    before: Mapped[dict[str, Any] | None] = mapped_column(SortedJSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(SortedJSON, nullable=True)
    via: Mapped[str] = mapped_column(String(20))  # web / api / cli / import / demo
    # The row's place in the hash chain and its hash (hex SHA-256), set as it is written (audit/chain.py).
    # Empty only for a row written around the chain, which ``reticulist audit verify`` reports.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    chain_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    order = 0  # not stored: the order events were recorded in a session, which the chain keeps


class AuditChain(Base):
    """The chain's head: the last row's place and hash. One row; writers lock it in turn."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
