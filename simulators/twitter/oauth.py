"""OAuth 2.0 on the simulated X: provisioning, PKCE authorisation, token refresh with rotation."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from simulators import consent
from simulators.harness import Fault, Grant, SimAccount, Simulation, TokenError
from simulators.twitter.wire import SCOPES, XSimulator, problem, setting


def _client(sim: Simulation, *, public: bool) -> tuple[str, str | None]:
    """The app registered with the simulated X: one confidential and one public client."""
    key = "client:public" if public else "client:confidential"
    record = sim.objects.get(key)
    if record is None:
        suffix = sim.rng.getrandbits(48)
        record = {
            "kind": "client",
            "client_id": f"{'pub' if public else 'app'}-{suffix:012x}",
            "client_secret": None if public else f"cs-{sim.rng.getrandbits(128):032x}",
        }
        sim.objects[key] = record
        sim.objects[f"client-id:{record['client_id']}"] = record
    return str(record["client_id"]), record["client_secret"]


def _issue(sim: Simulation, account: SimAccount, scopes: tuple[str, ...]) -> Grant:
    refresh = float(setting(account, "refresh_lifetime")) if "offline.access" in scopes else None
    return sim.tokens.issue(
        account.account_id,
        lifetime=float(setting(account, "access_lifetime")),
        refresh_lifetime=refresh,
        scopes=scopes,
        prefix="x",
    )


def provision(sim: Simulation, account: SimAccount) -> dict[str, Any]:
    scopes = tuple(setting(account, "scopes") if "scopes" in account.settings else SCOPES)
    client_id, secret = _client(sim, public=bool(setting(account, "public_client")))
    grant = _issue(sim, account, scopes)
    return {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "expires_at": grant.expires_at.isoformat(),
        "client_id": client_id,
        "client_secret": secret,
        "user_id": account.account_id,
        "extra": {"username": account.handle.lstrip("@")},
    }


def _verifier_matches(record: Mapping[str, Any], verifier: str) -> bool:
    """PKCE: S256 hashes the verifier into the challenge; ``plain`` compares them."""
    if record["method"] == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == str(record["challenge"])
    return bool(verifier) and verifier == str(record["challenge"])


def register(app: FastAPI, x: XSimulator) -> None:
    """The authorisation page and the token endpoint."""
    sim = x.sim

    @app.api_route("/i/oauth2/authorize", methods=["GET", "POST"])
    async def authorize(request: Request) -> Response:
        """The consent page (as the account in ``screen_name``, else the first); Allow issues
        a one-use code bound to the client, the redirect address and the PKCE challenge."""
        q, decision = await consent.parameters(request)
        client = sim.objects.get(f"client-id:{q.get('client_id', '')}")
        redirect_uri = q.get("redirect_uri", "")
        if client is None or not consent.usable_redirect(redirect_uri):
            return consent.refused("invalid_request: client_id or redirect_uri")
        if q.get("response_type") != "code":
            return consent.refused("invalid_request: response_type must be code")
        # X requires PKCE for every client (research X1); S256 or plain.
        if not q.get("code_challenge") or q.get("code_challenge_method", "plain") not in (
            "S256",
            "plain",
        ):
            return consent.refused("invalid_request: code_challenge")
        handle = q.get("screen_name")
        account = (
            sim.account_by_handle(handle) if handle else next(iter(sim.accounts.values()), None)
        )
        if account is None:
            return consent.refused("no account to authorise")
        if decision is None:
            return consent.page(
                platform="X",
                app=str(client["client_id"]),
                handle=account.handle,
                scopes=q.get("scope", ""),
                params=q,
                action=request.url.path,
            )
        if decision == consent.DENY:
            return consent.denied(redirect_uri, q.get("state"))
        code = f"c-{sim.rng.getrandbits(96):024x}"
        sim.objects[f"code:{code}"] = {
            "kind": "code",
            "account_id": account.account_id,
            "client_id": client["client_id"],
            "redirect_uri": redirect_uri,
            "challenge": q.get("code_challenge", ""),
            "method": q.get("code_challenge_method", "plain"),
            "scopes": tuple(q.get("scope", "").split()),
            "expires_at": sim.clock.now() + timedelta(seconds=30),
        }
        return consent.back(redirect_uri, {"state": q.get("state", ""), "code": code})

    def oauth_error(status: int, error: str, description: str) -> JSONResponse:
        return JSONResponse({"error": error, "error_description": description}, status_code=status)

    @app.post("/2/oauth2/token")
    async def token(request: Request) -> Response:
        fault = await sim.gate(creates=False)
        response = await _token(request, fault)
        sim.note(request.method, request.url.path, str(response.status_code))
        return response

    async def _token(request: Request, fault: Fault | None) -> Response:
        if fault is Fault.SERVER_ERROR:
            return problem(503, "Service Unavailable", "Service Unavailable")
        if fault is Fault.RATE_LIMITED:
            reset = sim.clock.now() + timedelta(seconds=sim.faults.rate_limit_seconds)
            return x.too_many(x.rate_headers(0, 0, reset))
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        client_id, secret = fields.get("client_id", ""), None
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
            except ValueError:
                return oauth_error(401, "invalid_client", "Malformed authorization header")
        client = sim.objects.get(f"client-id:{client_id}")
        if client is None:
            return oauth_error(401, "invalid_client", "Missing valid authorization header")
        if client["client_secret"] is not None and secret != client["client_secret"]:
            return oauth_error(401, "invalid_client", "Missing valid authorization header")
        grant_type = fields.get("grant_type")
        if grant_type == "refresh_token":
            owner_id = sim.tokens.refresh_owner(fields.get("refresh_token", ""))
            owner = sim.accounts.get(owner_id) if owner_id else None
            try:
                grant = sim.tokens.refresh(
                    fields.get("refresh_token", ""),
                    lifetime=float(setting(owner, "access_lifetime")),
                    rotate=bool(setting(owner, "rotate_refresh_tokens")),
                    refresh_lifetime=float(setting(owner, "refresh_lifetime")),
                )
            except TokenError:
                return oauth_error(
                    400, "invalid_request", "Value passed for the token was invalid."
                )
            return token_response(grant)
        if grant_type == "authorization_code":
            record = sim.objects.pop(f"code:{fields.get('code', '')}", None)
            if (
                record is None
                or record["expires_at"] <= sim.clock.now()
                or record["client_id"] != client["client_id"]
                or record["redirect_uri"] != fields.get("redirect_uri", "")
                or not _verifier_matches(record, fields.get("code_verifier", ""))
            ):
                return oauth_error(
                    400, "invalid_request", "Value passed for the authorization code was invalid."
                )
            owner = sim.accounts[record["account_id"]]
            return token_response(_issue(sim, owner, record["scopes"] or SCOPES))
        return oauth_error(400, "unsupported_grant_type", "Unsupported grant type")

    def token_response(grant: Grant) -> JSONResponse:
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int((grant.expires_at - sim.clock.now()).total_seconds() + 0.5),
            "access_token": grant.access_token,
            "scope": " ".join(grant.scopes),
        }
        if grant.refresh_token:
            body["refresh_token"] = grant.refresh_token
        return JSONResponse(body)
