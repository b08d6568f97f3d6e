"""``/api/media``: the media library. Editors upload; every role may list and preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse

from campaigns.media import get_media, list_media, media_file
from connectors.media import EXTENSIONS
from publicist.core.errors import InvalidInput
from publicist.web.auth import Editor, Viewer
from publicist.web.deps import AppSettings, DbSession, Now, PathId
from publicist.web.present import media_out
from publicist.web.schemas import MediaOut
from publicist.web.uploads import UPLOAD_BODY_BYTES, receive_upload

router = APIRouter(prefix="/api/media", tags=["media"])


_BINARY = {"type": "string", "format": "binary"}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    max_body_size=UPLOAD_BODY_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    request: Request,
    session: DbSession,
    now: Now,
    settings: AppSettings,
    _: Editor,
    name: Annotated[
        str | None, Query(max_length=200, description="Name shown to people (never a path).")
    ] = None,
) -> MediaOut:
    """Add a file (the request body itself) to the library; the same bytes give the same item.

    The type is read from the bytes (JPEG, PNG, WebP, GIF, MP4, MOV), never from the name or
    `Content-Type`; images up to 5 MiB, GIFs 15 MiB, videos 512 MiB. Example:
    `curl -H "Authorization: Bearer $TOKEN" --data-binary @poster.jpg "…/api/media?name=poster"`
    """
    declared = request.headers.get("content-type", "")
    if declared.lower().startswith("multipart/"):
        raise InvalidInput(
            "Content-Type",
            declared.split(";")[0],
            "is not accepted: send the file itself as the body (curl --data-binary @FILE)",
        )
    item = await receive_upload(request, session, media_dir=settings.media_dir, name=name, now=now)
    return media_out(item)


@router.get("")
def items(session: DbSession, _: Viewer) -> list[MediaOut]:
    """Every item of the library, oldest first."""
    return [media_out(item) for item in list_media(session)]


@router.get("/{media_id}")
def item(media_id: PathId, session: DbSession, _: Viewer) -> MediaOut:
    """One item's kind, type, size, sha256 and name."""
    return media_out(get_media(session, media_id))


@router.get(
    "/{media_id}/content",
    response_class=FileResponse,
    responses={200: {"content": {"image/*": {}, "video/*": {}}}},
)
def content(media_id: PathId, session: DbSession, settings: AppSettings, _: Viewer) -> FileResponse:
    """The file itself, for previews."""
    stored = get_media(session, media_id)
    path = media_file(stored, media_dir=settings.media_dir)
    return FileResponse(
        path,
        media_type=stored.content_type,
        filename=f"media-{stored.id}.{EXTENSIONS.get(stored.content_type, 'bin')}",
        content_disposition_type="inline",
        headers={"X-Content-Type-Options": "nosniff"},
    )
