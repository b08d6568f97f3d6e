"""A tiny Mastodon simulator on Publicist's simulator harness: statuses with Idempotency-Key,
an account's statuses newest first, one status's counters, OAuth refresh, on a virtual clock.

It speaks the documented paths and shapes (https://docs.joinmastodon.org/methods/statuses/)
and the harness's faults (5xx, 429 bursts, expired tokens, commit then drop), so the shared
connector contract runs against it. It never imports the connector it checks.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from simulators.control import control_router
from simulators.harness import (
    DropConnection,
    Fault,
    GrowthModel,
    SimAccount,
    SimPost,
    Simulation,
    TokenError,
)

PLATFORM = "mastodon"
SERVER = "https://mastodon.example"
IDEMPOTENCY_SECONDS = 3600
"""How long the server answers a repeated Idempotency-Key with the status it created."""
TOKEN_LIFETIME = 7 * 86_400


class MastodonError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.message, self.headers = status, message, headers or {}
        super().__init__(message)


def provision(sim: Simulation, account: SimAccount) -> dict[str, Any]:
    """Credentials of a new account, as an app with a refresh token would hold them."""
    app = sim.objects.setdefault(
        "app", {"client_id": secrets.token_urlsafe(12), "client_secret": secrets.token_urlsafe(24)}
    )
    lifetime = float(account.settings.get("access_lifetime", TOKEN_LIFETIME))
    grant = sim.tokens.issue(
        account.account_id, lifetime=lifetime, refresh_lifetime=365 * 86_400, prefix="mst"
    )
    return {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "user_id": account.account_id,
        "expires_at": grant.expires_at.isoformat(),
        "extra": {"acct": f"{account.handle.lstrip('@')}@mastodon.example"},
    }


def new_simulation(*, seed: int = 1) -> Simulation:
    growth = GrowthModel(
        audience_median=4_000.0,
        tau_seconds=12 * 3600.0,
        rates={"favourites_count": 0.05, "reblogs_count": 0.02, "replies_count": 0.005},
    )
    return Simulation(PLATFORM, seed=seed, growth=growth, provision=provision)


def status_json(sim: Simulation, post: SimPost) -> dict[str, Any]:
    account = sim.accounts[post.account_id]
    counters = sim.engagement(post)
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in post.text.split("\n"))
    return {
        "id": post.remote_id,
        "created_at": post.created_at.isoformat().replace("+00:00", "Z"),
        "visibility": "public",
        "content": paragraphs,
        "url": f"{SERVER}/@{account.handle.lstrip('@')}/{post.remote_id}",
        "uri": f"{SERVER}/users/{account.handle.lstrip('@')}/statuses/{post.remote_id}",
        "account": {"id": account.account_id, "acct": account.handle.lstrip("@")},
        "reblogs_count": counters.get("reblogs_count", 0),
        "favourites_count": counters.get("favourites_count", 0),
        "replies_count": counters.get("replies_count", 0),
    }


def create_app(sim: Simulation) -> FastAPI:
    app = FastAPI(title="Mastodon simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(control_router(sim))

    def account_of(request: Request) -> SimAccount:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        try:
            grant = sim.tokens.check(token)
        except TokenError as exc:
            word = "expired" if exc.reason == "expired" else "is invalid"
            raise MastodonError(401, f"The access token {word}") from exc
        return sim.accounts[grant.account_id]

    async def gate(*, creates: bool) -> Fault | None:
        fault = await sim.gate(creates=creates)
        if fault is Fault.SERVER_ERROR:
            raise MastodonError(503, "Service Unavailable")
        if fault is Fault.RATE_LIMITED:
            reset = sim.clock.now() + timedelta(seconds=sim.faults.rate_limit_seconds)
            raise MastodonError(
                429,
                "Too many requests",
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.isoformat()},
            )
        return fault

    async def run(request: Request, work: Callable[[], Awaitable[Response]]) -> Response:
        try:
            response = await work()
        except MastodonError as exc:
            response = JSONResponse({"error": exc.message}, exc.status, headers=exc.headers)
        label = "dropped" if isinstance(response, DropConnection) else str(response.status_code)
        sim.note(request.method, request.url.path, label)
        return response

    @app.post("/api/v1/statuses")
    async def create_status(request: Request) -> Response:
        async def work() -> Response:
            account = account_of(request)
            fault = await gate(creates=True)
            body = await request.json()
            text = str(body.get("status") or "") if isinstance(body, dict) else ""
            if not text.strip():
                raise MastodonError(422, "Validation failed: Text can't be blank")
            if len(text) > 500:
                raise MastodonError(422, "Validation failed: Text character limit of 500 exceeded")
            keys: dict[str, tuple[str, Any]] = sim.objects.setdefault("idempotency", {})
            key = f"{account.account_id}:{request.headers.get('idempotency-key', '')}"
            known = keys.get(key) if request.headers.get("idempotency-key") else None
            now = sim.clock.now()
            if known is not None and now - known[1] < timedelta(seconds=IDEMPOTENCY_SECONDS):
                post = sim.posts[known[0]]
            else:
                post = sim.record_post(account.account_id, text, remote_id=sim.snowflake())
                if request.headers.get("idempotency-key"):
                    keys[key] = (post.remote_id, now)
            if fault is Fault.DROP_AFTER_COMMIT:
                return DropConnection()
            return JSONResponse(status_json(sim, post))

        return await run(request, work)

    @app.get("/api/v1/statuses/{status_id}")
    async def get_status(request: Request, status_id: str) -> Response:
        async def work() -> Response:
            account_of(request)
            await gate(creates=False)
            post = sim.posts.get(status_id)
            if post is None or post.deleted:
                raise MastodonError(404, "Record not found")
            return JSONResponse(status_json(sim, post))

        return await run(request, work)

    @app.get("/api/v1/accounts/{account_id}/statuses")
    async def account_statuses(request: Request, account_id: str) -> Response:
        async def work() -> Response:
            account_of(request)
            await gate(creates=False)
            limit = min(int(request.query_params.get("limit", "20")), 40)
            max_id = request.query_params.get("max_id")
            posts = sim.live_posts(account_id)
            if max_id:
                posts = [p for p in posts if int(p.remote_id) < int(max_id)]
            return JSONResponse([status_json(sim, p) for p in posts[:limit]])

        return await run(request, work)

    @app.post("/oauth/token")
    async def token(request: Request) -> Response:
        async def work() -> Response:
            await gate(creates=False)
            form = await request.form()
            app_keys = sim.objects.get("app", {})
            if form.get("grant_type") != "refresh_token":
                raise MastodonError(400, "unsupported_grant_type")
            if (form.get("client_id"), form.get("client_secret")) != (
                app_keys.get("client_id"),
                app_keys.get("client_secret"),
            ):
                raise MastodonError(401, "invalid_client")
            refresh = str(form.get("refresh_token") or "")
            owner = sim.tokens.refresh_owner(refresh)
            if owner is None:
                raise MastodonError(400, "invalid_grant")
            lifetime = float(sim.accounts[owner].settings.get("access_lifetime", TOKEN_LIFETIME))
            try:
                grant = sim.tokens.refresh(
                    refresh, lifetime=lifetime, rotate=True, refresh_lifetime=365 * 86_400
                )
            except TokenError as exc:
                raise MastodonError(400, "invalid_grant") from exc
            return JSONResponse(
                {
                    "access_token": grant.access_token,
                    "token_type": "Bearer",
                    "scope": "read write",
                    "created_at": int(sim.clock.now().timestamp()),
                    "expires_in": int(lifetime),
                    "refresh_token": grant.refresh_token,
                }
            )

        return await run(request, work)

    return app
