"""A retried form post or API write does the work once and answers every sending alike.

- Forms: every form made with the ``csrf`` macro carries a hidden ``form_key``, new each time the page is
  rendered. The key and what the form sent are claimed together, so the same page sent twice (a double
  click, a browser retry after a timeout) is done once, while the same page sent again with other values
  (back, change a field, send) is new work. A form post without a key (a page opened before this
  existed) works as before.
- API writes (POST, PUT, PATCH, DELETE under /api/) honour an ``Idempotency-Key`` header (IETF httpapi
  draft): the same key from the same account gets the first status and JSON body back, marked with
  ``Idempotent-Replayed: true``; the same key with another request (method, path or body) is refused with
  422.

The claim is made by the viewer dependencies (``page_viewer``, ``api_viewer``) in the request's own
database session, so it commits or rolls back with the work (see reticulist.access.request_keys). The
``KeepAnswers`` middleware watches the answer and stores it once the request is over; a failed request
(4xx, 5xx) lets go of its key, so its retry does the work. Keys last ``request_keys.KEEP_FOR``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reticulist.access import request_keys
from reticulist.access.request_keys import Earlier
from reticulist.errors import InputError

FORM_FIELD = "form_key"
HEADER = "Idempotency-Key"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_HEADER_KEY = 255
# How long a second sending waits for the first one's answer once the first has committed (normally a few
# milliseconds: the answer is stored as soon as it has gone out).
WAIT_FOR_ANSWER = 10.0
MAX_KEPT_BODY = 1024 * 1024  # API answers are single records; a larger one is not kept
SWEEP_EVERY = 600.0  # seconds between sweeps of expired keys, per process
_SCOPE = "reticulist.request_key"
_NOT_FORM_VALUES = ("csrf_token", FORM_FIELD)

log = logging.getLogger(__name__)


def new_form_key() -> str:
    """A form's key, made when the page is rendered (the ``csrf`` macro in _forms.html)."""
    return secrets.token_urlsafe(16)


def _digest(*parts: str | bytes) -> str:
    """sha256 over the parts, each length-prefixed so that no two different lists hash alike."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class AlreadyDone(Exception):
    """An earlier sending with this key did the work: answer as it did (see ``install``)."""

    def __init__(self, earlier: Earlier, api: bool) -> None:
        super().__init__("already done")
        self.earlier = earlier
        self.api = api


@dataclass(frozen=True)
class _Sent:
    key: str  # as stored: a hash of the form key and what the form sent, or of the Idempotency-Key
    fingerprint: str
    api: bool


@dataclass
class _Pending:
    """One write request's claim, from the viewer dependency (which fills it) to the middleware (which
    stores the answer once the request is over)."""

    user_id: int | None = None
    key: str | None = None
    api: bool = False
    committed: bool = False
    status: int | None = None
    location: str | None = None
    body: bytearray = field(default_factory=bytearray)
    body_too_large: bool = False

    def mark_committed(self, _session: Session) -> None:
        self.committed = True

    def keep_body(self, chunk: bytes) -> None:
        if self.body_too_large or len(self.body) + len(chunk) > MAX_KEPT_BODY:
            self.body_too_large = True
            self.body.clear()
            return
        self.body.extend(chunk)

    def settle(self, sessions: sessionmaker[Session]) -> None:
        """Store the answer of a request that committed its claim, or let go of the claim if it failed."""
        if self.user_id is None or self.key is None:
            return
        try:
            with sessions() as session:
                if self.status is not None and self.status < 400:
                    body = None
                    if self.api and not self.body_too_large:
                        try:
                            body = bytes(self.body).decode("utf-8")
                        except UnicodeDecodeError:
                            body = None
                    location = self.location if self.location and len(self.location) <= 2000 else None
                    request_keys.record_answer(
                        session,
                        user_id=self.user_id,
                        key=self.key,
                        status=self.status,
                        location=location,
                        body=body,
                    )
                else:
                    request_keys.release(session, user_id=self.user_id, key=self.key)
                _sweep_now_and_then(session)
                session.commit()
        except SQLAlchemyError:
            # The work is done and committed; without its answer a retry is told so in general words.
            log.exception("could not store the answer of a request done once")


_sweep_lock = threading.Lock()
_last_sweep = 0.0


def _sweep_now_and_then(session: Session) -> None:
    global _last_sweep
    with _sweep_lock:
        if time.monotonic() - _last_sweep < SWEEP_EVERY:
            return
        _last_sweep = time.monotonic()
    request_keys.sweep(session)


def _api_key(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]  # the draft writes the key as a structured-field string: "8e03978e-..."
    if not value or len(value) > MAX_HEADER_KEY or any(not " " <= c <= "~" for c in value):
        raise InputError(
            f"must be 1 to {MAX_HEADER_KEY} printable ASCII characters (a new UUID for each request)",
            field=HEADER,
        )
    return value


async def _sent(request: Request) -> _Sent | None:
    """The key this write carries and what it sends, or None (no key: not done once)."""
    where = (request.method, request.url.path, request.url.query)
    if request.url.path.startswith("/api/"):
        raw = request.headers.get(HEADER)
        if raw is None:
            return None
        key = _api_key(raw)
        body = await request.body()  # already read by FastAPI for a JSON body; kept by the request
        return _Sent(_digest("api", key), _digest(*where, body), api=True)
    form = await request.form()  # parsed once per request: the route reads the same form
    sent = form.get(FORM_FIELD)
    if not isinstance(sent, str) or not sent:
        return None
    values: list[str] = []
    for name, value in form.multi_items():
        if name in _NOT_FORM_VALUES:
            continue
        # An uploaded file by its name and size: a retry sends the same file, and hashing megabytes on
        # the event loop is not worth the rare other file of the same name and size.
        values += [name, value if isinstance(value, str) else f"file {value.filename!r}, {value.size} bytes"]
    fingerprint = _digest(*where, *values)
    return _Sent(_digest("form", sent, fingerprint), fingerprint, api=False)


def claim_once(request: Request, db: Session, user_id: int) -> None:
    """Called by the viewer dependencies (plain functions in a worker thread) with the request's own
    session, once the viewer is known: a write carrying a key claims it in the session's transaction. If
    an earlier sending holds it, wait for that one's answer and raise AlreadyDone, which answers the same;
    if the earlier one failed, take the key and do the work. The same API key with another request: 422."""
    pending: _Pending | None = request.scope.get(_SCOPE)
    if pending is None:  # not a write, or the middleware is not installed: nothing would keep the answer
        return
    sent = anyio.from_thread.run(_sent, request)
    if sent is None:
        return
    deadline = time.monotonic() + WAIT_FOR_ANSWER
    while True:
        if request_keys.claim(db, user_id=user_id, key=sent.key, fingerprint=sent.fingerprint):
            pending.user_id, pending.key, pending.api = user_id, sent.key, sent.api
            event.listen(db, "after_commit", pending.mark_committed, once=True)
            return
        # This transaction has only read; the next one sees what the earlier sending committed.
        db.rollback()
        earlier = _answer_of_earlier(db, user_id, sent, deadline)
        if earlier is None:
            if time.monotonic() >= deadline:  # never expected: rather the work unguarded than a spin
                log.error("a request key could neither be claimed nor found; doing the work unguarded")
                return
            continue  # it failed and let go of the key: this sending does the work
        if earlier.fingerprint != sent.fingerprint:
            raise InputError(
                "was already used for another request (another method, address or body); "
                "send a new key with each new request",
                field=HEADER,
            )
        raise AlreadyDone(earlier, sent.api)


def _answer_of_earlier(db: Session, user_id: int, sent: _Sent, deadline: float) -> Earlier | None:
    """The earlier sending's claim once it has its answer (or at the deadline), None if it let go."""
    pause = 0.01
    while True:
        earlier = request_keys.earlier(db, user_id=user_id, key=sent.key)
        db.rollback()  # hand the connection back to the pool while waiting
        if (
            earlier is None
            or earlier.status is not None
            or earlier.fingerprint != sent.fingerprint
            or time.monotonic() >= deadline
        ):
            return earlier
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class KeepAnswers:
    """ASGI middleware: gives each write request a place for its claim, watches its answer, and once
    the request is over (its session closed) stores the answer for retries, in a worker thread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        pending = _Pending()
        scope[_SCOPE] = pending

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                pending.status = message["status"]
                pending.location = Headers(raw=message.get("headers") or []).get("location")
            elif message["type"] == "http.response.body" and pending.api and pending.key:
                pending.keep_body(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if pending.committed:
                sessions = scope["app"].state.session_factory
                # Shielded: a cancelled request (server shutting down) still stores what it did. Its own
                # limiter, as FastAPI does for dependency exits: never waits behind busy worker threads.
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(pending.settle, sessions, limiter=anyio.CapacityLimiter(1))


def _back_link(request: Request) -> str | None:
    """The page the form was on (same site only), for the link on the "already sent" page."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


async def _answer_again(request: Request, exc: AlreadyDone) -> Response:
    earlier = exc.earlier
    if exc.api:
        if earlier.status is None or earlier.body is None:
            return JSONResponse(
                {
                    "detail": f"A request with this {HEADER} was already done, but its answer was not "
                    "kept; look the record up instead of sending the request again."
                },
                status_code=409,
            )
        headers = {"Idempotent-Replayed": "true"}
        if earlier.location:
            headers["Location"] = earlier.location
        return Response(earlier.body, earlier.status, headers=headers, media_type="application/json")
    if earlier.status is not None and 300 <= earlier.status < 400 and earlier.location:
        return RedirectResponse(earlier.location, status_code=303)
    from reticulist.web.templating import render  # the templates' globals import this module

    back = _back_link(request)
    return render(
        request,
        "error.html",
        {
            "title": "Already sent",
            "message": "This form was sent before and what it asked for was done then. "
            "It was not done a second time.",
            "link": back,
            "link_text": "Go back to the page",
        },
    )


def install(app: FastAPI) -> None:
    """Wire requests-done-once into ``app``: the middleware and the answer to a repeated sending."""
    app.add_middleware(KeepAnswers)
    app.add_exception_handler(AlreadyDone, _answer_again)  # type: ignore[arg-type]
