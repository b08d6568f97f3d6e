"""Receiving a file into the media library from a request body, for the API and the
composer alike: streamed to the library's temporary file, never held whole in memory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from campaigns.media import MAX_UPLOAD_BYTES, Upload, add_media
from campaigns.models import MediaItem
from publicist.core.errors import InvalidInput

UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
"""Uploads have their own cap (the largest video), above the 6 MiB of every other body;
:class:`campaigns.media.Upload` enforces each kind's own limit while the bytes arrive."""


async def receive_upload(
    request: Request, session: Session, *, media_dir: Path, name: str | None, now: datetime
) -> MediaItem:
    """The request's body as a library item (typed and capped by its bytes); InvalidInput
    when it is empty, too large or of a kind Publicist does not keep."""
    staged = await run_in_threadpool(Upload, media_dir)
    try:
        async for chunk in request.stream():
            if chunk:
                await run_in_threadpool(staged.write, chunk)
        if staged.size == 0:
            raise InvalidInput("body", "", "is empty; send the file as the request body")
        return await run_in_threadpool(add_media, session, upload=staged, name=name, now=now)
    finally:
        await run_in_threadpool(staged.discard)
