"""The TikTok connector against its simulator over real HTTP on 127.0.0.1.

The simulator's clock is stopped (speed 0) in every test, so processing and moderation
advance only when a test moves virtual time: nothing here depends on wall-clock speed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from connectors import registry
from connectors.base import (
    Content,
    Credentials,
    Media,
    MediaKind,
    PublishResult,
    PublishState,
)
from connectors.errors import (
    AuthExpired,
    ContentRejected,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    TransientError,
    ValidationFailed,
)
from connectors.http import creation_deadline, make_client
from connectors.tiktok import (
    CONTENT_INIT_PATH,
    MB,
    TiktokConnector,
    chunk_plan,
    utf16_units,
)
from publicist.core.clock import FrozenClock
from simulators.control import SimulatorControl
from simulators.harness import Simulation
from simulators.server import SimulatorServer
from tests.connectors.library import Library

MEDIA_HOST = "https://media.publicist.example"
MP4_HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
TEXT = "How a patent reaches your home #IPCreatesABetterLife"

# -- fixtures -------------------------------------------------------------------------------------


SIMULATED = "tiktok"
"""The platform the ``server`` fixture (tests/connectors/conftest.py) simulates."""


@pytest.fixture
def control(server: SimulatorServer) -> Iterator[SimulatorControl]:
    client = SimulatorControl(server.base_url("tiktok"))
    client.reset()
    client.clock(speed=0)
    yield client
    client.close()


@pytest.fixture
def sim(server: SimulatorServer, control: SimulatorControl) -> Simulation:
    return server.sims["tiktok"]


@pytest.fixture
def clock(control: SimulatorControl) -> FrozenClock:
    return FrozenClock(control.now())


class Accounts:
    """Provisions simulated creators and builds connectors for them."""

    def __init__(
        self,
        server: SimulatorServer,
        control: SimulatorControl,
        clock: FrozenClock,
        library: Library,
    ):
        self.server = server
        self.control = control
        self.clock = clock
        self.library = library
        self.clients: list[httpx.Client] = []
        self.provisioned: dict[str, dict[str, Any]] = {}

    def credentials(self, handle: str = "@cnipa", **settings: Any) -> Credentials:
        provisioned = self.control.add_account(handle, **settings)
        self.provisioned[handle] = provisioned
        return Credentials.from_dict(provisioned)

    def connector(self, credentials: Credentials) -> TiktokConnector:
        client = make_client(self.server.base_url("tiktok"))
        self.clients.append(client)
        return TiktokConnector(
            credentials, http=client, clock=self.clock, media=self.library.loader
        )

    def new(self, handle: str = "@cnipa", **settings: Any) -> TiktokConnector:
        return self.connector(self.credentials(handle, **settings))

    def close(self) -> None:
        for client in self.clients:
            client.close()


@pytest.fixture
def accounts(
    server: SimulatorServer, control: SimulatorControl, clock: FrozenClock, library: Library
) -> Iterator[Accounts]:
    made = Accounts(server, control, clock, library)
    yield made
    made.close()


@pytest.fixture
def video_file(library: Library) -> Callable[[int], Media]:
    """A library video of ``size`` bytes: an MP4 header, then a sparse file of that length."""

    def make(size: int) -> Media:
        name = f"{hashlib.sha256(str(size).encode()).hexdigest()}.mp4"
        with (library.root / name).open("wb") as handle:
            handle.write(MP4_HEADER)
            handle.truncate(size)  # the bytes' values do not matter, their count does
        return Media(MediaKind.VIDEO, media_id=size, library_file=name)

    return make


def video_content(source: str | Media, text: str = TEXT) -> Content:
    media = source if isinstance(source, Media) else Media(MediaKind.VIDEO, source)
    return Content(text=text, media=(media,), marker="pub-1")


def photo_content(*names: str, text: str = TEXT, title: str | None = "GI stories") -> Content:
    media = tuple(Media(MediaKind.IMAGE, f"{MEDIA_HOST}/{name}") for name in names)
    return Content(text=text, title=title, media=media, marker="pub-2")


def platform_calls(control: SimulatorControl) -> list[tuple[str, str]]:
    return [(c["method"], c["path"].removeprefix("/tiktok")) for c in control.calls()]


def seed_videos(sim: Simulation, account_id: str, count: int, **extra: Any) -> list[str]:
    """Live public videos, one virtual second apart (the publish flow is tested elsewhere)."""
    ids = []
    for n in range(count):
        sim.clock.advance(1)
        post = sim.record_post(
            account_id,
            f"video {n}",
            url=f"https://www.tiktok.com/@cnipa/video/{n}",
            visible_at=sim.clock.now(),
            title=f"video {n}",
            privacy_level=extra.get("privacy_level", "PUBLIC_TO_EVERYONE"),
        )
        ids.append(post.remote_id)
    return ids


def poll_until_published(
    connector: TiktokConnector, control: SimulatorControl, submission_id: str
) -> PublishResult:
    for _ in range(20):
        result = connector.check_publish(submission_id)
        if result.state is PublishState.PUBLISHED:
            return result
        control.clock(advance_seconds=1)
    raise AssertionError(f"{submission_id} was not published within 20 virtual seconds")


# -- registration and limits ----------------------------------------------------------------------


def test_registered_with_tiktoks_limits() -> None:
    assert registry.load("tiktok") is TiktokConnector
    assert "tiktok" in registry.available()
    caps = TiktokConnector.capabilities
    assert caps.metrics_batch_size == 20
    assert caps.publishes_async
    assert caps.requires_media
    assert caps.interaction_counters == ("likes", "comments", "shares")
    assert caps.publish_rate_limit is not None
    assert (caps.publish_rate_limit.requests, caps.publish_rate_limit.per_seconds) == (6, 60)
    assert TiktokConnector.default_base_url == "https://open.tiktokapis.com"


def test_chunk_plan_follows_the_media_transfer_rules() -> None:
    small = chunk_plan(4 * MB)
    assert (small.chunk_size, small.total_chunk_count) == (4 * MB, 1)
    documented = chunk_plan(50_000_123, preferred=10_000_000)
    assert (documented.chunk_size, documented.total_chunk_count) == (10_000_000, 5)
    assert documented.ranges()[-1] == (40_000_000, 50_000_122)
    large = chunk_plan(4 * 1024 * MB)
    assert 5 * MB <= large.chunk_size <= 64 * MB
    assert 1 <= large.total_chunk_count <= 1000
    for plan in (small, documented, large, chunk_plan(64 * MB + 1)):
        ranges = plan.ranges()
        assert ranges[0][0] == 0
        assert ranges[-1][1] == plan.video_size - 1
        assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))
        assert ranges[-1][1] - ranges[-1][0] + 1 <= 128 * MB
    with pytest.raises(ValueError, match="positive"):
        chunk_plan(0)


# -- validation -----------------------------------------------------------------------------------


def _rules(content: Content) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in TiktokConnector.validate(content)]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a" * 2200, True),
        ("a" * 2201, False),
        ("专" * 2200, True),  # CJK is one UTF-16 unit
        ("😀" * 1100, True),  # outside the BMP: two units each
        ("😀" * 1100 + "a", False),
        ("👍🏽" * 550, True),  # emoji + skin-tone modifier: four units
        ("👍🏽" * 550 + "a", False),
        ("see https://example.org/a " + "x" * 2174, True),  # URLs count as written
        ("see https://example.org/a " + "x" * 2175, False),
    ],
)
def test_caption_length_is_counted_in_utf16_units(text: str, ok: bool) -> None:
    problems = TiktokConnector.validate(video_content(f"{MEDIA_HOST}/clips/launch.mp4", text=text))
    assert (problems == []) is ok
    if not ok:
        assert problems[0].field == "text"
        assert problems[0].value == f"{utf16_units(text)} UTF-16 units"


def test_media_is_required_and_an_empty_caption_is_allowed_with_it() -> None:
    assert TiktokConnector.validate(video_content(f"{MEDIA_HOST}/clips/launch.mp4", text="")) == []
    rules = _rules(Content(text=""))
    assert ("text", "must not be empty") in rules
    assert ("media", "TikTok requires media") in rules
    assert ("media", "TikTok requires media") in _rules(Content(text=TEXT))


def test_every_broken_rule_is_reported_at_once() -> None:
    media = (
        Media(MediaKind.VIDEO, f"{MEDIA_HOST}/a.avi"),
        Media(MediaKind.VIDEO, f"{MEDIA_HOST}/b.mp4", size_bytes=5 * 1024 * MB),
        Media(MediaKind.IMAGE, f"{MEDIA_HOST}/poster.png"),
        Media(MediaKind.IMAGE, media_id=7, library_file=f"{'a' * 64}.jpg"),
        Media(MediaKind.GIF, f"{MEDIA_HOST}/loop.gif"),
    )
    problems = TiktokConnector.validate(Content(text="x" * 2201, media=media))
    text = [str(p) for p in problems]
    assert any("media[4]: gif is not accepted by TikTok" in t for t in text)
    assert any("not both" in t for t in text)
    assert any("2 videos" in t for t in text)
    assert any("media[0]: video/x-msvideo" in t for t in text)
    assert any("media[1]" in t and "4 GB" in t for t in text)
    assert any("media[2]: image/png" in t for t in text)
    assert any("media[3]: library item 7 must be an https URL" in t for t in text)
    assert any(t.startswith("text: 2201 UTF-16 units") for t in text)
    assert len(problems) == 8


def test_photo_post_limits() -> None:
    many = tuple(Media(MediaKind.IMAGE, f"{MEDIA_HOST}/p{n}.jpg") for n in range(36))
    assert ("media", "exceeds TikTok's maximum of 35") in _rules(Content(text=TEXT, media=many))
    assert _rules(Content(text=TEXT, media=many[:35])) == []
    assert _rules(photo_content("a.webp", title="t" * 90, text="d" * 4000)) == []
    rules = _rules(photo_content("a.jpg", title="t" * 91, text="d" * 4001))
    assert rules == [
        ("text", "exceeds TikTok's photo description limit of 4,000"),
        ("title", "exceeds TikTok's photo title limit of 90"),
    ]
    declared = Media(MediaKind.IMAGE, f"{MEDIA_HOST}/a", mime_type="image/png", size_bytes=21 * MB)
    assert [f for f, _ in _rules(Content(text=TEXT, media=(declared,)))] == ["media[0]"] * 2


def test_publish_validates_before_any_request(
    accounts: Accounts, control: SimulatorControl
) -> None:
    connector = accounts.new()
    with pytest.raises(ValidationFailed, match="image/png"):
        connector.publish(photo_content("poster.png"))
    assert platform_calls(control) == []


# -- publishing -----------------------------------------------------------------------------------


def test_file_upload_goes_through_every_step_until_the_post_id_appears(
    accounts: Accounts, control: SimulatorControl, video_file: Callable[[int], Media]
) -> None:
    connector = accounts.new()
    result = connector.publish(video_content(video_file(MB)))
    assert result.state is PublishState.SUBMITTED
    assert result.submission_id is not None
    assert result.submission_id.startswith("v_pub_file~v2-1.")
    assert platform_calls(control) == [
        ("POST", "/v2/post/publish/creator_info/query/"),
        ("POST", "/v2/post/publish/video/init/"),
        ("PUT", "/upload/video/"),
    ]
    submission = result.submission_id

    processing = connector.check_publish(submission)
    assert processing.state is PublishState.SUBMITTED
    assert processing.raw["status"] == "PROCESSING_UPLOAD"
    assert processing.raw["uploaded_bytes"] == MB

    control.clock(advance_seconds=2.5)  # processed, but moderation withholds the id
    moderated = connector.check_publish(submission)
    assert moderated.state is PublishState.SUBMITTED
    assert moderated.raw["status"] == "PUBLISH_COMPLETE"
    assert moderated.raw["publicaly_available_post_id"] == []

    control.clock(advance_seconds=3)
    published = connector.check_publish(submission)
    assert published.state is PublishState.PUBLISHED
    assert published.remote_id is not None
    assert published.remote_id.isdigit()
    assert len(published.remote_id) == 19
    assert published.url == f"https://www.tiktok.com/@cnipa/video/{published.remote_id}"
    assert published.submission_id == submission
    assert published.published_at is not None
    assert list(control.counts().values()) == [1]


def test_large_files_are_sent_in_sequential_chunks(
    accounts: Accounts,
    control: SimulatorControl,
    sim: Simulation,
    video_file: Callable[[int], Media],
) -> None:
    size = 21 * MB  # 10 MB + an 11 MB last chunk that absorbs the remainder
    connector = accounts.new()
    result = connector.publish(video_content(video_file(size)))
    assert result.submission_id is not None
    job = sim.objects[result.submission_id]
    assert (job["video_size"], job["chunk_size"], job["total_chunk_count"]) == (size, 10 * MB, 2)
    assert job["uploaded_bytes"] == size
    assert [p for _, p in platform_calls(control)].count("/upload/video/") == 2
    assert poll_until_published(connector, control, result.submission_id).remote_id


def test_videos_on_a_verified_domain_are_pulled(
    accounts: Accounts, control: SimulatorControl
) -> None:
    connector = accounts.new()
    result = connector.publish(video_content(f"{MEDIA_HOST}/clips/launch.mp4"))
    assert result.submission_id is not None
    assert result.submission_id.startswith("v_pub_url~v2.")
    assert ("PUT", "/upload/video/") not in platform_calls(control)
    assert connector.check_publish(result.submission_id).raw["status"] == "PROCESSING_DOWNLOAD"
    assert poll_until_published(connector, control, result.submission_id).remote_id


def test_a_pull_from_an_unverified_domain_is_rejected(accounts: Accounts) -> None:
    connector = accounts.new()
    with pytest.raises(ContentRejected) as caught:
        connector.publish(video_content("https://elsewhere.example/launch.mp4"))
    assert caught.value.code == "url_ownership_unverified"
    assert "log_id" in str(caught.value)


def test_photos_are_posted_from_urls(accounts: Accounts, control: SimulatorControl) -> None:
    connector = accounts.new()
    result = connector.publish(photo_content("a.jpg", "b.jpeg", "c.webp"))
    assert result.submission_id is not None
    assert result.submission_id.startswith("p_pub_url~v2.")
    published = poll_until_published(connector, control, result.submission_id)
    assert published.url is not None
    assert "/photo/" in published.url


def test_a_png_behind_a_jpeg_label_fails_during_processing(
    accounts: Accounts, control: SimulatorControl
) -> None:
    connector = accounts.new()
    disguised = Media(MediaKind.IMAGE, f"{MEDIA_HOST}/poster.png", mime_type="image/jpeg")
    result = connector.publish(Content(text=TEXT, media=(disguised,)))
    assert result.submission_id is not None
    control.clock(advance_seconds=10)
    with pytest.raises(ContentRejected) as caught:
        connector.check_publish(result.submission_id)
    assert caught.value.code == "file_format_check_failed"
    assert control.counts() == {}


def test_a_failed_publish_carries_tiktoks_reason(
    accounts: Accounts, control: SimulatorControl, video_file: Callable[[int], Media]
) -> None:
    connector = accounts.new(fail_reason="duration_check_failed")
    result = connector.publish(video_content(video_file(MB)))
    assert result.submission_id is not None
    assert connector.check_publish(result.submission_id).state is PublishState.SUBMITTED
    control.clock(advance_seconds=5)
    with pytest.raises(ContentRejected, match="duration_check_failed") as caught:
        connector.check_publish(result.submission_id)
    assert caught.value.code == "duration_check_failed"


def test_privacy_level_is_chosen_from_the_creators_options(
    accounts: Accounts, control: SimulatorControl, sim: Simulation
) -> None:
    unaudited = accounts.new("@private", audited=False)
    result = unaudited.publish(video_content(f"{MEDIA_HOST}/a.mp4"))
    assert result.submission_id is not None
    assert sim.objects[result.submission_id]["privacy_level"] == "SELF_ONLY"
    control.clock(advance_seconds=4)  # private posts skip moderation
    assert unaudited.check_publish(result.submission_id).state is PublishState.PUBLISHED

    credentials = accounts.credentials("@office", privacy_level_options=["PUBLIC_TO_EVERYONE"])
    mismatched = dataclasses.replace(
        credentials, extra={**credentials.extra, "privacy_level": "FOLLOWER_OF_CREATOR"}
    )
    with pytest.raises(ContentRejected) as caught:
        accounts.connector(mismatched).publish(video_content(f"{MEDIA_HOST}/b.mp4"))
    assert caught.value.code == "privacy_level_option_mismatch"


def test_posting_policy_codes_are_rejections_or_waits(
    accounts: Accounts, clock: FrozenClock
) -> None:
    spammy = accounts.new("@spam", banned_words=["casino"])
    with pytest.raises(ContentRejected) as rejected:
        spammy.publish(video_content(f"{MEDIA_HOST}/a.mp4", text="Win at the CASINO"))
    assert rejected.value.code == "spam_risk_text"

    capped = accounts.new("@capped", daily_post_cap=1)
    capped.publish(video_content(f"{MEDIA_HOST}/a.mp4"))
    with pytest.raises(RateLimited) as waited:
        capped.publish(video_content(f"{MEDIA_HOST}/b.mp4", text="second"))
    assert waited.value.code == "spam_risk_too_many_posts"
    assert waited.value.retry_at == clock.now() + timedelta(hours=24)


# -- errors ---------------------------------------------------------------------------------------


def test_init_is_limited_to_six_a_minute_per_token(
    accounts: Accounts, control: SimulatorControl, clock: FrozenClock
) -> None:
    connector = accounts.new()
    for n in range(6):
        connector.publish(video_content(f"{MEDIA_HOST}/{n}.mp4", text=f"post {n}"))
    with pytest.raises(RateLimited) as caught:
        connector.publish(video_content(f"{MEDIA_HOST}/6.mp4", text="post 6"))
    assert caught.value.code == "rate_limit_exceeded"
    # TikTok sends no reset time: its window slides over a minute.
    assert caught.value.retry_at == clock.now() + timedelta(seconds=60)
    control.clock(advance_seconds=61)
    assert connector.publish(video_content(f"{MEDIA_HOST}/6.mp4", text="post 6")).submission_id


def test_injected_faults_use_tiktoks_signals(accounts: Accounts, control: SimulatorControl) -> None:
    connector = accounts.new()
    control.faults(rate_limit_next=1)
    with pytest.raises(RateLimited):
        connector.fetch_metrics(["7000000000000000001"])
    control.faults(error_rate=1.0)
    with pytest.raises(TransientError) as caught:
        connector.publish(video_content(f"{MEDIA_HOST}/a.mp4"))
    assert caught.value.code == "internal_error"
    assert not isinstance(caught.value, OutcomeUnknown)
    control.clear_faults()
    assert connector.fetch_metrics(["7000000000000000001"]) == []


def test_a_missing_scope_needs_the_user_to_authorise_again(accounts: Accounts) -> None:
    connector = accounts.new(scopes=["user.info.basic", "video.list"])
    with pytest.raises(ReauthorizationRequired) as caught:
        connector.publish(video_content(f"{MEDIA_HOST}/a.mp4"))
    assert caught.value.code == "scope_not_authorized"


# -- tokens ---------------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_once_and_the_refresh_token_rotates(
    accounts: Accounts, control: SimulatorControl, clock: FrozenClock
) -> None:
    credentials = accounts.credentials()
    connector = accounts.connector(credentials)
    control.expire_tokens()
    with pytest.raises(AuthExpired) as caught:
        connector.publish(video_content(f"{MEDIA_HOST}/a.mp4"))
    assert caught.value.code == "access_token_invalid"

    fresh = connector.refresh_credentials()
    assert fresh.access_token != credentials.access_token
    assert fresh.refresh_token not in (None, credentials.refresh_token)
    assert fresh.expires_at == clock.now() + timedelta(seconds=7200)
    assert fresh.extra["refresh_expires_at"] == (clock.now() + timedelta(days=180)).isoformat()
    assert (fresh.client_id, fresh.user_id) == (credentials.client_id, credentials.user_id)
    assert fresh.extra["username"] == "cnipa"
    assert accounts.connector(fresh).publish(video_content(f"{MEDIA_HOST}/a.mp4")).submission_id

    # The old refresh token stopped working when the new one was issued.
    with pytest.raises(ReauthorizationRequired) as reused:
        connector.refresh_credentials()
    assert reused.value.code == "invalid_grant"


def test_lifetimes_come_from_the_token_response(accounts: Accounts, clock: FrozenClock) -> None:
    credentials = accounts.credentials(
        access_lifetime=86_400, refresh_lifetime=31_536_000, rotate_refresh=False
    )
    fresh = accounts.connector(credentials).refresh_credentials()
    assert fresh.expires_at == clock.now() + timedelta(seconds=86_400)
    assert fresh.refresh_token == credentials.refresh_token  # the older, non-rotating profile
    again = accounts.connector(fresh).refresh_credentials()
    assert again.access_token != fresh.access_token


def test_refresh_needs_the_apps_credentials_and_a_live_refresh_token(
    accounts: Accounts, control: SimulatorControl, clock: FrozenClock
) -> None:
    credentials = accounts.credentials()
    for broken in (
        dataclasses.replace(credentials, refresh_token=None),
        dataclasses.replace(credentials, client_secret=None),
        dataclasses.replace(
            credentials,
            extra={"refresh_expires_at": (clock.now() - timedelta(seconds=1)).isoformat()},
        ),
    ):
        with pytest.raises(ReauthorizationRequired):
            accounts.connector(broken).refresh_credentials()
    assert platform_calls(control) == []
    unreadable = dataclasses.replace(credentials, extra={"refresh_expires_at": "soon"})
    assert accounts.connector(unreadable).refresh_credentials().access_token  # TikTok decides
    wrong = dataclasses.replace(credentials, client_secret="not-the-secret")
    with pytest.raises(ReauthorizationRequired) as caught:
        accounts.connector(wrong).refresh_credentials()
    assert caught.value.code == "invalid_client"


# -- metrics --------------------------------------------------------------------------------------


def _query_calls(control: SimulatorControl) -> int:
    return platform_calls(control).count(("POST", "/v2/video/query/"))


def test_metrics_are_batched_twenty_ids_a_request(
    accounts: Accounts, control: SimulatorControl, sim: Simulation
) -> None:
    connector = accounts.new()
    ids = seed_videos(sim, accounts.provisioned["@cnipa"]["account_id"], 45)
    control.clock(advance_seconds=3600)
    control.freeze(now=True)
    for count, requests in ((20, 1), (21, 2), (45, 3)):
        before = _query_calls(control)
        counts = connector.fetch_metrics(ids[:count])
        assert _query_calls(control) - before == requests
        assert [c.remote_id for c in counts] == ids[:count]
    by_id = {c.remote_id: c for c in counts}
    for remote_id in ids:
        truth = sim.engagement(sim.posts[remote_id])
        got = by_id[remote_id]
        assert (got.views, got.likes, got.comments, got.shares) == (
            truth["views"],
            truth["likes"],
            truth["comments"],
            truth["shares"],
        )
        assert got.raw["view_count"] == truth["views"]
    totals = control.truth()["totals"]
    assert sum(c.views or 0 for c in counts) == totals["views"]
    assert sum((c.likes or 0) + (c.comments or 0) + (c.shares or 0) for c in counts) == (
        totals["likes"] + totals["comments"] + totals["shares"]
    )


def test_deleted_foreign_and_unknown_videos_are_omitted(
    accounts: Accounts, control: SimulatorControl, sim: Simulation
) -> None:
    connector = accounts.new()
    accounts.new("@other")
    mine = seed_videos(sim, accounts.provisioned["@cnipa"]["account_id"], 3)
    theirs = seed_videos(sim, accounts.provisioned["@other"]["account_id"], 1)
    control.delete_post(mine[1])
    counts = connector.fetch_metrics([*mine, *theirs, "7000000000000000001"])
    assert [c.remote_id for c in counts] == [mine[0], mine[2]]


def test_a_counter_tiktok_leaves_out_is_not_available_rather_than_zero() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        video = {"id": "7300000000000000001", "view_count": 10, "like_count": 0}
        body = {"data": {"videos": [video]}, "error": {"code": "ok", "message": "", "log_id": "1"}}
        return httpx.Response(200, json=body)

    client = httpx.Client(base_url="https://tiktok.test", transport=httpx.MockTransport(handler))
    with client:
        (counts,) = TiktokConnector(Credentials("t"), http=client).fetch_metrics(["1"])
    assert (counts.views, counts.likes, counts.comments, counts.shares) == (10, 0, None, None)


# -- lost responses and reconciliation ------------------------------------------------------------


def test_a_dropped_pull_init_is_found_by_caption_once_tiktok_lists_it(
    accounts: Accounts, control: SimulatorControl
) -> None:
    connector = accounts.new()
    since = control.now() - timedelta(minutes=5)
    content = video_content(f"{MEDIA_HOST}/clips/launch.mp4")
    control.faults(drop_next_creates=1)
    with pytest.raises(OutcomeUnknown):
        connector.publish(content)
    assert list(control.counts().values()) == [1]

    # Still processing and in moderation: TikTok cannot tell, so neither can we.
    with pytest.raises(OutcomeUnknown) as ambiguous:
        connector.find_post(content, since=since)
    assert ambiguous.value.code == "ambiguous"

    control.clock(advance_seconds=10)
    found = connector.find_post(content, since=since)
    assert found is not None
    (post,) = control.posts()
    assert found.remote_id == post["remote_id"]
    assert found.url == post["url"]
    assert found.text == TEXT
    assert list(control.counts().values()) == [1]


def test_a_dropped_last_chunk_is_settled_through_the_status_endpoint(
    accounts: Accounts, control: SimulatorControl, video_file: Callable[[int], Media]
) -> None:
    connector = accounts.new()
    control.faults(drop_next_creates=1)
    result = connector.publish(video_content(video_file(MB)))
    assert result.state is PublishState.SUBMITTED
    assert platform_calls(control)[-2:] == [
        ("PUT", "/upload/video/"),
        ("POST", "/v2/post/publish/status/fetch/"),
    ]
    assert result.submission_id is not None
    assert poll_until_published(connector, control, result.submission_id).remote_id
    assert list(control.counts().values()) == [1]


def test_find_post_matches_photo_descriptions_and_respects_since(
    accounts: Accounts, control: SimulatorControl
) -> None:
    connector = accounts.new()
    content = photo_content("a.jpg", text="GI Stories on the Dining Table https://t.example/x")
    control.faults(drop_next_creates=1)
    with pytest.raises(OutcomeUnknown):
        connector.publish(content)
    control.clock(advance_seconds=10)
    # Platforms rewrite links: the fingerprint ignores them.
    relinked = dataclasses.replace(content, text="GI Stories on the Dining Table https://a.b/c")
    assert connector.find_post(relinked, since=control.now() - timedelta(minutes=5))
    with pytest.raises(OutcomeUnknown):
        connector.find_post(content, since=control.now() + timedelta(seconds=1))
    with pytest.raises(OutcomeUnknown):
        connector.find_post(dataclasses.replace(content, text=""), since=control.now())


def test_private_posts_are_never_listed_so_they_stay_ambiguous(
    accounts: Accounts, control: SimulatorControl
) -> None:
    connector = accounts.new(audited=False)
    content = video_content(f"{MEDIA_HOST}/a.mp4")
    connector.publish(content)
    control.clock(advance_seconds=60)
    with pytest.raises(OutcomeUnknown):
        connector.find_post(content, since=control.now() - timedelta(minutes=5))


def _scripted(status: dict[str, Any] | None) -> httpx.MockTransport:
    """TikTok answering everything but the last chunk, whose answer is lost."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "PUT":
            raise httpx.ReadError("connection reset", request=request)
        if path.endswith("/status/fetch/"):
            if status is None:
                return httpx.Response(500, json={"error": {"code": "internal_error"}})
            data = status
        elif path.endswith("/video/init/"):
            data = {"publish_id": "v_pub_file~v2-1.9", "upload_url": "https://up.test/video/?u=1"}
        else:
            data = {"privacy_level_options": ["PUBLIC_TO_EVERYONE"]}
        envelope = {"data": data, "error": {"code": "ok", "message": "", "log_id": "1"}}
        return httpx.Response(200, content=json.dumps(envelope).encode())

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        ({"status": "PROCESSING_UPLOAD", "uploaded_bytes": 0}, TransientError, "upload_incomplete"),
        (None, OutcomeUnknown, "upload_unconfirmed"),
    ],
)
def test_a_last_chunk_that_never_arrived_is_safe_to_retry(
    video_file: Callable[[int], Media],
    library: Library,
    status: dict[str, Any] | None,
    error: type[Exception],
    code: str,
) -> None:
    client = httpx.Client(base_url="https://tiktok.test", transport=_scripted(status))
    with client, pytest.raises(error) as caught:
        TiktokConnector(Credentials("t"), http=client, media=library.loader).publish(
            video_content(video_file(MB))
        )
    assert type(caught.value) is error
    assert getattr(caught.value, "code", None) == code


def test_a_missing_or_legacy_video_file_is_a_validation_failure(
    accounts: Accounts, library: Library
) -> None:
    with pytest.raises(ValidationFailed, match="missing from the media library"):
        accounts.new().publish(video_content(library.missing(MediaKind.VIDEO)))
    with pytest.raises(ValidationFailed, match="local file path is no longer accepted"):
        accounts.new().publish(video_content(Media(MediaKind.VIDEO)))


# -- simulator wire details -----------------------------------------------------------------------


def _post(server: SimulatorServer, path: str, token: str, body: Any, **kw: Any) -> httpx.Response:
    return httpx.post(
        server.base_url("tiktok") + path,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kw,
    )


def test_simulator_checks_chunk_math_and_order(server: SimulatorServer, accounts: Accounts) -> None:
    token = accounts.credentials().access_token
    info = {"title": "t", "privacy_level": "PUBLIC_TO_EVERYONE"}

    def init(size: int, chunk: int, count: int) -> httpx.Response:
        source = {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": count,
        }
        return _post(
            server,
            "/v2/post/publish/video/init/",
            token,
            {"post_info": info, "source_info": source},
        )

    bad = init(50_000_123, 10_000_000, 6)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_params"
    assert init(4 * MB, MB, 4).json()["error"]["code"] == "invalid_params"
    ok = init(12 * MB, 6 * MB, 2)
    assert ok.status_code == 200
    upload_url = ok.json()["data"]["upload_url"]
    assert upload_url.startswith(server.base_url("tiktok") + "/upload/video/?upload_id=")

    def put(first: int, last: int) -> int:
        headers = {"Content-Range": f"bytes {first}-{last}/{12 * MB}", "Content-Type": "video/mp4"}
        response = httpx.put(
            upload_url, content=b"\0" * (last - first + 1), headers=headers, timeout=10
        )
        return response.status_code

    assert put(6 * MB, 12 * MB - 1) == 400  # out of order
    assert put(0, 6 * MB - 1) == 206
    assert put(0, 6 * MB - 1) == 206  # the same chunk again is harmless
    assert put(6 * MB, 12 * MB - 1) == 201


def test_simulator_envelopes_codes_and_oauth(server: SimulatorServer, accounts: Accounts) -> None:
    credentials = accounts.credentials()
    denied = _post(server, "/v2/video/query/?fields=id", "nope", {"filters": {"video_ids": ["1"]}})
    assert denied.status_code == 401
    body = denied.json()
    assert body["data"] == {}
    assert body["error"]["code"] == "access_token_invalid"
    assert body["error"]["log_id"]

    ids = [str(7_000_000_000_000_000_000 + n) for n in range(21)]
    token = credentials.access_token
    too_many = _post(server, "/v2/video/query/?fields=id", token, {"filters": {"video_ids": ids}})
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (400, "invalid_params")
    no_fields = _post(server, "/v2/video/query/", token, {"filters": {"video_ids": ids[:1]}})
    assert no_fields.json()["error"]["code"] == "invalid_params"
    user = httpx.get(
        server.base_url("tiktok") + "/v2/user/info/?fields=open_id,username,video_count",
        headers={"Authorization": f"Bearer {token}"},
    ).json()["data"]["user"]
    assert user == {"open_id": credentials.user_id, "username": "cnipa", "video_count": 0}

    form = {
        "client_key": credentials.client_id,
        "client_secret": credentials.client_secret,
        "grant_type": "authorization_code",
        "code": accounts.provisioned["@cnipa"]["authorization_code"],
        "redirect_uri": "https://publicist.example/callback",
    }
    url = server.base_url("tiktok") + "/v2/oauth/token/"
    granted = httpx.post(url, data=form).json()
    assert granted["token_type"] == "Bearer"
    assert granted["open_id"] == credentials.user_id
    assert set(granted["scope"].split(",")) >= {"video.publish", "video.list"}
    reused = httpx.post(url, data=form)
    assert reused.json()["error"] == "invalid_grant"
    assert reused.json()["error_description"]


def test_video_list_pages_newest_first(
    server: SimulatorServer, accounts: Accounts, sim: Simulation
) -> None:
    credentials = accounts.credentials()
    ids = seed_videos(sim, accounts.provisioned["@cnipa"]["account_id"], 25)
    path = "/v2/video/list/?fields=id,title"
    first = _post(server, path, credentials.access_token, {"max_count": 20}).json()["data"]
    assert [v["id"] for v in first["videos"]] == ids[::-1][:20]
    assert first["has_more"] is True
    second = _post(
        server, path, credentials.access_token, {"max_count": 20, "cursor": first["cursor"]}
    ).json()["data"]
    assert [v["id"] for v in second["videos"]] == ids[::-1][20:]
    assert second["has_more"] is False


def test_past_its_deadline_no_post_is_initialised(
    accounts: Accounts, control: SimulatorControl
) -> None:
    connector = accounts.new()
    with creation_deadline(-1), pytest.raises(TransientError, match="nothing was sent"):
        connector.publish(photo_content("a.jpg"))
    assert ("POST", CONTENT_INIT_PATH) not in platform_calls(control)
    assert control.counts() == {}
