"""How often a post is measured: often while it is young, rarely once its numbers settle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from publicist.core.cadence_spec import parse_tiers

DEFAULT_TIERS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=1), timedelta(minutes=5)),
    (timedelta(days=1), timedelta(minutes=30)),
    (timedelta(days=7), timedelta(hours=6)),
    (timedelta(days=90), timedelta(days=1)),
)

DEFAULT_SPEC = "1h:5m,1d:30m,7d:6h,90d:1d"
"""``DEFAULT_TIERS`` written the way ``PUBLICIST_COLLECTION_CADENCE`` is."""


@dataclass(frozen=True)
class Cadence:
    """``tiers``: (age up to, interval) pairs in increasing age; after the last, no more."""

    tiers: tuple[tuple[timedelta, timedelta], ...] = DEFAULT_TIERS
    speed: float = 1.0
    """Compress ages and intervals (the demo runs days of collection in seconds)."""

    def next_collection(self, *, published_at: datetime, now: datetime) -> datetime | None:
        age = (now - published_at) * self.speed
        for limit, interval in self.tiers:
            if age < limit:
                return now + interval / self.speed
        return None

    @classmethod
    def from_spec(cls, spec: str, *, speed: float = 1.0) -> Cadence:
        return cls(tiers=parse_tiers(spec), speed=speed)
