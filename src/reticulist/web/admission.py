"""Admission: how many requests one server process works on at once, and what the rest do.

A room of a hundred people opening their survey links at once must neither freeze the server nor pile up
work it cannot finish. So one number, RETICULIST_WORKING_REQUESTS, sets the requests a process works on at
once, its database connections (``make_engine(connections=...)``) and its worker threads; the three agree,
so an admitted request never waits for a connection. Others wait their turn here, on the event loop,
costing nothing, up to RETICULIST_WAITING_REQUESTS of them and RETICULIST_WAIT_SECONDS each; past either
limit the answer is 503 with Retry-After at once. Static files skip the queue: they touch no database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import weakref
from collections.abc import MutableSet

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("reticulist.web")

RETRY_AFTER_SECONDS = 5
BUSY_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Busy: try again in a moment</title><link rel="stylesheet" href="/static/reticulist.css"></head>
<body><main class="container"><h1>Busy: try again in a moment</h1>
<p>Many people are using Reticulist at this moment, so this page could not be opened just now. Nothing you
sent was lost or saved twice: go back and send it again in a few seconds.</p></main></body>
</html>
"""


class Admission:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it must cost nothing per waiting request)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        working: int,
        waiting: int,
        wait_seconds: float,
        serving_loops: MutableSet[asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self.app = app
        # The loops this app is served on, for db.engine.refuse_event_loop.
        self.serving_loops = serving_loops if serving_loops is not None else weakref.WeakSet()
        self.working = working
        self.waiting_limit = waiting
        self.wait_seconds = wait_seconds
        self.waiting = 0
        self.turned_away = 0
        # One semaphore per event loop: a server has one loop; tests may start several in turn.
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _slots_here(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            self._slots = {k: v for k, v in self._slots.items() if not k.is_closed()}
            slots = self._slots[loop] = asyncio.Semaphore(self.working)
            self.serving_loops.add(loop)
        return slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slots = self._slots_here()  # every scope, lifespan too: it marks this loop as one that serves
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        if slots.locked():
            if self.waiting >= self.waiting_limit:
                await self._busy(scope, send, "the waiting line is full")
                return
            self.waiting += 1
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await slots.acquire()
            except TimeoutError:
                await self._busy(scope, send, f"no turn within {self.wait_seconds:g} s")
                return
            finally:
                self.waiting -= 1
        else:
            await slots.acquire()
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _busy(self, scope: Scope, send: Send, why: str) -> None:
        self.turned_away += 1
        log.warning(
            "503 busy (%s): %s %s; %d turned away so far",
            why,
            scope["method"],
            scope["path"],
            self.turned_away,
        )
        await send_busy(scope, send, RETRY_AFTER_SECONDS)


async def send_busy(scope: Scope, send: Send, retry_after: float) -> None:
    """503 with Retry-After: JSON for the API, a short page for browsers."""
    if scope["path"].startswith("/api/"):
        body = json.dumps({"detail": "The server is busy; try again shortly (see Retry-After)."}).encode()
        content_type = b"application/json"
    else:
        body = BUSY_PAGE.encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(math.ceil(retry_after)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
