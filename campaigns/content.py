"""A post as one platform receives it: its variant over the base, its media resolved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, object_session

from campaigns.models import MediaItem, Post
from connectors.base import Content, Media, MediaKind


def _media(items: list[dict[str, Any]], session: Session | None) -> tuple[Media, ...]:
    return tuple(media_entry(item, session) for item in items)


def media_entry(item: dict[str, Any], session: Session | None) -> Media:
    """One stored media entry as the connector sees it.

    ``media_id`` becomes the library item's stored file (an id the library does not hold
    gets an empty file name, which the loader refuses); ``url`` stays a URL. An entry stored
    before the library existed (``source``) keeps an http(s) URL as its URL; a local path
    becomes an entry with neither, which validation refuses and nothing ever reads.
    """
    kind = MediaKind(item["kind"])
    alt_text = item.get("alt_text")
    media_id = item.get("media_id")
    if isinstance(media_id, int) and not isinstance(media_id, bool):
        stored = session.get(MediaItem, media_id) if session is not None else None
        if stored is None:
            return Media(kind, media_id=media_id, library_file="", alt_text=alt_text)
        return Media(
            kind,
            media_id=media_id,
            library_file=stored.stored_name,
            mime_type=stored.content_type,
            size_bytes=stored.size_bytes,
            alt_text=alt_text,
        )
    url = item.get("url")
    if url is None:
        legacy = str(item.get("source") or "")
        url = legacy if legacy.lower().startswith(("http://", "https://")) else None
    return Media(kind, url=str(url) if url is not None else None, alt_text=alt_text)


def content_for(
    post: Post, platform: str, *, marker: str, session: Session | None = None
) -> Content:
    variant = next((v for v in post.variants if v.platform == platform), None)
    text = variant.text if variant and variant.text else post.text
    title = variant.title if variant and variant.title else post.title
    digest = variant.digest if variant else None
    media = variant.media if variant and variant.media is not None else post.media
    resolved = _media(media or [], session if session is not None else object_session(post))
    return Content(text=text, title=title, digest=digest, media=resolved, marker=marker)
