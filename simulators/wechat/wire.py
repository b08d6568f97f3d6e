"""WeChat's wire format: settings, errcode answers, HTML rules, request parsing, quotas and
injected errors."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from simulators.harness import (
    Fault,
    GrowthModel,
    SimAccount,
    Simulation,
)

PLATFORM = "wechat"
BEIJING = timezone(timedelta(hours=8))
MB = 1024 * 1024
MINUTE_QUOTA_TEXT = "api minute-quota reach limit  mustslower  retry next minute"
DAILY_QUOTA_TEXT = "reach max api daily quota limit"

DEFAULTS: dict[str, Any] = {
    "publish_delay_seconds": 2.0,  # how long a job stays publish_status 1 (virtual seconds)
    "fail_next": 0,  # the next N submitted jobs end in fail_status
    "fail_status": 3,  # 2 original declaration failed, 3 general failure, 4 review rejected
    "blocked_words": [],  # content containing one of these is rejected by review (status 4)
    "title_limit": 32,  # older documentation says 64
    "content_limit": 20_000,  # characters of HTML, tags included; must stay under it
    "image_limit": 10 * MB,  # permanent images (older pages say 2 MB)
    "strict_escapes": True,  # \\u-escaped JSON text is stored literally, as WeChat warns
    "consume_draft_on_submit": True,  # the draft leaves the draft box when submitted
    "short_urls": False,  # article URLs as https://mp.weixin.qq.com/s/<token> (no mid/idx)
    "token_lifetime": 7200,
    "token_daily_quota": 2000,  # /cgi-bin/token calls per app and day
    "daily_quota": 100_000,  # calls per API, account and Beijing day → 45009
    "minute_quota": 10_000,  # calls per API, account and minute → 45011
    "max_span_days": 1,  # getarticletotaldetail: begin_date must equal end_date
}

GROWTH = GrowthModel(
    audience_median=3_000.0,
    audience_sigma=0.5,
    tau_seconds=24 * 3600.0,
    rates={
        "share_user": 0.04,
        "collection_user": 0.01,
        "like_user": 0.01,
        "zaikan_user": 0.01,
        "comment_count": 0.002,
    },
)
"""Readers (``read_user``) grow over a day; ``sim.truth()`` uses these wire names."""

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\bsrc\s*=\s*["']([^"']*)["']""", re.IGNORECASE)

Handler = Callable[[SimAccount], Awaitable[Response | dict[str, Any]]]


# -- small helpers ------------------------------------------------------------------------------
def _rid(sim: Simulation) -> str:
    return f"{sim.next_number():08x}-{sim.seed:04x}"


def error(sim: Simulation, code: int, text: str) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": f"{text} rid: {_rid(sim)}"})


def _token(sim: Simulation, kind: str) -> str:
    seed = f"{sim.seed}:{kind}:{sim.next_number()}".encode()
    return hashlib.sha256(seed).hexdigest()


def _knobs(sim: Simulation) -> dict[str, Any]:
    return sim.objects.setdefault("wechat:settings", dict(DEFAULTS))


def setting(sim: Simulation, account: SimAccount | None, key: str) -> Any:
    if account is not None and key in account.settings:
        return account.settings[key]
    return _knobs(sim).get(key, DEFAULTS[key])


def _of_kind(sim: Simulation, kind: str) -> list[dict[str, Any]]:
    return [o for o in sim.objects.values() if o.get("kind") == kind]


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=BEIJING).astimezone(UTC)


def sniff(data: bytes) -> str | None:
    signatures = (
        (b"\xff\xd8\xff", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF87a", "gif"),
        (b"GIF89a", "gif"),
        (b"BM", "bmp"),
    )
    return next((name for magic, name in signatures if data.startswith(magic)), None)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "div", "section", "br", "li", "h1", "h2", "h3", "blockquote"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def sanitise(html: str, uploaded: Callable[[str], bool]) -> str:
    """Drop scripts and images not uploaded through ``uploadimg``, as WeChat filters them."""
    html = _SCRIPT.sub("", html)

    def keep(match: re.Match[str]) -> str:
        src = _SRC.search(match.group(0))
        return match.group(0) if src and uploaded(src.group(1)) else ""

    return _IMG.sub(keep, html)


Serve = Callable[..., Awaitable[Response]]
"""``serve(request, path, handler, *, creates=False)``: faults, token, quotas and injected
errors first, then the endpoint's own work (defined in ``create_app``)."""


def _take_injection(sim: Simulation, path: str, *, drop: bool) -> dict[str, Any] | None:
    queue: list[dict[str, Any]] = sim.objects.setdefault("wechat:inject", {"items": []})["items"]
    for entry in queue:
        if entry["path"] == path and bool(entry.get("drop")) == drop and entry["times"] > 0:
            entry["times"] -= 1
            if entry["times"] == 0:
                queue.remove(entry)
            return entry
    return None


def _quota(sim: Simulation, account: SimAccount, path: str) -> JSONResponse | None:
    now = sim.clock.now()
    day_key = f"{account.account_id}:{path}:{beijing_day(now)}"
    allowed, _, _ = sim.limits.hit(
        f"day:{day_key}", limit=int(setting(sim, account, "daily_quota")), window_seconds=86_400
    )
    if not allowed:
        return error(sim, 45009, DAILY_QUOTA_TEXT)
    minute_key = f"minute:{account.account_id}:{path}:{now:%Y%m%d%H%M}"
    allowed, _, _ = sim.limits.hit(
        minute_key, limit=int(setting(sim, account, "minute_quota")), window_seconds=60
    )
    if not allowed:
        return error(sim, 45011, MINUTE_QUOTA_TEXT)
    return None


def _token_fault(sim: Simulation, fault: Fault | None) -> JSONResponse | None:
    if fault is Fault.SERVER_ERROR:
        return error(sim, -1, "system error")
    if fault is Fault.RATE_LIMITED:
        return error(sim, 45011, MINUTE_QUOTA_TEXT)
    return None


def _errcode(response: Response) -> str:
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        return "?"
    return str(body.get("errcode", 0)) if isinstance(body, dict) else "?"


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


async def _upload(request: Request) -> bytes | None:
    async with request.form() as form:
        media = form.get("media")
        return await media.read() if isinstance(media, UploadFile) else None


def _own(sim: Simulation, kind: str, account: SimAccount, key: Any) -> dict[str, Any] | None:
    """One of the account's drafts, jobs or articles; another account's is "invalid"."""
    found = sim.objects.get(f"{kind}:{key}")
    if found is None or found.get("account_id") != account.account_id:
        return None
    return found


def _page(body: Mapping[str, Any] | None) -> tuple[int, int, bool] | None:
    if body is None:
        return None
    try:
        offset, count = int(body.get("offset", 0)), int(body.get("count", 0))
        no_content = bool(int(body.get("no_content", 0) or 0))
    except (TypeError, ValueError):
        return None
    if offset < 0 or not 1 <= count <= 20:
        return None
    return offset, count, no_content
