"""Douyin uploads: one-shot video upload, the three-step part upload, and image upload.

Each upload hands back an id (``video_id``, ``image_id``) that ``create_video`` and
``create_image_text`` consume; nothing is public until one of those is called.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from simulators.douyin.wire import DouyinError, apply_fault, authorise, limit, ok, setting
from simulators.harness import SimAccount, Simulation

Work = Callable[[], Awaitable[Response]]


async def _file(request: Request, field: str) -> bytes:
    async with request.form() as form:  # closes the upload's temporary file
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise DouyinError(2100005, f"multipart field {field!r} with a file is required")
        data = await upload.read()
    if not data:
        raise DouyinError(2100005, f"{field} is empty")
    return data


def _video_record(sim: Simulation, account: SimAccount, size: int) -> dict[str, Any]:
    video_id = f"v0200f{secrets.token_hex(13)}"
    record = {"kind": "video", "account_id": account.account_id, "size": size, "used": False}
    sim.objects[f"video:{video_id}"] = record
    return {"video": {"video_id": video_id, "width": 1080, "height": 1920}}


def register(
    app: FastAPI, sim: Simulation, run: Callable[[Request, Work], Awaitable[Response]]
) -> None:
    async def guarded(request: Request) -> SimAccount:
        apply_fault(await sim.gate(creates=False))
        _, account = authorise(sim, request, "video.create.bind")
        limit(sim, account, "read")
        return account

    @app.post("/api/douyin/v1/video/upload_video/")
    async def upload_video(request: Request) -> Response:
        async def work() -> Response:
            account = await guarded(request)
            data = await _file(request, "video")
            if len(data) > int(setting(account, "single_upload_bytes")):
                raise DouyinError(2100005, "超过128M的视频必须采用分片上传")
            return ok(sim, _video_record(sim, account, len(data)))

        return await run(request, work)

    @app.post("/api/douyin/v1/video/init_video_part_upload/")
    async def init_part_upload(request: Request) -> Response:
        async def work() -> Response:
            account = await guarded(request)
            upload_id = f"{secrets.token_urlsafe(12)}+/{secrets.token_hex(4)}=="
            sim.objects[f"upload:{upload_id}"] = {
                "kind": "part_upload",
                "account_id": account.account_id,
                "parts": {},
            }
            return ok(sim, {"upload_id": upload_id})

        return await run(request, work)

    def upload_record(request: Request, account: SimAccount) -> dict[str, Any]:
        record = sim.objects.get(f"upload:{request.query_params.get('upload_id', '')}")
        if record is None or record["account_id"] != account.account_id:
            raise DouyinError(2100005, "upload_id")
        return record

    @app.post("/api/douyin/v1/video/upload_video_part/")
    async def upload_part(request: Request) -> Response:
        async def work() -> Response:
            account = await guarded(request)
            record = upload_record(request, account)
            try:
                number = int(request.query_params.get("part_number", ""))
            except ValueError as exc:
                raise DouyinError(2100005, "part_number") from exc
            if number < 1:
                raise DouyinError(2100005, "part_number starts at 1")
            record["parts"][number] = len(await _file(request, "video"))
            return ok(sim, {})

        return await run(request, work)

    @app.post("/api/douyin/v1/video/complete_video_part_upload/")
    async def complete_part_upload(request: Request) -> Response:
        async def work() -> Response:
            account = await guarded(request)
            record = upload_record(request, account)
            parts = record["parts"]
            if not parts or sorted(parts) != list(range(1, len(parts) + 1)):
                raise DouyinError(2100005, "parts must be numbered 1..n without gaps")
            minimum = int(setting(account, "min_part_bytes"))
            if any(parts[n] < minimum for n in range(1, len(parts))):
                raise DouyinError(2100005, "every part but the last must be at least 5 MB")
            del sim.objects[f"upload:{request.query_params['upload_id']}"]
            return ok(sim, _video_record(sim, account, sum(parts.values())))

        return await run(request, work)

    @app.post("/api/douyin/v1/video/upload_image/")
    async def upload_image(request: Request) -> Response:
        async def work() -> Response:
            account = await guarded(request)
            data = await _file(request, "image")
            image_id = f"tos-cn-i-{secrets.token_hex(12)}"
            sim.objects[f"image:{image_id}"] = {
                "kind": "image",
                "account_id": account.account_id,
                "size": len(data),
            }
            return ok(sim, {"image": {"image_id": image_id, "width": 1080, "height": 1440}})

        return await run(request, work)
