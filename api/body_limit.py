"""The request body size limit: a declared or streamed body over the limit gets a JSON 413
before the handler sees it (Starlette's own limiter answers in plain text)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_FACTOR = 16
"""A declared body up to this many times the limit is read and dropped before the 413."""


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class BodyLimit:
    """ASGI middleware: at most `limit` bytes of request body, counted as they arrive."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLargeError(self.limit)
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        from api.errors import body_too_large

        # Read (and drop) a body of moderate excess first: answering while the client still
        # sends makes the closing socket reset the connection, and the client never sees the
        # 413. A far larger body is not worth reading; its client may see the reset.
        drained = 0
        while drained <= DRAIN_FACTOR * self.limit:
            message = await receive()
            drained += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        await body_too_large(self.limit, scope.get("path", ""))(scope, receive, send)
