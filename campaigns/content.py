"""A post as one platform receives it: its variant over the base, its media resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.orm import Session, object_session

from campaigns.models import MediaItem, Post
from connectors.base import Content, Media, MediaKind

MediaLookup = Callable[[int], MediaItem | None]
"""The media library item with an id, or ``None``; ``session.get`` in practice."""


class VariantFields(Protocol):
    """What a stored variant and a variant being checked both carry."""

    @property
    def text(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def digest(self) -> str | None: ...
    @property
    def media(self) -> list[dict[str, Any]] | None: ...


def library_of(session: Session | None) -> MediaLookup:
    """Look library items up in ``session``; without one, none is found."""
    if session is None:
        return lambda media_id: None
    return lambda media_id: session.get(MediaItem, media_id)


def media_entry(item: dict[str, Any], library: MediaLookup) -> Media:
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
        stored = library(media_id)
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
    return resolve_content(
        text=post.text,
        title=post.title,
        media=post.media,
        variant=variant,
        marker=marker,
        library=library_of(session if session is not None else object_session(post)),
    )


def resolve_content(
    *,
    text: str,
    title: str | None,
    media: list[dict[str, Any]] | None,
    variant: VariantFields | None,
    marker: str,
    library: MediaLookup,
) -> Content:
    """The variant's fields where it has them, the base's otherwise."""
    items = (variant.media if variant and variant.media is not None else media) or []
    return Content(
        text=variant.text if variant and variant.text else text,
        title=variant.title if variant and variant.title else title,
        digest=variant.digest if variant else None,
        media=tuple(media_entry(item, library) for item in items),
        marker=marker,
    )


LOCAL_PATH_HIDDEN = "(a local path, not shown; use the media library)"


def shown_media(items: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Media entries as staff and the audit log may see them: a ``source`` stored before the
    media library (a path on the server) is never shown, an http(s) one is."""
    if items is None:
        return None
    shown = []
    for item in items:
        source = item.get("source")
        if isinstance(source, str) and not source.lower().startswith(("http://", "https://")):
            item = {**item, "source": LOCAL_PATH_HIDDEN}
        shown.append(item)
    return shown
