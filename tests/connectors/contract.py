"""The connector contract every platform passes against its simulator, and the platforms' list.

keyring's ``BackendBasicTests`` idea: one suite (``test_contract.py``), and per platform a
:class:`Case` that says only how to make a publishable post, how long the platform takes to
finish one, and what it does with a duplicate. Adding a platform adds one case to ``CASES``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import httpx

from connectors import registry
from connectors.base import (
    BaseConnector,
    Connector,
    Content,
    Credentials,
    Media,
    MediaKind,
    PublishResult,
    PublishState,
)
from connectors.http import make_client
from connectors.media import MediaLoader
from simulators.control import SimulatorControl
from simulators.harness import Simulation
from simulators.server import SimulatorServer

BEIJING = timezone(timedelta(hours=8))


@dataclass
class Env:
    """One platform's simulator, reset and stopped (speed 0), and connectors pointed at it.

    A third-party connector runs the same suite with its own ``Case`` and a
    ``SimulatorServer`` built from its simulator package (``modules=``).
    """

    case: Case
    server: SimulatorServer
    control: SimulatorControl
    files: Path
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def sim(self) -> Simulation:
        return self.server.sims[self.case.slug]

    def now(self) -> datetime:
        return self.sim.clock.now()

    def advance(self, seconds: float) -> None:
        self.control.clock(advance_seconds=seconds)

    def connector(self, credentials: Credentials | None = None) -> Connector:
        if credentials is None:
            provisioned = self.control.add_account(self.case.handle, **self.case.settings)
            credentials = Credentials.from_dict(provisioned)
        client = make_client(self.server.base_url(self.case.slug))
        self.clients.append(client)
        factory = registry.load(self.case.slug)
        if issubclass(factory, BaseConnector):  # every built-in reads media through a loader
            built = cast(type[BaseConnector], factory)
            loader = MediaLoader(library_dir=self.files)
            media = built(credentials, http=client, clock=self.sim.clock, media=loader)
            return cast(Connector, media)
        return factory(credentials, http=client, clock=self.sim.clock)

    def close(self) -> None:
        for client in self.clients:
            client.close()


@dataclass(frozen=True)
class Case:
    """What the contract needs to know about one platform."""

    slug: str
    handle: str
    settings: dict[str, Any]
    finish_seconds: float
    """Virtual time after which a submitted post is published (0: publishing is synchronous)."""
    duplicates_refused: bool
    """The platform refuses the same content twice (``DuplicateContent``) or posts it again."""
    unknown_id: str
    unknown_submission: str | None
    """A well-formed submission id the platform never issued (asynchronous platforms)."""
    start: datetime | None = None
    """Where the virtual clock starts, for platforms whose figures follow the calendar."""
    age_seconds: float = 6 * 3600
    """How long to wait before figures are there to read."""
    same_marker_same_post: bool = False
    """The platform answers a repeat of the same delivery (its marker, sent as an idempotency
    key) with the post it already made, instead of refusing or doubling it (Mastodon)."""

    def content(self, env: Env, n: int) -> Content:
        raise NotImplementedError

    def finish(self, env: Env, connector: Connector, result: PublishResult) -> PublishResult:
        """Let an asynchronous publish finish and return its published result."""
        for _ in range(10):
            if result.state is PublishState.PUBLISHED:
                return result
            env.advance(self.finish_seconds)
            assert result.submission_id is not None
            result = connector.check_publish(result.submission_id)
        raise AssertionError(
            f"{self.slug}: still {result.state} after {self.finish_seconds * 10} s"
        )


def _stored(env: Env, kind: MediaKind, name: str, head: bytes, size: int) -> Media:
    """A file in the media library folder ``env.files``, named the way the library names it."""
    stored = f"{hashlib.sha256(name.encode()).hexdigest()}.{name.rsplit('.', 1)[1]}"
    with (env.files / stored).open("wb") as handle:
        handle.write(head)
        handle.truncate(size)  # sparse: only the byte count matters
    return Media(kind, media_id=len(name), library_file=stored)


def _video(env: Env, n: int) -> Media:
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return _stored(env, MediaKind.VIDEO, f"clip-{n}.mp4", head, 1024 * 1024)


@dataclass(frozen=True)
class TwitterCase(Case):
    def content(self, env: Env, n: int) -> Content:
        return Content(text=f"Contract post {n}: how a patent reaches your home", marker=f"c{n}")


@dataclass(frozen=True)
class WeiboCase(Case):
    def content(self, env: Env, n: int) -> Content:
        return Content(text=f"契约测试第{n}条 https://example.com/ip-week", marker=f"c{n}")


@dataclass(frozen=True)
class WechatCase(Case):
    def content(self, env: Env, n: int) -> Content:
        cover = _stored(env, MediaKind.IMAGE, "cover.jpg", b"\xff\xd8\xff\xe0", 260)
        return Content(
            text=f"第{n}篇:专利如何走进千家万户。",
            title=f"知识产权宣传 {n}",
            digest="宣传周",
            media=(cover,),
            marker=f"c{n}",
        )


@dataclass(frozen=True)
class VideoCase(Case):
    """TikTok and Douyin: one uploaded video with a caption."""

    def content(self, env: Env, n: int) -> Content:
        return Content(
            text=f"第{n}个视频 IP creates a better life",
            media=(_video(env, n),),
            marker=f"c{n}",
        )


CASES: list[Case] = [
    TwitterCase(
        slug="twitter",
        handle="@IPRinCN",
        settings={"access_lifetime": 30 * 86_400},  # outlives the metrics tests' clock jumps
        finish_seconds=0,
        duplicates_refused=True,
        unknown_id="1234567890123456789",
        unknown_submission=None,
    ),
    WeiboCase(
        slug="weibo",
        handle="cnipa",
        settings={"refresh_tokens": True, "token_lifetime": 30 * 86_400},
        finish_seconds=0,
        duplicates_refused=True,
        unknown_id="9100000000000001",
        unknown_submission=None,
    ),
    WechatCase(
        slug="wechat",
        handle="cnipa",
        settings={"token_lifetime": 30 * 86_400},
        finish_seconds=5,
        duplicates_refused=False,
        unknown_id="garbage",
        unknown_submission="1:1:1776643200",
        start=datetime(2026, 4, 20, 9, 30, tzinfo=BEIJING),
        age_seconds=24 * 3600,  # WeChat's figures are T+1
    ),
    VideoCase(
        slug="tiktok",
        handle="@cnipa",
        settings={"access_lifetime": 30 * 86_400},
        finish_seconds=5,
        duplicates_refused=False,
        unknown_id="7300000000000000001",
        unknown_submission="v_pub_file~v2-1.7300000000000000001",
    ),
    VideoCase(
        slug="douyin",
        handle="cnipa",
        settings={"review_seconds": 5},
        finish_seconds=5,
        duplicates_refused=False,
        unknown_id="@bm90LWEtcG9zdA==",
        unknown_submission="@bm90LWEtcG9zdA==",
    ),
]
"""Every built-in connector, each against its simulator."""
