"""The collection cadence as staff write it in PUBLICIST_COLLECTION_CADENCE.

It lives at the bottom so that settings reject a bad cadence when they load, not when the
collector first runs.
"""

from __future__ import annotations

import re
from datetime import timedelta

from publicist.core.errors import InvalidInput

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


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
