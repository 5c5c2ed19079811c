"""Accounts: create users, grant roles, log in (rate-limited), web sessions and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reticulist.access import throttle
from reticulist.access.models import ApiToken, Membership, PartnershipInvitation, User, WebSession
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
from reticulist.db.engine import insert_unless_present
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.register.models import Partnership
from reticulist.settings import Settings
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
    taken = f"an account for {email} already exists"
    if session.scalar(select(User).where(User.email == email)):
        raise InputError(taken, field="email")
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        is_site_admin=is_site_admin,
    )
    with refusing_duplicates(session, {"uq_user_account_email": ("email", taken)}):
        session.add(user)
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
    """Grant, change or (with role=None) remove a user's role in a partnership. Granting a role to
    someone without one is for site administrators (and the command line); a partnership's admins invite
    instead (``grant_role``), and the account holder accepts."""
    ensure_allowed(actor, Action.MANAGE_ROLES, partnership_id)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    _put_role(session, actor=actor, partnership_id=partnership_id, user=user, role=role)


def _membership(session: Session, user_id: int, partnership_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.partnership_id == partnership_id)
    )


def _put_role(session: Session, *, actor: Actor, partnership_id: int, user: User, role: Role | None) -> None:
    """The change itself, and its audit entry; callers have checked who may make it."""
    membership = _membership(session, user.id, partnership_id)
    before = membership.role if membership else None
    # An admin who demotes themself could leave the partnership with no one to manage roles.
    demoting_self = actor.user_id == user.id and before == Role.ADMIN.value and role != Role.ADMIN
    if demoting_self and not actor.is_site_admin:
        raise InputError(
            "you cannot remove your own admin role; another admin or a site administrator can", field="role"
        )
    raced = (
        f"{user.email} was given a role here by someone else at the same moment; "
        "look at the roles again and choose"
    )
    with refusing_duplicates(session, {"uq_membership_user_id": ("role", raced)}):
        if role is None:
            if membership:
                session.delete(membership)
        elif membership:
            membership.role = role.value
        else:
            session.add(Membership(user_id=user.id, partnership_id=partnership_id, role=role.value))
    audit.record(
        session,
        actor=actor,
        event="changed" if role else "ended",
        record_type="membership",
        record_id=user.id,
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


INVITATION_DAYS = 30
GrantOutcome = Literal["changed", "added", "invited"]


def grant_role(session: Session, *, actor: Actor, partnership_id: int, email: str, role: str) -> GrantOutcome:
    """The roles page's "give a role" by email. Someone who already has a role here has it changed
    ("changed"). Anyone else is invited ("invited"): the account holder, if there is one, sees the
    invitation when they log in and joins only by accepting it; the answer is the same whether or not the
    email has an account, so a partnership's admin cannot find out who has one. A site administrator,
    who may know, adds an existing account at once ("added")."""
    ensure_allowed(actor, Action.MANAGE_ROLES, partnership_id)
    if not email.strip():
        raise InputError("is required", field="email")
    address = normalise_email(email)
    chosen = parse_role(role)
    member = session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.email == address, Membership.partnership_id == partnership_id)
    )
    if member is not None:  # listed on the roles page already: nothing to hide
        _put_role(session, actor=actor, partnership_id=partnership_id, user=member, role=chosen)
        return "changed"
    if actor.is_site_admin:
        user = session.scalar(select(User).where(User.email == address))
        if user is None:
            raise InputError(f"there is no account for {address}; create it first", field="email")
        _put_role(session, actor=actor, partnership_id=partnership_id, user=user, role=chosen)
        return "added"
    invite_to_partnership(session, actor=actor, partnership_id=partnership_id, email=address, role=chosen)
    return "invited"


def invite_to_partnership(
    session: Session, *, actor: Actor, partnership_id: int, email: str, role: Role
) -> PartnershipInvitation:
    """Record (or renew) an invitation for ``email`` to join with ``role``. Never looks at whether the
    email has an account."""
    ensure_allowed(actor, Action.MANAGE_ROLES, partnership_id)
    address = normalise_email(email)
    now = utcnow()
    session.execute(delete(PartnershipInvitation).where(PartnershipInvitation.expires_at < now))
    # One invitation per partnership and email (a database constraint); inviting again renews it.
    insert_unless_present(
        session,
        PartnershipInvitation,
        {
            "partnership_id": partnership_id,
            "email": address,
            "role": role.value,
            "invited_by": actor.label[:320],
            "created_at": now,
            "expires_at": now + timedelta(days=INVITATION_DAYS),
        },
        ["partnership_id", "email"],
    )
    invitation = session.scalars(
        select(PartnershipInvitation)
        .where(PartnershipInvitation.partnership_id == partnership_id, PartnershipInvitation.email == address)
        .execution_options(populate_existing=True)
    ).one()
    invitation.role = role.value
    invitation.invited_by = actor.label[:320]
    invitation.created_at = now
    invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
    invitation.declined_at = None
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="invited",
        record_type="partnership_invitation",
        record_id=invitation.id,
        partnership_id=partnership_id,
        summary=f"{address} invited to join as {role.value}",
        after={"email": address, "role": role.value},
    )
    return invitation


def list_invitations(session: Session, *, actor: Actor, partnership_id: int) -> list[PartnershipInvitation]:
    """The partnership's invitations not yet accepted. A declined one is listed like an unanswered one
    until it expires: telling them apart would tell the admin the email has an account."""
    ensure_allowed(actor, Action.MANAGE_ROLES, partnership_id)
    return list(
        session.scalars(
            select(PartnershipInvitation)
            .where(
                PartnershipInvitation.partnership_id == partnership_id,
                PartnershipInvitation.expires_at >= utcnow(),
            )
            .order_by(PartnershipInvitation.email)
        )
    )


def withdraw_invitation(session: Session, *, actor: Actor, partnership_id: int, invitation_id: int) -> None:
    ensure_allowed(actor, Action.MANAGE_ROLES, partnership_id)
    invitation = session.get(PartnershipInvitation, invitation_id)
    if invitation is None or invitation.partnership_id != partnership_id:
        raise NotFound("No such invitation.")
    session.delete(invitation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="withdrawn",
        record_type="partnership_invitation",
        record_id=invitation_id,
        partnership_id=partnership_id,
        summary=f"Invitation of {invitation.email} withdrawn",
    )


@dataclass(frozen=True)
class InvitationToMe:
    id: int
    partnership_name: str
    role: str
    invited_by: str
    expires_at: datetime


def my_invitations(session: Session, *, actor: Actor) -> list[InvitationToMe]:
    """Invitations waiting for the acting account's answer (by its email), for its account page."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        return []
    rows = session.execute(
        select(PartnershipInvitation, Partnership.name)
        .join(Partnership, Partnership.id == PartnershipInvitation.partnership_id)
        .where(
            PartnershipInvitation.email == user.email,
            PartnershipInvitation.declined_at.is_(None),
            PartnershipInvitation.expires_at >= utcnow(),
        )
        .order_by(Partnership.name)
    ).all()
    return [
        InvitationToMe(
            id=invitation.id,
            partnership_name=name,
            role=invitation.role,
            invited_by=invitation.invited_by,
            expires_at=invitation.expires_at,
        )
        for invitation, name in rows
    ]


def _my_invitation(session: Session, actor: Actor, invitation_id: int) -> tuple[User, PartnershipInvitation]:
    """An open invitation addressed to the acting account; anyone else's is not found."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    invitation = session.get(PartnershipInvitation, invitation_id)
    if (
        user is None
        or invitation is None
        or invitation.email != user.email
        or invitation.declined_at is not None
        or invitation.expires_at < utcnow()
    ):
        raise NotFound("No such invitation.")
    return user, invitation


def accept_invitation(session: Session, *, actor: Actor, invitation_id: int) -> int:
    """Join the partnership with the invited role (an account that has a role there already keeps it).
    Returns the partnership's id."""
    user, invitation = _my_invitation(session, actor, invitation_id)
    partnership_id = invitation.partnership_id
    if _membership(session, user.id, partnership_id) is None:
        _put_role(session, actor=actor, partnership_id=partnership_id, user=user, role=Role(invitation.role))
    audit.record(
        session,
        actor=actor,
        event="accepted",
        record_type="partnership_invitation",
        record_id=invitation.id,
        partnership_id=partnership_id,
        summary=f"{user.email} accepted the invitation to join as {invitation.role}",
    )
    session.delete(invitation)
    session.flush()
    return partnership_id


def decline_invitation(session: Session, *, actor: Actor, invitation_id: int) -> None:
    """Say no. The partnership is not told (its audit log does not show it): the invitation goes on
    looking unanswered to its admins until it expires. The decline is audited outside the partnership."""
    user, invitation = _my_invitation(session, actor, invitation_id)
    invitation.declined_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="declined",
        record_type="partnership_invitation",
        record_id=invitation.id,
        partnership_id=None,
        summary=f"{user.email} declined the invitation to join partnership {invitation.partnership_id} "
        f"as {invitation.role}",
    )


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
    """Wrong email/password, inactive account, or too many tries. The same answers whether or not the
    email has an account, so a guesser learns nothing about which accounts exist."""


@dataclass(frozen=True)
class LoginResult:
    user: User
    session_token: str
    csrf_token: str


@dataclass(frozen=True)
class LoginLimits:
    """Wrong passwords allowed before each further try must wait (1 s, 2 s, 4 s ... up to max_wait)."""

    per_client: int = 5  # one account from one client address
    per_address: int = 50  # one client address, whatever the account
    per_account: int = 200  # one account, from every address together
    max_wait: float = 900.0

    @property
    def forget_after(self) -> float:
        """Seconds without a try after which failures are forgotten: longer than the longest wait, so
        that a guesser who waits out the backoff does not start again with free tries."""
        return max(3600.0, 4 * self.max_wait)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            per_client=settings.login_failures_per_client,
            per_address=settings.login_failures_per_address,
            per_account=settings.login_failures_per_account,
            max_wait=float(settings.login_max_wait_seconds),
        )


def _login_throttles(email: str, address: str, limits: LoginLimits) -> list[dict]:
    """The keys a login counts against, the narrowest first."""
    return [
        {"key": f"login|{address}|{email}", "limit": limits.per_client, "account": email, "address": address},
        {"key": f"login|{address}", "limit": limits.per_address, "address": address},
        {"key": f"login-account|{email}", "limit": limits.per_account, "account": email},
    ]


def login(
    session: Session,
    *,
    email: str,
    password: str,
    client: str,
    secret_key: str,
    session_hours: int,
    limits: LoginLimits | None = None,
    now: float | None = None,
) -> LoginResult:
    """Check an email and password and open a web session. Every try is counted (per account and client
    address, per address, per account) and committed *before* the password is checked, so that requests
    sent at the same moment cannot all be checked; past a limit, tries wait longer and longer rather than
    being locked out, and one client's failures never hold the account back from another client below the
    (much higher) per-account limit. ``client`` is the client's address; ``now`` is for tests."""
    limits = limits or LoginLimits()
    email_key = printable(email.strip().lower())[:320]  # what was typed, made safe to store
    address = throttle.address_group(client)
    counted: list[str] = []
    for spec in _login_throttles(email_key, address, limits):
        verdict = throttle.hit(
            session, window=limits.forget_after, backoff=True, max_wait=limits.max_wait, now=now, **spec
        )
        if not verdict.allowed:
            for key in counted:  # a try that was refused is not counted anywhere
                throttle.refund(session, key=key)
            session.commit()
            raise LoginRefused(f"Too many tries. Wait {verdict.wait_words()} and try again.")
        counted.append(spec["key"])
    session.commit()
    user = session.scalar(select(User).where(User.email == email_key))
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if not (user and ok and user.is_active):
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
    # A good password clears this client's failures for the account and is not counted elsewhere.
    pair, *wider = counted
    throttle.clear(session, key=pair)
    for key in wider:
        throttle.refund(session, key=key)
    session.commit()
    # Throttles and sessions that have run out are swept here too, holding no other row meanwhile.
    throttle.sweep(session, now=now)
    session.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    session.commit()
    return LoginResult(user=user, session_token=token, csrf_token=csrf)


def clear_login_throttles(session: Session, *, email: str | None = None, address: str | None = None) -> int:
    """Forget the failed logins of an account (from every client) or of a client address (for every
    account, and its open-link survey counts). Returns how many throttles were cleared."""
    cleared = 0
    if email is not None:
        cleared += throttle.clear(session, account=email.strip().lower()[:320])
    if address is not None:
        cleared += throttle.clear(session, address=throttle.address_group(address))
    return cleared


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
