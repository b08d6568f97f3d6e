"""The connector contract: capabilities as data, frozen dataclasses in and out, typed errors.

A connector receives credentials, an ``httpx.Client`` (whose ``base_url`` points at the real
API or a simulator) and a clock. It never reads settings, the environment or the database,
never sleeps, and never retries: it makes the calls, maps failures to ``connectors.errors``
and returns results. Refreshed credentials are returned to the caller, who stores them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import httpx

from connectors.errors import Violation
from publicist.core.clock import Clock, system_clock

if TYPE_CHECKING:
    from connectors.media import MediaLoader


class MediaKind(StrEnum):
    IMAGE = "image"
    GIF = "gif"
    VIDEO = "video"


@dataclass(frozen=True)
class Media:
    """A picture or video to attach: an http(s) ``url``, or an item of Publicist's library.

    A library item carries its id and ``library_file``, the name the library stored it under
    (resolved by ``connectors.media.MediaLoader`` inside the library's directory). An entry
    with neither (a local path stored before the library existed) breaks the common rules
    and is never read.
    """

    kind: MediaKind
    url: str | None = None
    media_id: int | None = None
    library_file: str | None = field(default=None, repr=False)
    mime_type: str | None = None
    size_bytes: int | None = None
    alt_text: str | None = None


@dataclass(frozen=True)
class Content:
    """What to publish on one platform: the post's variant for it, already resolved.

    ``marker`` is unique per delivery (e.g. ``"pub-42"``); connectors use it, or a hash of
    the content where the platform has nowhere to keep a marker, to find a post again.
    """

    text: str
    title: str | None = None
    digest: str | None = None
    media: tuple[Media, ...] = ()
    marker: str = ""


@dataclass(frozen=True)
class Credentials:
    """Secrets and ids for one account; secrets are kept out of ``repr`` so they never log."""

    access_token: str = field(default="", repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    user_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "user_id": self.user_id,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Credentials:
        expires = data.get("expires_at")
        return cls(
            access_token=data.get("access_token") or "",
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(expires) if expires else None,
            client_id=data.get("client_id"),
            client_secret=data.get("client_secret"),
            user_id=data.get("user_id"),
            extra=dict(data.get("extra") or {}),
        )


@dataclass(frozen=True)
class RateLimitPolicy:
    """A documented publishing quota: ``requests`` per ``per_seconds`` for one account."""

    requests: int
    per_seconds: float


@dataclass(frozen=True)
class Capabilities:
    """What a platform accepts and offers; data, so callers never learn it by trying."""

    platform: str
    display_name: str
    max_text_length: int
    text_length_rule: str
    media_kinds: frozenset[MediaKind]
    max_media: int
    metrics_batch_size: int
    publishes_async: bool
    interaction_counters: tuple[str, ...]
    """Counters summed into "interactions": ``likes``/``comments``/``shares`` or extras' keys."""
    requires_media: bool = False
    requires_title: bool = False
    max_title_length: int | None = None
    views_available: bool = True
    supports_refresh: bool = True
    publish_rate_limit: RateLimitPolicy | None = None
    metrics_rate_limit: RateLimitPolicy | None = None
    """The quota of the metrics endpoint, per account; reads never spend publishing slots."""
    app_publish_rate_limit: RateLimitPolicy | None = None
    """A cap on posts shared by every account authorised through one platform app (the
    credentials' ``client_id``), on top of each account's own quota."""
    app_metrics_rate_limit: RateLimitPolicy | None = None
    """The same for metrics reads."""
    usual_processing_seconds: float = 0.0
    """How long an asynchronous platform usually takes from accepting a post to publishing
    it; a delivery ``submitted`` for longer is shown to staff as stuck (0: not asynchronous)."""


class PublishState(StrEnum):
    PUBLISHED = "published"
    SUBMITTED = "submitted"
    """Accepted by an asynchronous platform; poll ``check_publish`` with ``submission_id``."""


@dataclass(frozen=True)
class PublishResult:
    state: PublishState
    remote_id: str | None = None
    url: str | None = None
    submission_id: str | None = None
    published_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemotePost:
    """A post found on the platform (for reconciliation after a lost response)."""

    remote_id: str
    url: str | None
    published_at: datetime | None = None
    text: str | None = None


@dataclass(frozen=True)
class MetricCounts:
    """Lifetime counters of one post; ``None`` means the platform does not give it (not 0)."""

    remote_id: str
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    extras: Mapping[str, int | None] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    def counter(self, name: str) -> int | None:
        if name in ("views", "likes", "comments", "shares"):
            value: int | None = getattr(self, name)
            return value
        return self.extras.get(name)


@runtime_checkable
class Connector(Protocol):
    """The interface every platform adapter implements (built-in or third-party)."""

    capabilities: ClassVar[Capabilities]
    default_base_url: ClassVar[str]
    credentials: Credentials
    """The account's current credentials; the caller replaces them after a refresh."""

    def __init__(
        self, credentials: Credentials, *, http: httpx.Client, clock: Clock = system_clock
    ) -> None:
        """Constructor injection only: credentials, an HTTP client (its ``base_url`` selects
        the real API or a simulator) and a clock; never settings or the environment."""
        ...

    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        """Every rule ``content`` breaks on this platform; empty when publishable."""
        ...

    def publish(self, content: Content) -> PublishResult:
        """Publish (or submit, on asynchronous platforms); raises ``ConnectorError`` types."""
        ...

    def check_publish(self, submission_id: str) -> PublishResult:
        """Poll an asynchronous publish; ``SUBMITTED`` while the platform still processes it."""
        ...

    def find_post(self, content: Content, *, since: datetime) -> RemotePost | None:
        """The post carrying ``content``'s marker or content published since ``since``."""
        ...

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[MetricCounts]:
        """Counters for up to ``capabilities.metrics_batch_size`` ids; missing ids are omitted."""
        ...

    def refresh_credentials(self) -> Credentials:
        """New credentials (rotated refresh token included); ``ReauthorizationRequired`` if not."""
        ...


class BaseConnector:
    """Shared constructor and helpers; built-in connectors derive from it."""

    capabilities: ClassVar[Capabilities]
    default_base_url: ClassVar[str] = ""

    def __init__(
        self,
        credentials: Credentials,
        *,
        http: httpx.Client,
        clock: Clock = system_clock,
        media: MediaLoader | None = None,
    ) -> None:
        from connectors.media import MediaLoader  # here: connectors.media imports this module

        self.credentials = credentials
        self.http = http
        self.clock = clock
        self.media = media if media is not None else MediaLoader()

    @property
    def platform(self) -> str:
        return self.capabilities.platform

    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        return check_common_rules(cls.capabilities, content)


def check_common_rules(caps: Capabilities, content: Content) -> list[Violation]:
    """The rules every platform shares: non-empty text, media kinds and counts, title."""
    problems: list[Violation] = []
    if not content.text.strip() and not content.media:
        problems.append(Violation("text", "''", "must not be empty"))
    if len(content.media) > caps.max_media:
        problems.append(
            Violation(
                "media",
                f"{len(content.media)} items",
                f"exceeds {caps.display_name}'s maximum of {caps.max_media}",
            )
        )
    for index, item in enumerate(content.media):
        problems.extend(media_reference_rules(index, item))
        if item.kind not in caps.media_kinds:
            allowed = ", ".join(sorted(k.value for k in caps.media_kinds)) or "none"
            problems.append(
                Violation(
                    f"media[{index}]",
                    item.kind.value,
                    f"is not accepted by {caps.display_name} (accepted: {allowed})",
                )
            )
    if caps.requires_media and not content.media:
        problems.append(Violation("media", "none", f"{caps.display_name} requires media"))
    if caps.requires_title and not (content.title or "").strip():
        problems.append(Violation("title", "''", f"{caps.display_name} requires a title"))
    if (
        caps.max_title_length is not None
        and content.title is not None
        and len(content.title) > caps.max_title_length
    ):
        problems.append(
            Violation(
                "title",
                f"{len(content.title)} characters",
                f"exceeds {caps.display_name}'s limit of {caps.max_title_length}",
            )
        )
    return problems


LEGACY_MEDIA_RULE = (
    "is no longer accepted: media come from Publicist's media library (publicist media add) "
    "or an http(s) URL, and this entry was never read"
)


def media_reference_rules(index: int, item: Media) -> list[Violation]:
    """A media entry must name a library item or an http(s) URL; a local path is refused."""
    name = f"media[{index}]"
    if item.library_file is not None:
        return []
    if item.url is None:
        return [
            Violation(
                name,
                f"{item.kind.value} with a local file path",
                LEGACY_MEDIA_RULE,
            )
        ]
    scheme = item.url.split(":", 1)[0].lower() if ":" in item.url else ""
    if scheme not in ("http", "https"):
        return [Violation(name, f"{item.kind.value} URL", "must be an http or https URL")]
    return []


def batched(items: Sequence[str], size: int) -> list[list[str]]:
    """Split ids into platform-sized batches."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
