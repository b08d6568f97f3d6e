"""Sina Weibo Open API v2 simulator: OAuth2, statuses/share, count, show, timelines, destroy.

Speaks Weibo's wire format (``wire.py``): ``.json`` paths, form or multipart bodies,
``access_token`` as a parameter (or the SDKs' ``Authorization: OAuth2`` header), hourly
limits signalled only by error codes. Per-account settings (``/__sim/accounts`` ``settings``,
see ``SETTINGS``) and the knobs under ``/__sim/weibo`` (:class:`WeiboKnobs`) make every
unverified behaviour configurable.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import asdict
from datetime import timedelta
from itertools import islice
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from simulators import consent
from simulators.control import CONTROL_PREFIX, control_router
from simulators.harness import (
    DropConnection,
    Fault,
    Grant,
    GrowthModel,
    SimAccount,
    Simulation,
    TokenError,
    content_fingerprint,
    normalise_text,
)
from simulators.weibo.text import has_topic, links, on_safe_domain, safe_domains
from simulators.weibo.wire import (
    APP_KEY,
    APP_SECRET,
    FOREIGN_APP,
    MAX_PICTURE_BYTES,
    SETTINGS,
    WeiboError,
    WeiboKnobs,
    add_status,
    error_response,
    knobs,
    oauth_error_response,
    setting,
    sniff_picture,
    status_object,
    visible,
)

__all__ = ["SETTINGS", "WeiboKnobs", "add_status", "create_app", "new_simulation"]


def new_simulation(*, seed: int = 1) -> Simulation:
    # Modelling choices (research table 6.2): Weibo shows no views, so "views" is the hidden
    # reach the interactions derive from; a post is reached over about half a day.
    growth = GrowthModel(
        audience_median=20_000.0,
        tau_seconds=12 * 3600.0,
        lag_seconds=0.0,
        rates={"attitudes": 0.02, "reposts": 0.004, "comments": 0.005},
    )
    return Simulation("weibo", seed=seed, growth=growth, provision=_provision)


def _issue(sim: Simulation, account: SimAccount) -> Grant:
    refresh = setting(account, "refresh_lifetime") if setting(account, "refresh_tokens") else None
    return sim.tokens.issue(
        account.account_id,
        lifetime=setting(account, "token_lifetime"),
        refresh_lifetime=refresh,
        scopes=("all",),
        prefix="2.00weibo",
    )


def _provision(sim: Simulation, account: SimAccount) -> dict[str, Any]:
    grant = _issue(sim, account)
    return {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "expires_at": grant.expires_at.isoformat(),
        "client_id": APP_KEY,
        "client_secret": APP_SECRET,
        "user_id": account.account_id,
        "extra": {
            "safe_domain": setting(account, "safe_domains"),
            "rip": setting(account, "rip"),
        },
    }


def _token_from(request: Request, form: FormData | None) -> str:
    if form is not None and isinstance(form.get("access_token"), str):
        return str(form["access_token"])
    if "access_token" in request.query_params:
        return request.query_params["access_token"]
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "oauth2" else ""


def _authorise(sim: Simulation, token: str) -> Grant:
    if not token:
        raise WeiboError(21301)
    try:
        return sim.tokens.check(token)
    except TokenError as exc:
        code = {"expired": 21327, "revoked": 21316}.get(exc.reason, 21332)
        raise WeiboError(code) from exc


def _count_request(sim: Simulation, request: Request, grant: Grant) -> None:
    """Weibo's hourly limits: per IP, per user through this app (no headers, only codes)."""
    hour = sim.clock.now().strftime("%Y%m%d%H")
    account = sim.accounts[grant.account_id]
    host = request.client.host if request.client else "unknown"
    allowed, _, _ = sim.limits.hit(
        f"ip:{host}:{hour}", limit=knobs(sim).ip_requests_per_hour, window_seconds=3600
    )
    if not allowed:
        raise WeiboError(10022)
    allowed, _, _ = sim.limits.hit(
        f"user:{account.account_id}:{hour}",
        limit=setting(account, "requests_per_hour"),
        window_seconds=3600,
    )
    if not allowed:
        raise WeiboError(10023)


async def _enter(
    sim: Simulation, request: Request, *, creates: bool, form: FormData | None = None
) -> Grant:
    """The start of every API call: faults, the token, the hourly limits."""
    fault = await sim.gate(creates=creates)
    if fault is Fault.SERVER_ERROR:
        raise WeiboError(10002)
    if fault is Fault.RATE_LIMITED:
        raise WeiboError(10023)
    grant = _authorise(sim, _token_from(request, form))
    _count_request(sim, request, grant)
    if fault is Fault.DROP_AFTER_COMMIT:
        request.state.drop = True
    return grant


def _check_share(sim: Simulation, account: SimAccount, form: FormData) -> tuple[str, bytes | None]:
    status = form.get("status")
    rip = form.get("rip")
    if status is None:
        raise WeiboError(10016, "status")
    if not isinstance(status, str) or not status.strip():
        raise WeiboError(20008)
    if not isinstance(rip, str) or not rip:
        raise WeiboError(10016, "rip")
    try:
        ipaddress.ip_address(rip)
    except ValueError:
        raise WeiboError(10017, "rip") from None
    picture = form.get("pic")
    data: bytes | None = None
    if picture is not None:
        if not isinstance(picture, UploadFile):
            raise WeiboError(20007)
        data = picture.file.read()
        if sniff_picture(data) is None:
            raise WeiboError(20005)
        if len(data) >= MAX_PICTURE_BYTES:
            raise WeiboError(20006)
    settings = knobs(sim)
    if has_topic(status):
        raise WeiboError(settings.topic_error_code, "status")
    if settings.rules().too_long(status):
        raise WeiboError(20012)
    domains = safe_domains(setting(account, "safe_domains"))
    if not any(on_safe_domain(url, domains) for url in links(status)):
        raise WeiboError(10017, message="appkey not bind domain!")
    if any(word and word in status for word in settings.blocked_words):
        raise WeiboError(20021)
    _check_repeats(sim, account, status)
    _check_post_quota(sim, account)
    return status, data


def _check_repeats(sim: Simulation, account: SimAccount, status: str) -> None:
    """Weibo compares a new status with the user's recent ones (hidden ones included)."""
    now = sim.clock.now()
    window = timedelta(seconds=setting(account, "duplicate_seconds"))
    # The newest first, read back only as far as the check looks (not the whole history).
    recent = list(
        islice(
            (p for p in sim.recent_posts(account.account_id, now - window) if not p.deleted),
            setting(account, "duplicate_posts"),
        )
    )
    # Near-duplicates: the same words with other links or spacing (a bare link has no words).
    fingerprint = content_fingerprint(status) if normalise_text(status) else None
    for post in recent:
        if post.extra.get("sent") == status:
            raise WeiboError(20019)
        if post.fingerprint == fingerprint:
            raise WeiboError(20017)
    gap = setting(account, "min_post_interval_seconds")
    if gap > 0 and recent and recent[0].created_at > now - timedelta(seconds=gap):
        raise WeiboError(20016)


def _check_post_quota(sim: Simulation, account: SimAccount) -> None:
    """Posts per hour, counted only for statuses that are otherwise acceptable."""
    hour = sim.clock.now().strftime("%Y%m%d%H")
    allowed, _, _ = sim.limits.hit(
        f"posts:{account.account_id}:{hour}",
        limit=setting(account, "posts_per_hour"),
        window_seconds=3600,
    )
    if not allowed:
        raise WeiboError(10024, "statuses/share")


def _int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if not value.lstrip("-").isdigit():
        raise WeiboError(10017, name)
    return int(value)


async def _share(sim: Simulation, request: Request, form: FormData) -> Response:
    grant = await _enter(sim, request, creates=True, form=form)
    account = sim.accounts[grant.account_id]
    settings = knobs(sim)
    if settings.error_next:
        raise WeiboError(settings.error_next.pop(0))
    status, picture = _check_share(sim, account, form)
    slow = settings.slow_success_next > 0
    post = add_status(
        sim,
        account.account_id,
        status,
        picture=hashlib.sha256(picture).hexdigest()[:20] if picture else None,
        visible_at=(
            sim.clock.now() + timedelta(seconds=settings.slow_success_seconds) if slow else None
        ),
    )
    if slow:
        settings.slow_success_next -= 1
        raise WeiboError(20032)
    if getattr(request.state, "drop", False):
        return DropConnection()
    return JSONResponse(status_object(sim, post))


def create_app(sim: Simulation) -> FastAPI:
    app = FastAPI(title="Weibo Open API simulator")
    app.include_router(control_router(sim))
    app.include_router(_weibo_control(sim))

    async def guarded(request: Request, path: str, work: Any) -> Response:
        try:
            response: Response = await work()
        except WeiboError as error:
            sim.note(request.method, path, str(error.code))
            return error_response(sim, path, error)
        dropped = isinstance(response, DropConnection)
        sim.note(request.method, path, "dropped" if dropped else str(response.status_code))
        return response

    @app.post("/2/statuses/share.json")
    async def share(request: Request) -> Response:
        async def work() -> Response:
            async with request.form() as form:  # closes the uploaded picture's temp file
                return await _share(sim, request, form)

        return await guarded(request, "/2/statuses/share.json", work)

    @app.get("/2/statuses/count.json")
    async def count(request: Request) -> Response:
        async def work() -> Response:
            await _enter(sim, request, creates=False)
            raw = request.query_params.get("ids")
            if not raw:
                raise WeiboError(10016, "ids")
            ids = [part.strip() for part in raw.split(",") if part.strip()]
            if len(ids) > knobs(sim).max_count_ids:
                raise WeiboError(20009)
            if not all(part.isdigit() for part in ids):
                raise WeiboError(10017, "ids")
            now = sim.clock.now()
            rows = []
            for remote_id in ids:
                post = sim.posts.get(remote_id)
                if post is None or not visible(post, now):
                    continue  # deleted, hidden or unknown ids are silently left out
                counters = sim.engagement(post)
                rows.append(
                    {
                        "id": int(remote_id),
                        "comments": counters.get("comments", 0),
                        "reposts": counters.get("reposts", 0),
                        "attitudes": counters.get("attitudes", 0),
                    }
                )
            return JSONResponse(rows)

        return await guarded(request, "/2/statuses/count.json", work)

    @app.get("/2/statuses/show.json")
    async def show(request: Request) -> Response:
        async def work() -> Response:
            await _enter(sim, request, creates=False)
            remote_id = request.query_params.get("id", "")
            if not remote_id:
                raise WeiboError(10016, "id")
            post = sim.posts.get(remote_id)
            if post is None or not visible(post, sim.clock.now()):
                raise WeiboError(20101)
            return JSONResponse(status_object(sim, post))

        return await guarded(request, "/2/statuses/show.json", work)

    async def timeline(request: Request, path: str) -> Response:
        async def work() -> Response:
            grant = await _enter(sim, request, creates=False)
            count = min(max(_int_param(request, "count", 20), 1), 100)
            page = max(_int_param(request, "page", 1), 1)
            since_id = _int_param(request, "since_id", 0)
            max_id = _int_param(request, "max_id", 0)
            base_app = _int_param(request, "base_app", 0) == 1
            trim = _int_param(request, "trim_user", 0) == 1
            now = sim.clock.now()
            posts = [
                post
                for post in sim.live_posts(grant.account_id)
                if visible(post, now)
                and int(post.remote_id) > since_id
                and (max_id == 0 or int(post.remote_id) <= max_id)
                and (not base_app or post.extra.get("app_key") == APP_KEY)
            ]
            chunk = posts[(page - 1) * count : page * count]
            return JSONResponse(
                {
                    "statuses": [status_object(sim, post, trim_user=trim) for post in chunk],
                    "hasvisible": False,
                    "previous_cursor": 0,
                    "next_cursor": int(chunk[-1].remote_id) - 1 if len(chunk) == count else 0,
                    "total_number": len(posts),
                }
            )

        return await guarded(request, path, work)

    @app.get("/2/statuses/user_timeline.json")
    async def user_timeline(request: Request) -> Response:
        return await timeline(request, "/2/statuses/user_timeline.json")

    @app.get("/2/statuses/friends_timeline.json")
    async def friends_timeline(request: Request) -> Response:
        # Nobody follows anybody in the simulator: the home timeline is the user's own posts.
        return await timeline(request, "/2/statuses/friends_timeline.json")

    @app.post("/2/statuses/destroy.json")
    async def destroy(request: Request) -> Response:
        async def work() -> Response:
            async with request.form() as form:
                grant = await _enter(sim, request, creates=False, form=form)
            remote_id = form.get("id")
            if not isinstance(remote_id, str) or not remote_id:
                raise WeiboError(10016, "id")
            post = sim.posts.get(remote_id)
            if post is None or post.deleted or post.account_id != grant.account_id:
                raise WeiboError(20101)
            body = status_object(sim, post)
            post.deleted = True
            return JSONResponse(body)

        return await guarded(request, "/2/statuses/destroy.json", work)

    _oauth_routes(app, sim)
    return app


def _oauth_routes(app: FastAPI, sim: Simulation) -> None:
    @app.api_route("/oauth2/authorize", methods=["GET", "POST"])
    async def authorize(request: Request) -> Response:
        """The consent page; Allow issues a one-use code (10 minutes) for the redirect address."""
        params, decision = await consent.parameters(request)
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != APP_KEY or not consent.usable_redirect(redirect_uri):
            return oauth_error_response("/oauth2/authorize", 21323, "client_id or redirect_uri")
        chosen = knobs(sim).authorize_account or next(reversed(sim.accounts), None)
        if chosen is None or chosen not in sim.accounts:
            return oauth_error_response("/oauth2/authorize", 21323, "no account to authorise")
        if decision is None:
            return consent.page(
                platform="Weibo",
                app=APP_KEY,
                handle=sim.accounts[chosen].handle,
                scopes=params.get("scope", ""),
                params=params,
                action=request.url.path,
            )
        if decision == consent.DENY:
            # Weibo answers a refusal with error=access_denied and error_code 21330.
            return consent.back(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_code": "21330",
                    **({"state": params["state"]} if "state" in params else {}),
                },
            )
        code = secrets.token_hex(16)
        sim.objects[f"weibo:code:{code}"] = {
            "account_id": chosen,
            "redirect_uri": redirect_uri,
            "expires_at": sim.clock.now() + timedelta(minutes=10),
        }
        query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        return consent.back(redirect_uri, query)

    @app.get("/2/users/show.json")
    async def users_show(request: Request) -> Response:
        """The profile of ``uid`` (only its id and screen name here), for a valid token."""
        try:
            _authorise(sim, _token_from(request, None))
        except WeiboError as error:
            return oauth_error_response("/2/users/show.json", error.code, error.message)
        account = sim.accounts.get(request.query_params.get("uid", ""))
        if account is None:
            return oauth_error_response("/2/users/show.json", 20003, "user does not exists")
        sim.note("GET", "/2/users/show.json", "200")
        return JSONResponse(
            {
                "id": int(account.account_id),
                "idstr": account.account_id,
                "screen_name": account.handle,
            }
        )

    @app.post("/oauth2/access_token")
    async def access_token(request: Request) -> Response:
        path = "/oauth2/access_token"
        form = await request.form()
        values = {**request.query_params, **{k: v for k, v in form.items() if isinstance(v, str)}}
        if values.get("client_id") != APP_KEY or values.get("client_secret") != APP_SECRET:
            return oauth_error_response(path, 21324, "client_id or client_secret is wrong")
        grant_type = values.get("grant_type")
        if grant_type == "authorization_code":
            record = sim.objects.pop(f"weibo:code:{values.get('code', '')}", None)
            if (
                record is None
                or record["expires_at"] <= sim.clock.now()
                or record["redirect_uri"] != values.get("redirect_uri")
            ):
                return oauth_error_response(path, 21325, "invalid authorization code")
            grant = _issue(sim, sim.accounts[record["account_id"]])
        elif grant_type == "refresh_token":
            previous = sim.tokens.grant_for_refresh(values.get("refresh_token", ""))
            owner = sim.accounts.get(previous.account_id) if previous else None
            if owner is None:
                return oauth_error_response(path, 21325, "invalid refresh_token")
            try:
                grant = sim.tokens.refresh(
                    values["refresh_token"],
                    lifetime=setting(owner, "token_lifetime"),
                    rotate=False,
                    refresh_lifetime=setting(owner, "refresh_lifetime"),
                )
            except TokenError:
                return oauth_error_response(path, 21325, "expired or revoked refresh_token")
        else:
            return oauth_error_response(path, 21323, f"unsupported grant_type {grant_type!r}")
        sim.note("POST", path, "200")
        lifetime = round((grant.expires_at - sim.clock.now()).total_seconds())
        body: dict[str, Any] = {
            "access_token": grant.access_token,
            "remind_in": str(lifetime),
            "expires_in": lifetime,
            "uid": grant.account_id,
            "isRealName": "true",
        }
        if grant.refresh_token:
            body["refresh_token"] = grant.refresh_token
        return JSONResponse(body)

    @app.post("/oauth2/get_token_info")
    async def get_token_info(request: Request) -> Response:
        form = await request.form()
        try:
            grant = _authorise(sim, _token_from(request, form))
        except WeiboError as error:
            return oauth_error_response("/oauth2/get_token_info", error.code, error.message)
        issued = grant.expires_at - timedelta(
            seconds=setting(sim.accounts[grant.account_id], "token_lifetime")
        )
        return JSONResponse(
            {
                "uid": int(grant.account_id),
                "appkey": APP_KEY,
                "scope": ",".join(grant.scopes),
                "create_at": int(issued.timestamp()),
                "expire_in": int((grant.expires_at - sim.clock.now()).total_seconds()),
            }
        )


def _weibo_control(sim: Simulation) -> APIRouter:
    router = APIRouter(prefix=f"{CONTROL_PREFIX}/weibo", tags=["simulator control"])

    @router.get("")
    async def get_knobs() -> dict[str, Any]:
        return asdict(knobs(sim))

    @router.post("")
    async def set_knobs(body: dict[str, Any]) -> dict[str, Any]:
        try:
            knobs(sim).update(body)
        except (ValueError, TypeError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return asdict(knobs(sim))

    @router.post("/posts")
    async def post_elsewhere(body: dict[str, Any]) -> dict[str, Any]:
        """A status the user wrote outside this app (``base_app=1`` hides it)."""
        account_id = str(body.get("account_id", ""))
        if account_id not in sim.accounts:
            raise HTTPException(404, f"no account {account_id!r}")
        post = add_status(
            sim, account_id, str(body.get("text", "")), app_key=str(body.get("app", FOREIGN_APP))
        )
        return status_object(sim, post)

    return router
