"""Media on the simulated X: chunked upload, processing that follows the virtual clock, alt text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from simulators.harness import Fault, Grant, SimAccount, Simulation
from simulators.twitter.wire import (
    MB,
    Part,
    XSimulator,
    invalid_request,
    problem,
    read_json,
    read_params,
    setting,
)

SIZE_LIMITS: Mapping[str, int] = {
    "tweet_image": 5 * MB,
    "tweet_gif": 15 * MB,
    "tweet_video": 512 * MB,
    "amplify_video": 512 * MB,
}
MEDIA_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4", "video/quicktime"}
)
MEDIA_KEY_PREFIX = {
    "tweet_image": "3",
    "tweet_gif": "16",
    "tweet_video": "7",
    "amplify_video": "13",
}


def media_record(sim: Simulation, media_id: str) -> dict[str, Any] | None:
    return sim.objects.get(f"media:{media_id}")


def processing_info(sim: Simulation, record: dict[str, Any]) -> dict[str, Any] | None:
    """Where processing stands at this virtual moment (``None`` for images: none needed)."""
    if record["category"] == "tweet_image" or record.get("finalized_at") is None:
        return None
    elapsed = (sim.clock.now() - record["finalized_at"]).total_seconds()
    duration = float(record["processing_seconds"])
    if elapsed >= duration:
        if record["processing_fails"]:
            return {
                "state": "failed",
                "progress_percent": 40,
                "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"},
            }
        return {"state": "succeeded", "progress_percent": 100}
    if elapsed < duration * 0.3:
        return {"state": "pending", "check_after_secs": 1}
    percent = int(100 * elapsed / duration) if duration else 100
    return {"state": "in_progress", "check_after_secs": 1, "progress_percent": percent}


def media_data(sim: Simulation, record: dict[str, Any]) -> dict[str, Any]:
    remaining = int((record["expires_at"] - sim.clock.now()).total_seconds())
    data: dict[str, Any] = {
        "id": record["id"],
        "media_key": record["media_key"],
        "expires_after_secs": max(0, remaining),
    }
    if record.get("finalized_at") is not None:
        data["size"] = record["total_bytes"]
        info = processing_info(sim, record)
        if info is not None:
            data["processing_info"] = info
    return data


def media_ready(sim: Simulation, account: SimAccount, media_id: str) -> dict[str, Any] | None:
    record = media_record(sim, str(media_id))
    if record is None or record["owner"] != account.account_id:
        return None
    if record.get("finalized_at") is None or record["expires_at"] <= sim.clock.now():
        return None
    info = processing_info(sim, record)
    if info is not None and info["state"] != "succeeded":
        return None
    return record


def init_media(
    sim: Simulation, account: SimAccount, params: Mapping[str, Any]
) -> dict[str, Any] | JSONResponse:
    media_type = str(params.get("media_type") or "")
    if media_type not in MEDIA_TYPES:
        return invalid_request(f"media_type [{media_type}] is not supported", "media_type")
    try:
        total = int(params.get("total_bytes") or 0)
    except (TypeError, ValueError):
        return invalid_request("total_bytes must be an integer", "total_bytes")
    category = str(params.get("media_category") or "")
    if not category:
        category = (
            "tweet_gif"
            if media_type == "image/gif"
            else "tweet_video"
            if media_type.startswith("video/")
            else "tweet_image"
        )
    if category not in SIZE_LIMITS:
        return invalid_request(f"media_category [{category}] is not supported", "media_category")
    if total <= 0 or total > SIZE_LIMITS[category]:
        return invalid_request(
            f"total_bytes [{total}] is not between 1 and {SIZE_LIMITS[category]} for {category}",
            "total_bytes",
        )
    media_id = sim.snowflake()
    record: dict[str, Any] = {
        "kind": "media",
        "id": media_id,
        "media_key": f"{MEDIA_KEY_PREFIX[category]}_{media_id}",
        "owner": account.account_id,
        "media_type": media_type,
        "category": category,
        "total_bytes": total,
        "segments": {},
        "finalized_at": None,
        "expires_at": sim.clock.now()
        + timedelta(seconds=float(setting(account, "media_expires_after_secs"))),
        "processing_seconds": float(setting(account, "media_processing_seconds")),
        "processing_fails": bool(setting(account, "media_processing_fails")),
        "alt_text": None,
    }
    sim.objects[f"media:{media_id}"] = record
    return record


def owned_open_media(
    sim: Simulation, account: SimAccount, media_id: str
) -> dict[str, Any] | JSONResponse:
    record = media_record(sim, media_id)
    if record is None or record["owner"] != account.account_id:
        return invalid_request(f"media_id [{media_id}] is not a valid media id", "media_id")
    if record["expires_at"] <= sim.clock.now():
        return invalid_request(f"media_id [{media_id}] has expired", "media_id")
    return record


def append_media(
    sim: Simulation, account: SimAccount, media_id: str, form: Mapping[str, Any]
) -> dict[str, Any] | JSONResponse:
    record = owned_open_media(sim, account, media_id)
    if isinstance(record, JSONResponse):
        return record
    if record["finalized_at"] is not None:
        return invalid_request("the upload is already finalized", "media_id")
    try:
        segment = int(form.get("segment_index", ""))
    except (TypeError, ValueError):
        return invalid_request("segment_index must be an integer", "segment_index")
    if not 0 <= segment <= 999:
        return invalid_request(f"segment_index [{segment}] is not between 0 and 999")
    part = form.get("media")
    if isinstance(part, Part):
        chunk = part.data
    elif isinstance(part, str) and part:
        chunk = part.encode()
    else:
        return invalid_request("the media field is required", "media")
    if len(chunk) > int(setting(account, "max_segment_bytes")):
        return problem(413, "Payload Too Large", "The segment is larger than 5 MB.")
    record["segments"][segment] = len(chunk)
    return record


def finalize_media(
    sim: Simulation, account: SimAccount, media_id: str
) -> dict[str, Any] | JSONResponse:
    record = owned_open_media(sim, account, media_id)
    if isinstance(record, JSONResponse):
        return record
    if record["finalized_at"] is None:
        segments: dict[int, int] = record["segments"]
        contiguous = sorted(segments) == list(range(len(segments)))
        if not contiguous or sum(segments.values()) != record["total_bytes"]:
            return invalid_request("Segments do not add up to provided total file size.")
        record["finalized_at"] = sim.clock.now()
    return record


def register(app: FastAPI, x: XSimulator) -> None:
    """The upload endpoints (command style and per-step) and media metadata."""
    sim = x.sim

    def media_reply(record: dict[str, Any] | JSONResponse) -> Response:
        if isinstance(record, JSONResponse):
            return record
        return JSONResponse({"data": media_data(sim, record)})

    async def command(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        """The command-style endpoint (INIT, APPEND, FINALIZE, STATUS, or a one-shot upload)."""
        params = await read_params(request)
        verb = str(params.get("command") or "").upper()
        media_id = str(params.get("media_id") or "")
        if request.method == "GET":
            if verb != "STATUS":
                return invalid_request("command must be STATUS", "command")
            record = owned_open_media(sim, account, media_id)
            return media_reply(record)
        if verb == "INIT":
            return media_reply(init_media(sim, account, params))
        if verb == "APPEND":
            appended = append_media(sim, account, media_id, params)
            return appended if isinstance(appended, JSONResponse) else Response(status_code=204)
        if verb == "FINALIZE":
            return media_reply(finalize_media(sim, account, media_id))
        if verb:
            return invalid_request(f"command [{verb}] is not supported", "command")
        part = params.get("media")
        if not isinstance(part, Part):
            return invalid_request("the media field is required", "media")
        blob = part.data
        started = init_media(
            sim,
            account,
            {
                "media_type": params.get("media_type") or part.content_type,
                "total_bytes": len(blob),
                "media_category": params.get("media_category"),
            },
        )
        if isinstance(started, JSONResponse):
            return started
        started["segments"][0] = len(blob)
        return media_reply(finalize_media(sim, account, started["id"]))

    @app.api_route("/2/media/upload", methods=["GET", "POST"])
    async def media_upload(request: Request) -> Response:
        return await x.handle(request, "media", command, scopes=("media.write",))

    async def initialize(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        body = await read_json(request)
        if isinstance(body, JSONResponse):
            return body
        return media_reply(init_media(sim, account, body))

    @app.post("/2/media/upload/initialize")
    async def media_initialize(request: Request) -> Response:
        return await x.handle(request, "media", initialize, scopes=("media.write",))

    async def append(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        params = await read_params(request)
        record = append_media(sim, account, request.path_params["media_id"], params)
        if isinstance(record, JSONResponse):
            return record
        return JSONResponse({"data": {"expires_at": int(record["expires_at"].timestamp())}})

    @app.post("/2/media/upload/{media_id}/append")
    async def media_append(request: Request) -> Response:
        return await x.handle(request, "media", append, scopes=("media.write",))

    async def finalize(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        return media_reply(finalize_media(sim, account, request.path_params["media_id"]))

    @app.post("/2/media/upload/{media_id}/finalize")
    async def media_finalize(request: Request) -> Response:
        return await x.handle(request, "media", finalize, scopes=("media.write",))

    async def metadata(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        body = await read_json(request)
        if isinstance(body, JSONResponse):
            return body
        record = owned_open_media(sim, account, str(body.get("id") or ""))
        if isinstance(record, JSONResponse):
            return record
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if not isinstance(alt, str) or len(alt) > 1000:
            return invalid_request("alt_text.text must be a string of at most 1000 characters")
        record["alt_text"] = alt
        return JSONResponse(
            {"data": {"id": record["id"], "associated_metadata": {"alt_text": {"text": alt}}}}
        )

    @app.post("/2/media/metadata")
    async def media_metadata(request: Request) -> Response:
        return await x.handle(request, "media", metadata, scopes=("media.write",))
