"""What every simulated X path shares: defaults, problem bodies, the auth and limit pipeline."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from simulators.harness import (
    DropConnection,
    Fault,
    Grant,
    SimAccount,
    Simulation,
    TokenError,
)

PLATFORM = "twitter"
SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
PROBLEMS = "https://api.twitter.com/2/problems/"
MB = 1024 * 1024

DEFAULTS: Mapping[str, Any] = {
    "access_lifetime": 7200,  # seconds, sent as expires_in
    "refresh_lifetime": 180 * 86400,
    "rotate_refresh_tokens": True,  # unverified: assume each refresh spends the old token
    "public_client": False,  # True: no client secret, client_id in the form only
    "duplicate_window_seconds": 86400,  # unverified window of the duplicate check
    "deleted_posts_count_as_duplicates": True,
    "created_status": 201,
    "media_processing_seconds": 3.0,  # virtual seconds a GIF or video takes to process
    "media_processing_fails": False,
    "media_expires_after_secs": 86400,
    "max_segment_bytes": 5 * MB,
    "blocked_words": (),  # text containing one is refused with 403
    "post_limit": 100,  # POST /2/tweets per user per 15 minutes
}

# (requests, window seconds) per user; a second entry per app where X has one.
USER_LIMITS: Mapping[str, tuple[int, float]] = {
    "POST /2/tweets": (100, 900),
    "DELETE /2/tweets/:id": (50, 900),
    "GET /2/tweets": (5000, 900),
    "GET /2/tweets/:id": (900, 900),
    "GET /2/users/me": (75, 900),
    "GET /2/users/:id/tweets": (900, 900),
    "media": (500, 900),
}
APP_LIMITS: Mapping[str, tuple[int, float]] = {
    "POST /2/tweets": (10_000, 86_400),
    "GET /2/tweets": (3_500, 900),
}


def setting(account: SimAccount | None, name: str) -> Any:
    if account is not None and name in account.settings:
        return account.settings[name]
    return DEFAULTS[name]


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time zone is required")
    return moment


def problem(
    status: int,
    title: str,
    detail: str,
    kind: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 7807 problem object, the way X v2 reports a failed request."""
    body = {"title": title, "detail": detail, "type": kind, "status": status, **extra}
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type="application/problem+json"
    )


def invalid_request(message: str, parameter: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"message": message}
    if parameter:
        error["parameters"] = {parameter: []}
    return problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        PROBLEMS + "invalid-request",
        errors=[error],
    )


def not_found(value: str, resource: str, parameter: str) -> dict[str, Any]:
    return {
        "value": value,
        "detail": f"Could not find {resource} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


@dataclass(frozen=True)
class Part:
    """An uploaded file field, read whole so the form's spooled files can be closed at once."""

    data: bytes
    content_type: str | None


async def read_params(request: Request) -> dict[str, Any]:
    """Query parameters overlaid with a form body (multipart or urlencoded), as X accepts both."""
    params: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "")
    if kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        try:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    params[key] = Part(await value.read(), value.content_type)
                else:
                    params[key] = value
        finally:
            await form.close()
    return params


async def read_json(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return invalid_request("the request body is not valid JSON")
    if not isinstance(body, dict):
        return invalid_request("the request body must be a JSON object")
    return body


Handler = Callable[[Request, Grant, SimAccount, Fault | None], Awaitable[Response]]


class XSimulator:
    """The request pipeline every X path shares: faults, bearer token, scopes, windows."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim

    def _limits(self, endpoint: str, account: SimAccount) -> tuple[int, float]:
        limit, window = USER_LIMITS[endpoint]
        if endpoint == "POST /2/tweets":
            limit = int(setting(account, "post_limit"))
        return limit, window

    @staticmethod
    def rate_headers(limit: int, remaining: int, reset: datetime) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, remaining)),
            "x-rate-limit-reset": str(int(reset.timestamp())),
        }

    def too_many(self, headers: Mapping[str, str]) -> JSONResponse:
        return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)

    async def handle(
        self,
        request: Request,
        endpoint: str,
        handler: Handler,
        *,
        scopes: tuple[str, ...],
        creates: bool = False,
    ) -> Response:
        sim = self.sim
        fault = await sim.gate(creates=creates)
        response = await self._handle(request, endpoint, handler, scopes, fault)
        sim.note(request.method, request.url.path, str(response.status_code))
        return response

    async def _handle(
        self,
        request: Request,
        endpoint: str,
        handler: Handler,
        scopes: tuple[str, ...],
        fault: Fault | None,
    ) -> Response:
        sim = self.sim
        if fault is Fault.SERVER_ERROR:
            return problem(503, "Service Unavailable", "Service Unavailable")
        if fault is Fault.RATE_LIMITED:
            reset = sim.clock.now() + timedelta(seconds=sim.faults.rate_limit_seconds)
            limit = USER_LIMITS[endpoint][0]
            return self.too_many(self.rate_headers(limit, 0, reset))
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return problem(401, "Unauthorized", "Unauthorized")
        try:
            grant = sim.tokens.check(header[7:].strip())
        except TokenError:
            return problem(401, "Unauthorized", "Unauthorized")
        account = sim.accounts.get(grant.account_id)
        if account is None:
            return problem(401, "Unauthorized", "Unauthorized")
        missing = [scope for scope in scopes if scope not in grant.scopes]
        if missing:
            # Wording unverified: X answers 403 when the token lacks a scope.
            return problem(403, "Forbidden", f"Missing required scope(s): {', '.join(missing)}")
        limit, window = self._limits(endpoint, account)
        allowed, remaining, reset = sim.limits.hit(
            f"{endpoint}:user:{account.account_id}", limit=limit, window_seconds=window
        )
        headers = self.rate_headers(limit, remaining, reset)
        if allowed and endpoint in APP_LIMITS:
            app_limit, app_window = APP_LIMITS[endpoint]
            allowed, app_remaining, app_reset = sim.limits.hit(
                f"{endpoint}:app", limit=app_limit, window_seconds=app_window
            )
            if app_window >= 86_400:  # the daily app cap has headers of its own
                headers.update(
                    {
                        f"x-app-limit-24hour-{key.rsplit('-', 1)[1]}": value
                        for key, value in self.rate_headers(
                            app_limit, app_remaining, app_reset
                        ).items()
                    }
                )
            elif not allowed:
                headers = self.rate_headers(limit, 0, max(reset, app_reset))
        if not allowed:
            return self.too_many(headers)
        response = await handler(request, grant, account, fault)
        if not isinstance(response, DropConnection):
            response.headers.update(headers)
        return response
