"""Douyin's wire shapes and Douyin-only state: envelopes, error codes, settings, item ids.

OpenAPI answers are ``{"data": {..., "error_code", "description"}, "extra": {"error_code",
"description", "sub_error_code", "sub_description", "logid", "now"}}`` with HTTP 200 even for
errors; OAuth answers are ``{"data": {...}, "message": "success" | "error"}``. Item ids are
opaque encrypted strings (``@...==``) that must be URL-encoded, as the documentation warns.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from simulators.harness import Fault, Grant, SimAccount, SimPost, Simulation, TokenError

PLATFORM = "douyin"
BEIJING = timezone(timedelta(hours=8))
MB = 1024 * 1024
SCOPES = ("user_info", "video.create.bind", "video.data.bind", "video.list.bind")

DEFAULTS: dict[str, Any] = {
    "access_lifetime": 15 * 86_400,  # /oauth/access_token/: expires_in 1296000
    "refresh_lifetime": 30 * 86_400,  # refresh_token: 30 days
    "max_renewals": 5,  # /oauth/renew_refresh_token/ at most 5 times, then 10020
    "scopes": list(SCOPES),
    "review_seconds": 5.0,  # 审核: only the author sees the video meanwhile
    "reject_reason": None,  # e.g. "不适宜公开": every post fails review
    "banned_words": [],  # a text containing one fails review
    "text_limit": 1000,
    "creates_per_minute": 10,  # -> 28003018 请求频率过高
    "creates_per_day": 200,  # -> 28003017 quota 已用完 (until midnight, Beijing time)
    "reads_per_minute": 600,
    "single_upload_bytes": 128 * MB,  # larger videos must use the part upload
    "min_part_bytes": 5 * MB,
}

MESSAGES: dict[int, str] = {
    2100004: "系统繁忙,此时请开发者稍候再试",
    2100005: "参数不合法",
    28001003: "access_token无效",
    28001008: "access_token过期,请刷新或重新授权",
    28001012: "用户未授权该OpenAPI",
    28001015: "请求参数 access_token 和 openId不匹配",
    28003017: "quota 已用完",
    28003018: "请求频率过高",
    10005: "缺少参数",
    10010: "refresh_token 过期",
    10013: "client_key 或者 client_secret 报错",
    10020: "超过刷新次数限制",
}


class DouyinError(Exception):
    """A refusal, sent back in Douyin's envelope (HTTP 200 unless ``status`` says otherwise)."""

    def __init__(self, code: int, detail: str = "", *, status: int = 200) -> None:
        self.code = code
        self.description = MESSAGES.get(code, "未知错误") + (f": {detail}" if detail else "")
        self.status = status
        super().__init__(self.description)


def setting(account: SimAccount, key: str) -> Any:
    return account.settings.get(key, DEFAULTS[key])


def open_id(account: SimAccount) -> str:
    number = int(account.account_id)
    return f"{number:08x}-51a0-4d1e-9e0c-{number:012x}"


def account_for_open_id(sim: Simulation, value: str) -> SimAccount | None:
    return next((a for a in sim.accounts.values() if open_id(a) == value), None)


def item_id(sim: Simulation) -> str:
    """An opaque id in Douyin's shape: ``@`` and base64 with ``+``, ``/`` and ``=`` in it."""
    raw = b"\xfb\xff" + sim.snowflake().encode() + secrets.token_bytes(7)
    return "@" + base64.b64encode(raw).decode()


def _extra(sim: Simulation, code: int = 0, description: str = "") -> dict[str, Any]:
    now = sim.clock.now()
    return {
        "error_code": code,
        "description": description,
        "sub_error_code": 0,
        "sub_description": "",
        "logid": now.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper(),
        "now": int(now.timestamp() * 1000),
    }


def ok(sim: Simulation, data: dict[str, Any]) -> JSONResponse:
    body = {"data": {**data, "error_code": 0, "description": ""}, "extra": _extra(sim)}
    return JSONResponse(body)


def error(sim: Simulation, exc: DouyinError) -> JSONResponse:
    data = {"error_code": exc.code, "description": exc.description}
    body = {"data": data, "extra": _extra(sim, exc.code, exc.description)}
    return JSONResponse(body, status_code=exc.status)


def oauth_ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        {"data": {**data, "error_code": 0, "description": ""}, "message": "success"}
    )


def oauth_error(exc: DouyinError) -> JSONResponse:
    body = {"data": {"error_code": exc.code, "description": exc.description}, "message": "error"}
    return JSONResponse(body, status_code=exc.status)


def apply_fault(fault: Fault | None) -> None:
    """Douyin's own signals for a server error and for throttling (both inside HTTP 200)."""
    if fault is Fault.SERVER_ERROR:
        raise DouyinError(2100004)
    if fault is Fault.RATE_LIMITED:
        raise DouyinError(28003018)


def authorise(sim: Simulation, request: Request, scope: str) -> tuple[Grant, SimAccount]:
    """The ``access-token`` header, its scope, and the ``open_id`` query parameter it must match."""
    try:
        grant = sim.tokens.check(request.headers.get("access-token", ""))
    except TokenError as exc:
        raise DouyinError(28001008 if exc.reason == "expired" else 28001003) from exc
    if scope not in grant.scopes:
        raise DouyinError(28001012, scope)
    account = sim.accounts[grant.account_id]
    if request.query_params.get("open_id") != open_id(account):
        raise DouyinError(28001015)
    return grant, account


def limit(sim: Simulation, account: SimAccount, bucket: str) -> None:
    """Per-scope quotas: a per-minute frequency and, for creation, a daily quota (a throttled
    request spends none of the day's)."""
    per_minute = setting(
        account, "creates_per_minute" if bucket == "create" else "reads_per_minute"
    )
    allowed, _, _ = sim.limits.hit(
        f"{bucket}:{account.account_id}", limit=int(per_minute), window_seconds=60
    )
    if not allowed:
        raise DouyinError(28003018)
    if bucket == "create":
        now = sim.clock.now().astimezone(BEIJING)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        seconds_left = (midnight + timedelta(days=1) - now).total_seconds()
        allowed, _, _ = sim.limits.hit(
            f"create-day:{account.account_id}:{midnight.date()}",
            limit=int(setting(account, "creates_per_day")),
            window_seconds=seconds_left,
        )
        if not allowed:
            raise DouyinError(28003017)


def review(sim: Simulation, post: SimPost) -> tuple[bool, int]:
    """``(is_reviewed, video_status)``: 4 while in review, then 1 (public) or 2 (不适宜公开)."""
    if sim.clock.now() < post.extra["review_until"]:
        return False, 4
    return True, 2 if post.extra.get("rejected") else 1


def video_item(sim: Simulation, post: SimPost) -> dict[str, Any]:
    reviewed, status = review(sim, post)
    counters = sim.engagement(post)
    return {
        "item_id": post.remote_id,
        "title": post.text,
        "create_time": int(post.created_at.timestamp()),
        "cover": f"https://p3-sign.douyinpic.example/cover/{post.extra['video_id']}.jpeg",
        "share_url": post.url,
        "is_top": False,
        "is_reviewed": reviewed,
        "video_status": status,
        "media_type": post.extra["media_type"],
        "statistics": {
            "play_count": counters["views"],
            "digg_count": counters.get("digg_count", 0),
            "comment_count": counters.get("comment_count", 0),
            "share_count": counters.get("share_count", 0),
            "forward_count": counters.get("forward_count", 0),
            "download_count": counters.get("download_count", 0),
        },
    }


FAR_FUTURE = datetime(9999, 1, 1, tzinfo=BEIJING)
"""When a post that failed review starts to gather views: never."""
