"""Collection cadence: often while a post is young, rarely later, never after 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from metrics.cadence import DEFAULT_TIERS, Cadence

PUBLISHED = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (timedelta(0), timedelta(minutes=5)),
        (timedelta(minutes=59, seconds=59), timedelta(minutes=5)),
        (timedelta(hours=1), timedelta(minutes=30)),
        (timedelta(hours=23, minutes=59), timedelta(minutes=30)),
        (timedelta(days=1), timedelta(hours=6)),
        (timedelta(days=6, hours=23), timedelta(hours=6)),
        (timedelta(days=7), timedelta(days=1)),
        (timedelta(days=89, hours=23), timedelta(days=1)),
    ],
)
def test_default_cadence_decays_with_age(age: timedelta, interval: timedelta) -> None:
    now = PUBLISHED + age
    assert Cadence().next_collection(published_at=PUBLISHED, now=now) == now + interval


@pytest.mark.parametrize("age", [timedelta(days=90), timedelta(days=400)])
def test_no_collection_after_the_last_tier(age: timedelta) -> None:
    assert Cadence().next_collection(published_at=PUBLISHED, now=PUBLISHED + age) is None


def test_intervals_never_shrink_as_a_post_ages() -> None:
    cadence = Cadence()
    previous = timedelta(0)
    for minutes in range(0, 90 * 24 * 60, 17):
        now = PUBLISHED + timedelta(minutes=minutes)
        following = cadence.next_collection(published_at=PUBLISHED, now=now)
        assert following is not None
        assert following - now >= previous
        previous = following - now


def test_speed_compresses_ages_and_intervals() -> None:
    cadence = Cadence(speed=60.0)
    # One real minute counts as an hour of age: the second tier, every 30 min / 60 = 30 s.
    now = PUBLISHED + timedelta(minutes=1)
    assert cadence.next_collection(published_at=PUBLISHED, now=now) == now + timedelta(seconds=30)
    now = PUBLISHED + timedelta(seconds=30)
    assert cadence.next_collection(published_at=PUBLISHED, now=now) == now + timedelta(seconds=5)
    assert (
        cadence.next_collection(published_at=PUBLISHED, now=PUBLISHED + timedelta(days=2)) is None
    )


def test_custom_tiers() -> None:
    cadence = Cadence(tiers=((timedelta(minutes=10), timedelta(minutes=1)),))
    assert cadence.next_collection(
        published_at=PUBLISHED, now=PUBLISHED + timedelta(minutes=9)
    ) == PUBLISHED + timedelta(minutes=10)
    assert (
        cadence.next_collection(published_at=PUBLISHED, now=PUBLISHED + timedelta(minutes=10))
        is None
    )


def test_default_tiers_are_in_increasing_age() -> None:
    limits = [limit for limit, _ in DEFAULT_TIERS]
    assert limits == sorted(limits)
    assert limits[-1] == timedelta(days=90)
