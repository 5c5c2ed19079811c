"""Accounts, roles per partnership, invitations to join, web sessions, API tokens and throttles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reticulist.db.base import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Site administrators create partnerships and accounts; everything else is granted per partnership.
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="selectin")


class Membership(Base):
    """A user's role in one partnership: admin, manager or member."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "partnership_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")


class WebSession(Base):
    """A browser login. The cookie carries a random token; only its keyed hash is stored."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A personal API token. Shown once on creation; only its keyed hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PartnershipInvitation(Base):
    """An admin's invitation to join a partnership with a role, waiting for the account holder to accept.
    Found by email when they log in, so the admin never learns whether the email has an account."""

    __tablename__ = "partnership_invitation"
    __table_args__ = (UniqueConstraint("partnership_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(20))
    invited_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A declined invitation stays (shown to the admin as unanswered) until it expires, so that a refusal
    # does not tell the admin the email has an account.
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Throttle(Base):
    """One counter per key (a login from one client to one account, one client address, one open link
    from one address...), changed only by single atomic statements (see access.throttle)."""

    __tablename__ = "throttle"

    # The key is the primary key: two requests that both see no row cannot both create one.
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    # Seconds since the epoch, not timestamps: the atomic update does its arithmetic in SQL, the same way
    # on SQLite and PostgreSQL.
    quiet_until: Mapped[float] = mapped_column(Float, default=0.0)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)
    # What the key is about, so an operator can clear every throttle of an account or an address.
    account: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
