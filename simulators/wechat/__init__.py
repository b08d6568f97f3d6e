"""WeChat Official Account simulator: tokens, material, drafts, free publish, datacube.

Speaks WeChat's wire format: ``access_token`` as a query parameter, JSON bodies sent as real
UTF-8, multipart ``media`` uploads, and every answer HTTP 200, failures as
``{"errcode": N, "errmsg": "<text> rid: <id>"}``. A publish job stays ``publish_status`` 1
for ``publish_delay_seconds`` of virtual time, then becomes an article (or a failure), and
the datacube reports it from the next Beijing day on (T+1, final after 08:00).

Behaviour the documentation leaves open is configurable: per account through the settings
given to ``/__sim/accounts``, or for every account through ``/__sim/wechat/settings``
(see ``DEFAULTS``). ``/__sim/wechat/inject`` queues an errcode (or a cut connection after the
work is done) for a path; ``/__sim/wechat/articles/{id}/block`` blocks a published article.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from simulators.control import CONTROL_PREFIX, control_router
from simulators.harness import (
    DropConnection,
    Fault,
    Grant,
    GrowthModel,
    SimAccount,
    SimPost,
    Simulation,
    TokenError,
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


def new_simulation(*, seed: int = 1) -> Simulation:
    return Simulation(PLATFORM, seed=seed, growth=GROWTH, provision=provision)


def _remaining(sim: Simulation, grant: Grant | None) -> float:
    if grant is None or grant.revoked:
        return 0.0
    return (grant.expires_at - sim.clock.now()).total_seconds()


def _overlap(sim: Simulation, grant: Grant | None) -> None:
    """An old token stays valid at most five more minutes after a new one is issued."""
    if grant is not None and not grant.revoked:
        grant.expires_at = min(grant.expires_at, sim.clock.now() + timedelta(minutes=5))


# -- publishing state ---------------------------------------------------------------------------
def settle(sim: Simulation) -> None:
    """Finish every publish job whose time has come (virtual clock), in submission order."""
    pending: list[str] = sim.objects.setdefault("wechat:pending", {"jobs": []})["jobs"]
    if not pending:
        return
    now = sim.clock.now()
    jobs = sorted(
        (j for j in (sim.objects[f"job:{p}"] for p in pending) if j["due"] <= now),
        key=lambda j: j["due"],
    )
    for job in jobs:
        pending.remove(job["publish_id"])
        if job["outcome"] != 0:
            job["status"] = job["outcome"]
            continue
        _make_article(sim, job)


def _make_article(sim: Simulation, job: dict[str, Any]) -> None:
    account = sim.accounts[job["account_id"]]
    digest = hashlib.sha256(f"{sim.seed}:article:{job['publish_id']}".encode()).digest()
    article_id = digest.hex()[:24] + "-" + digest.hex()[24:40]
    biz = hashlib.sha256(account.account_id.encode()).hexdigest()[:16]
    items = []
    for idx, article in enumerate(job["articles"], start=1):
        sn = hashlib.sha256(f"{article_id}:{idx}".encode()).hexdigest()[:32]
        if setting(sim, account, "short_urls"):
            url = f"https://mp.weixin.qq.com/s/{sn[:22]}"
        else:
            url = (
                f"https://mp.weixin.qq.com/s?__biz={biz}&mid={job['msg_data_id']}"
                f"&idx={idx}&sn={sn}#rd"
            )
        msgid = f"{job['msg_data_id']}_{idx}"
        post = sim.record_post(
            account.account_id,
            text_of(article["content"]),
            remote_id=msgid,
            url=url,
            title=article["title"],
            article_id=article_id,
            idx=idx,
        )
        post.created_at = job["due"]  # the job finished then, whenever someone looked
        items.append({**article, "url": url, "msgid": msgid})
    sim.objects[f"article:{article_id}"] = {
        "kind": "article",
        "article_id": article_id,
        "account_id": account.account_id,
        "publish_id": job["publish_id"],
        "items": items,
        "update_time": int(job["due"].timestamp()),
        "blocked": False,
    }
    job["status"] = 0
    job["article_id"] = article_id


def _article_posts(sim: Simulation, article: Mapping[str, Any]) -> list[SimPost]:
    return [sim.posts[item["msgid"]] for item in article["items"] if item["msgid"] in sim.posts]


def _live(sim: Simulation, article: Mapping[str, Any]) -> bool:
    return not article["blocked"] and any(not p.deleted for p in _article_posts(sim, article))


def _news_item(sim: Simulation, item: Mapping[str, Any], *, with_content: bool) -> dict[str, Any]:
    post = sim.posts.get(item.get("msgid", ""))
    news = {
        "title": item["title"],
        "author": item.get("author", ""),
        "digest": item.get("digest", ""),
        "content": item["content"],
        "content_source_url": item.get("content_source_url", ""),
        "thumb_media_id": item["thumb_media_id"],
        "thumb_url": item.get("thumb_url", ""),
        "need_open_comment": item.get("need_open_comment", 0),
        "only_fans_can_comment": item.get("only_fans_can_comment", 0),
        "url": item.get("url", ""),
    }
    if not with_content:
        del news["content"]  # no_content=1
    if post is not None:
        news["is_deleted"] = post.deleted
    return news


# -- datacube -----------------------------------------------------------------------------------
def _detail(sim: Simulation, post: SimPost, stat_date: date) -> dict[str, Any]:
    cutoff = day_start(stat_date + timedelta(days=1))
    if sim.frozen_at is not None:
        cutoff = min(cutoff, sim.frozen_at)
    counters = sim.engagement(post, cutoff)
    readers = counters["views"]
    return {
        "stat_date": stat_date.isoformat(),
        "read_user": readers,
        "read_user_source": [{"user_source": 99999999, "user_count": readers}],
        "share_user": counters.get("share_user", 0),
        "zaikan_user": counters.get("zaikan_user", 0),
        "like_user": counters.get("like_user", 0),
        "comment_count": counters.get("comment_count", 0),
        "collection_user": counters.get("collection_user", 0),
    }


def article_total_detail(sim: Simulation, account: SimAccount, day: date) -> dict[str, Any]:
    """Articles published on ``day`` with cumulative figures per closed day (≤ 30 days)."""
    now = sim.clock.now()
    today = beijing_day(now)
    ready_until = today - timedelta(days=1)
    delayed = now < day_start(today) + timedelta(hours=8)
    if delayed:
        ready_until -= timedelta(days=1)  # yesterday's figures are final after 08:00
    rows = []
    for post in sorted(sim.live_posts(account.account_id), key=lambda p: p.created_at):
        if beijing_day(post.created_at) != day:
            continue
        last = min(ready_until, day + timedelta(days=29))
        stat_dates = [day + timedelta(days=n) for n in range((last - day).days + 1)]
        rows.append(
            {
                "ref_date": day.isoformat(),
                "msgid": post.remote_id,
                "publish_type": 1,  # published without a notification (发表, not 群发)
                "title": post.extra.get("title", ""),
                "content_url": post.url,
                "detail_list": [_detail(sim, post, s) for s in stat_dates],
            }
        )
    return {"list": rows, "is_delay": delayed and day == today - timedelta(days=1)}


# -- the app ------------------------------------------------------------------------------------
class _Settling:
    """Finish due publish jobs before any request, the control plane's included."""

    def __init__(self, app: ASGIApp, sim: Simulation) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            settle(self.sim)
        await self.app(scope, receive, send)


def _take_injection(sim: Simulation, path: str, *, drop: bool) -> dict[str, Any] | None:
    queue: list[dict[str, Any]] = sim.objects.setdefault("wechat:inject", {"items": []})["items"]
    for entry in queue:
        if entry["path"] == path and bool(entry.get("drop")) == drop and entry["times"] > 0:
            entry["times"] -= 1
            if entry["times"] == 0:
                queue.remove(entry)
            return entry
    return None


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


def create_app(sim: Simulation) -> FastAPI:
    app = FastAPI(title="WeChat Official Account simulator")
    app.include_router(control_router(sim))
    app.include_router(_wechat_control(sim))
    app.add_middleware(_Settling, sim=sim)

    async def serve(
        request: Request, path: str, handler: Handler, *, creates: bool = False
    ) -> Response:
        """Faults, token, quotas and injected errors first; then the endpoint's own work."""
        response = await _answer(request, path, handler, creates=creates)
        code = "drop" if isinstance(response, DropConnection) else _errcode(response)
        sim.note(request.method, path, code)
        return response

    async def _answer(request: Request, path: str, handler: Handler, *, creates: bool) -> Response:
        fault = await sim.gate(creates=creates)
        settle(sim)
        if fault is Fault.SERVER_ERROR:
            return error(sim, -1, "system error")
        if fault is Fault.RATE_LIMITED:
            return error(sim, 45011, MINUTE_QUOTA_TEXT)
        account = _account_for(sim, request)
        if isinstance(account, Response):
            return account
        refused = _quota(sim, account, path)
        if refused is not None:
            return refused
        injected = _take_injection(sim, path, drop=False)
        if injected is not None:
            return error(sim, int(injected["errcode"]), str(injected["errmsg"]))
        result = await handler(account)
        if isinstance(result, Response):
            return result
        if fault is Fault.DROP_AFTER_COMMIT or _take_injection(sim, path, drop=True):
            return DropConnection()  # the work is done; the answer never arrives
        return JSONResponse(result)

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

    # material ----------------------------------------------------------------------------
    @app.post("/cgi-bin/material/add_material")
    async def add_material(request: Request, type: str = "") -> Response:
        uploaded = await _upload(request)

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            if type not in ("image", "thumb"):
                return error(sim, 40004, "invalid media type")
            if uploaded is None:
                return error(sim, 41005, "media data missing")
            fmt = sniff(uploaded)
            allowed = {"image": {"bmp", "png", "jpeg", "gif"}, "thumb": {"jpeg"}}[type]
            if fmt not in allowed:
                return error(sim, 40005, "invalid file type")
            limit = int(setting(sim, account, "image_limit")) if type == "image" else 64 * 1024
            if len(uploaded) > limit:
                return error(sim, 40009 if type == "image" else 40006, "invalid media size")
            media_id = _token(sim, "material")[:43]
            url = f"http://mmbiz.qpic.cn/mmbiz_{fmt}/{media_id[:32]}/0?wx_fmt={fmt}"
            sim.objects[f"material:{media_id}"] = {
                "kind": "material",
                "type": type,
                "account_id": account.account_id,
                "url": url,
                "size": len(uploaded),
            }
            return {"media_id": media_id, "url": url} if type == "image" else {"media_id": media_id}

        return await serve(request, "/cgi-bin/material/add_material", handle)

    @app.post("/cgi-bin/media/uploadimg")
    async def upload_image(request: Request) -> Response:
        uploaded = await _upload(request)

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            if uploaded is None:
                return error(sim, 41005, "media data missing")
            fmt = sniff(uploaded)
            if fmt not in ("jpeg", "png"):
                return error(sim, 40005, "invalid file type")
            if len(uploaded) >= MB:
                return error(sim, 40009, "invalid image size")
            url = f"http://mmbiz.qpic.cn/mmbiz_{fmt}/{_token(sim, 'img')[:40]}/0?wx_fmt={fmt}"
            sim.objects[f"inline:{url}"] = {"kind": "inline", "account_id": account.account_id}
            return {"url": url}

        return await serve(request, "/cgi-bin/media/uploadimg", handle)

    # drafts ------------------------------------------------------------------------------
    @app.post("/cgi-bin/draft/add")
    async def draft_add(request: Request) -> Response:
        raw = await request.body()

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            articles = _draft_articles(sim, account, raw)
            if isinstance(articles, Response):
                return articles
            media_id = _token(sim, "draft")[:43]
            stamp = int(sim.clock.now().timestamp())
            sim.objects[f"draft:{media_id}"] = {
                "kind": "draft",
                "media_id": media_id,
                "account_id": account.account_id,
                "articles": articles,
                "update_time": stamp,
                "create_time": stamp,
            }
            return {"media_id": media_id}

        return await serve(request, "/cgi-bin/draft/add", handle)

    @app.post("/cgi-bin/draft/get")
    async def draft_get(request: Request) -> Response:
        body = _json(await request.body())

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            draft = _own(sim, "draft", account, (body or {}).get("media_id"))
            if draft is None:
                return error(sim, 40007, "invalid media_id")
            return {"news_item": [_news_item(sim, a, with_content=True) for a in draft["articles"]]}

        return await serve(request, "/cgi-bin/draft/get", handle)

    @app.post("/cgi-bin/draft/delete")
    async def draft_delete(request: Request) -> Response:
        body = _json(await request.body())

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            draft = _own(sim, "draft", account, (body or {}).get("media_id"))
            if draft is None:
                return error(sim, 40007, "invalid media_id")
            del sim.objects[f"draft:{draft['media_id']}"]
            return {"errcode": 0, "errmsg": "ok"}

        return await serve(request, "/cgi-bin/draft/delete", handle)

    @app.post("/cgi-bin/draft/batchget")
    async def draft_batchget(request: Request) -> Response:
        window = _page(_json(await request.body()))

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            if window is None:
                return error(sim, 40035, "invalid args")
            offset, count, no_content = window
            drafts = sorted(
                (d for d in _of_kind(sim, "draft") if d["account_id"] == account.account_id),
                key=lambda d: (d["update_time"], d["media_id"]),
                reverse=True,
            )
            chosen = drafts[offset : offset + count]
            items = [
                {
                    "media_id": d["media_id"],
                    "content": {
                        "news_item": [
                            _news_item(sim, a, with_content=not no_content) for a in d["articles"]
                        ],
                        "create_time": d["create_time"],
                        "update_time": d["update_time"],
                    },
                    "update_time": d["update_time"],
                }
                for d in chosen
            ]
            return {"total_count": len(drafts), "item_count": len(items), "item": items}

        return await serve(request, "/cgi-bin/draft/batchget", handle)

    # free publish ------------------------------------------------------------------------
    @app.post("/cgi-bin/freepublish/submit")
    async def submit(request: Request) -> Response:
        body = _json(await request.body())

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            if not account.verified:
                return error(sim, 48001, "api unauthorized")
            draft = _own(sim, "draft", account, (body or {}).get("media_id"))
            if draft is None:
                return error(sim, 40007, "invalid media_id")
            return _submit(sim, account, draft)

        return await serve(request, "/cgi-bin/freepublish/submit", handle, creates=True)

    @app.post("/cgi-bin/freepublish/get")
    async def publish_status(request: Request) -> Response:
        body = _json(await request.body())

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            job = _own(sim, "job", account, (body or {}).get("publish_id"))
            if job is None:
                return error(sim, 40007, "invalid publish_id")
            return _job_status(sim, job)

        return await serve(request, "/cgi-bin/freepublish/get", handle)

    @app.post("/cgi-bin/freepublish/batchget")
    async def published(request: Request) -> Response:
        window = _page(_json(await request.body()))

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            if window is None:
                return error(sim, 40035, "invalid args")
            offset, count, no_content = window
            articles = sorted(
                (
                    a
                    for a in _of_kind(sim, "article")
                    if a["account_id"] == account.account_id and _live(sim, a)
                ),
                key=lambda a: (a["update_time"], a["publish_id"]),
                reverse=True,
            )
            chosen = articles[offset : offset + count]
            items = [
                {
                    "article_id": a["article_id"],
                    "content": {
                        "news_item": [
                            _news_item(sim, item, with_content=not no_content)
                            for item in a["items"]
                        ],
                        "create_time": a["update_time"],
                        "update_time": a["update_time"],
                    },
                    "update_time": a["update_time"],
                }
                for a in chosen
            ]
            return {"total_count": len(articles), "item_count": len(items), "item": items}

        return await serve(request, "/cgi-bin/freepublish/batchget", handle)

    @app.post("/cgi-bin/freepublish/getarticle")
    async def get_article(request: Request) -> Response:
        body = _json(await request.body())

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            article = _own(sim, "article", account, (body or {}).get("article_id"))
            if article is None or not _live(sim, article):
                return error(sim, 53600, "Article ID invalid")
            return {"news_item": [_news_item(sim, i, with_content=True) for i in article["items"]]}

        return await serve(request, "/cgi-bin/freepublish/getarticle", handle)

    @app.post("/cgi-bin/freepublish/delete")
    async def delete_article(request: Request) -> Response:
        body = _json(await request.body()) or {}

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            article = _own(sim, "article", account, body.get("article_id"))
            if article is None or not _live(sim, article):
                return error(sim, 53600, "Article ID invalid")
            index = int(body.get("index", 0) or 0)
            for n, post in enumerate(_article_posts(sim, article), start=1):
                if index in (0, n):
                    post.deleted = True
            return {"errcode": 0, "errmsg": "ok"}

        return await serve(request, "/cgi-bin/freepublish/delete", handle)

    # datacube ----------------------------------------------------------------------------
    @app.post("/datacube/getarticletotaldetail")
    async def total_detail(request: Request) -> Response:
        body = _json(await request.body()) or {}

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            try:
                begin = date.fromisoformat(str(body.get("begin_date", "")))
                end = date.fromisoformat(str(body.get("end_date", "")))
            except ValueError:
                return error(sim, 61501, "date range error")
            yesterday = beijing_day(sim.clock.now()) - timedelta(days=1)
            span = (end - begin).days + 1
            if end > yesterday or not 1 <= span <= int(setting(sim, account, "max_span_days")):
                return error(sim, 61501, "date range error")
            rows: list[dict[str, Any]] = []
            delayed = False
            for n in range(span):
                part = article_total_detail(sim, account, begin + timedelta(days=n))
                rows += part["list"]
                delayed = delayed or bool(part["is_delay"])
            return {"list": rows, "is_delay": delayed}

        return await serve(request, "/datacube/getarticletotaldetail", handle)

    return app


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


def _draft_articles(
    sim: Simulation, account: SimAccount, raw: bytes
) -> list[dict[str, Any]] | JSONResponse:
    text = raw.decode("utf-8", errors="replace")
    if setting(sim, account, "strict_escapes"):
        text = text.replace("\\u", "\\\\u")  # escapes are kept as the literal text they are
    try:
        parsed = json.loads(text or "{}")
    except ValueError:
        return error(sim, 47001, "data format error")
    articles = parsed.get("articles") if isinstance(parsed, dict) else None
    if not isinstance(articles, list):
        return error(sim, 47001, "data format error")
    if not articles:
        return error(sim, 44003, "empty news data")

    def uploaded(url: str) -> bool:
        image = sim.objects.get(f"inline:{url}")
        return image is not None and image["account_id"] == account.account_id

    cleaned = []
    for article in articles:
        if not isinstance(article, dict):
            return error(sim, 47001, "data format error")
        problem = _article_problem(sim, account, article)
        if problem is not None:
            return problem
        thumb = sim.objects[f"material:{article['thumb_media_id']}"]
        kept = {k: v for k, v in article.items() if k != "content"}
        kept["content"] = sanitise(str(article["content"]), uploaded)
        kept["thumb_url"] = thumb["url"]
        cleaned.append(kept)
    return cleaned


def _submit(sim: Simulation, account: SimAccount, draft: dict[str, Any]) -> dict[str, Any]:
    number = sim.next_number()
    publish_id, msg_data_id = str(100_000_000 + number), str(2_247_480_000 + number)
    outcome, fail_idx = _planned_outcome(sim, account, draft["articles"])
    delay = float(setting(sim, account, "publish_delay_seconds"))
    sim.objects[f"job:{publish_id}"] = {
        "kind": "job",
        "publish_id": publish_id,
        "msg_data_id": msg_data_id,
        "account_id": account.account_id,
        "articles": draft["articles"],
        "status": 1,
        "outcome": outcome,
        "fail_idx": fail_idx,
        "due": sim.clock.now() + timedelta(seconds=delay),
        "article_id": None,
    }
    sim.objects.setdefault("wechat:pending", {"jobs": []})["jobs"].append(publish_id)
    if setting(sim, account, "consume_draft_on_submit"):
        del sim.objects[f"draft:{draft['media_id']}"]
    return {"errcode": 0, "errmsg": "ok", "publish_id": publish_id, "msg_data_id": msg_data_id}


def _job_status(sim: Simulation, job: Mapping[str, Any]) -> dict[str, Any]:
    # publish_id comes back as a JSON number here, though submit sent it as a string.
    answer: dict[str, Any] = {"publish_id": int(job["publish_id"])}
    status = int(job["status"])
    if status == 0:
        article = sim.objects[f"article:{job['article_id']}"]
        if article["blocked"]:
            status = 6
        elif not _live(sim, article):
            status = 5
        else:
            answer["article_id"] = article["article_id"]
            answer["article_detail"] = {
                "count": len(article["items"]),
                "item": [
                    {"idx": n, "article_url": item["url"]}
                    for n, item in enumerate(article["items"], start=1)
                ],
            }
    answer["publish_status"] = status
    answer["fail_idx"] = list(job["fail_idx"]) if status in (2, 3, 4) else []
    return answer


def _article_problem(
    sim: Simulation, account: SimAccount, article: Mapping[str, Any]
) -> JSONResponse | None:
    """The first rule ``article`` breaks, as WeChat's ``draft/add`` reports it."""
    title = str(article.get("title") or "")
    content = str(article.get("content") or "")
    if not title.strip():
        return error(sim, 44003, "empty news data")
    if len(title) > int(setting(sim, account, "title_limit")):
        return error(sim, 45003, "title size out of limit")
    if len(str(article.get("author") or "")) > 16:
        return error(sim, 45110, "author size out of limit")
    if len(str(article.get("digest") or "")) > 128:
        return error(sim, 45004, "description size out of limit")
    if not content.strip():
        return error(sim, 44004, "empty content")
    limit = int(setting(sim, account, "content_limit"))
    if len(content) >= limit or len(content.encode("utf-8")) >= MB:
        return error(sim, 45002, "content size out of limit")
    if article.get("article_type", "news") == "news":
        thumb = sim.objects.get(f"material:{article.get('thumb_media_id', '')}")
        if thumb is None or thumb["account_id"] != account.account_id:
            return error(sim, 40007, "invalid media_id")
    return None


def _planned_outcome(
    sim: Simulation, account: SimAccount, articles: list[dict[str, Any]]
) -> tuple[int, list[int]]:
    """How the job will end: review rejection for blocked words, queued failures, or success."""
    words = [str(w) for w in setting(sim, account, "blocked_words") if str(w)]
    rejected = [
        n
        for n, a in enumerate(articles, start=1)
        if any(w in a["title"] or w in text_of(a["content"]) for w in words)
    ]
    if rejected:
        return 4, rejected
    knobs = _knobs(sim)
    if int(knobs.get("fail_next", 0)) > 0:
        knobs["fail_next"] = int(knobs["fail_next"]) - 1
        return int(knobs.get("fail_status", 3)), [1]
    return 0, []


def _wechat_control(sim: Simulation) -> APIRouter:
    router = APIRouter(prefix=f"{CONTROL_PREFIX}/wechat", tags=["simulator control"])

    @router.get("/settings")
    def get_settings() -> dict[str, Any]:
        return dict(_knobs(sim))

    @router.post("/settings")
    def set_settings(body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - set(DEFAULTS))
        if unknown:
            raise HTTPException(400, f"unknown settings: {', '.join(unknown)}")
        _knobs(sim).update(body)
        return dict(_knobs(sim))

    @router.post("/inject")
    def inject(body: dict[str, Any]) -> dict[str, Any]:
        if "path" not in body or ("errcode" not in body and not body.get("drop")):
            raise HTTPException(400, "give a path and an errcode (or drop: true)")
        entry = {
            "path": str(body["path"]),
            "errcode": int(body.get("errcode", 0)),
            "errmsg": str(body.get("errmsg", "injected")),
            "drop": bool(body.get("drop", False)),
            "times": int(body.get("times", 1)),
        }
        sim.objects.setdefault("wechat:inject", {"items": []})["items"].append(entry)
        return entry

    @router.get("/jobs")
    def jobs() -> list[dict[str, Any]]:
        return [
            {
                "publish_id": j["publish_id"],
                "msg_data_id": j["msg_data_id"],
                "account_id": j["account_id"],
                "status": j["status"],
                "article_id": j["article_id"],
            }
            for j in _of_kind(sim, "job")
        ]

    @router.get("/drafts")
    def drafts() -> list[dict[str, Any]]:
        return [
            {
                "media_id": d["media_id"],
                "account_id": d["account_id"],
                "titles": [a["title"] for a in d["articles"]],
            }
            for d in _of_kind(sim, "draft")
        ]

    @router.post("/articles/{article_id}/block")
    def block(article_id: str) -> dict[str, Any]:
        article = sim.objects.get(f"article:{article_id}")
        if article is None:
            raise HTTPException(404, f"no article {article_id}")
        article["blocked"] = True
        for post in _article_posts(sim, article):
            post.deleted = True
        return {"blocked": article_id}

    return router
