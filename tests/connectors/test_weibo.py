"""The Weibo connector against the Weibo simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from connectors import registry
from connectors.base import Media, MediaKind, PublishState
from connectors.errors import (
    AuthExpired,
    ConnectorError,
    ContentRejected,
    DuplicateContent,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    RemoteNotFound,
    TransientError,
    ValidationFailed,
)
from connectors.http import creation_deadline
from connectors.weibo import WeiboConnector, parse_created_at
from connectors.weibo_text import WeiboTextRules
from simulators.server import SimulatorServer
from simulators.weibo import add_status
from tests.connectors.library import Library
from tests.connectors.weibo_env import LINK, WeiboEnv, content, weibo_env

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


SIMULATED = "weibo"
"""The platform the ``server`` fixture (tests/connectors/conftest.py) simulates."""

CDN = "https://cdn.example.com"


@pytest.fixture
def env(server: SimulatorServer) -> Iterator[WeiboEnv]:
    with weibo_env(server) as state:
        yield state


def test_the_connector_is_registered_under_its_slug() -> None:
    assert registry.load("weibo") is WeiboConnector
    caps = WeiboConnector.capabilities
    assert (caps.metrics_batch_size, caps.max_media, caps.max_text_length) == (100, 1, 140)
    assert not caps.views_available
    assert not caps.supports_refresh
    assert not caps.publishes_async
    assert caps.interaction_counters == ("likes", "comments", "shares")


# -- publishing ---------------------------------------------------------------------------
def test_publish_shares_the_status_and_keeps_the_int64_id_as_a_string(env: WeiboEnv) -> None:
    account = env.account()
    connector = env.connector(account)
    result = connector.publish(content(f"知识产权宣传周开幕 {LINK}"))

    assert result.state is PublishState.PUBLISHED
    assert result.remote_id is not None
    assert result.remote_id.isdigit()
    assert int(result.remote_id) > 2**53  # beyond what a double holds exactly
    assert result.remote_id == result.raw["idstr"] == str(result.raw["id"])
    assert result.url == f"https://m.weibo.cn/status/{result.remote_id}"
    assert result.published_at is not None
    assert abs(result.published_at - env.sim.clock.now()) < timedelta(seconds=5)
    [post] = env.control.posts()
    assert post["remote_id"] == result.remote_id
    assert post["text"].startswith("知识产权宣传周开幕 http://t.cn/")  # the link was shortened
    assert "/2/statuses/share.json" in env.paths()
    stored = env.sim.posts[result.remote_id]
    assert stored.extra["sent"] == f"知识产权宣传周开幕 {LINK}"
    assert stored.extra["picture"] is None


def test_publish_with_a_picture_sends_it_as_multipart(env: WeiboEnv, library: Library) -> None:
    picture = library.add(MediaKind.IMAGE, PNG)
    connector = env.connector(env.account(), media=library.loader)
    result = connector.publish(content(f"海报 {LINK}", media=(picture,)))
    assert result.raw["original_pic"].startswith("http://wx1.sinaimg.cn/large/")
    assert env.sim.posts[str(result.remote_id)].extra["picture"]


def test_the_token_never_travels_in_a_url_or_shows_in_reprs(env: WeiboEnv) -> None:
    account = env.account()
    connector = env.connector(account)
    result = connector.publish(content(f"令牌 {LINK}"))
    connector.fetch_metrics([str(result.remote_id)])
    connector.find_post(content(f"令牌 {LINK}"), since=env.sim.clock.now() - timedelta(hours=1))
    token = account["access_token"]
    assert env.urls
    assert not any(token in url for url in env.urls)
    assert token not in repr(connector.credentials)


def test_publish_refuses_bad_account_settings_before_any_request(env: WeiboEnv) -> None:
    account = env.account()
    account["extra"] = {"safe_domain": "cnipa.gov.cn", "rip": "not-an-ip"}
    connector = env.connector(account)
    with pytest.raises(ValidationFailed) as caught:
        connector.publish(content(f"外链 {LINK}"))
    fields = [v.field for v in caught.value.violations]
    assert fields == ["text", "credentials.extra.rip"]
    assert "cnipa.gov.cn" in caught.value.violations[0].rule
    assert env.paths() == []


def test_a_link_below_the_safe_domain_is_accepted(env: WeiboEnv) -> None:
    account = env.account(safe_domains="example.com, cnipa.gov.cn")
    account["extra"]["safe_domain"] = "example.com,cnipa.gov.cn"
    connector = env.connector(account)
    result = connector.publish(content("白皮书发布 https://www.cnipa.gov.cn/art/2021/4/25.html"))
    assert result.state is PublishState.PUBLISHED


def test_a_picture_that_is_not_an_image_is_refused_before_sending(
    env: WeiboEnv, library: Library
) -> None:
    fake = library.add(MediaKind.IMAGE, b"not really a jpeg")
    webp = library.add(MediaKind.IMAGE, b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(16))
    connector = env.connector(env.account(), media=library.loader)
    with pytest.raises(ValidationFailed, match="is not a file Publicist accepts"):
        connector.publish(content(f"图 {LINK}", media=(fake,)))
    with pytest.raises(ValidationFailed, match="not a JPEG, PNG or GIF"):
        connector.publish(content(f"图 {LINK}", media=(webp,)))
    with pytest.raises(ValidationFailed, match="missing from the media library"):
        connector.publish(content(f"图 {LINK}", media=(library.missing(MediaKind.IMAGE),)))
    assert env.paths() == []


def test_check_publish_has_nothing_to_poll() -> None:
    assert not WeiboConnector.capabilities.publishes_async
    connector = WeiboConnector.__new__(WeiboConnector)
    with pytest.raises(RemoteNotFound):
        connector.check_publish("job-1")


# -- metrics ------------------------------------------------------------------------------
def test_three_snapshots_grow_monotonically_with_views_not_available(env: WeiboEnv) -> None:
    connector = env.connector(env.account(followers=50_000))
    remote_id = str(connector.publish(content(f"三次采集 {LINK}")).remote_id)
    snapshots = []
    for _ in range(3):
        env.control.clock(advance_seconds=6 * 3600)
        [counts] = connector.fetch_metrics([remote_id])
        snapshots.append(counts)
    for counts in snapshots:
        assert counts.remote_id == remote_id
        assert counts.views is None  # Weibo gives ordinary apps no view count
        assert counts.raw["attitudes"] == counts.likes
        assert counts.raw["reposts"] == counts.shares
    likes = [c.likes or 0 for c in snapshots]
    shares = [c.shares or 0 for c in snapshots]
    comments = [c.comments or 0 for c in snapshots]
    assert likes == sorted(likes)
    assert shares == sorted(shares)
    assert comments == sorted(comments)
    assert likes[-1] > likes[0] > 0
    truth = env.control.truth()["per_post"][remote_id]
    last = snapshots[-1]
    assert (last.likes, last.comments, last.shares) == (
        truth["attitudes"],
        truth["comments"],
        truth["reposts"],
    )


@pytest.mark.parametrize(("count", "requests"), [(100, 1), (101, 2), (250, 3)])
def test_metrics_are_fetched_in_batches_of_100(env: WeiboEnv, count: int, requests: int) -> None:
    account = env.account()
    ids = [
        add_status(env.sim, account["user_id"], f"第{n}条 {LINK}").remote_id for n in range(count)
    ]
    connector = env.connector(account)
    results = connector.fetch_metrics(ids)
    assert [r.remote_id for r in results] == ids
    assert env.paths().count("/2/statuses/count.json") == requests


# -- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (10002, TransientError),
        (10009, TransientError),
        (10001, OutcomeUnknown),  # a system error on a share may follow the commit
        (10022, RateLimited),
        (10023, RateLimited),
        (10024, RateLimited),
        (20016, RateLimited),
        (20017, DuplicateContent),
        (20019, DuplicateContent),
        (20111, DuplicateContent),
        (20018, ContentRejected),
        (20020, ContentRejected),
        (20021, ContentRejected),
        (20031, ContentRejected),
        (10017, ContentRejected),
        (10014, ReauthorizationRequired),
        (21321, ReauthorizationRequired),
        (20101, RemoteNotFound),
        (12345, ContentRejected),  # a code nobody documented is still a typed refusal
    ],
)
def test_every_weibo_error_code_maps_to_a_typed_error(
    env: WeiboEnv, code: int, error_class: type[ConnectorError]
) -> None:
    connector = env.connector(env.account())
    env.knobs(error_next=[code])
    with pytest.raises(ConnectorError) as caught:
        connector.publish(content(f"错误 {code} {LINK}"))
    assert type(caught.value) is error_class
    assert caught.value.code == str(code)
    assert caught.value.platform == "weibo"
    assert env.control.posts() == []


def test_a_refusal_carries_the_platforms_reason(env: WeiboEnv) -> None:
    connector = env.connector(env.account())
    env.knobs(blocked_words=["违禁"])
    with pytest.raises(ContentRejected) as caught:
        connector.publish(content(f"这里有违禁内容 {LINK}"))
    assert caught.value.code == "20021"
    assert "Content is illegal!" in str(caught.value)


def test_identical_and_near_identical_text_are_duplicates(env: WeiboEnv) -> None:
    connector = env.connector(env.account())
    connector.publish(content(f"同一条微博 {LINK}"))
    with pytest.raises(DuplicateContent) as identical:
        connector.publish(content(f"同一条微博 {LINK}"))
    with pytest.raises(DuplicateContent) as similar:
        connector.publish(content(f"同一条微博   {LINK}?from=retry"))
    assert (identical.value.code, similar.value.code) == ("20019", "20017")
    assert len(env.control.posts()) == 1


def test_server_errors_are_transient_and_create_nothing(env: WeiboEnv) -> None:
    connector = env.connector(env.account())
    env.control.faults(error_rate=1.0)
    with pytest.raises(TransientError) as caught:
        connector.publish(content(f"服务繁忙 {LINK}"))
    assert type(caught.value) is TransientError
    assert caught.value.code == "10002"
    with pytest.raises(TransientError):
        connector.fetch_metrics(["9100000000000001"])
    env.control.clear_faults()
    assert env.control.posts() == []


def test_rate_limit_waits_for_the_next_hour_window_then_succeeds(env: WeiboEnv) -> None:
    env.control.clock(set_to=datetime(2026, 4, 20, 9, 40, tzinfo=UTC))
    connector = env.connector(env.account(posts_per_hour=2))
    connector.publish(content(f"第一条 {LINK}"))
    connector.publish(content(f"第二条 {LINK}"))
    with pytest.raises(RateLimited) as caught:
        connector.publish(content(f"第三条 {LINK}"))
    assert caught.value.code == "10024"
    assert caught.value.retry_at == datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
    env.control.clock(set_to=caught.value.retry_at)
    assert connector.publish(content(f"第三条 {LINK}")).state is PublishState.PUBLISHED


def test_hourly_request_quota_of_the_user(env: WeiboEnv) -> None:
    connector = env.connector(env.account(requests_per_hour=3))
    for _ in range(3):
        connector.fetch_metrics(["9100000000000001"])
    with pytest.raises(RateLimited, match="User requests out of rate limit"):
        connector.fetch_metrics(["9100000000000001"])


# -- tokens -------------------------------------------------------------------------------
def test_an_expired_web_app_token_asks_for_reauthorisation(env: WeiboEnv) -> None:
    connector = env.connector(env.account())
    env.control.expire_tokens()
    with pytest.raises(ReauthorizationRequired) as caught:
        connector.publish(content(f"过期 {LINK}"))
    assert caught.value.code == "21327"
    assert "authorise the Weibo account again" in str(caught.value)
    with pytest.raises(ReauthorizationRequired, match="no refresh token"):
        connector.refresh_credentials()
    assert env.control.posts() == []


def test_a_token_with_a_refresh_token_is_refreshed_once_then_publishes(env: WeiboEnv) -> None:
    account = env.account(refresh_tokens=True, token_lifetime=7200)
    connector = env.connector(account)
    env.control.expire_tokens()
    with pytest.raises(AuthExpired) as caught:
        connector.publish(content(f"刷新 {LINK}"))
    assert caught.value.code == "21327"

    fresh = connector.refresh_credentials()
    assert fresh.access_token != account["access_token"]
    assert fresh.refresh_token == account["refresh_token"]
    assert fresh.expires_at is not None
    expected = env.sim.clock.now() + timedelta(seconds=7200)
    assert abs(fresh.expires_at - expected) < timedelta(seconds=5)  # from expires_in
    assert fresh.extra == connector.credentials.extra
    assert env.connector(fresh).publish(content(f"刷新 {LINK}")).state is PublishState.PUBLISHED


def test_a_revoked_refresh_token_asks_for_reauthorisation(env: WeiboEnv) -> None:
    account = env.account(refresh_tokens=True)
    account["refresh_token"] = "2.00weibo-rt-unknown"
    with pytest.raises(ReauthorizationRequired) as caught:
        env.connector(account).refresh_credentials()
    assert caught.value.code == "21325"


# -- reconciliation -----------------------------------------------------------------------
def test_commit_then_drop_is_found_and_never_posted_twice(env: WeiboEnv) -> None:
    connector = env.connector(env.account())
    started = env.sim.clock.now()
    text = f"提交后断线 {LINK}"
    env.control.faults(drop_next_creates=1)
    with pytest.raises(OutcomeUnknown):
        connector.publish(content(text))

    found = connector.find_post(content(text), since=started - timedelta(minutes=5))
    assert found is not None
    [post] = env.control.posts()
    assert found.remote_id == post["remote_id"]
    assert found.url == f"https://m.weibo.cn/status/{post['remote_id']}"
    assert found.text is not None
    assert "http://t.cn/" in found.text
    # Had the scheduler retried blindly, Weibo would refuse the repeat instead of doubling it.
    with pytest.raises(DuplicateContent):
        connector.publish(content(text))
    assert set(env.control.counts().values()) == {1}


def test_success_without_body_is_unknown_until_the_post_surfaces(env: WeiboEnv) -> None:
    connector = env.connector(env.account())
    since = env.sim.clock.now() - timedelta(minutes=5)
    text = f"服务器慢 {LINK}"
    env.knobs(slow_success_next=1, slow_success_seconds=90)
    with pytest.raises(OutcomeUnknown) as caught:
        connector.publish(content(text))
    assert caught.value.code == "20032"
    assert connector.find_post(content(text), since=since) is None

    env.control.clock(advance_seconds=120)
    found = connector.find_post(content(text), since=since)
    assert found is not None
    [counts] = connector.fetch_metrics([found.remote_id])
    assert counts.likes is not None


def test_find_post_ignores_other_apps_older_posts_and_other_text(env: WeiboEnv) -> None:
    account = env.account()
    connector = env.connector(account)
    text = f"只认本应用 {LINK}"
    env.sim.posts.clear()
    old = add_status(env.sim, account["user_id"], text)
    env.control.clock(advance_seconds=3600)
    since = env.sim.clock.now()
    add_status(env.sim, account["user_id"], text, app_key="weibo.com")  # posted by hand
    add_status(env.sim, account["user_id"], f"别的内容 {LINK}")
    assert connector.find_post(content(text), since=since) is None
    assert connector.find_post(content(text), since=since - timedelta(hours=2)) is not None
    assert old.remote_id in env.sim.posts


def test_find_post_pages_back_through_the_timeline(env: WeiboEnv) -> None:
    account = env.account()
    since = env.sim.clock.now() - timedelta(minutes=1)
    target = add_status(env.sim, account["user_id"], f"目标 {LINK}")
    for n in range(150):
        add_status(env.sim, account["user_id"], f"之后第{n}条 {LINK}")
    found = env.connector(account).find_post(content(f"目标 {LINK}"), since=since)
    assert found is not None
    assert found.remote_id == target.remote_id
    assert env.paths().count("/2/statuses/user_timeline.json") == 2


# -- validation ---------------------------------------------------------------------------
CJK = "专"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (CJK * 130 + LINK, True),  # 130 + a link (10) = exactly 140
        (CJK * 131 + LINK, False),
        ("a" * 260 + LINK, True),  # ASCII weighs ½: 130 + 10
        ("a" * 261 + LINK, False),  # 130.5 rounds up to 131, + 10
        (CJK * 126 + "👍🏽" + LINK, True),  # an emoji with a skin-tone modifier weighs 4
        (CJK * 127 + "👍🏽" + LINK, False),
        (f"{CJK * 119} {LINK} {LINK}", True),  # 119 + ½ + 10 + ½ + 10 = 140
        (f"{CJK * 120} {LINK} {LINK}", False),
    ],
)
def test_length_limit_in_hanzi_units(text: str, ok: bool) -> None:
    violations = WeiboConnector.validate(content(text))
    assert [v.field for v in violations] == ([] if ok else ["text"])
    if not ok:
        assert violations[0].value == "141 汉字 units"


def test_the_counter_weighs_characters_as_weibo_does() -> None:
    rules = WeiboTextRules()
    assert rules.half_units("ab") == 2
    assert rules.length("ab") == 1
    assert rules.half_units("a") == 1
    assert rules.length("a") == 1
    assert rules.half_units("汉字") == 4
    assert rules.length("汉字") == 2
    assert rules.half_units("，。") == 4  # full-width punctuation weighs 1
    assert rules.half_units("é") == 1
    assert rules.half_units("e\u0301") == 1
    assert rules.half_units("😀") == 4
    assert rules.half_units("👍🏽") == 8  # base + modifier, two astral code points
    assert rules.half_units("详见https://example.com/a/b?c=1。") == 4 + 20 + 2
    assert WeiboTextRules(url_half_units=46).half_units(LINK) == 46
    assert WeiboTextRules(limit=10).too_long(CJK * 11)


def test_every_broken_rule_is_reported_at_once() -> None:
    media = (
        Media(MediaKind.IMAGE, f"{CDN}/a.webp"),
        Media(MediaKind.VIDEO, f"{CDN}/clip.mp4"),
    )
    violations = WeiboConnector.validate(content("#知识产权# " + CJK * 150, media=media))
    rules = " | ".join(f"{v.field}: {v.rule}" for v in violations)
    assert "exceeds Weibo's maximum of 1" in rules
    assert "media[1]: is not accepted by Weibo" in rules
    assert "media[0]: is not a JPEG, PNG or GIF picture" in rules
    assert "exceeds Weibo's limit of 140" in rules
    assert "#topic#" in rules
    assert "must contain a link" in rules
    assert len(violations) >= 6


@pytest.mark.parametrize(
    ("media", "problem"),
    [
        (Media(MediaKind.IMAGE, f"{CDN}/poster.webp"), "not a JPEG, PNG or GIF"),
        (
            Media(MediaKind.IMAGE, f"{CDN}/poster", mime_type="image/webp"),
            "not a JPEG, PNG or GIF",
        ),
        (
            Media(MediaKind.IMAGE, f"{CDN}/big.jpg", size_bytes=5 * 1024 * 1024),
            "smaller than 5 MB",
        ),
        (Media(MediaKind.VIDEO, f"{CDN}/clip.mp4"), "is not accepted by Weibo"),
    ],
)
def test_picture_rules(media: Media, problem: str) -> None:
    violations = WeiboConnector.validate(content(f"图 {LINK}", media=(media,)))
    assert any(problem in v.rule for v in violations)


def test_gif_and_jpeg_pictures_are_accepted() -> None:
    for media in (
        Media(MediaKind.GIF, f"{CDN}/a.gif"),
        Media(MediaKind.IMAGE, f"{CDN}/b.JPG", size_bytes=10),
    ):
        assert WeiboConnector.validate(content(f"图 {LINK}", media=(media,))) == []


def test_empty_text_is_refused_even_with_a_picture() -> None:
    for media in ((), (Media(MediaKind.IMAGE, f"{CDN}/a.png"),)):
        violations = WeiboConnector.validate(content("   ", media=media))
        assert next(v.rule for v in violations if v.field == "text").startswith("must not be empty")


def test_a_fragment_in_a_link_is_not_a_topic() -> None:
    assert WeiboConnector.validate(content(f"{LINK}#section 看这里")) == []


class _Lenient(WeiboConnector):
    """Skips the local length rule, to show what Weibo itself answers."""

    text_rules: ClassVar[WeiboTextRules] = WeiboTextRules(limit=10_000)


def test_the_platform_refuses_141_hanzi_and_foreign_links_itself(env: WeiboEnv) -> None:
    account = env.account()
    with pytest.raises(ContentRejected) as too_long:
        env.connector(account, _Lenient).publish(content(CJK * 131 + LINK))
    assert too_long.value.code == "20012"

    account["extra"] = {"rip": "203.0.113.7"}  # no safe domain configured: Weibo decides
    with pytest.raises(ContentRejected, match="appkey not bind domain") as foreign:
        env.connector(account).publish(content("看这里 https://elsewhere.example.net/x"))
    assert foreign.value.code == "10017"
    assert env.control.posts() == []


def test_created_at_is_read_without_the_locale() -> None:
    moment = parse_created_at("Wed Oct 24 23:49:17 +0800 2012")
    assert moment == datetime(2012, 10, 24, 15, 49, 17, tzinfo=UTC)
    assert parse_created_at("Mon Jan 05 08:00:00 -0130 2026") == datetime(
        2026, 1, 5, 9, 30, tzinfo=UTC
    )
    for bad in (None, "", "yesterday", "Wed Foo 24 23:49:17 +0800 2012", 1351093757):
        assert parse_created_at(bad) is None


def test_past_its_deadline_the_share_is_not_sent(env: WeiboEnv) -> None:
    connector = env.connector(env.account())
    with creation_deadline(-1), pytest.raises(TransientError, match="nothing was sent"):
        connector.publish(content(f"知识产权宣传周开幕 {LINK}"))
    assert "/2/statuses/share.json" not in env.paths()
    assert env.control.posts() == []
