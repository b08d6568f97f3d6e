"""Resolve a post into the content one platform receives: variant over base, hashtags added."""

from __future__ import annotations

from typing import Any

from campaigns.models import Post
from connectors.base import Content, Media, MediaKind


def _media(items: list[dict[str, Any]]) -> tuple[Media, ...]:
    return tuple(
        Media(
            kind=MediaKind(item["kind"]),
            source=str(item["source"]),
            mime_type=item.get("mime_type"),
            size_bytes=item.get("size_bytes"),
            alt_text=item.get("alt_text"),
        )
        for item in items
    )


def content_for(post: Post, platform: str, *, marker: str) -> Content:
    variant = next((v for v in post.variants if v.platform == platform), None)
    text = variant.text if variant and variant.text else post.text
    title = variant.title if variant and variant.title else post.title
    digest = variant.digest if variant else None
    media = variant.media if variant and variant.media is not None else post.media
    return Content(text=text, title=title, digest=digest, media=_media(media or []), marker=marker)
