"""A limit on the size of request bodies, so that no form, upload or API call can fill memory or disk.

The body is counted as it arrives (a false or missing Content-Length changes nothing); past the limit
the request is refused with 413 and the rest is never read.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestTooLarge(HTTPException):
    """Raised while the body is read; the app answers 413 in the page's or the API's words."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(status_code=413, detail=f"The request is larger than {megabytes(limit)}.")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.3g} MB"


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` of body per request."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        too_large_declared = declared.isdigit() and int(declared) > self.max_bytes
        received = 0

        async def limited() -> Message:
            nonlocal received
            if too_large_declared:
                raise RequestTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)
