"""TikTok's posts: creator info, photo posts, publish status, and the Display API (video query,
video list, user info)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from simulators.harness import (
    DropConnection,
    Fault,
    Simulation,
)
from simulators.tiktok.auth import Run
from simulators.tiktok.state import TiktokPlatform
from simulators.tiktok.wire import (
    CREATOR_INFO_LIMIT,
    DISPLAY_LIMIT,
    INIT_LIMIT,
    PRIVACY_LEVELS,
    PRIVATE,
    PULL_SIZE,
    STATUS_LIMIT,
    USER_FIELDS,
    VIDEO_FIELDS,
    _millis,
    apply_fault,
    envelope,
    invalid,
    member,
    parse_fields,
    read_json,
    setting,
    utf16_units,
)


def register(app: FastAPI, sim: Simulation, platform: TiktokPlatform, run: Run) -> None:
    @app.post("/v2/post/publish/creator_info/query/")
    async def creator_info(request: Request) -> Response:
        async def work() -> Response:
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "video.publish", "video.upload")
            platform.limit(grant, "creator_info", CREATOR_INFO_LIMIT)
            return envelope(sim, platform.creator_info(account))

        return await run(request, work)

    @app.post("/v2/post/publish/content/init/")
    async def content_init(request: Request) -> Response:
        async def work() -> Response:
            body = await read_json(request)
            fault = await sim.gate(creates=True)
            apply_fault(fault)
            mode = body.get("post_mode")
            inbox = mode == "MEDIA_UPLOAD"
            grant, account = platform.authorise(
                request, "video.upload" if inbox else "video.publish"
            )
            platform.limit(grant, "init", INIT_LIMIT)
            if body.get("media_type") != "PHOTO" or mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
                raise invalid("media_type must be PHOTO and post_mode DIRECT_POST or MEDIA_UPLOAD.")
            info, source = member(body, "post_info"), member(body, "source_info")
            title, description = info.get("title", ""), info.get("description", "")
            if not isinstance(title, str) or len(title) > 90:
                raise invalid("post_info.title must be at most 90 characters.")
            if not isinstance(description, str) or utf16_units(description) > 4000:
                raise invalid("post_info.description must be at most 4000 UTF-16 code units.")
            if source.get("source") != "PULL_FROM_URL":
                raise invalid("Photos can only be posted with source PULL_FROM_URL.")
            images = source.get("photo_images")
            if not isinstance(images, list) or not 1 <= len(images) <= 35:
                raise invalid("photo_images must hold 1 to 35 URLs.")
            cover = source.get("photo_cover_index", 0)
            if not isinstance(cover, int) or not 0 <= cover < len(images):
                raise invalid("photo_cover_index is out of range.")
            privacy = PRIVATE if inbox else info.get("privacy_level")
            if not inbox:
                if privacy not in PRIVACY_LEVELS:
                    raise invalid("post_info.privacy_level is required.")
                platform.check_policy(account, privacy, f"{title} {description}")
            urls = [platform.check_url(account, url) for url in images]
            job = platform.new_job(
                account,
                prefix="p_inbox_url~v2." if inbox else "p_pub_url~v2.",
                source="PULL_FROM_URL",
                video_size=PULL_SIZE,
                photo_images=urls,
                title=title,
                description=description,
                privacy_level=privacy,
                inbox=inbox,
            )
            platform.commit(account, job)
            if fault is Fault.DROP_AFTER_COMMIT:
                return DropConnection()
            return envelope(sim, {"publish_id": job["publish_id"]})

        return await run(request, work)

    @app.post("/v2/post/publish/status/fetch/")
    async def status_fetch(request: Request) -> Response:
        async def work() -> Response:
            body = await read_json(request)
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "video.publish", "video.upload")
            platform.limit(grant, "status", STATUS_LIMIT)
            job = sim.objects.get(str(body.get("publish_id", "")))
            if (
                job is None
                or job.get("kind") != "publish"
                or job["account_id"] != account.account_id
            ):
                raise invalid("The publish_id is invalid or does not belong to this user.")
            return envelope(sim, platform.status(job))

        return await run(request, work)

    @app.post("/v2/video/query/")
    async def video_query(request: Request) -> Response:
        async def work() -> Response:
            body = await read_json(request)
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "video.list")
            platform.limit(grant, "video_query", DISPLAY_LIMIT)
            fields = parse_fields(request, VIDEO_FIELDS)
            ids = member(body, "filters").get("video_ids")
            if not isinstance(ids, list) or not ids:
                raise invalid("filters.video_ids is required.")
            if len(ids) > 20:
                raise invalid("At most 20 video_ids can be queried at once.")
            videos = []
            for video_id in ids:
                post = sim.posts.get(str(video_id))
                # Other users' videos, deleted ones and those still in moderation are left out.
                if post and post.account_id == account.account_id and platform.visible(post):
                    videos.append(platform.video(post, fields))
            return envelope(sim, {"videos": videos})

        return await run(request, work)

    @app.post("/v2/video/list/")
    async def video_list(request: Request) -> Response:
        async def work() -> Response:
            body = await read_json(request)
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "video.list")
            platform.limit(grant, "video_list", DISPLAY_LIMIT)
            fields = parse_fields(request, VIDEO_FIELDS)
            count = body.get("max_count", 10)
            if not isinstance(count, int) or not 1 <= count <= 20:
                raise invalid("max_count must be between 1 and 20.")
            cursor = body.get("cursor")
            if cursor is not None and not isinstance(cursor, int):
                raise invalid("cursor must be an integer (milliseconds).")
            show_private = bool(setting(account, "list_private"))
            posts = [
                p
                for p in sim.live_posts(account.account_id)
                if platform.visible(p)
                and (show_private or p.extra.get("privacy_level") != PRIVATE)
                and (cursor is None or _millis(p.created_at) < cursor)
            ]
            page = posts[:count]
            next_cursor = _millis(page[-1].created_at) if page else (cursor or 0)
            return envelope(
                sim,
                {
                    "videos": [platform.video(p, fields) for p in page],
                    "cursor": next_cursor,
                    "has_more": len(posts) > count,
                },
            )

        return await run(request, work)

    @app.get("/v2/user/info/")
    async def user_info(request: Request) -> Response:
        async def work() -> Response:
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "user.info.basic")
            platform.limit(grant, "user_info", DISPLAY_LIMIT)
            fields = parse_fields(request, USER_FIELDS)
            return envelope(sim, {"user": platform.user(account, fields)})

        return await run(request, work)
