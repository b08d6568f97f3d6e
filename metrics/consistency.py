"""The campaign totals kept by the database compared with the daily rollups they sum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from metrics.models import CampaignPlatformTotal, DailyRollup

_SUMMED = ("views", "likes", "comments", "shares", "interactions")
_DAYS = ("views", "likes", "comments", "shares")


@dataclass(frozen=True)
class TotalMismatch:
    """A (campaign, platform) whose kept totals differ from the sum of its days."""

    campaign_id: int
    platform: str
    kept: tuple[Any, ...]
    actual: tuple[Any, ...]


def total_mismatches(session: Session) -> list[TotalMismatch]:
    """Empty when the triggers kept every campaign's totals equal to its rollups
    (``publicist db check-counts``, the tests)."""
    columns: list[Any] = [func.coalesce(func.sum(getattr(DailyRollup, c)), 0) for c in _SUMMED]
    columns += [func.count(getattr(DailyRollup, c)) for c in _DAYS]
    actual = {
        (int(c), str(p)): tuple(int(v) for v in rest)
        for c, p, *rest in session.execute(
            select(DailyRollup.campaign_id, DailyRollup.platform, *columns).group_by(
                DailyRollup.campaign_id, DailyRollup.platform
            )
        )
    }
    kept = {
        (row.campaign_id, row.platform): (
            *(int(getattr(row, c)) for c in _SUMMED),
            *(int(getattr(row, f"{c}_days")) for c in _DAYS),
        )
        for row in session.scalars(select(CampaignPlatformTotal))
    }
    empty = (0,) * (len(_SUMMED) + len(_DAYS))
    return [
        TotalMismatch(key[0], key[1], kept.get(key, empty), actual.get(key, empty))
        for key in sorted(set(kept) | set(actual))
        if kept.get(key, empty) != actual.get(key, empty)
    ]
