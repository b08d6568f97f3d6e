"""Interactions are the sum of the counters a platform lists, defined in one place."""

from __future__ import annotations

from dataclasses import replace

from connectors.base import MetricCounts
from connectors.mock import MockConnector
from metrics.interactions import interactions

MOCK = MockConnector.capabilities
X_LIKE = replace(
    MOCK,
    platform="x",
    interaction_counters=("likes", "comments", "shares", "quotes", "bookmarks"),
)
READS_ONLY = replace(MOCK, platform="reads", interaction_counters=("likes", "favourites"))


def test_mock_interactions_are_likes_comments_and_shares() -> None:
    counts = MetricCounts(remote_id="1", views=10_000, likes=300, comments=50, shares=90)
    assert interactions(counts, MOCK) == 440  # views never count


def test_missing_counters_count_zero() -> None:
    counts = MetricCounts(remote_id="1", views=None, likes=None, comments=7, shares=None)
    assert interactions(counts, MOCK) == 7
    empty = MetricCounts(remote_id="1", views=None, likes=None, comments=None, shares=None)
    assert interactions(empty, MOCK) == 0


def test_platform_extras_are_added_when_listed() -> None:
    counts = MetricCounts(
        remote_id="1",
        views=5000,
        likes=100,
        comments=10,
        shares=20,
        extras={"quotes": 3, "bookmarks": 4, "impressions": 9999},
    )
    assert interactions(counts, X_LIKE) == 137  # impressions are not listed
    assert interactions(counts, MOCK) == 130  # extras not listed by mock do not count


def test_extras_missing_or_none_count_zero() -> None:
    counts = MetricCounts(
        remote_id="1", views=0, likes=5, comments=99, shares=99, extras={"favourites": None}
    )
    assert interactions(counts, READS_ONLY) == 5
    counts = replace(counts, extras={"favourites": 6})
    assert interactions(counts, READS_ONLY) == 11
