"""TikTok's Content Posting API for videos: init (direct post, inbox, pull from URL) and the
chunked upload."""

from __future__ import annotations

import secrets

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
    INIT_LIMIT,
    MAX_PENDING_INBOX,
    PRIVACY_LEVELS,
    PRIVATE,
    PULL_SIZE,
    ApiError,
    apply_fault,
    envelope,
    invalid,
    member,
    parse_range,
    read_json,
    utf16_units,
)


def register(app: FastAPI, sim: Simulation, platform: TiktokPlatform, run: Run) -> None:
    async def init_video(request: Request, *, inbox: bool) -> Response:
        body = await read_json(request)
        source = member(body, "source_info")
        kind = source.get("source")
        # A pulled video is on its way to being posted as soon as init answers.
        fault = await sim.gate(creates=kind == "PULL_FROM_URL")
        apply_fault(fault)
        grant, account = platform.authorise(request, "video.upload" if inbox else "video.publish")
        platform.limit(grant, "init", INIT_LIMIT)
        info = member(body, "post_info")
        title = info.get("title", "")
        if not isinstance(title, str) or utf16_units(title) > 2200:
            raise invalid("post_info.title must be a string of at most 2200 UTF-16 code units.")
        privacy = PRIVATE if inbox else info.get("privacy_level")
        if inbox:
            if platform.pending_inbox(account) >= MAX_PENDING_INBOX:
                raise ApiError(
                    403,
                    "spam_risk_too_many_pending_share",
                    "The user has too many pending shares in the inbox.",
                )
        else:
            if privacy not in PRIVACY_LEVELS:
                raise invalid("post_info.privacy_level is required.")
            platform.check_policy(account, privacy, title)
        prefix = "v_inbox_file~v2." if inbox else "v_pub_file~v2-1."
        if kind == "FILE_UPLOAD":
            size, chunk, count = platform.check_chunks(account, source)
            job = platform.new_job(
                account,
                prefix=prefix,
                source=kind,
                video_size=size,
                chunk_size=chunk,
                total_chunk_count=count,
                upload_token=secrets.token_urlsafe(12),
                title=title,
                description="",
                privacy_level=privacy,
                inbox=inbox,
            )
            # TikTok hands out an absolute URL on its upload host; here it is this app's root.
            root, mount = str(request.base_url).rstrip("/"), request.scope.get("root_path", "")
            root += "" if root.endswith(mount) else mount
            upload_url = (
                f"{root}/upload/video/"
                f"?upload_id={job['publish_id']}&upload_token={job['upload_token']}"
            )
            return envelope(sim, {"publish_id": job["publish_id"], "upload_url": upload_url})
        if kind == "PULL_FROM_URL":
            url = platform.check_url(account, source.get("video_url"))
            job = platform.new_job(
                account,
                prefix="v_inbox_url~v2." if inbox else "v_pub_url~v2.",
                source=kind,
                video_size=PULL_SIZE,
                video_url=url,
                title=title,
                description="",
                privacy_level=privacy,
                inbox=inbox,
            )
            platform.commit(account, job)
            if fault is Fault.DROP_AFTER_COMMIT:
                return DropConnection()
            return envelope(sim, {"publish_id": job["publish_id"]})
        raise invalid("source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")

    @app.post("/v2/post/publish/video/init/")
    async def video_init(request: Request) -> Response:
        return await run(request, lambda: init_video(request, inbox=False))

    @app.post("/v2/post/publish/inbox/video/init/")
    async def inbox_video_init(request: Request) -> Response:
        return await run(request, lambda: init_video(request, inbox=True))

    @app.put("/upload/video/")
    async def upload(request: Request) -> Response:
        async def work() -> Response:
            job = sim.objects.get(request.query_params.get("upload_id", ""))
            if (
                job is None
                or job.get("kind") != "publish"
                or job.get("upload_token") != request.query_params.get("upload_token")
            ):
                raise ApiError(404, "invalid_params", "The upload_id or upload_token is invalid.")
            first, last, total = parse_range(request.headers.get("content-range", ""))
            chunk = await request.body()
            index = first // job["chunk_size"] if job["chunk_size"] else 0
            final = index == job["total_chunk_count"] - 1
            fault = await sim.gate(creates=final and job["committed_at"] is None)
            apply_fault(fault)
            if total != job["video_size"] or len(chunk) != last - first + 1:
                raise ApiError(400, "invalid_file_upload", "The chunk does not match its range.")
            if first + len(chunk) == job["uploaded_bytes"] and first < job["uploaded_bytes"]:
                # The same chunk again (its answer was lost): accepted, nothing changes.
                return Response(status_code=201 if final else 206)
            expected_last = job["video_size"] - 1 if final else first + job["chunk_size"] - 1
            if first != job["uploaded_bytes"] or last != expected_last:
                raise ApiError(
                    400,
                    "invalid_file_upload",
                    f"Chunks must be sent in order; expected bytes {job['uploaded_bytes']}-.",
                )
            job["uploaded_bytes"] = last + 1
            if not final:
                return Response(status_code=206)
            platform.commit(sim.accounts[job["account_id"]], job)
            if fault is Fault.DROP_AFTER_COMMIT:
                return DropConnection()
            return Response(status_code=201)

        return await run(request, work)
