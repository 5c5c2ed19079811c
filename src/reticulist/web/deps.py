"""Request plumbing shared by every capability's routes: database session, who is asking, CSRF."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.models import User
from reticulist.access.policy import Action, Actor, NotFound, ensure_allowed
from reticulist.errors import InputError
from reticulist.register.schemas import is_record_id
from reticulist.settings import Settings
from reticulist.web.idempotency import claim_once

SESSION_COOKIE = "reticulist_session"
LOGIN_CSRF_COOKIE = "reticulist_login_csrf"


class LoginRequired(Exception):
    """No valid session or token: pages redirect to the login form, the API answers 401."""


class CsrfFailed(Exception):
    """A state-changing request without the form's or header's CSRF token."""


# known_ids and get_settings are async although they wait for nothing: FastAPI runs a plain def
# dependency on a worker thread, and a hop there and back for every request of a room of people costs
# more than these few lines. They must stay free of database work and other blocking calls.
async def known_ids(request: Request) -> None:
    """Every route's first check: an id in the path that no record can have (0, negative, past what the
    database stores) finds nothing, as an id that does not exist would, instead of overflowing it; such an
    id in an API query (a filter) is refused naming the parameter (pages read their filters themselves)."""
    api = request.url.path.startswith("/api/")
    for name, value in request.query_params.multi_items() if api else ():
        if name.endswith("_id") and value.strip():
            try:
                number = int(value)
            except ValueError:
                continue  # not a number: the route's own parsing refuses it
            if not is_record_id(number):
                raise InputError(f'"{value}" is not a record number', field=name)
    for name, value in request.path_params.items():
        if not name.endswith("_id"):
            continue
        try:
            number = int(value)
        except ValueError:
            if name == "partnership_id":  # always a number; read as one before the route's own checks
                raise NotFound("No such partnership.") from None
            continue  # a key that is not a number (a network person's "n5"): the route reads it
        if not is_record_id(number):
            raise NotFound("No such record.")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(request: Request) -> str:
    """The address of whoever sent the request: the connecting address, unless it is a trusted proxy
    (RETICULIST_TRUSTED_PROXIES); then X-Forwarded-For is read from the right, past the trusted proxies, to
    the first address they did not add themselves. Anyone can write X-Forwarded-For, so only the part that
    trusted proxies appended is believed."""
    peer = request.client.host if request.client else "unknown"
    networks = request.app.state.settings.trusted_proxy_networks

    def trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in networks)

    if not networks or not trusted(_parse_ip(peer)):
        return peer
    forwarded = [
        part.strip() for value in request.headers.getlist("x-forwarded-for") for part in value.split(",")
    ]
    client = peer
    for hop in reversed([part for part in forwarded if part]):
        address = _parse_ip(hop)
        if address is None:
            break  # garbage from the far side of the proxies: keep the last address they vouched for
        client = str(address)
        if not trusted(address):
            break
    return client


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


@dataclass
class Viewer:
    """The logged-in user and what they may do; ``csrf_token`` is None for API-token requests."""

    user: User
    actor: Actor
    csrf_token: str | None


def _viewer(request: Request, db: Session, via: str) -> Viewer | None:
    settings: Settings = request.app.state.settings
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        user = accounts.token_user(db, token=authorization[7:].strip(), secret_key=settings.secret_key)
        if user is None:
            raise LoginRequired("That API token is not valid.")
        return Viewer(user=user, actor=accounts.actor_for(db, user, via="api"), csrf_token=None)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = accounts.session_user(db, token=token, secret_key=settings.secret_key)
    if found is None:
        return None
    user, web_session = found
    # Detached with its loaded values, so an error page can still show who is logged in after a rollback.
    db.expunge(user)
    return Viewer(user=user, actor=accounts.actor_for(db, user, via=via), csrf_token=web_session.csrf_token)


def optional_viewer(request: Request, db: Session = Depends(get_db)) -> Viewer | None:
    viewer = _viewer(request, db, "web")
    request.state.viewer = viewer
    return viewer


def page_viewer(request: Request, db: Session = Depends(get_db)) -> Viewer:
    """For HTML pages: a logged-in user, and for POSTs a valid form CSRF token."""
    viewer = _viewer(request, db, "web")
    if viewer is None:
        raise LoginRequired()
    request.state.viewer = viewer
    claim_once(request, db, viewer.user.id)  # a form sent twice is done once (web/idempotency.py)
    return viewer


def same_token(sent: str, expected: str) -> bool:
    """Constant-time comparison that takes any text: compare_digest refuses non-ASCII str (a 500)."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


async def check_form_csrf(request: Request, viewer: Viewer = Depends(page_viewer)) -> Viewer:
    """Use on every HTML form POST."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        form = await request.form()
        sent = str(form.get("csrf_token", ""))
        if viewer.csrf_token is None or not same_token(sent, viewer.csrf_token):
            raise CsrfFailed()
    return viewer


def form_for(action: Action) -> Callable[..., Awaitable[Viewer]]:
    """A dependency for a form POST inside a partnership: the viewer may do ``action`` there (outsiders get
    404, members 403, before the form is even read) and the form carries the session's CSRF token. The
    service checks again; this makes sure bad input never answers before authorisation does."""

    async def dependency(request: Request, viewer: Viewer = Depends(page_viewer)) -> Viewer:
        ensure_allowed(viewer.actor, action, int(request.path_params["partnership_id"]))
        return await check_form_csrf(request, viewer)

    return dependency


register_form = form_for(Action.EDIT_REGISTER)
roles_form = form_for(Action.MANAGE_ROLES)


def api_viewer(request: Request, db: Session = Depends(get_db)) -> Viewer:
    """For the JSON API: a bearer token, or a browser session plus the X-CSRF-Token header on writes."""
    viewer = _viewer(request, db, "api")
    if viewer is None:
        raise LoginRequired("Log in, or send Authorization: Bearer <personal API token>.")
    if viewer.csrf_token is not None and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        sent = request.headers.get("x-csrf-token", "")
        if not same_token(sent, viewer.csrf_token):
            raise CsrfFailed()
    request.state.viewer = viewer
    claim_once(request, db, viewer.user.id)  # Idempotency-Key: a write sent twice is done once
    return viewer
