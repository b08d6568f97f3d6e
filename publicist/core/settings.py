"""Settings from the environment (prefix ``PUBLICIST_``); defaults give the embedded mode."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from publicist.core.cadence_spec import parse_tiers
from publicist.core.errors import InvalidInput, PublicistError
from publicist.core.zones import is_canonical_zone

SECRET_KEY_FILE = "publicist.key"  # noqa: S105 - a file name, not a secret


class Settings(BaseSettings):
    """Every setting Publicist reads; the README lists them with their defaults."""

    model_config = SettingsConfigDict(env_prefix="PUBLICIST_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///publicist.db",
        description="SQLAlchemy URL of the application database.",
    )
    broker_url: str = Field(
        default="sqla+sqlite:///publicist-broker.db",
        description="Celery broker URL; the default needs no server (kombu SQLAlchemy transport).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the shared per-account rate limits. Unset: the broker's Redis "
        "when the broker is Redis, else in-process limits (embedded mode).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts platform credentials at rest. Unset: generated once "
        "into ./publicist.key.",
    )
    default_timezone: str = Field(default="Asia/Shanghai")
    dispatch_tick_seconds: float = Field(default=1.0, gt=0)
    dispatch_lookahead_seconds: float = Field(default=10.0, ge=0)
    publish_max_attempts: int = Field(default=5, ge=1)
    publish_creation_margin_seconds: float = Field(
        default=70.0,
        gt=0,
        description="The longest a request to a platform may take (pool wait, connect, one "
        "write and one read stall at their timeouts): a post may be created only until this "
        "long before the attempt's lease ends, and the reconciler asks the platform only "
        "this long after it ended. Lower it only where every request surely ends sooner "
        "(tests against the local simulators).",
    )
    publish_lease_seconds: float = Field(
        default=150.0,
        gt=0,
        description="How long a publishing delivery belongs to its worker without a renewal "
        "(a running attempt renews it every third of it, for up to 10 minutes); then the "
        "reconciler takes over. At least twice the creation margin, so that most of each "
        "renewal is left for creating the post.",
    )
    missed_grace_seconds: float = Field(
        default=300.0,
        ge=0,
        description="A delivery found this much later than due follows its campaign's "
        "late policy (publish late, or mark missed).",
    )
    requeue_after_seconds: float = Field(
        default=3.0,
        gt=0,
        description="A queued delivery whose attempt has not started this long after its "
        "time has its message sent again by the next dispatcher tick (the message may have "
        "been lost with a killed worker or the broker); at most once per this interval.",
    )
    reconcile_tick_seconds: float = Field(default=10.0, gt=0)
    reconcile_settle_seconds: float = Field(
        default=30.0,
        ge=0,
        description="After a lost response, a post the platform does not show yet is looked "
        "for again this much later before it is published again (platforms index with a lag).",
    )
    metrics_port: int | None = Field(
        default=None, description="Serve Prometheus metrics of a worker on this port."
    )
    task_events: bool = Field(
        default=False,
        description="Workers send Celery task events from the start. Off by default: they "
        "cost CPU on every task, and Flower turns them on in running workers by itself.",
    )
    collect_tick_seconds: float = Field(default=5.0, gt=0)
    token_keepalive_days: float = Field(
        default=30.0,
        ge=0,
        le=3650,
        allow_inf_nan=False,
        description="Refresh an account's token once nobody has used it for this many days, "
        "so rotating refresh tokens (X, TikTok) do not lapse between campaigns; 0: never.",
    )
    worker_concurrency: int = Field(default=8, ge=1)
    collection_speed: float = Field(
        default=1.0,
        gt=0,
        description="Seconds of post age that one real second counts as when planning "
        "metric collection; above 1 only for demos and tests.",
    )
    collection_cadence: str = Field(
        default="1h:5m,1d:30m,7d:6h,90d:1d",
        description="AGE:INTERVAL tiers of metric collection (s, m, h, d): measure every "
        "INTERVAL until a post is AGE old, then the next tier; none after the last.",
    )
    clock_file: Path | None = Field(
        default=None,
        description="Read the workers' current time from this file (ISO 8601 with offset) "
        "instead of the system clock: the demo replays a year on a virtual clock. Unset: "
        "the system clock.",
    )
    media_dir: Path = Field(
        default=Path("media"),
        description="The media library's folder: uploaded files, stored under names "
        "Publicist chooses (beside the default SQLite file).",
    )
    media_fetch_allow: str = Field(
        default="",
        description="Networks (comma-separated CIDR, e.g. 127.0.0.1/32) that media URLs may be "
        "fetched from although not public; empty: public addresses only. For tests and demos.",
    )

    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The workspace's address as people reach it: the start of every link in "
        "notifications, webhooks and report e-mails.",
    )
    notify_tick_seconds: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="How often the notify task drains the events outbox (at most 30 s, so a "
        "failure reaches a person within a minute).",
    )

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        parsed = urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("must be an http(s) URL such as https://publicist.example.org")
        if parsed.username or parsed.password:
            raise ValueError("must not carry a user name or password")
        return value.rstrip("/")

    x_client_id: str | None = Field(
        default=None,
        description="Publicist's app on X: its client id; unset: X accounts cannot be "
        "connected from the workspace or the CLI.",
    )
    x_client_secret: SecretStr | None = Field(
        default=None, description="The X app's client secret (never logged or shown)."
    )
    x_api_base: str | None = Field(
        default=None,
        description="X's API host for the code exchange (unset: the real one; a simulator's "
        "address in tests and the demo).",
    )
    x_auth_base: str | None = Field(
        default=None,
        description="Host of X's consent page (unset: https://x.com).",
    )
    tiktok_client_id: str | None = Field(
        default=None,
        description="Publicist's app on TikTok: its client key; unset: TikTok accounts cannot be "
        "connected from the workspace or the CLI.",
    )
    tiktok_client_secret: SecretStr | None = Field(
        default=None, description="The TikTok app's client secret (never logged or shown)."
    )
    tiktok_api_base: str | None = Field(
        default=None,
        description="TikTok's API host for the code exchange (unset: the real one; a simulator's "
        "address in tests and the demo).",
    )
    tiktok_auth_base: str | None = Field(
        default=None,
        description="Host of TikTok's consent page (unset: https://www.tiktok.com).",
    )
    weibo_client_id: str | None = Field(
        default=None,
        description="Publicist's app on Weibo: its client id; unset: Weibo accounts cannot be "
        "connected from the workspace or the CLI.",
    )
    weibo_client_secret: SecretStr | None = Field(
        default=None, description="The Weibo app's client secret (never logged or shown)."
    )
    weibo_api_base: str | None = Field(
        default=None,
        description="Weibo's API host for the code exchange (unset: the real one; a simulator's "
        "address in tests and the demo).",
    )
    weibo_auth_base: str | None = Field(
        default=None,
        description="Host of Weibo's consent page (unset: https://api.weibo.com).",
    )
    douyin_client_id: str | None = Field(
        default=None,
        description="Publicist's app on Douyin: its client key; unset: Douyin accounts cannot be "
        "connected from the workspace or the CLI.",
    )
    douyin_client_secret: SecretStr | None = Field(
        default=None, description="The Douyin app's client secret (never logged or shown)."
    )
    douyin_api_base: str | None = Field(
        default=None,
        description="Douyin's API host for the code exchange (unset: the real one; a simulator's "
        "address in tests and the demo).",
    )
    douyin_auth_base: str | None = Field(
        default=None,
        description="Host of Douyin's consent page (unset: https://open.douyin.com).",
    )
    wechat_api_base: str | None = Field(
        default=None,
        description="WeChat's API host for connecting Official Accounts (unset: the real one).",
    )

    @field_validator(
        "x_api_base",
        "x_auth_base",
        "tiktok_api_base",
        "tiktok_auth_base",
        "weibo_api_base",
        "weibo_auth_base",
        "douyin_api_base",
        "douyin_auth_base",
        "wechat_api_base",
    )
    @classmethod
    def _platform_base(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) address such as https://api.x.com")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry a user name or password")
        return value.strip().rstrip("/")

    @field_validator("media_fetch_allow")
    @classmethod
    def _readable_networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def media_fetch_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.media_fetch_allow)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_canonical_zone(value):  # host-only names such as 'localtime' too
            raise ValueError(f"{value!r} is not an IANA time zone name")
        return value

    @field_validator("collection_cadence")
    @classmethod
    def _readable_cadence(cls, value: str) -> str:
        try:
            parse_tiers(value)
        except InvalidInput as exc:
            raise ValueError(exc.rule) from exc
        return value

    @field_validator("publish_lease_seconds")
    @classmethod
    def _lease_holds_the_margin(cls, value: float, info: ValidationInfo) -> float:
        margin = info.data.get("publish_creation_margin_seconds")
        if margin is not None and value < 2 * margin:
            raise ValueError(
                f"must be at least twice PUBLICIST_PUBLISH_CREATION_MARGIN_SECONDS "
                f"({2 * margin:g} s): a post may be created only until one margin before "
                "the lease ends"
            )
        return value

    @property
    def is_embedded_broker(self) -> bool:
        return self.broker_url.startswith("sqla+")

    @property
    def rate_limit_redis_url(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    def encryption_key(self) -> str:
        """The credential key; generated and kept beside the database on first use if unset."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = Path(SECRET_KEY_FILE)
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return key


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.1/32, ::1/128"`` as networks; ``ValueError`` names the bad one."""
    networks: list[IPNetwork] = []
    for part in (p.strip() for p in value.split(",")):
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not a network such as 127.0.0.1/32") from None
    return tuple(networks)


class InvalidSettings(PublicistError):
    """The environment (or .env) holds a setting Publicist cannot use."""

    def __init__(self, error: ValidationError) -> None:
        problems = []
        for detail in error.errors():
            name = "_".join(str(part) for part in detail["loc"])
            variable = f"{Settings.model_config.get('env_prefix', '')}{name}".upper()
            shown = "" if _is_sensitive(name) else f" (got {detail['input']!r})"
            message = detail["msg"].removeprefix("Value error, ")
            problems.append(f"{variable}: {message}{shown}")
        super().__init__("invalid setting " + "; ".join(problems))


def _is_sensitive(name: str) -> bool:
    # URLs can carry passwords; keys and secrets are never echoed back.
    return name.endswith("_url") or "secret" in name or "key" in name


def load_settings() -> Settings:
    """Settings from the environment, with every bad value named in one readable error."""
    try:
        return Settings()
    except ValidationError as error:
        raise InvalidSettings(error) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget cached settings (after the environment changed, e.g. in tests or the demo)."""
    get_settings.cache_clear()
