"""How often a post is measured: often while it is young, rarely once its numbers settle."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from publicist.core.errors import InvalidInput

DEFAULT_TIERS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=1), timedelta(minutes=5)),
    (timedelta(days=1), timedelta(minutes=30)),
    (timedelta(days=7), timedelta(hours=6)),
    (timedelta(days=90), timedelta(days=1)),
)

DEFAULT_SPEC = "1h:5m,1d:30m,7d:6h,90d:1d"
"""``DEFAULT_TIERS`` written the way ``PUBLICIST_COLLECTION_CADENCE`` is."""

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


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


def _duration(text: str, spec: str) -> timedelta:
    match = _DURATION.match(text)
    if match is None:
        raise InvalidInput(
            "PUBLICIST_COLLECTION_CADENCE",
            spec,
            f"has {text.strip()!r} where a duration such as 30m, 6h or 7d is expected",
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_tiers(spec: str) -> tuple[tuple[timedelta, timedelta], ...]:
    """``"1h:5m,1d:30m"``: every 5 minutes until an age of 1 hour, then every 30 until a day.

    Ages must increase and every interval be positive; after the last age, no more collection.
    """
    tiers: list[tuple[timedelta, timedelta]] = []
    for part in spec.split(","):
        if not part.strip():
            continue
        age_text, colon, interval_text = part.partition(":")
        if not colon:
            raise InvalidInput(
                "PUBLICIST_COLLECTION_CADENCE", spec, f"has {part.strip()!r}, not AGE:INTERVAL"
            )
        age, interval = _duration(age_text, spec), _duration(interval_text, spec)
        if interval <= timedelta(0):
            raise InvalidInput("PUBLICIST_COLLECTION_CADENCE", spec, "has a zero interval")
        if tiers and age <= tiers[-1][0]:
            raise InvalidInput(
                "PUBLICIST_COLLECTION_CADENCE", spec, "must list ages in increasing order"
            )
        tiers.append((age, interval))
    if not tiers:
        raise InvalidInput("PUBLICIST_COLLECTION_CADENCE", spec, "names no AGE:INTERVAL tier")
    return tuple(tiers)
