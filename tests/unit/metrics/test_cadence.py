"""Collection cadence: often while a post is young, rarely later, never after 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from metrics.cadence import DEFAULT_SPEC, DEFAULT_TIERS, Cadence
from publicist.core.cadence_spec import parse_tiers
from publicist.core.errors import InvalidInput
from publicist.core.settings import Settings

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


def test_the_default_setting_spells_the_default_tiers() -> None:
    assert parse_tiers(DEFAULT_SPEC) == DEFAULT_TIERS
    assert Settings.model_fields["collection_cadence"].default == DEFAULT_SPEC


def test_tiers_from_a_setting() -> None:
    cadence = Cadence.from_spec("30m:1m, 2h:10m, 1.5d:1h", speed=2.0)
    assert cadence.tiers == (
        (timedelta(minutes=30), timedelta(minutes=1)),
        (timedelta(hours=2), timedelta(minutes=10)),
        (timedelta(hours=36), timedelta(hours=1)),
    )
    assert cadence.speed == 2.0


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("", "names no AGE:INTERVAL tier"),
        ("1h", "not AGE:INTERVAL"),
        ("1h:5x", "where a duration"),
        ("1h:0m", "zero interval"),
        ("1d:1h,1h:5m", "increasing order"),
        ("1d:1h,1d:2h", "increasing order"),
    ],
)
def test_bad_cadence_settings_name_the_setting_and_the_rule(spec: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_tiers(spec)
    assert caught.value.field == "PUBLICIST_COLLECTION_CADENCE"
    assert rule in str(caught.value)
