"""Inputs to the campaign services, shared by the CLI, the CSV importer and the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class VariantInput:
    """What differs on one platform; ``None`` fields fall back to the post's base values."""

    text: str | None = None
    title: str | None = None
    digest: str | None = None
    media: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class CampaignInput:
    name: str
    timezone: str | None = None
    theme: str | None = None
    description: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    hashtags: list[str] = field(default_factory=list)
    owner: str | None = None
    late_policy: str = "publish"
    self_approval: bool = False


@dataclass(frozen=True)
class PostInput:
    campaign: str
    text: str
    accounts: list[str]
    at: str | None = None
    title: str | None = None
    media: list[dict[str, Any]] = field(default_factory=list)
    variants: dict[str, VariantInput] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckedPost:
    """A post that passed every check, as plain values: what ``add_post`` stores as one
    post and the CSV import inserts in bulk."""

    campaign_id: int
    text: str
    title: str | None
    media: list[dict[str, Any]]
    publish_at: datetime | None
    variants: dict[str, VariantInput]
    account_ids: list[int]


@dataclass(frozen=True)
class PostChanges:
    """An edit of a post: ``None`` keeps a field as it is; an empty title clears it.

    ``variants`` changes only the platforms it names: a platform mapped to ``None`` loses its
    variant; otherwise the given fields replace the stored ones (an empty string clears one).
    ``accounts`` and ``media`` replace the whole list.
    """

    text: str | None = None
    title: str | None = None
    accounts: list[str] | None = None
    media: list[dict[str, Any]] | None = None
    variants: dict[str, VariantInput | None] | None = None

    @property
    def empty(self) -> bool:
        return all(
            value is None
            for value in (self.text, self.title, self.accounts, self.media, self.variants)
        )
