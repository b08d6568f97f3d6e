"""WeChat publishing: drafts, the free-publish job and its articles, and the datacube's
T+1 figures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from simulators.harness import (
    SimAccount,
    SimPost,
    Simulation,
)
from simulators.wechat.wire import (
    MB,
    Serve,
    _json,
    _knobs,
    _of_kind,
    _own,
    _page,
    _token,
    beijing_day,
    day_start,
    error,
    sanitise,
    setting,
    text_of,
)


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


def register(app: FastAPI, sim: Simulation, serve: Serve) -> None:
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
