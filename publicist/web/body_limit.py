"""A body over the size limit gets the API's JSON error like any other refusal.

FastAPI's ``max_body_size`` (Starlette's body limit) answers a too-large ``Content-Length``
with a ``text/plain`` 413 from a middleware outside every exception handler; this wrapper,
outside it in turn, rewrites that answer. Limits stay FastAPI's own, so a route may set a
larger one (``max_body_size=`` on the route) and still answer in JSON.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publicist.web.errors import error_response, too_large


class JsonTooLarge:
    """Replaces a 413 that is not JSON with ``{"error": {"type": "too_large", ...}}``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_json(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the plain-text body that went with the replaced start
            if message["type"] == "http.response.start" and message["status"] == 413:
                kind = Headers(raw=message.get("headers", [])).get("content-type", "")
                if not kind.startswith("application/json"):
                    replaced = True
                    limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY)
                    response = error_response(413, too_large(limit))
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 413,
                            "headers": response.raw_headers,
                        }
                    )
                    await send({"type": "http.response.body", "body": response.body})
                    return
            await send(message)

        await self.app(scope, receive, send_json)


class PublicistAPI(FastAPI):
    """FastAPI with :class:`JsonTooLarge` outside its whole middleware stack."""

    def build_middleware_stack(self) -> ASGIApp:
        return JsonTooLarge(super().build_middleware_stack())
