"""The totals kept by the database compared with what they sum: campaign totals with the daily
rollups, account totals with the latest values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, type_coerce
from sqlalchemy.orm import Session

from metrics.models import AccountMetricTotal, CampaignPlatformTotal, DailyRollup, DeliveryMetrics
from publicist.core.database import UTCDateTime

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


@dataclass(frozen=True)
class AccountTotalMismatch:
    """An (account, campaign, platform) whose kept totals differ from its latest values."""

    account_id: int
    campaign_id: int
    platform: str
    kept: tuple[Any, ...]
    actual: tuple[Any, ...]


def account_total_mismatches(session: Session) -> list[AccountTotalMismatch]:
    """Empty when the triggers kept every account's totals equal to the sums of its
    deliveries' latest values (``publicist db check-counts``, the tests)."""
    measured = case((DeliveryMetrics.collections > 0, DeliveryMetrics.collected_at))
    key = (DeliveryMetrics.account_id, DeliveryMetrics.campaign_id, DeliveryMetrics.platform)
    columns: list[Any] = [func.coalesce(func.sum(getattr(DeliveryMetrics, c)), 0) for c in _SUMMED]
    columns += [func.count(getattr(DeliveryMetrics, c)) for c in _DAYS]
    columns.append(type_coerce(func.max(measured), UTCDateTime()))
    actual = {
        (int(a), int(c), str(p)): (*(int(v) for v in rest[:-1]), rest[-1])
        for a, c, p, *rest in session.execute(select(*key, *columns).group_by(*key))
    }
    kept = {
        (row.account_id, row.campaign_id, row.platform): (
            *(int(getattr(row, c)) for c in _SUMMED),
            *(int(getattr(row, f"{c}_reported")) for c in _DAYS),
            row.updated_at,
        )
        for row in session.scalars(select(AccountMetricTotal))
    }
    missing = (None,)
    return [
        AccountTotalMismatch(*key, kept.get(key, missing), actual.get(key, missing))
        for key in sorted(set(kept) | set(actual))
        if kept.get(key, missing) != actual.get(key, missing)
    ]
