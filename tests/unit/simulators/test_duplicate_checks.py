"""The simulators' per-post checks read the account's own recent posts, never every post.

A launch burst makes thousands of posts on one simulator; a check that scanned them all made
each post cost more than the last (benchmarks/timeliness.py). These tests take away the
whole-simulation view (``sim.posts.values()``) and show the checks still give their answers.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

from simulators.harness import SimPost, Simulation
from simulators.tiktok import new_simulation as new_tiktok
from simulators.tiktok.state import TiktokPlatform
from simulators.tiktok.wire import ApiError
from simulators.twitter import create_app as create_x
from simulators.twitter import new_simulation as new_x
from simulators.twitter.posts import is_duplicate
from simulators.weibo import _check_repeats
from simulators.weibo import new_simulation as new_weibo
from simulators.weibo.wire import WeiboError


class _NoScan(dict[str, SimPost]):
    """The simulation's posts, refusing to be read whole."""

    def values(self) -> NoReturn:  # type: ignore[override]
        raise AssertionError("a per-post check read every post of the simulation")

    def __iter__(self) -> NoReturn:
        raise AssertionError("a per-post check read every post of the simulation")


def _no_scan(sim: Simulation) -> None:
    sim.posts = _NoScan(sim.posts)


def test_x_duplicate_check_is_a_lookup_of_the_account_s_own_text() -> None:
    sim = new_x()
    create_x(sim)  # registers the duplicate index
    account, _ = sim.add_account("@office")
    other, _ = sim.add_account("@province")
    for n in range(50):
        sim.record_post(other.account_id, f"launch notice {n}")
    sim.record_post(account.account_id, "Publicity  Week\nstarts today")
    _no_scan(sim)

    assert is_duplicate(sim, account, "Publicity Week starts today")  # spacing ignored
    assert not is_duplicate(sim, account, "Publicity Week starts tomorrow")
    assert not is_duplicate(sim, other, "Publicity Week starts today")  # another account's
    assert is_duplicate(sim, other, "launch notice 7")


def test_x_duplicate_window_and_deleted_posts_still_apply() -> None:
    sim = new_x()
    create_x(sim)
    account, _ = sim.add_account("@office", deleted_posts_count_as_duplicates=False)
    post = sim.record_post(account.account_id, "old news")
    _no_scan(sim)
    post.deleted = True
    assert not is_duplicate(sim, account, "old news")  # deleted, and deleted ones do not count
    post.deleted = False
    assert is_duplicate(sim, account, "old news")
    sim.clock.advance(2 * 86400)  # past the 24 h window
    assert not is_duplicate(sim, account, "old news")


def test_posts_made_before_the_index_is_registered_are_found() -> None:
    sim = new_x()
    account, _ = sim.add_account("@office")
    sim.record_post(account.account_id, "made before the app")
    create_x(sim)
    assert is_duplicate(sim, account, "made before the app")


def test_ordinal_counts_only_the_account_s_posts_without_scanning() -> None:
    sim = new_x()
    _no_scan(sim)
    first = [sim.record_post("a", f"a{n}") for n in range(3)]
    other = sim.record_post("b", "b0")
    assert [p.ordinal for p in first] == [0, 1, 2]
    assert other.ordinal == 0
    assert [p.text for p in sim.live_posts("a")] == ["a2", "a1", "a0"]


def test_weibo_repeat_check_reads_only_the_recent_posts() -> None:
    sim = new_weibo()
    account, _ = sim.add_account("office")
    for n in range(30):
        sim.record_post(account.account_id, f"status {n}", sent=f"status {n}")
        sim.clock.advance(60)
    _no_scan(sim)
    with pytest.raises(WeiboError):
        _check_repeats(sim, account, "status 29")  # among the newest 20
    _check_repeats(sim, account, "status 3")  # older than the newest 20: not compared


def test_tiktok_daily_cap_counts_the_last_day_only() -> None:
    sim = new_tiktok()
    platform = TiktokPlatform(sim)
    account, _ = sim.add_account("office", daily_post_cap=2, audited=True)
    sim.record_post(account.account_id, "yesterday")
    sim.clock.advance(25 * 3600)
    sim.record_post(account.account_id, "today")
    _no_scan(sim)
    platform.check_policy(account, "PUBLIC_TO_EVERYONE", "new one")  # one in the last day
    sim.record_post(account.account_id, "today again")
    with pytest.raises(ApiError):
        platform.check_policy(account, "PUBLIC_TO_EVERYONE", "one too many")
