"""A month shows the first entries of each day and each day's full count: the same entries,
in the same order, as the whole window cut per day (SQLite and PostgreSQL, which counts the
days itself; in a zone without daylight saving time and across a change of one)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from campaigns.calendar.queries import Filters, entries, first_entries_per_day
from campaigns.models import Account, Campaign, Delivery, Post
from campaigns.states import DeliveryState, PostState

SHANGHAI = (datetime(2026, 4, 20, 1, 0, tzinfo=UTC), ZoneInfo("Asia/Shanghai"))
NEW_YORK_SPRING_FORWARD = (datetime(2026, 3, 7, 6, 0, tzinfo=UTC), ZoneInfo("America/New_York"))


@pytest.mark.parametrize("moment", [SHANGHAI, NEW_YORK_SPRING_FORWARD], ids=["shanghai", "dst"])
def test_the_first_entries_of_each_day_and_the_days_counts(
    session: Session, moment: tuple[datetime, ZoneInfo]
) -> None:
    now, zone = moment
    rng = random.Random(4)
    campaigns = [
        Campaign(name=f"Month {n}", timezone=zone.key, hashtags=[], created_at=now)
        for n in range(2)
    ]
    accounts = [
        Account(platform=p, handle=f"h{p}", credentials_encrypted=b"", created_at=now)
        for p in ("twitter", "weibo")
    ]
    session.add_all([*campaigns, *accounts])
    session.flush()
    for n in range(120):
        post = Post(
            campaign_id=rng.choice(campaigns).id,
            text=f"line {n}\nmore",
            media=[],
            state=PostState.SCHEDULED,
            created_at=now,
        )
        session.add(post)
        session.flush()
        # Many on a few days, some at the same minute (ties ordered by id), both sides of
        # midnight in the zone shown.
        due = now + timedelta(days=rng.randint(0, 4), minutes=15 * rng.randint(-40, 40))
        for account in accounts:
            session.add(
                Delivery(
                    post_id=post.id,
                    account_id=account.id,
                    state=DeliveryState.SCHEDULED,
                    due_at=due,
                    next_attempt_at=due,
                    updated_at=now,
                )
            )
    session.flush()
    start, end = now - timedelta(days=2), now + timedelta(days=8)
    for filters in (Filters(), Filters(campaign_id=campaigns[0].id), Filters(platform="weibo")):
        everything = entries(session, start=start, end=end, filters=filters)
        page = first_entries_per_day(
            session, start=start, end=end, zone=zone, limit=6, filters=filters
        )
        by_day: dict[object, list[int]] = {}
        for entry in everything:
            by_day.setdefault(entry.due_at.astimezone(zone).date(), []).append(entry.delivery_id)
        assert page.per_day == {day: len(ids) for day, ids in by_day.items()}
        assert [e.delivery_id for e in page.entries] == [
            i for e in everything for i in [e.delivery_id] if i in by_day_first(by_day, 6)
        ]
        shown = Counter(e.due_at.astimezone(zone).date() for e in page.entries)
        assert max(shown.values()) == 6
        assert all(e.first_line.startswith("line ") for e in page.entries)


def by_day_first(by_day: dict[object, list[int]], limit: int) -> set[int]:
    return {i for ids in by_day.values() for i in ids[:limit]}
