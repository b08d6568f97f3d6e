"""Douyin OAuth: the consent page, the code exchange, the access-token refresh and the renewal
of the refresh token (a new one, 30 days, at most five times; the old one stops working).

Access tokens live in the harness's token store; refresh tokens are Douyin's own here because
their rules differ from a plain rotation: ``/oauth/refresh_token/`` keeps the refresh token and
its expiry, ``/oauth/renew_refresh_token/`` replaces it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from starlette.responses import Response

from simulators import consent
from simulators.douyin.wire import (
    DouyinError,
    oauth_error,
    oauth_ok,
    open_id,
    setting,
)
from simulators.harness import Fault, SimAccount, Simulation, TokenError

CODE_LIFETIME = timedelta(minutes=10)


def app_credentials(sim: Simulation) -> dict[str, str]:
    """The one website app every simulated account has authorised."""
    return sim.objects.setdefault(
        "app",
        {"client_key": f"aw{secrets.token_hex(7)}", "client_secret": secrets.token_hex(16)},
    )


def _refresh_tokens(sim: Simulation) -> dict[str, dict[str, Any]]:
    return sim.objects.setdefault("refresh-tokens", {})


def _new_refresh(sim: Simulation, account: SimAccount, renewals: int) -> str:
    token = f"rft.{secrets.token_hex(20)}"
    lifetime = timedelta(seconds=float(setting(account, "refresh_lifetime")))
    _refresh_tokens(sim)[token] = {
        "account_id": account.account_id,
        "expires_at": sim.clock.now() + lifetime,
        "renewals": renewals,
        "dead": False,
    }
    return token


def _token_data(sim: Simulation, account: SimAccount, refresh: str) -> dict[str, Any]:
    grant = sim.tokens.issue(
        account.account_id,
        lifetime=float(setting(account, "access_lifetime")),
        scopes=tuple(setting(account, "scopes")),
        prefix="act",
    )
    now = sim.clock.now()
    record = _refresh_tokens(sim)[refresh]
    return {
        "access_token": grant.access_token,
        "expires_in": int((grant.expires_at - now).total_seconds()),
        "open_id": open_id(account),
        "refresh_token": refresh,
        "refresh_expires_in": int((record["expires_at"] - now).total_seconds()),
        "scope": ",".join(grant.scopes),
    }


def provision(sim: Simulation, account: SimAccount) -> dict[str, Any]:
    """An account that has already authorised the app, as Publicist stores it."""
    app = app_credentials(sim)
    data = _token_data(sim, account, _new_refresh(sim, account, 0))
    now = sim.clock.now()
    return {
        "access_token": data["access_token"],
        "refresh_token": data["refresh_token"],
        "expires_at": (now + timedelta(seconds=data["expires_in"])).isoformat(),
        "client_id": app["client_key"],
        "client_secret": app["client_secret"],
        "user_id": data["open_id"],
        "extra": {
            "refresh_expires_at": (now + timedelta(seconds=data["refresh_expires_in"])).isoformat(),
        },
    }


def _live_refresh(sim: Simulation, token: str) -> dict[str, Any]:
    record = _refresh_tokens(sim).get(token)
    if record is None or record["dead"] or record["expires_at"] <= sim.clock.now():
        raise DouyinError(10010)
    return record


async def _form(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}


def register(app: FastAPI, sim: Simulation) -> None:
    @app.api_route("/platform/oauth/connect/", methods=["GET", "POST"])
    async def connect(request: Request) -> Response:
        """The consent page, as the account named by ``handle`` or the newest; Allow issues a
        one-use code that lapses after ten minutes (Douyin's documented code lifetime)."""
        q, decision = await consent.parameters(request)
        if q.get("client_key") != app_credentials(sim)["client_key"]:
            return oauth_error(DouyinError(10013))
        redirect_uri = q.get("redirect_uri", "")
        if q.get("response_type") != "code" or not consent.usable_redirect(redirect_uri):
            return oauth_error(DouyinError(10005, "response_type, redirect_uri"))
        wanted = q.get("handle")
        accounts = list(sim.accounts.values())
        account = next(
            (a for a in accounts if a.handle == wanted), accounts[-1] if accounts else None
        )
        if account is None:
            return oauth_error(DouyinError(10005, "no account to authorise"))
        if decision is None:
            return consent.page(
                platform="Douyin",
                app=q["client_key"],
                handle=account.handle,
                scopes=q.get("scope", ""),
                params=q,
                action=request.url.path,
            )
        if decision == consent.DENY:
            return consent.denied(redirect_uri, q.get("state"))
        code = secrets.token_hex(16)
        sim.objects[f"code:{code}"] = {
            "account_id": account.account_id,
            "used": False,
            "expires_at": sim.clock.now() + CODE_LIFETIME,
        }
        query = {"code": code, "state": q.get("state", ""), "scopes": q.get("scope", "")}
        return consent.back(redirect_uri, query)

    async def token_call(request: Request, handle: Any) -> Response:
        form = await _form(request)
        fault = await sim.gate(creates=False)
        try:
            if fault is Fault.SERVER_ERROR:
                raise DouyinError(2100004)
            if fault is Fault.RATE_LIMITED:
                raise DouyinError(28003018)
            if form.get("client_key") != app_credentials(sim)["client_key"]:
                raise DouyinError(10013)
            response = oauth_ok(handle(form))
        except DouyinError as exc:
            response = oauth_error(exc)
        sim.note(request.method, request.url.path, str(response.status_code))
        return response

    def exchange(form: dict[str, str]) -> dict[str, Any]:
        if form.get("client_secret") != app_credentials(sim)["client_secret"]:
            raise DouyinError(10013)
        if form.get("grant_type") != "authorization_code":
            raise DouyinError(10005, "grant_type")
        record = sim.objects.get(f"code:{form.get('code', '')}")
        if (
            record is None
            or record["used"]
            or record.get("expires_at", sim.clock.now()) <= sim.clock.now()
        ):
            raise DouyinError(10005, "code")
        record["used"] = True
        account = sim.accounts[record["account_id"]]
        return _token_data(sim, account, _new_refresh(sim, account, 0))

    def refresh(form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            raise DouyinError(10005, "grant_type, refresh_token")
        record = _live_refresh(sim, form["refresh_token"])
        account = sim.accounts[record["account_id"]]
        return _token_data(sim, account, form["refresh_token"])

    def renew(form: dict[str, str]) -> dict[str, Any]:
        token = form.get("refresh_token", "")
        if not token:
            raise DouyinError(10005, "refresh_token")
        record = _live_refresh(sim, token)
        account = sim.accounts[record["account_id"]]
        if record["renewals"] >= int(setting(account, "max_renewals")):
            raise DouyinError(10020)
        record["dead"] = True
        new = _new_refresh(sim, account, record["renewals"] + 1)
        lifetime = _refresh_tokens(sim)[new]["expires_at"] - sim.clock.now()
        return {"refresh_token": new, "expires_in": int(lifetime.total_seconds())}

    def userinfo(form: dict[str, str]) -> dict[str, Any]:
        try:
            grant = sim.tokens.check(form.get("access_token", ""))
        except TokenError as exc:
            raise DouyinError(28001003) from exc
        account = sim.accounts[grant.account_id]
        if form.get("open_id") != open_id(account):
            raise DouyinError(10005, "open_id")
        return {"open_id": open_id(account), "nickname": account.handle, "avatar": ""}

    @app.post("/oauth/userinfo/")
    async def user_info(request: Request) -> Response:
        """The authorised user's nickname (form: ``access_token``, ``open_id``)."""
        form = await _form(request)
        try:
            response = oauth_ok(userinfo(form))
        except DouyinError as exc:
            response = oauth_error(exc)
        sim.note(request.method, request.url.path, str(response.status_code))
        return response

    @app.post("/oauth/access_token/")
    async def access_token(request: Request) -> Response:
        return await token_call(request, exchange)

    @app.post("/oauth/refresh_token/")
    async def refresh_token(request: Request) -> Response:
        return await token_call(request, refresh)

    @app.post("/oauth/renew_refresh_token/")
    async def renew_refresh_token(request: Request) -> Response:
        return await token_call(request, renew)
