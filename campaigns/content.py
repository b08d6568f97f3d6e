"""Resolve a post into the content one platform receives: variant over base, hashtags added."""

from __future__ import annotations

from typing import Any, Protocol

from campaigns.models import Post
from connectors.base import Content, Media, MediaKind


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
    return resolve_content(
        text=post.text, title=post.title, media=post.media, variant=variant, marker=marker
    )


def resolve_content(
    *,
    text: str,
    title: str | None,
    media: list[dict[str, Any]] | None,
    variant: VariantFields | None,
    marker: str,
) -> Content:
    """The variant's fields where it has them, the base's otherwise."""
    return Content(
        text=variant.text if variant and variant.text else text,
        title=variant.title if variant and variant.title else title,
        digest=variant.digest if variant else None,
        media=_media((variant.media if variant and variant.media is not None else media) or []),
        marker=marker,
    )
