"""A cap on every request body, answered with the API's JSON error like any other refusal.

Starlette's own limit (FastAPI's ``max_body_size``) answers a too-large ``Content-Length``
with a ``text/plain`` 413 before any handler runs; this one answers in JSON.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publicist.web.errors import error_response
from publicist.web.schemas import ErrorDetail


def too_large(max_bytes: int) -> ErrorDetail:
    return ErrorDetail(
        type="too_large",
        message=f"the request body is larger than {max_bytes} bytes",
        field="body",
        rule=f"must be at most {max_bytes} bytes",
    )


class BodyTooLarge(HTTPException):
    """Raised while a handler reads a streamed body past the cap; turned into JSON centrally."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large(max_bytes).message)
        self.max_bytes = max_bytes


class BodyLimit:
    """Refuse a declared ``Content-Length`` over ``max_bytes`` at once, and stop reading a
    body without one (chunked) as soon as it passes ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(413, too_large(self.max_bytes))
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)
