"""The shared connector contract, run for every connector in ``contract.CASES`` against its
simulator over HTTP on 127.0.0.1: publish, duplicate, lost response, rate limit, expired
token, a metrics batch, unknown ids and deletion on the platform.

The simulators' clocks are stopped; a test moves virtual time when a platform needs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from connectors import registry
from connectors.base import Connector, PublishState
from connectors.errors import (
    AuthExpired,
    DuplicateContent,
    OutcomeUnknown,
    RateLimited,
    RemoteNotFound,
)
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests.connectors.contract import CASES, Case, Env


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer([case.slug for case in CASES]) as running:
        yield running


@pytest.fixture(params=CASES, ids=[case.slug for case in CASES])
def env(request: pytest.FixtureRequest, server: SimulatorServer, tmp_path: Path) -> Iterator[Env]:
    case: Case = request.param
    control = SimulatorControl(server.base_url(case.slug))
    control.reset()
    control.clock(speed=0, set_to=case.start)
    made = Env(case, server, control, tmp_path)
    yield made
    made.close()
    control.close()


def published(env: Env, connector: Connector, n: int) -> str:
    result = env.case.finish(env, connector, connector.publish(env.case.content(env, n)))
    assert result.state is PublishState.PUBLISHED
    assert result.remote_id
    assert result.url
    return result.remote_id


def test_publish_puts_one_post_on_the_platform_and_find_post_finds_it(env: Env) -> None:
    connector = env.connector()
    since = env.now() - timedelta(minutes=5)
    content = env.case.content(env, 1)
    with contextlib.suppress(OutcomeUnknown):  # nothing posted: not found, or "cannot tell yet"
        assert connector.find_post(content, since=since) is None
    result = env.case.finish(env, connector, connector.publish(content))
    assert result.state is PublishState.PUBLISHED
    assert result.url
    assert len(env.control.posts()) == 1
    found = connector.find_post(content, since=since)
    assert found is not None
    assert found.remote_id == result.remote_id


def test_the_same_content_twice_is_refused_or_posted_again_never_confused(env: Env) -> None:
    connector = env.connector()
    first = published(env, connector, 1)
    content = env.case.content(env, 1)
    if env.case.duplicates_refused:
        with pytest.raises(DuplicateContent):
            connector.publish(content)
        assert len(env.control.posts()) == 1
    elif env.case.same_marker_same_post:
        again = env.case.finish(env, connector, connector.publish(content))
        assert again.remote_id == first
        assert len(env.control.posts()) == 1
    else:
        second = env.case.finish(env, connector, connector.publish(content))
        assert second.remote_id not in (None, first)
        assert len(env.control.posts()) == 2


def test_a_lost_response_leaves_one_post_that_is_found_before_anything_else(env: Env) -> None:
    connector = env.connector()
    since = env.now() - timedelta(minutes=5)
    content = env.case.content(env, 1)
    env.control.faults(drop_next_creates=1)
    try:
        settled = connector.publish(content)
    except OutcomeUnknown:
        settled = None  # the caller reconciles with find_post
    env.advance(env.case.finish_seconds * 2)
    found = connector.find_post(content, since=since)
    assert found is not None
    if settled is not None:
        assert env.case.finish(env, connector, settled).remote_id == found.remote_id
    assert sorted(env.control.counts().values()) == [1]


def test_a_rate_limit_signal_is_rate_limited_with_a_time_and_creates_nothing(env: Env) -> None:
    connector = env.connector()
    now = env.now()
    env.control.faults(rate_limit_next=1)
    with pytest.raises(RateLimited) as limited:
        connector.publish(env.case.content(env, 1))
    assert limited.value.retry_at is not None
    assert limited.value.retry_at > now
    assert env.control.posts() == []
    published(env, connector, 1)


def test_an_expired_token_is_auth_expired_and_refreshed_credentials_publish(env: Env) -> None:
    connector = env.connector()
    old = connector.credentials
    env.control.expire_tokens()
    with pytest.raises(AuthExpired):
        connector.publish(env.case.content(env, 1))
    fresh = connector.refresh_credentials()
    assert fresh.access_token != old.access_token
    assert fresh.expires_at is not None
    assert fresh.expires_at > env.now()
    published(env, env.connector(fresh), 1)
    assert len(env.control.posts()) == 1


def test_a_metrics_batch_answers_for_known_posts_only_and_never_goes_down(env: Env) -> None:
    connector = env.connector()
    caps = connector.capabilities
    ids = [published(env, connector, n) for n in range(3)]
    env.advance(env.case.age_seconds)
    first = connector.fetch_metrics([*ids, env.case.unknown_id])
    assert sorted(c.remote_id for c in first) == sorted(ids)
    for counts in first:
        assert (counts.views is not None) == caps.views_available
        for name in caps.interaction_counters:
            assert counts.counter(name) is not None, name
    env.advance(env.case.age_seconds)
    later = {c.remote_id: c for c in connector.fetch_metrics(ids)}
    for counts in first:
        for name in ("views", *caps.interaction_counters):
            before, after = counts.counter(name), later[counts.remote_id].counter(name)
            assert before is None or (after is not None and after >= before), name


def test_unknown_ids_are_left_out_and_unknown_submissions_not_found(env: Env) -> None:
    connector = env.connector()
    assert connector.fetch_metrics([env.case.unknown_id]) == []
    if env.case.unknown_submission is not None:
        with pytest.raises(RemoteNotFound):
            connector.check_publish(env.case.unknown_submission)


def test_a_post_deleted_on_the_platform_drops_out_of_metrics(env: Env) -> None:
    connector = env.connector()
    kept, gone = published(env, connector, 1), published(env, connector, 2)
    newest = max(env.sim.posts.values(), key=lambda post: (post.created_at, post.ordinal))
    newest.deleted = True  # as the account's owner deleting it in the app
    env.advance(env.case.age_seconds)
    assert [c.remote_id for c in connector.fetch_metrics([kept, gone])] == [kept]


def test_every_built_in_connector_is_in_the_contract_list() -> None:
    built_in = {
        entry.name
        for entry in entry_points(group=registry.ENTRY_POINT_GROUP)
        if entry.value.startswith("connectors.") and entry.name != "mock"  # mock: in memory
    }
    assert built_in == {case.slug for case in CASES}
