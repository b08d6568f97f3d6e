"""An in-memory (or single-file) platform and its connector, for tests and the embedded demo.

The platform is deterministic: a post's audience is derived from its id, and its counters
grow with its age along a saturating curve, optionally sped up so a demo can compress days
into seconds. Its state lives in SQLite (``:memory:`` per process by default, or a file when
``credentials.extra["store"]`` names one) so a test process can inspect what a worker
process published. It never touches Publicist's database.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from connectors.base import (
    BaseConnector,
    Capabilities,
    Content,
    Credentials,
    MediaKind,
    MetricCounts,
    PublishResult,
    PublishState,
    RateLimitPolicy,
    RemotePost,
)
from connectors.errors import (
    AuthExpired,
    ContentRejected,
    DuplicateContent,
    OutcomeUnknown,
    RateLimited,
    RemoteNotFound,
    TransientError,
    Violation,
)

_IDS_PER_QUERY = 500  # well under SQLite's limit of parameters per statement

_SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    remote_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    marker TEXT NOT NULL,
    text TEXT NOT NULL,
    published_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_marker ON posts (marker);
CREATE TABLE IF NOT EXISTS faults (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

FAULT_KINDS = ("transient", "rate_limited", "auth_expired", "rejected", "duplicate", "lost")


@dataclass(frozen=True)
class Engagement:
    views: int
    likes: int
    comments: int
    shares: int

    @property
    def interactions(self) -> int:
        return self.likes + self.comments + self.shares


class MockPlatform:
    """The platform's side: posts, injected faults, and the engagement model."""

    _memory: ClassVar[dict[str, MockPlatform]] = {}
    _memory_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str, *, speed: float | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._prepare(file_backed=path != ":memory:")
        if speed is not None:
            self.set_speed(speed)

    def _prepare(self, *, file_backed: bool) -> None:
        """Switch to WAL and create the tables, even while other processes open the same file.

        SQLite answers "database is locked" at once, without waiting out the busy timeout,
        while another connection is setting up a new file's write-ahead log; so ask again.
        """
        deadline = time.monotonic() + 30
        while True:
            try:
                mode = self._db.execute("PRAGMA journal_mode").fetchone()[0]
                if file_backed and mode != "wal":
                    self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> MockPlatform:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def set_speed(self, speed: float) -> None:
        """How many platform seconds pass per real second (engagement grows that much faster)."""
        self._db.execute("INSERT OR REPLACE INTO state VALUES ('speed', ?)", (str(speed),))

    @property
    def speed(self) -> float:
        row = self._db.execute("SELECT value FROM state WHERE key = 'speed'").fetchone()
        return float(row[0]) if row else 1.0

    @classmethod
    def open(cls, store: str = "memory", *, speed: float | None = None) -> MockPlatform:
        """``"memory"`` (or ``"memory:NAME"``) is shared within a process; else a file path.

        ``speed`` is stored with the platform, so every process that opens it agrees.
        """
        if store.startswith("memory"):
            with cls._memory_lock:
                platform = cls._memory.get(store)
                if platform is None:
                    platform = cls(":memory:")
                    cls._memory[store] = platform
            if speed is not None:
                platform.set_speed(speed)
            return platform
        return cls(store, speed=speed)

    @classmethod
    def forget_memory(cls) -> None:
        with cls._memory_lock:
            for platform in cls._memory.values():
                platform.close()
            cls._memory.clear()

    # -- publishing ---------------------------------------------------------------------
    def create(self, account: str, marker: str, text: str, at: datetime) -> str:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (count,) = self._db.execute("SELECT count(*) FROM posts").fetchone()
                digest = hashlib.sha256(f"{account}|{marker}|{count}".encode()).hexdigest()
                remote_id = f"{count + 1:06d}{digest[:10]}"
                self._db.execute(
                    "INSERT INTO posts VALUES (?, ?, ?, ?, ?)",
                    (remote_id, account, marker, text, at.timestamp()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return remote_id

    def take_fault(self) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT id, kind FROM faults ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            self._db.execute("DELETE FROM faults WHERE id = ?", (row[0],))
            return str(row[1])

    def inject(self, kind: str, times: int = 1) -> None:
        """Make the next ``times`` publish calls fail with ``kind`` (see ``FAULT_KINDS``)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._db.executemany("INSERT INTO faults (kind) VALUES (?)", [(kind,)] * times)

    # -- reading --------------------------------------------------------------------------
    def posts(self, account: str | None = None) -> list[tuple[str, str, str, str, datetime]]:
        query = "SELECT remote_id, account, marker, text, published_at FROM posts"
        args: tuple[str, ...] = ()
        if account is not None:
            query += " WHERE account = ?"
            args = (account,)
        rows = self._db.execute(query + " ORDER BY remote_id", args).fetchall()
        return [(r[0], r[1], r[2], r[3], datetime.fromtimestamp(r[4], UTC)) for r in rows]

    def count_by_marker(self) -> dict[str, int]:
        rows = self._db.execute("SELECT marker, count(*) FROM posts GROUP BY marker").fetchall()
        return {str(marker): int(count) for marker, count in rows}

    def freeze(self, at: datetime) -> None:
        """Stop engagement growth at ``at`` so totals can be compared exactly."""
        self._db.execute(
            "INSERT OR REPLACE INTO state VALUES ('frozen_at', ?)", (str(at.timestamp()),)
        )

    def frozen_at(self) -> datetime | None:
        row = self._db.execute("SELECT value FROM state WHERE key = 'frozen_at'").fetchone()
        return datetime.fromtimestamp(float(row[0]), UTC) if row else None

    def engagement(self, remote_id: str, now: datetime) -> Engagement | None:
        return self.engagements([remote_id], now).get(remote_id)

    def engagements(self, remote_ids: Sequence[str], now: datetime) -> dict[str, Engagement]:
        """The counters of the posts among ``remote_ids`` that exist, read in one query (a
        collection asks for a platform's whole batch at once)."""
        frozen = self.frozen_at()
        moment = min(now, frozen) if frozen else now
        found: dict[str, Engagement] = {}
        for start in range(0, len(remote_ids), _IDS_PER_QUERY):
            chunk = list(remote_ids[start : start + _IDS_PER_QUERY])
            marks = ", ".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT remote_id, published_at FROM posts WHERE remote_id IN ({marks})",  # noqa: S608 - placeholders only
                chunk,
            )
            for remote_id, published_at in rows:
                found[remote_id] = self._grown(remote_id, float(published_at), moment)
        return found

    def _grown(self, remote_id: str, published_at: float, moment: datetime) -> Engagement:
        age_hours = max(0.0, moment.timestamp() - published_at) * self.speed / 3600
        seed = int(hashlib.sha256(remote_id.encode()).hexdigest()[:8], 16)
        audience = 5_000 + seed % 40_000
        views = math.floor(audience * (1 - math.exp(-age_hours / 6)))
        return Engagement(
            views=views,
            likes=views * 30 // 1000,
            comments=views * 5 // 1000,
            shares=views * 9 // 1000,
        )

    def totals(self, now: datetime) -> Engagement:
        """Ground truth over every post: what a report must show after a final collection."""
        views = likes = comments = shares = 0
        for counts in self.engagements([remote_id for remote_id, *_ in self.posts()], now).values():
            views += counts.views
            likes += counts.likes
            comments += counts.comments
            shares += counts.shares
        return Engagement(views, likes, comments, shares)


class MockConnector(BaseConnector):
    """Publishes to a :class:`MockPlatform`; ``credentials.extra`` may set ``store``/``speed``."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        platform="mock",
        display_name="Mock",
        max_text_length=280,
        text_length_rule="characters (code points)",
        media_kinds=frozenset({MediaKind.IMAGE, MediaKind.VIDEO}),
        max_media=4,
        metrics_batch_size=50,
        publishes_async=False,
        interaction_counters=("likes", "comments", "shares"),
        supports_refresh=True,
        publish_rate_limit=RateLimitPolicy(requests=1000, per_seconds=60),
    )
    default_base_url: ClassVar[str] = "http://127.0.0.1/mock"

    @contextmanager
    def _platform(self) -> Iterator[MockPlatform]:
        extra = self.credentials.extra
        store = extra.get("store", "memory")
        speed = float(extra["speed"]) if "speed" in extra else None
        platform = MockPlatform.open(store, speed=speed)
        try:
            yield platform
        finally:
            if not store.startswith("memory"):
                platform.close()

    @property
    def account(self) -> str:
        return self.credentials.user_id or "mock-user"

    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        problems = super().validate(content)
        if len(content.text) > cls.capabilities.max_text_length:
            problems.append(
                Violation("text", f"{len(content.text)} characters", "exceeds Mock's limit of 280")
            )
        return problems

    def publish(self, content: Content) -> PublishResult:
        with self._platform() as store:
            return self._publish(store, content)

    def _publish(self, store: MockPlatform, content: Content) -> PublishResult:
        fault = store.take_fault()
        now = self.clock.now()
        if fault == "transient":
            raise TransientError("HTTP 503 (injected)", platform="mock", code="503")
        if fault == "rate_limited":
            raise RateLimited(
                "HTTP 429 (injected)",
                platform="mock",
                code="429",
                retry_at=now + timedelta(seconds=2),
            )
        if fault == "auth_expired":
            raise AuthExpired("token expired (injected)", platform="mock", code="401")
        if fault == "rejected":
            raise ContentRejected("content violates policy (injected)", platform="mock", code="403")
        if fault == "duplicate":
            raise DuplicateContent("duplicate content (injected)", platform="mock", code="403")
        remote_id = store.create(self.account, content.marker, content.text, now)
        if fault == "lost":
            raise OutcomeUnknown(
                "response lost after the post was created (injected)", platform="mock"
            )
        return PublishResult(
            state=PublishState.PUBLISHED,
            remote_id=remote_id,
            url=f"https://mock.example/{self.account}/{remote_id}",
            published_at=now,
            raw={"id": remote_id},
        )

    def check_publish(self, submission_id: str) -> PublishResult:
        raise RemoteNotFound(
            f"mock publishes synchronously; no job {submission_id!r}", platform="mock"
        )

    def find_post(self, content: Content, *, since: datetime) -> RemotePost | None:
        with self._platform() as store:
            posts = store.posts(self.account)
        for remote_id, _account, marker, text, at in posts:
            if marker == content.marker and at >= since:
                return RemotePost(
                    remote_id=remote_id,
                    url=f"https://mock.example/{self.account}/{remote_id}",
                    published_at=at,
                    text=text,
                )
        return None

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[MetricCounts]:
        with self._platform() as store:
            return self._fetch(store, remote_ids)

    def _fetch(self, store: MockPlatform, remote_ids: Sequence[str]) -> list[MetricCounts]:
        asked = remote_ids[: self.capabilities.metrics_batch_size]
        found = store.engagements(asked, self.clock.now())
        results: list[MetricCounts] = []
        for remote_id in asked:
            counts = found.get(remote_id)
            if counts is None:
                continue
            results.append(
                MetricCounts(
                    remote_id=remote_id,
                    views=counts.views,
                    likes=counts.likes,
                    comments=counts.comments,
                    shares=counts.shares,
                    raw={
                        "views": counts.views,
                        "likes": counts.likes,
                        "comments": counts.comments,
                        "shares": counts.shares,
                    },
                )
            )
        return results

    def refresh_credentials(self) -> Credentials:
        token = hashlib.sha256(f"{self.credentials.access_token}|refresh".encode()).hexdigest()
        return Credentials(
            access_token=token[:32],
            refresh_token=token[32:],
            expires_at=self.clock.now() + timedelta(hours=2),
            client_id=self.credentials.client_id,
            user_id=self.credentials.user_id,
            extra=self.credentials.extra,
        )
