"""TikTok's wire format: constants and settings, error envelopes, request parsing."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from simulators.harness import (
    Fault,
    SimAccount,
    Simulation,
)

PLATFORM = "tiktok"
MB = 1024 * 1024
SCOPES = ("user.info.basic", "video.list", "video.publish", "video.upload")
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PRIVATE = "SELF_ONLY"
PULL_SIZE = 8 * MB
"""What a pulled video is taken to weigh, for ``downloaded_bytes`` progress."""

DEFAULTS: dict[str, Any] = {
    "audited": True,  # unaudited clients may only post SELF_ONLY
    "privacy_level_options": None,  # None: all four when audited, else SELF_ONLY only
    "comment_disabled": False,
    "duet_disabled": False,
    "stitch_disabled": False,
    "max_video_post_duration_sec": 600,
    "processing_seconds": 2.0,  # plus 30 s per 512 MB uploaded, as TikTok's guide says
    "download_seconds": 2.0,  # PULL_FROM_URL
    "moderation_seconds": 3.0,  # public posts only; the post id is withheld meanwhile
    "fail_reason": None,  # e.g. "duration_check_failed": every publish ends FAILED
    "banned_words": [],  # captions containing one → spam_risk_text
    "daily_post_cap": 15,  # posts per 24 h → spam_risk_too_many_posts
    "verified_url_prefixes": ["https://media.publicist.example/"],
    "access_lifetime": 7200,  # Nov-2026 docs; older docs: 86400
    "refresh_lifetime": 15_552_000,  # 180 days; older docs: 31536000
    "rotate_refresh": True,
    "scopes": list(SCOPES),
    "list_private": False,  # video/list shows public videos only
    "max_video_bytes": 4 * 1024 * MB,
}

INIT_LIMIT = 6  # per user token per minute (video/init, inbox/video/init, content/init)
CREATOR_INFO_LIMIT = 20
STATUS_LIMIT = 30
DISPLAY_LIMIT = 600
MAX_PENDING_INBOX = 5

VIDEO_FIELDS = frozenset(
    [
        "id",
        "create_time",
        "cover_image_url",
        "share_url",
        "video_description",
        "duration",
        "height",
        "width",
        "title",
        "embed_html",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    ]
)
USER_FIELDS = frozenset(
    [
        "open_id",
        "union_id",
        "avatar_url",
        "display_name",
        "bio_description",
        "profile_deep_link",
        "is_verified",
        "username",
        "follower_count",
        "following_count",
        "likes_count",
        "video_count",
    ]
)


class ApiError(Exception):
    """A TikTok error envelope to send back."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class OAuthError(Exception):
    """The OAuth endpoint's own error shape: ``{error, error_description, log_id}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def setting(account: SimAccount, key: str) -> Any:
    return account.settings.get(key, DEFAULTS[key])


def open_id(account: SimAccount) -> str:
    return f"-000{int(account.account_id):x}sim"


def _log_id(sim: Simulation) -> str:
    return sim.clock.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(9).upper()


def envelope(sim: Simulation, data: dict[str, Any], *, status: int = 200) -> JSONResponse:
    error = {"code": "ok", "message": "", "log_id": _log_id(sim)}
    return JSONResponse({"data": data, "error": error}, status_code=status)


def error_response(sim: Simulation, exc: ApiError) -> JSONResponse:
    error = {"code": exc.code, "message": exc.message, "log_id": _log_id(sim)}
    return JSONResponse({"data": {}, "error": error}, status_code=exc.status)


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_params", message)


def apply_fault(fault: Fault | None) -> None:
    """Raise the platform's own signal for a server error or a rate-limit burst."""
    if fault is Fault.SERVER_ERROR:
        raise ApiError(500, "internal_error", "Something went wrong. Please try again later.")
    if fault is Fault.RATE_LIMITED:
        raise ApiError(429, "rate_limit_exceeded", "API rate limit was exceeded.")


def privacy_options(account: SimAccount) -> list[str]:
    configured = setting(account, "privacy_level_options")
    if configured is not None:
        return [str(o) for o in configured]
    return list(PRIVACY_LEVELS) if setting(account, "audited") else [PRIVATE]


def parse_fields(request: Request, allowed: frozenset[str]) -> list[str]:
    raw = request.query_params.get("fields", "")
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if not fields:
        raise invalid("The fields query parameter is required.")
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise invalid(f"Unknown fields: {', '.join(unknown)}.")
    return fields


def member(body: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested JSON object of the request, or an empty one when absent or not an object."""
    value = body.get(key)
    return value if isinstance(value, dict) else {}


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def parse_range(header: str) -> tuple[int, int, int]:
    unit, _, spec = header.partition(" ")
    first, _, rest = spec.partition("-")
    last, _, total = rest.partition("/")
    try:
        numbers = int(first), int(last), int(total)
    except ValueError as exc:
        raise ApiError(400, "invalid_params", "Content-Range is malformed.") from exc
    if unit != "bytes" or not numbers[0] <= numbers[1] < numbers[2]:
        raise ApiError(400, "invalid_params", "Content-Range is malformed.")
    return numbers


def _integer(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(f"source_info.{key} must be an integer.")
    return value


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
