"""The Weibo simulator's wire shapes and Weibo-only state: status objects, errors, knobs.

Kept apart from the routes (``weibo.py``) so the shapes Weibo sends are in one place: int64
``id`` plus ``idstr``, ``created_at`` as ``"Wed Oct 24 23:49:17 +0800 2012"``, links
rewritten to t.cn, and errors as ``{"request", "error_code", "error"}``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.responses import JSONResponse

from simulators.harness import SimAccount, SimPost, Simulation
from simulators.weibo.text import LINK, Measure

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
    20003: "User does not exists!",
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
    """Overrides for the length rule (``simulators.weibo.text.Measure``: ``limit``, ...)."""

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
        Measure(**self.text_rules)  # refuse unknown rule names now, not mid-request

    def rules(self) -> Measure:
        return Measure(**self.text_rules)


class WeiboError(Exception):
    """A refusal, answered with Weibo's error body; ``details`` fill the message's blanks."""

    def __init__(self, code: int, *details: str, message: str | None = None) -> None:
        self.code = code
        template = MESSAGES.get(code, "Unknown error!")
        self.message = message or (
            template.format(*details) if details else template.replace(" ({})", "")
        )
        super().__init__(self.message)


def setting(account: SimAccount, name: str) -> Any:
    value = account.settings.get(name, SETTINGS[name])
    default = SETTINGS[name]
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    return type(default)(value)


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
    seen: list[str] = []

    def replace(match: re.Match[str]) -> str:
        seen.append(match[0])
        return "http://t.cn/" + _short_code(f"{sim.seed}:{sequence}:{len(seen)}:{match[0]}")

    return LINK.sub(replace, text)


def visible(post: SimPost, now: datetime) -> bool:
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
    # A post stored after a 20032 answer shows no counters until it surfaces.
    counters = sim.engagement(post) if visible(post, sim.clock.now()) else {}
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
        thumbnail = f"http://wx1.sinaimg.cn/thumbnail/{picture}.jpg"
        status["pic_urls"] = [{"thumbnail_pic": thumbnail}]
        status["thumbnail_pic"] = thumbnail
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


def sniff_picture(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


# -- request handling ---------------------------------------------------------------------
def error_response(sim: Simulation, request_path: str, error: WeiboError) -> JSONResponse:
    override = knobs(sim).http_status.get(str(error.code))
    status = override or _STATUS_FOR.get(error.code, 400)
    return JSONResponse(
        {"request": request_path, "error_code": error.code, "error": error.message},
        status_code=status,
    )


def oauth_error_response(request_path: str, code: int, description: str) -> JSONResponse:
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
