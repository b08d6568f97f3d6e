"""Douyin posts: ``create_video`` and ``create_image_text`` (reviewed before they are public),
the author's ``video_list`` and the batched ``video_data`` that carries the counters.

A new post is visible only to its author while in review (审核): ``is_reviewed`` false and
``video_status`` 4. After ``review_seconds`` of virtual time it becomes public (status 1) or
fails review (status 2, 不适宜公开) when the account's ``reject_reason`` is set or the text holds
one of its ``banned_words``. The author's list shows every state.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from simulators.douyin.wire import (
    FAR_FUTURE,
    DouyinError,
    apply_fault,
    authorise,
    item_id,
    limit,
    ok,
    setting,
    video_item,
)
from simulators.harness import DropConnection, Fault, SimAccount, Simulation

Work = Callable[[], Awaitable[Response]]
MAX_DATA_IDS = 20
MAX_LIST_COUNT = 20


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise DouyinError(2100005, "body is not JSON") from exc
    if not isinstance(body, dict):
        raise DouyinError(2100005, "body must be a JSON object")
    return body


def _check_text(account: SimAccount, text: Any) -> str:
    if not isinstance(text, str):
        raise DouyinError(2100005, "text must be a string")
    if len(text) > int(setting(account, "text_limit")):
        raise DouyinError(2100005, f"text longer than {setting(account, 'text_limit')} characters")
    return text


def _publish(sim: Simulation, account: SimAccount, text: str, **extra: Any) -> str:
    """Record the post as Douyin does on create: in review, visible to its author only."""
    now = sim.clock.now()
    review_until = now + timedelta(seconds=float(setting(account, "review_seconds")))
    lowered = text.casefold()
    rejected = bool(setting(account, "reject_reason")) or any(
        str(word).casefold() in lowered for word in setting(account, "banned_words")
    )
    remote_id = item_id(sim)
    sim.record_post(
        account.account_id,
        text,
        remote_id=remote_id,
        url=f"https://www.douyin.com/video/{sim.snowflake()}",
        visible_at=FAR_FUTURE if rejected else review_until,
        review_until=review_until,
        rejected=rejected,
        **extra,
    )
    return remote_id


def register(
    app: FastAPI, sim: Simulation, run: Callable[[Request, Work], Awaitable[Response]]
) -> None:
    async def create(
        request: Request, make: Callable[[SimAccount, dict[str, Any]], str]
    ) -> Response:
        body = await _json(request)
        fault = await sim.gate(creates=True)
        apply_fault(fault)
        _, account = authorise(sim, request, "video.create.bind")
        limit(sim, account, "create")
        remote_id = make(account, body)
        if fault is Fault.DROP_AFTER_COMMIT:
            return DropConnection()
        return ok(sim, {"item_id": remote_id})

    def make_video(account: SimAccount, body: dict[str, Any]) -> str:
        text = _check_text(account, body.get("text", ""))
        video = sim.objects.get(f"video:{body.get('video_id', '')}")
        if video is None or video["account_id"] != account.account_id:
            raise DouyinError(2100005, "video_id")
        return _publish(sim, account, text, media_type=4, video_id=body["video_id"])

    def make_image_text(account: SimAccount, body: dict[str, Any]) -> str:
        text = _check_text(account, body.get("text", ""))
        images = body.get("image_list")
        if not isinstance(images, list) or not 1 <= len(images) <= 35:
            raise DouyinError(2100005, "image_list must hold 1 to 35 images")
        for image in images:
            found = sim.objects.get(f"image:{(image or {}).get('image_id', '')}")
            if found is None or found["account_id"] != account.account_id:
                raise DouyinError(2100005, "image_id")
        first = images[0]["image_id"]
        return _publish(sim, account, text, media_type=2, video_id=first)

    @app.post("/api/douyin/v1/video/create_video/")
    async def create_video(request: Request) -> Response:
        return await run(request, lambda: create(request, make_video))

    @app.post("/api/douyin/v1/video/create_image_text/")
    async def create_image_text(request: Request) -> Response:
        return await run(request, lambda: create(request, make_image_text))

    async def reader(request: Request) -> SimAccount:
        apply_fault(await sim.gate(creates=False))
        _, account = authorise(sim, request, "video.data.bind")
        limit(sim, account, "read")
        return account

    @app.post("/api/douyin/v1/video/video_data/")
    async def video_data(request: Request) -> Response:
        async def work() -> Response:
            body = await _json(request)
            account = await reader(request)
            ids = body.get("item_ids")
            if not isinstance(ids, list) or not ids:
                raise DouyinError(2100005, "item_ids is required")
            if len(ids) > MAX_DATA_IDS:
                raise DouyinError(2100005, f"at most {MAX_DATA_IDS} item_ids")
            found = []
            for wanted in ids:
                post = sim.posts.get(str(wanted))
                # Other users' items and deleted ones are left out, without an error.
                if post and post.account_id == account.account_id and not post.deleted:
                    found.append(video_item(sim, post))
            return ok(sim, {"list": found})

        return await run(request, work)

    @app.get("/api/douyin/v1/video/video_list/")
    async def video_list(request: Request) -> Response:
        async def work() -> Response:
            apply_fault(await sim.gate(creates=False))
            _, account = authorise(sim, request, "video.list.bind")
            limit(sim, account, "read")
            try:
                cursor = int(request.query_params.get("cursor", "0"))
                count = int(request.query_params.get("count", "10"))
            except ValueError as exc:
                raise DouyinError(2100005, "cursor and count are integers") from exc
            if not 1 <= count <= MAX_LIST_COUNT:
                raise DouyinError(2100005, f"count must be 1 to {MAX_LIST_COUNT}")
            posts = sim.live_posts(account.account_id)  # newest first
            if cursor:
                posts = [p for p in posts if int(p.created_at.timestamp() * 1000) < cursor]
            page = posts[:count]
            next_cursor = int(page[-1].created_at.timestamp() * 1000) if page else 0
            return ok(
                sim,
                {
                    "list": [video_item(sim, p) for p in page],
                    "cursor": next_cursor,
                    "has_more": len(posts) > count,
                },
            )

        return await run(request, work)

    @app.post("/api/douyin/v1/video/delete_video/")
    async def delete_video(request: Request) -> Response:
        async def work() -> Response:
            body = await _json(request)
            apply_fault(await sim.gate(creates=False))
            _, account = authorise(sim, request, "video.create.bind")
            post = sim.posts.get(str(body.get("item_id", "")))
            if post is None or post.account_id != account.account_id or post.deleted:
                raise DouyinError(2100005, "item_id")
            post.deleted = True
            return ok(sim, {})

        return await run(request, work)
