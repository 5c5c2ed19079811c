"""Accounts: create users, grant roles, log in (rate-limited), web sessions and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reticulist.access.models import ApiToken, LoginAttempt, Membership, User, WebSession
from reticulist.access.policy import Action, Actor, NotFound, Role, ensure_allowed
from reticulist.access.secrets import (
    DUMMY_HASH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from reticulist.audit import service as audit
from reticulist.db.base import utcnow
from reticulist.errors import InputError
from reticulist.text import clean_field, printable

_email_adapter = TypeAdapter(EmailStr)


def normalise_email(email: str) -> str:
    try:
        return str(_email_adapter.validate_python(email.strip())).lower()
    except ValidationError:
        raise InputError(f'"{email}" is not an email address', field="email") from None


def actor_for(session: Session, user: User, *, via: str = "web") -> Actor:
    roles = {
        m.partnership_id: Role(m.role)
        for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
    }
    return Actor(user_id=user.id, label=user.email, is_site_admin=user.is_site_admin, roles=roles, via=via)


def create_user(
    session: Session,
    *,
    actor: Actor,
    email: str,
    display_name: str,
    password: str,
    is_site_admin: bool = False,
) -> User:
    if not actor.is_site_admin:
        raise NotFound("Only site administrators create accounts.")
    email = normalise_email(email)
    display_name = clean_field(display_name, "display_name")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if not display_name.strip():
        raise InputError("is required", field="display_name")
    if session.scalar(select(User).where(User.email == email)):
        raise InputError(f"an account for {email} already exists", field="email")
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        is_site_admin=is_site_admin,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="created",
        record_type="user",
        record_id=user.id,
        partnership_id=None,
        summary=f"Account {email} created" + (" (site admin)" if is_site_admin else ""),
        after={"email": email, "display_name": user.display_name, "is_site_admin": is_site_admin},
    )
    return user


def set_role(session: Session, *, actor: Actor, partnership_id: int, user_id: int, role: Role | None) -> None:
    """Grant, change or (with role=None) remove a user's role in a partnership."""
    ensure_allowed(actor, Action.MANAGE_ROLES, partnership_id)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.partnership_id == partnership_id)
    )
    before = membership.role if membership else None
    # An admin who demotes themself could leave the partnership with no one to manage roles.
    demoting_self = actor.user_id == user_id and before == Role.ADMIN.value and role != Role.ADMIN
    if demoting_self and not actor.is_site_admin:
        raise InputError(
            "you cannot remove your own admin role; another admin or a site administrator can", field="role"
        )
    if role is None:
        if membership:
            session.delete(membership)
    elif membership:
        membership.role = role.value
    else:
        session.add(Membership(user_id=user_id, partnership_id=partnership_id, role=role.value))
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="changed" if role else "ended",
        record_type="membership",
        record_id=user_id,
        partnership_id=partnership_id,
        summary=f"Role of {user.email}: {before or 'none'} -> {role.value if role else 'none'}",
        before={"role": before},
        after={"role": role.value if role else None},
    )


def parse_role(value: str) -> Role:
    """A role from a form or file, naming the choices when it is not one."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InputError(f'"{value}" is not one of: {choices}', field="role") from None


def grant_role(session: Session, *, actor: Actor, partnership_id: int, email: str, role: str) -> User:
    """Give an existing account a role in the partnership (or change the one it has), found by email."""
    ensure_allowed(actor, Action.MANAGE_ROLES, partnership_id)
    if not email.strip():
        raise InputError("is required", field="email")
    address = normalise_email(email)
    chosen = parse_role(role)
    user = session.scalar(select(User).where(User.email == address))
    if user is None:
        raise InputError(
            f"there is no account for {address}; a site administrator creates accounts", field="email"
        )
    set_role(session, actor=actor, partnership_id=partnership_id, user_id=user.id, role=chosen)
    return user


def list_roles(session: Session, *, actor: Actor, partnership_id: int) -> list[tuple[User, str]]:
    ensure_allowed(actor, Action.MANAGE_ROLES, partnership_id)
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.partnership_id == partnership_id)
        .order_by(User.email)
    ).all()
    return [(u, r) for u, r in rows]


class LoginRefused(Exception):
    """Wrong email/password, inactive account, or too many attempts. One message for all but the last,
    so a guesser learns nothing about which accounts exist."""


@dataclass(frozen=True)
class LoginResult:
    user: User
    session_token: str
    csrf_token: str


def login(
    session: Session,
    *,
    email: str,
    password: str,
    client: str,
    secret_key: str,
    session_hours: int,
    attempts_allowed: int,
) -> LoginResult:
    email_key = printable(email.strip().lower())[:320]  # what was typed is stored with the attempt
    window_start = utcnow() - timedelta(minutes=15)
    recent = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= window_start)
        .where((LoginAttempt.email == email_key) | (LoginAttempt.client == client))
    )
    if (recent or 0) >= attempts_allowed:
        raise LoginRefused("Too many failed attempts. Wait 15 minutes and try again.")
    user = session.scalar(select(User).where(User.email == email_key))
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if not (user and ok and user.is_active):
        session.add(LoginAttempt(email=email_key, client=client[:64]))
        session.commit()
        raise LoginRefused("That email and password do not match an active account.")
    token, csrf = new_token(), new_token()
    session.add(
        WebSession(
            token_hash=token_hash(secret_key, token),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(hours=session_hours),
        )
    )
    # A successful login clears that address's failures; expired sessions are swept here too.
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email_key))
    session.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    session.commit()
    return LoginResult(user=user, session_token=token, csrf_token=csrf)


def session_user(session: Session, *, token: str, secret_key: str) -> tuple[User, WebSession] | None:
    web_session = session.scalar(
        select(WebSession).where(WebSession.token_hash == token_hash(secret_key, token))
    )
    if web_session is None or web_session.expires_at < utcnow():
        return None
    user = session.get(User, web_session.user_id)
    if user is None or not user.is_active:
        return None
    return user, web_session


def logout(session: Session, *, token: str, secret_key: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(secret_key, token)))
    session.commit()


TOKEN_PREFIX = "rtl_"


def create_api_token(session: Session, *, actor: Actor, name: str, secret_key: str) -> tuple[ApiToken, str]:
    """Create a personal API token for the acting user; the plain token is returned once, never stored."""
    if actor.user_id is None:
        raise InputError("API tokens belong to an account; use `reticulist user token EMAIL`", field="user")
    name = clean_field(name, "name")
    if not name.strip():
        raise InputError("is required", field="name")
    token = new_token(TOKEN_PREFIX)
    api_token = ApiToken(
        user_id=actor.user_id,
        name=name.strip()[:100],
        token_hash=token_hash(secret_key, token),
        prefix=token[:10],
    )
    session.add(api_token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="created",
        record_type="api_token",
        record_id=api_token.id,
        partnership_id=None,
        summary=f"API token '{api_token.name}' created",
        after={"name": api_token.name},
    )
    return api_token, token


def list_api_tokens(session: Session, *, actor: Actor) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, *, actor: Actor, token_id: int) -> None:
    api_token = session.get(ApiToken, token_id)
    if api_token is None or api_token.user_id != actor.user_id:
        raise NotFound("No such token.")
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            event="ended",
            record_type="api_token",
            record_id=token_id,
            partnership_id=None,
            summary=f"API token '{api_token.name}' revoked",
        )


def token_user(session: Session, *, token: str, secret_key: str) -> User | None:
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret_key, token)))
    if api_token is None or api_token.revoked_at is not None:
        return None
    user = session.get(User, api_token.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    # Write last-used at most once a minute: a busy script should not turn every read into a write.
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=1):
        api_token.last_used_at = now
        session.commit()
    return user
