"""TikTok OAuth v2: the app every account authorised, provisioned tokens, ``/v2/oauth/token/``."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from simulators import consent
from simulators.harness import (
    Fault,
    Grant,
    SimAccount,
    Simulation,
)
from simulators.tiktok.wire import (
    OAuthError,
    open_id,
    setting,
)

if TYPE_CHECKING:  # the platform's state needs this module's token issuing at run time
    from simulators.tiktok.state import TiktokPlatform

CODE_LIFETIME = timedelta(minutes=5)

Run = Callable[[Request, Callable[[], Awaitable[Response]]], Awaitable[Response]]
"""How a route runs its work: platform errors become TikTok's envelopes, every call is noted."""


def _app_credentials(sim: Simulation) -> dict[str, Any]:
    """The one developer app every simulated account has authorised."""
    return sim.objects.setdefault(
        "app",
        {
            "client_key": f"sbaw{secrets.token_hex(6)}",
            "client_secret": secrets.token_urlsafe(24),
        },
    )


def _issue(sim: Simulation, account: SimAccount) -> Grant:
    return sim.tokens.issue(
        account.account_id,
        lifetime=float(setting(account, "access_lifetime")),
        refresh_lifetime=float(setting(account, "refresh_lifetime")),
        scopes=tuple(setting(account, "scopes")),
        prefix="act",
    )


def _provision(sim: Simulation, account: SimAccount) -> dict[str, Any]:
    grant = _issue(sim, account)
    app = _app_credentials(sim)
    code = f"code-{secrets.token_urlsafe(12)}"
    sim.objects[f"code:{code}"] = {"account_id": account.account_id, "used": False}
    assert grant.refresh_expires_at is not None
    return {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "expires_at": grant.expires_at.isoformat(),
        "client_id": app["client_key"],
        "client_secret": app["client_secret"],
        "user_id": open_id(account),
        "extra": {
            "username": account.handle.lstrip("@"),
            "refresh_expires_at": grant.refresh_expires_at.isoformat(),
        },
        "authorization_code": code,
    }


def challenge_matches(challenge: str, verifier: str) -> bool:
    """TikTok's desktop kit documents the challenge as the hex SHA-256 of the verifier."""
    if not challenge:
        return True
    return bool(verifier) and hashlib.sha256(verifier.encode()).hexdigest() == challenge


def register(app: FastAPI, sim: Simulation, platform: TiktokPlatform, run: Run) -> None:
    @app.api_route("/v2/auth/authorize/", methods=["GET", "POST"])
    async def authorize(request: Request) -> Response:
        """The consent page (as the account named by ``handle``, else the newest); Allow issues
        a one-use code bound to the redirect address, lapsing after five minutes."""
        q, decision = await consent.parameters(request)
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_key") != _app_credentials(sim)["client_key"]:
            return consent.refused("client_key: the app is unknown")
        if q.get("response_type") != "code" or not consent.usable_redirect(redirect_uri):
            return consent.refused("redirect_uri or response_type is invalid")
        wanted = q.get("handle")
        accounts = list(sim.accounts.values())
        account = next(
            (a for a in accounts if a.handle == wanted), accounts[-1] if accounts else None
        )
        if account is None:
            return consent.refused("no account to authorise")
        if decision is None:
            return consent.page(
                platform="TikTok",
                app=q["client_key"],
                handle=account.handle,
                scopes=q.get("scope", ""),
                params=q,
                action=request.url.path,
            )
        if decision == consent.DENY:
            return consent.denied(redirect_uri, q.get("state"))
        code = f"code-{secrets.token_urlsafe(12)}"
        sim.objects[f"code:{code}"] = {
            "account_id": account.account_id,
            "used": False,
            "redirect_uri": redirect_uri,
            "challenge": q.get("code_challenge", ""),
            "expires_at": sim.clock.now() + CODE_LIFETIME,
        }
        return consent.back(
            redirect_uri, {"code": code, "scopes": q.get("scope", ""), "state": q.get("state", "")}
        )

    @app.post("/v2/oauth/token/")
    async def oauth_token(request: Request) -> Response:
        async def work() -> Response:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            fault = await sim.gate(creates=False)
            if fault is Fault.SERVER_ERROR:
                raise OAuthError(500, "server_error", "Internal error, please retry.")
            if fault is Fault.RATE_LIMITED:
                raise OAuthError(429, "rate_limit_exceeded", "Too many requests.")
            return JSONResponse(platform.token(form))

        return await run(request, work)
