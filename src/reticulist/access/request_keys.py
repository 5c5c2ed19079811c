"""Requests done once: a retried form post or API write (the client timed out, a button clicked twice)
finds the key its first sending claimed and gets that sending's answer instead of doing the work again.

The claim is a row inserted in the same transaction as the request's work, so it commits or rolls back
with it: a request whose work failed leaves no claim and its retry simply does the work. A second
sending that arrives while the first is still running waits for it on the unique constraint (PostgreSQL)
or the write lock (SQLite). The answer (status, redirect location, the API's JSON body) is added once the
first request has finished; rows are kept for ``KEEP_FOR`` and then swept.

Storage only: reading keys from requests and replaying answers is reticulist.web.idempotency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from reticulist.db.base import Base, UTCDateTime, utcnow

KEEP_FOR = timedelta(hours=24)  # a retry comes within seconds or minutes; a day covers a client's backoff


class RequestKey(Base):
    """One claimed key of one account: a form's ``form_key`` (with what the form sent) or an API
    ``Idempotency-Key``, stored as a hash."""

    __tablename__ = "request_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))  # sha256 hex
    # What was sent (method, path, body) as sha256 hex: the same API key with another body is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The first answer, filled in once it is known; NULL while the first request runs (or if it was lost).
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    location: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)


@dataclass(frozen=True)
class Earlier:
    """The committed claim of an earlier sending; ``status`` None while its answer is not known."""

    fingerprint: str
    status: int | None
    location: str | None
    body: str | None


def claim(session: Session, *, user_id: int, key: str, fingerprint: str, now: datetime | None = None) -> bool:
    """Claim ``key`` for ``user_id`` in the session's transaction: True if this request holds it now (do
    the work, then commit), False if an earlier request committed it (read it with ``earlier`` in a new
    transaction). While an earlier request holding the key is still running, this waits for it; if that
    request rolls back, this one gets the key. An expired claim of the same key is replaced."""
    now = now or utcnow()
    session.execute(
        delete(RequestKey).where(
            RequestKey.user_id == user_id, RequestKey.key == key, RequestKey.created_at < now - KEEP_FOR
        )
    )
    values = {"user_id": user_id, "key": key, "fingerprint": fingerprint, "created_at": now}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = RequestKey.__table__
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(table.c.id)  # a row back if inserted (rowcount is not told for this on psycopg)
    )
    return session.execute(statement).first() is not None


def earlier(session: Session, *, user_id: int, key: str) -> Earlier | None:
    row = session.execute(
        select(RequestKey.fingerprint, RequestKey.status, RequestKey.location, RequestKey.body).where(
            RequestKey.user_id == user_id, RequestKey.key == key
        )
    ).one_or_none()
    return None if row is None else Earlier(*row)


def record_answer(
    session: Session, *, user_id: int, key: str, status: int, location: str | None, body: str | None
) -> None:
    """Keep the first answer for the retries (only a claim still without one; the caller commits)."""
    session.execute(
        update(RequestKey)
        .where(RequestKey.user_id == user_id, RequestKey.key == key, RequestKey.status.is_(None))
        .values(status=status, location=location, body=body)
    )


def release(session: Session, *, user_id: int, key: str) -> None:
    """Let go of a claim whose request failed after committing: a retry does the work again."""
    session.execute(
        delete(RequestKey).where(
            RequestKey.user_id == user_id, RequestKey.key == key, RequestKey.status.is_(None)
        )
    )


def sweep(session: Session, *, now: datetime | None = None) -> int:
    """Delete every claim older than ``KEEP_FOR`` (the caller commits); returns how many."""
    cutoff = (now or utcnow()) - KEEP_FOR
    return session.execute(delete(RequestKey).where(RequestKey.created_at < cutoff)).rowcount  # type: ignore[attr-defined]
