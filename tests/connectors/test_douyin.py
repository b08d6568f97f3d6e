"""The Douyin connector against its simulator over real HTTP on 127.0.0.1.

The simulator's clock is stopped (speed 0) in every test, so review advances only when a
test moves virtual time: nothing here depends on wall-clock speed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.base import Content, Credentials, Media, MediaKind, PublishState
from connectors.douyin import (
    COMPLETE_PART_PATH,
    CREATE_VIDEO_PATH,
    INIT_PART_PATH,
    MB,
    RENEW_PATH,
    UPLOAD_PART_PATH,
    UPLOAD_VIDEO_PATH,
    DouyinConnector,
    part_sizes,
)
from connectors.errors import (
    AuthExpired,
    ContentRejected,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    ValidationFailed,
)
from connectors.http import make_client
from publicist.core.clock import FrozenClock
from simulators.control import SimulatorControl
from simulators.harness import Simulation
from simulators.server import SimulatorServer
from tests.connectors.library import Library

SIMULATED = "douyin"
"""The platform the ``server`` fixture (tests/connectors/conftest.py) simulates."""
TEXT = "专利如何走进千家万户 #知识产权让生活更美好"

MP4_HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
STORED_VIDEO = Media(MediaKind.VIDEO, media_id=1, library_file=f"{'a' * 64}.mp4")


@pytest.fixture
def control(server: SimulatorServer) -> Iterator[SimulatorControl]:
    client = SimulatorControl(server.base_url(SIMULATED))
    client.reset()
    client.clock(speed=0)
    yield client
    client.close()


@pytest.fixture
def sim(server: SimulatorServer, control: SimulatorControl) -> Simulation:
    return server.sims[SIMULATED]


@pytest.fixture
def clock(control: SimulatorControl) -> FrozenClock:
    return FrozenClock(control.now())


@pytest.fixture
def connect(
    server: SimulatorServer, control: SimulatorControl, clock: FrozenClock, library: Library
) -> Iterator[Callable[..., DouyinConnector]]:
    clients: list[httpx.Client] = []

    def make(handle: str = "cnipa", **settings: Any) -> DouyinConnector:
        credentials = Credentials.from_dict(control.add_account(handle, **settings))
        client = make_client(server.base_url(SIMULATED))
        clients.append(client)
        return DouyinConnector(credentials, http=client, clock=clock, media=library.loader)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def video(library: Library) -> Callable[[int], Media]:
    """A library video of ``size`` bytes: an MP4 header, then a sparse file of that length."""

    def make(size: int) -> Media:
        name = f"{hashlib.sha256(str(size).encode()).hexdigest()}.mp4"
        with (library.root / name).open("wb") as handle:
            handle.write(MP4_HEADER)
            handle.truncate(size)  # only the byte count matters
        return Media(MediaKind.VIDEO, media_id=size, library_file=name)

    return make


def video_post(video: Media, text: str = TEXT) -> Content:
    return Content(text=text, media=(video,), marker="pub-1")


def calls(control: SimulatorControl) -> list[str]:
    return [c["path"].removeprefix("/douyin") for c in control.calls()]


def advance(control: SimulatorControl, clock: FrozenClock, seconds: float) -> None:
    control.clock(advance_seconds=seconds)
    clock.advance(timedelta(seconds=seconds))


# -- registration and validation ------------------------------------------------------------------


def test_a_post_needs_one_video_or_pictures_from_the_media_library() -> None:
    mixed = Content(
        text=TEXT,
        media=(STORED_VIDEO, Media(MediaKind.IMAGE, media_id=2, library_file=f"{'b' * 64}.jpg")),
    )
    assert any("one video or pictures" in str(v) for v in DouyinConnector.validate(mixed))
    remote = Content(text=TEXT, media=(Media(MediaKind.VIDEO, "https://cdn.example/a.mp4"),))
    assert any("takes uploads only" in str(v) for v in DouyinConnector.validate(remote))
    assert any("requires media" in str(v) for v in DouyinConnector.validate(Content(text=TEXT)))
    long = Content(text="字" * 1001, media=(STORED_VIDEO,))
    assert [str(v) for v in DouyinConnector.validate(long)] == [
        "text: 1001 characters exceeds Douyin's limit of 1000"
    ]


def test_parts_are_20_mb_and_no_part_but_a_whole_small_video_is_under_5_mb() -> None:
    assert part_sizes(3 * MB) == [3 * MB]
    assert part_sizes(51 * MB) == [20 * MB, 20 * MB, 11 * MB]
    assert part_sizes(62 * MB) == [20 * MB, 20 * MB, 22 * MB]
    assert sum(part_sizes(4096 * MB + 7)) == 4096 * MB + 7


# -- publishing through review --------------------------------------------------------------------


def test_a_video_is_submitted_then_published_once_review_is_over(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    clock: FrozenClock,
    video: Callable[[int], Media],
) -> None:
    douyin = connect(review_seconds=30)
    result = douyin.publish(video_post(video(2 * MB)))
    assert result.state is PublishState.SUBMITTED
    assert result.submission_id is not None
    assert result.submission_id.startswith("@")
    assert calls(control) == [UPLOAD_VIDEO_PATH, CREATE_VIDEO_PATH]
    assert douyin.check_publish(result.submission_id).state is PublishState.SUBMITTED
    advance(control, clock, 31)
    done = douyin.check_publish(result.submission_id)
    assert done.state is PublishState.PUBLISHED
    assert done.remote_id == result.submission_id
    assert done.url is not None
    assert done.url.startswith("https://www.douyin.com/video/")


def test_a_post_that_fails_review_fails_with_the_reason(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    clock: FrozenClock,
    video: Callable[[int], Media],
) -> None:
    douyin = connect(banned_words=["违规"], review_seconds=10)
    result = douyin.publish(video_post(video(MB), text="含有违规内容的视频"))
    advance(control, clock, 11)
    assert result.submission_id is not None
    with pytest.raises(ContentRejected) as refused:
        douyin.check_publish(result.submission_id)
    assert refused.value.code == "review_rejected"
    assert "不适宜公开" in str(refused.value)


def test_a_large_video_goes_in_parts(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    video: Callable[[int], Media],
) -> None:
    douyin = connect()
    result = douyin.publish(video_post(video(51 * MB)))
    assert result.state is PublishState.SUBMITTED
    parts = [c for c in control.calls() if c["path"].endswith(UPLOAD_PART_PATH)]
    assert len(parts) == 3
    assert calls(control)[0] == INIT_PART_PATH
    assert calls(control)[-2:] == [COMPLETE_PART_PATH, CREATE_VIDEO_PATH]


def test_pictures_are_uploaded_and_posted_as_image_text(
    connect: Callable[..., DouyinConnector], control: SimulatorControl, library: Library
) -> None:
    pictures = [library.add(MediaKind.IMAGE, b"\xff\xd8\xff" + bytes([n]) * 100) for n in (0, 1)]
    result = connect().publish(Content(text=TEXT, media=tuple(pictures)))
    assert result.state is PublishState.SUBMITTED
    assert calls(control)[-1] == "/api/douyin/v1/video/create_image_text/"
    assert [p["text"] for p in control.posts()] == [TEXT]


def test_a_lost_create_answer_is_settled_from_the_authors_list(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    video: Callable[[int], Media],
) -> None:
    douyin = connect()
    control.faults(drop_next_creates=1)
    result = douyin.publish(video_post(video(MB)))
    assert result.state is PublishState.SUBMITTED
    [post] = control.posts()
    assert result.submission_id == post["remote_id"]
    assert calls(control)[-1] == "/api/douyin/v1/video/video_list/"


def test_a_lost_create_that_never_took_effect_stays_unknown(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    sim: Simulation,
    video: Callable[[int], Media],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    douyin = connect()
    control.faults(drop_next_creates=1)
    original = sim.record_post

    def lose(*args: Any, **kwargs: Any) -> Any:
        post = original(*args, **kwargs)
        post.deleted = True  # as if Douyin dropped it: nothing to find
        return post

    monkeypatch.setattr(sim, "record_post", lose)
    with pytest.raises(OutcomeUnknown):
        douyin.publish(video_post(video(MB)))


def test_find_post_tells_public_in_review_and_failed_review_apart(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    clock: FrozenClock,
    video: Callable[[int], Media],
) -> None:
    douyin = connect(review_seconds=20)
    since = clock.now() - timedelta(minutes=1)
    content = video_post(video(MB))
    assert douyin.find_post(content, since=since) is None
    result = douyin.publish(content)
    with pytest.raises(OutcomeUnknown) as waiting:
        douyin.find_post(content, since=since)
    assert waiting.value.code == "in_review"
    advance(control, clock, 21)
    found = douyin.find_post(content, since=since)
    assert found is not None
    assert found.remote_id == result.submission_id


# -- errors, limits, tokens -----------------------------------------------------------------------


def test_throttling_and_spent_daily_quota_carry_their_retry_times(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    clock: FrozenClock,
    video: Callable[[int], Media],
) -> None:
    douyin = connect(creates_per_minute=1, creates_per_day=2)
    path = video(MB)
    douyin.publish(video_post(path, text="一"))
    with pytest.raises(RateLimited) as throttled:
        douyin.publish(video_post(path, text="二"))
    assert throttled.value.code == "28003018"
    assert throttled.value.retry_at == clock.now() + timedelta(seconds=60)
    advance(control, clock, 61)
    douyin.publish(video_post(path, text="三"))
    advance(control, clock, 61)
    with pytest.raises(RateLimited) as spent:
        douyin.publish(video_post(path, text="四"))
    assert spent.value.code == "28003017"
    beijing = timezone(timedelta(hours=8))
    local = clock.now().astimezone(beijing)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert spent.value.retry_at == midnight


def test_an_expired_token_is_auth_expired_and_a_refresh_fixes_it(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    video: Callable[[int], Media],
) -> None:
    douyin = connect()
    control.expire_tokens()
    with pytest.raises(AuthExpired) as expired:
        douyin.publish(video_post(video(MB)))
    assert expired.value.code == "28001008"
    old_refresh = douyin.credentials.refresh_token
    douyin.credentials = douyin.refresh_credentials()
    assert douyin.credentials.refresh_token == old_refresh  # 15+ days left: not renewed
    assert douyin.publish(video_post(video(MB))).state is PublishState.SUBMITTED


def test_the_refresh_token_is_renewed_when_it_nears_expiry_and_the_old_one_dies(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    clock: FrozenClock,
) -> None:
    douyin = connect()
    advance(control, clock, 16 * 86_400)  # access token gone, refresh token has 14 days left
    old = douyin.credentials
    fresh = douyin.refresh_credentials()
    assert fresh.refresh_token != old.refresh_token
    assert fresh.expires_at == clock.now() + timedelta(days=15)
    assert fresh.extra["refresh_expires_at"] == (clock.now() + timedelta(days=30)).isoformat()
    assert calls(control)[-1] == RENEW_PATH
    douyin.credentials = old
    with pytest.raises(ReauthorizationRequired) as dead:
        douyin.refresh_credentials()
    assert dead.value.code == "10010"


def test_when_renewals_run_out_the_current_refresh_token_serves_until_it_expires(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    clock: FrozenClock,
) -> None:
    douyin = connect(max_renewals=0)
    advance(control, clock, 20 * 86_400)
    fresh = douyin.refresh_credentials()
    assert fresh.refresh_token == douyin.credentials.refresh_token
    advance(control, clock, 11 * 86_400)
    douyin.credentials = fresh
    with pytest.raises(ReauthorizationRequired):
        douyin.refresh_credentials()


def test_missing_refresh_credentials_need_a_person_not_a_retry(
    connect: Callable[..., DouyinConnector],
) -> None:
    douyin = connect()
    douyin.credentials = Credentials(access_token="act.x", user_id="someone")
    with pytest.raises(ReauthorizationRequired):
        douyin.refresh_credentials()


def test_the_consent_page_hands_a_code_that_buys_tokens(
    server: SimulatorServer, control: SimulatorControl, connect: Callable[..., DouyinConnector]
) -> None:
    app = connect("gov-account").credentials
    with httpx.Client(base_url=server.base_url(SIMULATED)) as client:
        params = {
            "client_key": app.client_id or "",
            "response_type": "code",
            "scope": "video.create.bind,video.data.bind",
            "redirect_uri": "https://publicist.example/callback",
            "state": "s1",
        }
        shown = client.get("/platform/oauth/connect/", params=params)
        assert shown.status_code == 200
        assert "Allow" in shown.text
        page = client.post("/platform/oauth/connect/", data={**params, "decision": "allow"})
        assert page.status_code == 302
        query = parse_qs(urlsplit(page.headers["location"]).query)
        assert query["state"] == ["s1"]
        answer = client.post(
            "/oauth/access_token/",
            data={
                "client_key": app.client_id,
                "client_secret": app.client_secret,
                "code": query["code"][0],
                "grant_type": "authorization_code",
            },
        ).json()
    assert answer["message"] == "success"
    assert answer["data"]["expires_in"] == 15 * 86_400
    assert answer["data"]["open_id"] == app.user_id


# -- metrics --------------------------------------------------------------------------------------


def test_metrics_map_plays_and_the_interactions_douyin_counts(
    connect: Callable[..., DouyinConnector],
    control: SimulatorControl,
    clock: FrozenClock,
    sim: Simulation,
    video: Callable[[int], Media],
) -> None:
    douyin = connect(review_seconds=1)
    ids = [douyin.publish(video_post(video(MB), text=f"第{n}条")).submission_id for n in range(3)]
    advance(control, clock, 6 * 3600)
    sim.posts[str(ids[2])].deleted = True  # its id holds a "/": set it here, not by URL
    counts = douyin.fetch_metrics([str(i) for i in ids] + ["@unknown=="])
    assert [c.remote_id for c in counts] == ids[:2]
    truth = control.truth()["per_post"]
    for c in counts:
        expected = truth[c.remote_id]
        assert c.views == expected["views"] > 0
        assert (c.likes, c.comments, c.shares) == (
            expected["digg_count"],
            expected["comment_count"],
            expected["share_count"],
        )
        assert c.extras["forwards"] == expected["forward_count"]
        assert c.counter("forwards") is not None
    assert DouyinConnector.capabilities.interaction_counters == (
        "likes",
        "comments",
        "shares",
        "forwards",
    )


def test_a_file_missing_from_the_library_is_a_validation_error(
    connect: Callable[..., DouyinConnector], library: Library
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        connect().publish(video_post(library.missing(MediaKind.VIDEO)))
    assert "missing from the media library" in str(failed.value)


def test_a_failed_renewal_keeps_the_new_access_token_and_the_old_refresh_token() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)

    def platform(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/refresh_token/":
            data = {"access_token": "act.new", "expires_in": 1296000, "refresh_expires_in": 86400}
            return httpx.Response(200, json={"data": {**data, "error_code": 0}})
        busy = {"error_code": 2100004, "description": "系统繁忙"}
        return httpx.Response(200, json={"data": busy, "message": "error"})

    credentials = Credentials(
        access_token="act.old", refresh_token="rft.old", client_id="aw1", user_id="o1"
    )
    with httpx.Client(
        base_url="https://open.douyin.com", transport=httpx.MockTransport(platform)
    ) as client:
        fresh = DouyinConnector(
            credentials, http=client, clock=FrozenClock(now)
        ).refresh_credentials()
    assert (fresh.access_token, fresh.refresh_token) == ("act.new", "rft.old")
    assert fresh.extra["refresh_expires_at"] == (now + timedelta(days=1)).isoformat()
