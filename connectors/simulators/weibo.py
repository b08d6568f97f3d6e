"""Sina Weibo Open API v2 simulator: OAuth2, statuses/share, count, show, timelines, destroy.

Speaks Weibo's wire format: ``.json`` paths, form or multipart bodies, ``access_token`` as a
parameter (or the SDKs' ``Authorization: OAuth2`` header), status objects with int64 ``id``
plus ``idstr``, ``created_at`` as ``"Wed Oct 24 23:49:17 +0800 2012"``, links rewritten to
t.cn, and errors as ``{"request", "error_code", "error"}`` with no rate-limit headers.

Per-account settings (``/__sim/accounts`` ``settings``) and the Weibo knobs under
``/__sim/weibo`` make every unverified behaviour configurable (see ``SETTINGS`` and
:class:`WeiboKnobs`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from connectors.fingerprint import content_fingerprint
from connectors.simulators.control import CONTROL_PREFIX, control_router
from connectors.simulators.harness import (
    DropConnection,
    Fault,
    Grant,
    GrowthModel,
    SimAccount,
    SimPost,
    Simulation,
    TokenError,
)
from connectors.weibo_text import (
    URL_PATTERN,
    WeiboTextRules,
    links,
    on_safe_domain,
    parse_domains,
    topics,
)

APP_KEY = "3172049951"
APP_SECRET = "sim-weibo-app-secret"  # noqa: S105 - the simulator's own fixed test app
FOREIGN_APP = "weibo.com"
"""Posts made outside this app (the website, other apps); hidden by ``base_app=1``."""
BEIJING = timezone(timedelta(hours=8))
MAX_PICTURE_BYTES = 5 * 1024 * 1024
_ID_BASE = 9_100_000_000_000_000  # 16 digits, above 2**53 like the int64 ids Weibo sends
_ID_EPOCH = datetime(2020, 1, 1, tzinfo=BEIJING)

SETTINGS: dict[str, Any] = {
    "safe_domains": "example.com",  # the app's 安全域名, comma-separated
    "rip": "203.0.113.7",  # what the provisioner tells the connector to report
    "token_lifetime": 86_400.0,  # seconds; Weibo's depends on the app's audit level
    "refresh_tokens": False,  # web apps get none; True imitates the mobile SDK
    "refresh_lifetime": 30 * 86_400.0,
    "posts_per_hour": 30,  # -> 10024
    "requests_per_hour": 150,  # every API call of the user through this app -> 10023
    "duplicate_posts": 20,  # how many recent posts the duplicate check compares with
    "duplicate_seconds": 86_400.0,  # and how far back
    "min_post_interval_seconds": 0.0,  # > 0: posting faster than this -> 20016
}

MESSAGES: dict[int, str] = {
    10001: "System error!",
    10002: "Service unavailable!",
    10016: "Miss required parameter ({}), see doc for more info!",
    10017: "Parameter ({})'s value invalid, see doc for more info!",
    10022: "IP requests out of rate limit!",
    10023: "User requests out of rate limit!",
    10024: "User requests for ({}) out of rate limit!",
    20005: "Unsupported image type, only suport JPG, GIF, PNG!",
    20006: "Image size too large.",
    20007: "Does multipart has image?",
    20008: "Content is null!",
    20009: "IDs is too many!",
    20012: "Text too long, please input text less than 140 characters!",
    20016: "Out of limit!",
    20017: "Repeat content!",
    20018: "Contains illegal website!",
    20019: "Repeat conetnt!",  # sic: Weibo's spelling
    20020: "Contains advertising!",
    20021: "Content is illegal!",
    20032: "Update success, while server slow now, please wait 1-2 minutes!",
    20101: "Target weibo does not exist!",
    21301: "auth faild!",
    21316: "Token revoked",
    21323: "invalid_request",
    21324: "invalid_client",
    21325: "invalid_grant",
    21327: "expired_token",
    21332: "invalid_access_token",
}

_STATUS_FOR: dict[int, int] = {
    10001: 500,
    10002: 503,
    10022: 403,
    10023: 403,
    10024: 403,
    20016: 403,
    20032: 200,
    21301: 401,
    21316: 401,
    21327: 401,
    21332: 401,
}
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class WeiboKnobs:
    """Weibo-only faults and rules, set through ``POST /__sim/weibo``; reset with the sim."""

    slow_success_next: int = 0
    """The next N shares are stored but answered with 20032 (no status object)."""
    slow_success_seconds: float = 90.0
    """How long such a post stays out of timelines and counts (Weibo says 1-2 minutes)."""
    error_next: list[int] = field(default_factory=list)
    """Error codes the next shares fail with, one each, before anything is stored."""
    blocked_words: list[str] = field(default_factory=list)
    """Text containing one of these is refused with 20021 (illegal content)."""
    topic_error_code: int = 10017
    max_count_ids: int = 100
    ip_requests_per_hour: int = 10_000
    http_status: dict[str, int] = field(default_factory=dict)
    """Override the HTTP status sent with an error code, e.g. ``{"20019": 403}``."""
    authorize_account: str | None = None
    """Who ``/oauth2/authorize`` approves (default: the most recently added account)."""
    text_rules: dict[str, int] = field(default_factory=dict)
    """Overrides for :class:`WeiboTextRules` (``limit``, ``url_half_units``, ...)."""

    def update(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"weibo: unknown knob {key!r}")
            if key == "error_next":
                value = [int(code) for code in value]
            elif key == "blocked_words":
                value = [str(word) for word in value]
            elif key in ("http_status", "text_rules"):
                value = {str(name): int(number) for name, number in dict(value).items()}
            elif key == "authorize_account":
                value = None if value is None else str(value)
            else:
                value = type(getattr(self, key))(value)
            setattr(self, key, value)
        WeiboTextRules(**self.text_rules)  # refuse unknown rule names now, not mid-request

    def rules(self) -> WeiboTextRules:
        return WeiboTextRules(**self.text_rules)


class WeiboError(Exception):
    """A refusal, answered with Weibo's error body; ``details`` fill the message's blanks."""

    def __init__(self, code: int, *details: str, message: str | None = None) -> None:
        self.code = code
        template = MESSAGES.get(code, "Unknown error!")
        self.message = message or (
            template.format(*details) if details else template.replace(" ({})", "")
        )
        super().__init__(self.message)


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


def _setting(account: SimAccount, name: str) -> Any:
    value = account.settings.get(name, SETTINGS[name])
    default = SETTINGS[name]
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    return type(default)(value)


def _issue(sim: Simulation, account: SimAccount) -> Grant:
    refresh = _setting(account, "refresh_lifetime") if _setting(account, "refresh_tokens") else None
    return sim.tokens.issue(
        account.account_id,
        lifetime=_setting(account, "token_lifetime"),
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
            "safe_domain": _setting(account, "safe_domains"),
            "rip": _setting(account, "rip"),
        },
    }


def knobs(sim: Simulation) -> WeiboKnobs:
    state = sim.objects.setdefault("weibo", {})
    found = state.get("knobs")
    if not isinstance(found, WeiboKnobs):
        found = state["knobs"] = WeiboKnobs()
    return found


# -- wire formats -------------------------------------------------------------------------
def weibo_time(moment: datetime) -> str:
    """``"Wed Oct 24 23:49:17 +0800 2012"``, in Beijing time, whatever the server's locale."""
    local = moment.astimezone(BEIJING)
    return (
        f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:02d} "
        f"{local:%H:%M:%S} +0800 {local.year}"
    )


def _short_code(seed: str) -> str:
    number = int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16)
    digits = ""
    for _ in range(7):
        number, rest = divmod(number, 62)
        digits += _BASE62[rest]
    return "A" + digits


def _shorten(sim: Simulation, text: str, sequence: int) -> str:
    """Every link becomes a 20-character ``http://t.cn/…`` link, as Weibo does."""
    count = iter(range(1_000))

    def replace(match: Any) -> str:
        return "http://t.cn/" + _short_code(f"{sim.seed}:{sequence}:{next(count)}:{match[0]}")

    return URL_PATTERN.sub(replace, text)


def _visible(post: SimPost, now: datetime) -> bool:
    return not post.deleted and (post.visible_at is None or post.visible_at <= now)


def _user(sim: Simulation, account_id: str, *, trim: bool) -> dict[str, Any]:
    if trim:
        return {"id": int(account_id), "idstr": account_id}
    account = sim.accounts.get(account_id)
    handle = account.handle if account else account_id
    return {
        "id": int(account_id),
        "idstr": account_id,
        "screen_name": handle,
        "name": handle,
        "followers_count": account.followers if account else 0,
        "verified": account.verified if account else False,
        "profile_url": f"u/{account_id}",
    }


def status_object(sim: Simulation, post: SimPost, *, trim_user: bool = False) -> dict[str, Any]:
    counters = (
        sim.engagement(post) if _visible(post, sim.clock.now()) else {}
    )  # a slow-success post shows no counters until it surfaces
    status: dict[str, Any] = {
        "created_at": weibo_time(post.created_at),
        "id": int(post.remote_id),
        "idstr": post.remote_id,
        "mid": post.remote_id,
        "can_edit": False,
        "text": post.text,
        "textLength": knobs(sim).rules().half_units(post.text),
        "source_allowclick": 0,
        "source_type": 1,
        "source": f'<a href="http://app.weibo.com/t/feed/{post.extra.get("app_key", APP_KEY)}" '
        'rel="nofollow">Publicist</a>',
        "favorited": False,
        "truncated": False,
        "in_reply_to_status_id": "",
        "in_reply_to_user_id": "",
        "in_reply_to_screen_name": "",
        "pic_urls": [],
        "geo": None,
        "user": _user(sim, post.account_id, trim=trim_user),
        "reposts_count": counters.get("reposts", 0),
        "comments_count": counters.get("comments", 0),
        "attitudes_count": counters.get("attitudes", 0),
        "isLongText": False,
        "mlevel": 0,
        "visible": {"type": 0, "list_id": 0},
    }
    picture = post.extra.get("picture")
    if picture:
        sizes = {size: f"http://wx1.sinaimg.cn/{size}/{picture}.jpg" for size in ("thumbnail",)}
        status["pic_urls"] = [{"thumbnail_pic": sizes["thumbnail"]}]
        status["thumbnail_pic"] = sizes["thumbnail"]
        status["bmiddle_pic"] = f"http://wx1.sinaimg.cn/bmiddle/{picture}.jpg"
        status["original_pic"] = f"http://wx1.sinaimg.cn/large/{picture}.jpg"
    return status


def _next_status_id(sim: Simulation) -> str:
    """16-digit ids that grow with (virtual) time and never repeat."""
    state = sim.objects.setdefault("weibo", {})
    millis = int((sim.clock.now() - _ID_EPOCH).total_seconds() * 1000)
    candidate = _ID_BASE + max(0, millis) * 1_000
    number = max(candidate, int(state.get("last_id", 0)) + 1)
    state["last_id"] = number
    return str(number)


def add_status(
    sim: Simulation,
    account_id: str,
    text: str,
    *,
    app_key: str = APP_KEY,
    picture: str | None = None,
    visible_at: datetime | None = None,
) -> SimPost:
    """Store a status the way ``share`` does; tests and the control plane use it directly."""
    remote_id = _next_status_id(sim)
    shown = _shorten(sim, text, int(remote_id))
    return sim.record_post(
        account_id,
        shown,
        remote_id=remote_id,
        url=f"https://m.weibo.cn/status/{remote_id}",
        visible_at=visible_at,
        sent=text,
        app_key=app_key,
        picture=picture,
    )


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


# -- request handling ---------------------------------------------------------------------
def _reply_error(sim: Simulation, request_path: str, error: WeiboError) -> JSONResponse:
    override = knobs(sim).http_status.get(str(error.code))
    status = override or _STATUS_FOR.get(error.code, 400)
    return JSONResponse(
        {"request": request_path, "error_code": error.code, "error": error.message},
        status_code=status,
    )


def _oauth_error(request_path: str, code: int, description: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": MESSAGES[code],
            "error_code": code,
            "request": request_path,
            "error_uri": request_path,
            "error_description": description,
        },
        status_code=400,
    )


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
        limit=_setting(account, "requests_per_hour"),
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
        if _sniff(data) is None:
            raise WeiboError(20005)
        if len(data) >= MAX_PICTURE_BYTES:
            raise WeiboError(20006)
    settings = knobs(sim)
    if topics(status):
        raise WeiboError(settings.topic_error_code, "status")
    if settings.rules().too_long(status):
        raise WeiboError(20012)
    domains = parse_domains(_setting(account, "safe_domains"))
    if not any(on_safe_domain(url, domains) for url in links(status)):
        raise WeiboError(10017, message="appkey not bind domain!")
    if any(word and word in status for word in settings.blocked_words):
        raise WeiboError(20021)
    _check_repeats(sim, account, status)
    return status, data


def _check_repeats(sim: Simulation, account: SimAccount, status: str) -> None:
    """Weibo compares a new status with the user's recent ones (hidden ones included)."""
    now = sim.clock.now()
    window = timedelta(seconds=_setting(account, "duplicate_seconds"))
    recent = [
        post for post in sim.live_posts(account.account_id) if post.created_at >= now - window
    ][: _setting(account, "duplicate_posts")]
    fingerprint = content_fingerprint(status)
    for post in recent:
        if post.extra.get("sent") == status:
            raise WeiboError(20019)
        if post.fingerprint == fingerprint:
            raise WeiboError(20017)
    gap = _setting(account, "min_post_interval_seconds")
    if gap > 0 and recent and recent[0].created_at > now - timedelta(seconds=gap):
        raise WeiboError(20016)
    hour = now.strftime("%Y%m%d%H")
    allowed, _, _ = sim.limits.hit(
        f"posts:{account.account_id}:{hour}",
        limit=_setting(account, "posts_per_hour"),
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
            return _reply_error(sim, path, error)
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
                if post is None or not _visible(post, now):
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
            if post is None or not _visible(post, sim.clock.now()):
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
                if _visible(post, now)
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
    @app.get("/oauth2/authorize")
    async def authorize(request: Request) -> Response:
        params = request.query_params
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != APP_KEY or not redirect_uri:
            return _oauth_error("/oauth2/authorize", 21323, "client_id or redirect_uri")
        chosen = knobs(sim).authorize_account or next(reversed(sim.accounts), None)
        if chosen is None or chosen not in sim.accounts:
            return _oauth_error("/oauth2/authorize", 21323, "no account to authorise")
        code = secrets.token_hex(16)
        sim.objects[f"weibo:code:{code}"] = {
            "account_id": chosen,
            "redirect_uri": redirect_uri,
            "expires_at": sim.clock.now() + timedelta(minutes=10),
        }
        query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + separator + urlencode(query), status_code=302)

    @app.post("/oauth2/access_token")
    async def access_token(request: Request) -> Response:
        path = "/oauth2/access_token"
        form = await request.form()
        values = {**request.query_params, **{k: v for k, v in form.items() if isinstance(v, str)}}
        if values.get("client_id") != APP_KEY or values.get("client_secret") != APP_SECRET:
            return _oauth_error(path, 21324, "client_id or client_secret is wrong")
        grant_type = values.get("grant_type")
        if grant_type == "authorization_code":
            record = sim.objects.pop(f"weibo:code:{values.get('code', '')}", None)
            if (
                record is None
                or record["expires_at"] <= sim.clock.now()
                or record["redirect_uri"] != values.get("redirect_uri")
            ):
                return _oauth_error(path, 21325, "invalid authorization code")
            grant = _issue(sim, sim.accounts[record["account_id"]])
        elif grant_type == "refresh_token":
            previous = sim.tokens.grant_for_refresh(values.get("refresh_token", ""))
            owner = sim.accounts.get(previous.account_id) if previous else None
            if owner is None:
                return _oauth_error(path, 21325, "invalid refresh_token")
            try:
                grant = sim.tokens.refresh(
                    values["refresh_token"],
                    lifetime=_setting(owner, "token_lifetime"),
                    rotate=False,
                    refresh_lifetime=_setting(owner, "refresh_lifetime"),
                )
            except TokenError:
                return _oauth_error(path, 21325, "expired or revoked refresh_token")
        else:
            return _oauth_error(path, 21323, f"unsupported grant_type {grant_type!r}")
        sim.note("POST", path, "200")
        lifetime = int((grant.expires_at - sim.clock.now()).total_seconds())
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
            return _oauth_error("/oauth2/get_token_info", error.code, error.message)
        issued = grant.expires_at - timedelta(
            seconds=_setting(sim.accounts[grant.account_id], "token_lifetime")
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
