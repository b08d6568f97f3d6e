"""WeChat tokens: the appid and AppSecret each account has, classic and stable tokens, and
the account a request's ``access_token`` names."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from simulators.harness import (
    Grant,
    SimAccount,
    Simulation,
    TokenError,
)
from simulators.wechat.wire import (
    DAILY_QUOTA_TEXT,
    MINUTE_QUOTA_TEXT,
    Serve,
    _json,
    _token_fault,
    beijing_day,
    error,
    setting,
)


# -- accounts and tokens ------------------------------------------------------------------------
def _app(sim: Simulation, appid: str) -> dict[str, Any] | None:
    return sim.objects.get(f"app:{appid}")


def _issue(sim: Simulation, account: SimAccount) -> Grant:
    lifetime = float(setting(sim, account, "token_lifetime"))
    return sim.tokens.issue(account.account_id, lifetime=lifetime, prefix="wx")


def provision(sim: Simulation, account: SimAccount) -> dict[str, Any]:
    """A new Official Account with its app: appid, AppSecret and a current stable token."""
    appid = f"wx{int(account.account_id):016x}"
    secret = hashlib.sha256(f"{sim.seed}:secret:{appid}".encode()).hexdigest()[:32]
    app: dict[str, Any] = {
        "kind": "app",
        "appid": appid,
        "secret": secret,
        "account_id": account.account_id,
    }
    sim.objects[f"app:{appid}"] = app
    grant = _issue(sim, account)
    app["stable"] = grant
    return {
        "client_id": appid,
        "client_secret": secret,
        "access_token": grant.access_token,
        "expires_at": grant.expires_at.isoformat(),
        "user_id": f"gh_{hashlib.sha256(appid.encode()).hexdigest()[:12]}",
        "extra": {},
    }


def _remaining(sim: Simulation, grant: Grant | None) -> float:
    if grant is None or grant.revoked:
        return 0.0
    return (grant.expires_at - sim.clock.now()).total_seconds()


def _overlap(sim: Simulation, grant: Grant | None) -> None:
    """An old token stays valid at most five more minutes after a new one is issued."""
    if grant is not None and not grant.revoked:
        grant.expires_at = min(grant.expires_at, sim.clock.now() + timedelta(minutes=5))


def _account_for(sim: Simulation, request: Request) -> SimAccount | JSONResponse:
    """The account of the request's ``access_token``, or WeChat's refusal."""
    token = request.query_params.get("access_token")
    if not token:
        return error(sim, 41001, "access_token missing")
    try:
        grant = sim.tokens.check(token)
    except TokenError as exc:
        codes = {
            "expired": (42001, "access_token expired"),
            "revoked": (40001, "invalid credential, access_token is invalid or not latest"),
        }
        code, text = codes.get(exc.reason, (40014, "invalid access_token"))
        return error(sim, code, text)
    return sim.accounts[grant.account_id]


def _stable_grant(sim: Simulation, record: dict[str, Any], *, force: bool) -> JSONResponse:
    """The same token until under five minutes remain; ``force`` revokes it (20 a day, 30 s
    apart)."""
    account = sim.accounts[record["account_id"]]
    current: Grant | None = record.get("stable")
    now = sim.clock.now()
    if force:
        forced: list[datetime] = record.setdefault("forced", [])
        if sum(1 for t in forced if beijing_day(t) == beijing_day(now)) >= 20:
            return error(sim, 45009, DAILY_QUOTA_TEXT)
        if forced and (now - forced[-1]).total_seconds() < 30:
            return error(sim, 45011, MINUTE_QUOTA_TEXT)
        forced.append(now)
        if current is not None:
            current.revoked = True
    elif current is not None and _remaining(sim, current) >= 300:
        remaining = int(_remaining(sim, current))
        return JSONResponse({"access_token": current.access_token, "expires_in": remaining})
    else:
        _overlap(sim, current)
    grant = _issue(sim, account)
    record["stable"] = grant
    lifetime = int(setting(sim, account, "token_lifetime"))
    return JSONResponse({"access_token": grant.access_token, "expires_in": lifetime})


def register(app: FastAPI, sim: Simulation, serve: Serve) -> None:
    # tokens ------------------------------------------------------------------------------
    @app.get("/cgi-bin/token")
    async def classic_token(grant_type: str = "", appid: str = "", secret: str = "") -> Response:
        refused = _token_fault(sim, await sim.gate(creates=False))
        if refused is not None:
            return refused
        if grant_type != "client_credential":
            return error(sim, 40002, "invalid grant_type")
        record = _app(sim, appid)
        if record is None:
            return error(sim, 40013, "invalid appid")
        if secret != record["secret"]:
            return error(sim, 40001, "invalid credential, access_token is invalid or not latest")
        account = sim.accounts[record["account_id"]]
        allowed, _, _ = sim.limits.hit(
            f"token:{appid}:{beijing_day(sim.clock.now())}",
            limit=int(setting(sim, account, "token_daily_quota")),
            window_seconds=86_400,
        )
        if not allowed:
            return error(sim, 45009, DAILY_QUOTA_TEXT)
        _overlap(sim, record.get("classic"))
        grant = _issue(sim, account)
        record["classic"] = grant
        lifetime = int(setting(sim, account, "token_lifetime"))
        return JSONResponse({"access_token": grant.access_token, "expires_in": lifetime})

    @app.post("/cgi-bin/stable_token")
    async def stable_token(request: Request) -> Response:
        refused = _token_fault(sim, await sim.gate(creates=False))
        if refused is not None:
            return refused
        body = _json(await request.body())
        if body is None:
            return error(sim, 47001, "data format error")
        if body.get("grant_type") != "client_credential":
            return error(sim, 40002, "invalid grant_type")
        record = _app(sim, str(body.get("appid", "")))
        if record is None:
            return error(sim, 40013, "invalid appid")
        if body.get("secret") != record["secret"]:
            return error(sim, 40125, "invalid appsecret")
        return _stable_grant(sim, record, force=bool(body.get("force_refresh")))
