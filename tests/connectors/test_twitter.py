"""The X connector against the X simulator over real HTTP on 127.0.0.1 (and its pure rules)."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors import twitter_text
from connectors.base import Content, Credentials, Media, MediaKind
from connectors.errors import (
    AuthExpired,
    ContentRejected,
    DuplicateContent,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    RemoteNotFound,
    TransientError,
    ValidationFailed,
)
from connectors.http import creation_deadline, make_client
from connectors.media import MediaLoader
from connectors.registry import load
from connectors.twitter import TwitterConnector, classifier
from simulators.control import SimulatorControl
from simulators.harness import Simulation
from simulators.server import SimulatorServer
from tests.connectors.library import Library

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # man woman girl boy (ZWJ)
WAVE_MEDIUM = "\U0001f44b\U0001f3fd"  # waving hand, medium skin tone
TECHNOLOGIST = "\U0001f469\U0001f3fd\u200d\U0001f4bb"  # woman technologist, skin tone, ZWJ
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
FLAG_CN = "\U0001f1e8\U0001f1f3"
KEYCAP_ONE = "1\ufe0f\u20e3"
LONG_URL = "https://example.com/" + "a" * 120
# Publicist's counter -> the simulator's truth name (X's public_metrics name).
WIRE_NAMES = {
    "views": "views",
    "likes": "like_count",
    "comments": "reply_count",
    "shares": "retweet_count",
    "quotes": "quote_count",
    "bookmarks": "bookmark_count",
}


# -- fixtures -------------------------------------------------------------------------------
SIMULATED = "twitter"
"""The platform the ``server`` fixture (tests/connectors/conftest.py) simulates."""


@pytest.fixture
def sim(server: SimulatorServer) -> Simulation:
    return server.sims["twitter"]


@pytest.fixture
def control(server: SimulatorServer) -> Iterator[SimulatorControl]:
    client = SimulatorControl(server.base_url("twitter"))
    client.reset(seed=7)
    yield client
    client.close()


@pytest.fixture
def api(server: SimulatorServer) -> Iterator[httpx.Client]:
    client = make_client(server.base_url("twitter"))
    yield client
    client.close()


CDN = "https://cdn.example.com"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 10_000


@pytest.fixture
def account(control: SimulatorControl) -> dict[str, Any]:
    return control.add_account("@IPRinCN")


def connect(
    sim: Simulation,
    api: httpx.Client,
    account: dict[str, Any],
    *,
    media: MediaLoader | None = None,
) -> TwitterConnector:
    """A connector on the simulator's virtual clock; waiting for media advances that clock."""

    def wait(seconds: float) -> None:
        sim.clock.advance(seconds)

    credentials = Credentials.from_dict(account)
    return TwitterConnector(credentials, http=api, clock=sim.clock, sleep=wait, media=media)


@pytest.fixture
def x(
    sim: Simulation, api: httpx.Client, account: dict[str, Any], library: Library
) -> TwitterConnector:
    return connect(sim, api, account, media=library.loader)


def calls_since(control: SimulatorControl, mark: int) -> list[tuple[str, str]]:
    calls = control.calls(limit=10_000)[mark:]
    return [(c["method"], c["path"].removeprefix("/twitter")) for c in calls]


def mark(control: SimulatorControl) -> int:
    return len(control.calls(limit=10_000))


# -- weighted length and validation (no server) ---------------------------------------------
def violations(text: str, media: tuple[Media, ...] = ()) -> list[str]:
    return [str(v) for v in TwitterConnector.validate(Content(text=text, media=media))]


def image(n: int = 0) -> Media:
    return Media(MediaKind.IMAGE, f"{CDN}/posters/poster{n}.jpg")


def test_exactly_280_weighted_characters_pass_and_281_fail() -> None:
    assert violations("a" * 280) == []
    assert violations("a" * 281) == [
        "text: 281 weighted characters exceeds X's limit of 280 "
        "(CJK characters and emoji count 2, each URL counts 23)"
    ]


def test_cjk_characters_weigh_two() -> None:
    assert twitter_text.weighted_length("你好") == 4
    assert violations("中" * 140) == []
    assert violations("a" * 278 + "中") == []
    assert len(violations("中" * 141)) == 1
    assert twitter_text.weighted_length("こんにちは한국어") == 16


@pytest.mark.parametrize(
    "emoji", [FAMILY, WAVE_MEDIUM, TECHNOLOGIST, RAINBOW_FLAG, FLAG_CN, KEYCAP_ONE, "\u2764\ufe0f"]
)
def test_an_emoji_sequence_weighs_two_however_many_code_points(emoji: str) -> None:
    assert twitter_text.weighted_length(emoji) == 2
    assert violations(emoji * 140) == []
    assert len(violations(emoji * 141)) == 1


def test_every_url_weighs_23_however_long() -> None:
    assert twitter_text.weighted_length(LONG_URL) == 23
    assert twitter_text.weighted_length("Sale 50% 折扣 https://example.com/a/very/long/path") == 37
    assert violations("x" * 256 + " " + LONG_URL) == []
    assert len(violations("x" * 257 + " " + LONG_URL)) == 1
    # Links without a scheme count too when their domain is real; CJK ends a link.
    assert twitter_text.weighted_length("cnipa.gov.cn") == 23
    assert twitter_text.weighted_length("访问https://example.com了解") == 4 + 23 + 4
    assert twitter_text.weighted_length("node.js") == 7


def test_text_is_weighed_after_nfc_normalisation() -> None:
    decomposed = "e\u0301" * 280  # 560 code points, 280 once composed
    assert violations(decomposed) == []


def test_empty_text_needs_media() -> None:
    assert violations("") == ["text: '' must not be empty"]
    assert violations("   ") == ["text: '' must not be empty"]
    assert violations("", (image(),)) == []


def test_media_count_and_mix_limits() -> None:
    assert violations("hi", tuple(image(n) for n in range(4))) == []
    assert violations("hi", tuple(image(n) for n in range(5))) == [
        "media: 5 items exceeds X (Twitter)'s maximum of 4"
    ]
    video = Media(MediaKind.VIDEO, f"{CDN}/clips/clip.mp4")
    gif = Media(MediaKind.GIF, f"{CDN}/clips/a.gif")
    mixed = violations("hi", (image(), video))
    assert mixed == ["media: image + video X takes up to 4 images, or 1 GIF, or 1 video alone"]
    assert len(violations("hi", (gif, gif))) == 1


def test_every_broken_rule_is_reported_at_once() -> None:
    media = (
        *(image(n) for n in range(4)),
        Media(MediaKind.IMAGE, f"{CDN}/x.bmp", mime_type="image/bmp", size_bytes=6 * 1024 * 1024),
    )
    found = violations("a" * 300 + "\ufffe", media)
    assert len(found) == 5
    assert found[0].startswith("media: 5 items")
    assert found[1].startswith("text: 302 weighted characters")  # U+FFFE weighs 2
    assert found[2] == "text: U+FFFE is not allowed in an X post"
    assert "image/bmp is not an X image" in found[3]
    assert "exceeds X's 5 MB limit for a image" in found[4]


def test_alt_text_limit() -> None:
    media = (Media(MediaKind.IMAGE, f"{CDN}/a.jpg", alt_text="x" * 1001),)
    assert violations("hi", media) == [
        "media[0].alt_text: 1001 characters exceeds X's limit of 1000"
    ]


def test_capabilities_and_registration() -> None:
    caps = TwitterConnector.capabilities
    assert load("twitter") is TwitterConnector
    assert caps.metrics_batch_size == 100
    assert caps.max_media == 4
    assert caps.interaction_counters == ("likes", "comments", "shares", "quotes", "bookmarks")
    assert caps.publishes_async is False
    assert TwitterConnector.default_base_url == "https://api.x.com"


# -- error mapping of X's envelopes ---------------------------------------------------------
def response(status: int, body: dict[str, Any], **headers: str) -> httpx.Response:
    request = httpx.Request("POST", "https://api.x.com/2/tweets")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_classifier_maps_every_status_class() -> None:
    classify = classifier()
    assert classify(response(200, {"data": {}})) is None
    forbidden = {"title": "Forbidden", "type": "about:blank", "status": 403}
    duplicate = classify(
        response(
            403,
            {
                **forbidden,
                "detail": "You are not allowed to create a Tweet with duplicate content.",
            },
        )
    )
    assert isinstance(duplicate, DuplicateContent)
    client_forbidden = classify(
        response(
            403,
            {
                **forbidden,
                "detail": "app not attached",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
            },
        )
    )
    assert isinstance(client_forbidden, ReauthorizationRequired)
    refused = classify(response(403, {**forbidden, "detail": "Not permitted."}))
    assert isinstance(refused, ContentRejected)
    assert not isinstance(refused, DuplicateContent)
    assert refused.message == "Not permitted."
    assert isinstance(classify(response(401, {"title": "Unauthorized"})), AuthExpired)
    assert isinstance(classify(response(404, {"title": "Not Found Error"})), RemoteNotFound)
    too_long = classify(response(400, {"detail": "Your Tweet text is too long."}))
    assert isinstance(too_long, ContentRejected)
    assert "too long" in str(too_long)
    legacy = classify(response(400, {"errors": [{"code": 186, "message": "Status is over 280"}]}))
    assert legacy is not None
    assert "over 280" in str(legacy)
    server_error = classify(response(503, {"title": "Service Unavailable"}))
    assert isinstance(server_error, TransientError)
    assert not isinstance(server_error, OutcomeUnknown)
    assert isinstance(classifier(creates=True)(response(500, {})), OutcomeUnknown)


def test_rate_limit_reset_comes_from_the_epoch_header_or_the_24_hour_cap() -> None:
    classify = classifier()
    window = classify(
        response(
            429,
            {"title": "Too Many Requests"},
            **{
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": "1900000000",
            },
        )
    )
    assert isinstance(window, RateLimited)
    assert window.retry_at == datetime.fromtimestamp(1_900_000_000, UTC)
    daily = classify(
        response(
            429,
            {"title": "Too Many Requests"},
            **{
                "x-rate-limit-remaining": "57",
                "x-rate-limit-reset": "1900000000",
                "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": "1900050000",
            },
        )
    )
    assert isinstance(daily, RateLimited)
    assert daily.retry_at == datetime.fromtimestamp(1_900_050_000, UTC)


def test_counters_x_does_not_give_are_none_not_zero() -> None:
    counts = TwitterConnector._counts(
        {"id": "1", "public_metrics": {"like_count": 3, "retweet_count": 0}}
    )
    assert (counts.views, counts.likes, counts.shares, counts.comments) == (None, 3, 0, None)
    assert counts.extras == {"quotes": None, "bookmarks": None}


# -- publishing -----------------------------------------------------------------------------
def test_publish_text_returns_id_and_public_url(
    x: TwitterConnector, control: SimulatorControl
) -> None:
    before = mark(control)
    result = x.publish(Content(text=f"Patents & you {LONG_URL} 专利 {FAMILY}", marker="pub-1"))
    assert result.remote_id is not None
    assert result.remote_id.isdigit()
    assert len(result.remote_id) == 19
    assert result.url == f"https://x.com/IPRinCN/status/{result.remote_id}"
    assert calls_since(control, before) == [("POST", "/2/tweets")]
    echoed = result.raw["data"]["text"]
    assert echoed.startswith("Patents &amp; you https://t.co/")  # X escapes and shortens
    assert [p["remote_id"] for p in control.posts()] == [result.remote_id]


def test_publish_images_uploads_in_chunks_with_alt_text(
    x: TwitterConnector, control: SimulatorControl, sim: Simulation, library: Library
) -> None:
    two_segments = b"\x89PNG\r\n\x1a\n" + b"0" * (4 * 1024 * 1024 + 500_000)
    big = library.add(MediaKind.IMAGE, two_segments, alt_text="A poster")
    small = library.add(MediaKind.IMAGE, b"\xff\xd8\xff" + b"1" * 2000)
    before = mark(control)
    result = x.publish(Content(text="IP Creates a Better Life", media=(big, small)))
    calls = calls_since(control, before)
    first_id = calls[1][1].split("/")[4]
    second_id = calls[6][1].split("/")[4]
    assert calls == [
        ("POST", "/2/media/upload/initialize"),
        ("POST", f"/2/media/upload/{first_id}/append"),
        ("POST", f"/2/media/upload/{first_id}/append"),
        ("POST", f"/2/media/upload/{first_id}/finalize"),
        ("POST", "/2/media/metadata"),
        ("POST", "/2/media/upload/initialize"),
        ("POST", f"/2/media/upload/{second_id}/append"),
        ("POST", f"/2/media/upload/{second_id}/finalize"),
        ("POST", "/2/tweets"),
    ]
    assert sim.objects[f"media:{first_id}"]["alt_text"] == "A poster"
    assert sim.objects[f"media:{first_id}"]["media_type"] == "image/png"
    post = sim.posts[str(result.remote_id)]
    assert post.extra["media_ids"] == [first_id, second_id]
    assert all(key.startswith("3_") for key in post.extra["media_keys"])


def test_publish_video_waits_for_processing_on_the_virtual_clock(
    x: TwitterConnector, control: SimulatorControl, library: Library
) -> None:
    clip = library.add(MediaKind.VIDEO, VIDEO)
    before = mark(control)
    result = x.publish(Content(text="GI Stories", media=(clip,)))
    calls = calls_since(control, before)
    statuses = [c for c in calls if c == ("GET", "/2/media/upload")]
    assert 1 <= len(statuses) <= 5
    assert calls[-1] == ("POST", "/2/tweets")
    assert result.remote_id is not None


def test_failed_video_processing_is_rejected_with_the_reason(
    control: SimulatorControl, sim: Simulation, api: httpx.Client, library: Library
) -> None:
    account = control.add_account("@clips", media_processing_fails=True)
    clip = library.add(MediaKind.VIDEO, VIDEO)
    with pytest.raises(ContentRejected, match="Unsupported video format"):
        connect(sim, api, account, media=library.loader).publish(
            Content(text="broken", media=(clip,))
        )
    assert control.posts() == []


def test_media_still_processing_after_the_wait_limit_is_transient(
    control: SimulatorControl, sim: Simulation, api: httpx.Client, library: Library
) -> None:
    account = control.add_account("@slow", media_processing_seconds=3600)
    clip = library.add(MediaKind.GIF, b"GIF89a" + b"g" * 100)
    with pytest.raises(TransientError, match="still processing"):
        connect(sim, api, account, media=library.loader).publish(
            Content(text="slow", media=(clip,))
        )
    assert control.posts() == []


def test_media_from_an_http_url_is_downloaded_then_uploaded(
    x: TwitterConnector, sim: Simulation, tmp_path: Path
) -> None:
    (tmp_path / "poster.jpg").write_bytes(b"\xff\xd8\xff" + b"j" * 3000)
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=files.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{files.server_address[1]}"
        result = x.publish(
            Content(text="from a URL", media=(Media(MediaKind.IMAGE, f"{base}/poster.jpg"),))
        )
        media_id = sim.posts[str(result.remote_id)].extra["media_ids"][0]
        assert sim.objects[f"media:{media_id}"]["total_bytes"] == 3003
        assert sim.objects[f"media:{media_id}"]["media_type"] == "image/jpeg"
        with pytest.raises(ContentRejected, match="HTTP 404"):
            x.publish(Content(text="gone", media=(Media(MediaKind.IMAGE, f"{base}/gone.jpg"),)))
    finally:
        files.shutdown()
        files.server_close()
        thread.join(timeout=5)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def test_invalid_content_fails_before_any_request(
    x: TwitterConnector, control: SimulatorControl
) -> None:
    before = mark(control)
    with pytest.raises(ValidationFailed) as info:
        x.publish(Content(text="中" * 141, media=tuple(image(n) for n in range(5))))
    assert len(info.value.violations) == 2
    with pytest.raises(ValidationFailed, match="local file path is no longer accepted"):
        x.publish(Content(text="hi", media=(Media(MediaKind.IMAGE),)))
    assert calls_since(control, before) == []


def test_every_file_is_checked_before_the_first_upload(
    x: TwitterConnector, control: SimulatorControl, library: Library
) -> None:
    good = library.add(MediaKind.IMAGE, b"\xff\xd8\xff" + b"1" * 2000)
    fake = library.add(MediaKind.IMAGE, b"SECRET=1\n")
    before = mark(control)
    with pytest.raises(ValidationFailed, match=r"media\[1\]: image library item \d+ is not a file"):
        x.publish(Content(text="two posters", media=(good, fake)))
    assert calls_since(control, before) == []


def test_unknown_media_id_is_refused_by_x(api: httpx.Client, account: dict[str, Any]) -> None:
    reply = api.post(
        "/2/tweets",
        json={"text": "hi", "media": {"media_ids": ["1234567890123456789"]}},
        headers={"Authorization": f"Bearer {account['access_token']}"},
    )
    assert reply.status_code == 400
    assert reply.json()["detail"] == "Your media IDs are invalid."
    assert isinstance(classifier()(reply), ContentRejected)


def test_check_publish_has_nothing_to_poll(x: TwitterConnector) -> None:
    with pytest.raises(RemoteNotFound):
        x.check_publish("anything")


# -- errors over HTTP -----------------------------------------------------------------------
def test_refused_content_carries_x_reason(
    control: SimulatorControl, sim: Simulation, api: httpx.Client
) -> None:
    account = control.add_account("@strict", blocked_words=["counterfeit"])
    with pytest.raises(ContentRejected, match="not permitted") as info:
        connect(sim, api, account).publish(Content(text="Buy counterfeit goods"))
    assert info.value.code == "403"


def test_a_token_without_the_write_scope_needs_reauthorisation(
    control: SimulatorControl, sim: Simulation, api: httpx.Client
) -> None:
    account = control.add_account("@reader", scopes=["tweet.read", "users.read"])
    with pytest.raises(ReauthorizationRequired, match=r"tweet\.write"):
        connect(sim, api, account).publish(Content(text="hello"))


def test_server_errors_on_create_are_unknown_and_elsewhere_transient(
    x: TwitterConnector, control: SimulatorControl
) -> None:
    control.faults(error_rate=1.0)
    with pytest.raises(OutcomeUnknown, match="HTTP 503"):
        x.publish(Content(text="during an outage"))
    with pytest.raises(TransientError) as info:
        x.fetch_metrics(["1234567890123456789"])
    assert not isinstance(info.value, OutcomeUnknown)
    control.clear_faults()
    assert control.posts() == []


def test_the_post_window_is_counted_and_reported_in_headers(
    control: SimulatorControl, sim: Simulation, api: httpx.Client
) -> None:
    account = control.add_account("@busy", post_limit=2)
    x = connect(sim, api, account)
    start = sim.clock.now()
    x.publish(Content(text="one"))
    x.publish(Content(text="two"))
    with pytest.raises(RateLimited) as info:
        x.publish(Content(text="three"))
    assert info.value.retry_at is not None
    assert start + timedelta(seconds=898) <= info.value.retry_at <= start + timedelta(seconds=901)
    reply = api.get("/2/users/me", headers={"Authorization": f"Bearer {account['access_token']}"})
    assert reply.headers["x-rate-limit-limit"] == "75"
    assert reply.headers["x-rate-limit-remaining"] == "74"
    assert int(reply.headers["x-rate-limit-reset"]) > start.timestamp()
    assert "retry-after" not in reply.headers
    control.clock(advance_seconds=901)
    assert x.publish(Content(text="three")).remote_id


# -- tokens ---------------------------------------------------------------------------------
def test_expired_token_then_refresh_with_rotation(
    x: TwitterConnector,
    control: SimulatorControl,
    sim: Simulation,
    api: httpx.Client,
    account: dict[str, Any],
) -> None:
    control.expire_tokens()
    with pytest.raises(AuthExpired) as info:
        x.publish(Content(text="after expiry"))
    assert account["access_token"] not in str(info.value)
    now = sim.clock.now()
    fresh = x.refresh_credentials()
    assert fresh.access_token != account["access_token"]
    assert fresh.refresh_token
    assert fresh.refresh_token != account["refresh_token"]
    assert fresh.expires_at is not None
    assert now + timedelta(seconds=7190) <= fresh.expires_at <= now + timedelta(seconds=7210)
    assert fresh.user_id == account["user_id"]
    assert account["refresh_token"] not in repr(fresh)
    renewed = TwitterConnector(fresh, http=api, clock=sim.clock)
    assert renewed.publish(Content(text="after expiry")).remote_id
    with pytest.raises(ReauthorizationRequired, match="token was invalid"):
        x.refresh_credentials()  # the old refresh token was spent by the rotation


def test_token_lifetime_comes_from_expires_in(
    control: SimulatorControl, sim: Simulation, api: httpx.Client
) -> None:
    account = control.add_account("@short", access_lifetime=600)
    now = sim.clock.now()
    fresh = connect(sim, api, account).refresh_credentials()
    assert fresh.expires_at is not None
    assert now + timedelta(seconds=590) <= fresh.expires_at <= now + timedelta(seconds=610)


def test_public_client_refreshes_with_its_client_id(
    control: SimulatorControl, sim: Simulation, api: httpx.Client
) -> None:
    account = control.add_account("@public", public_client=True)
    assert account["client_secret"] is None
    fresh = connect(sim, api, account).refresh_credentials()
    assert fresh.access_token != account["access_token"]


def test_refresh_failures_need_a_person(
    control: SimulatorControl, sim: Simulation, api: httpx.Client, account: dict[str, Any]
) -> None:
    with pytest.raises(ReauthorizationRequired, match=r"invalid_client|authorization header"):
        connect(sim, api, {**account, "client_secret": "wrong"}).refresh_credentials()
    offline = control.add_account("@nooffline", scopes=["tweet.read", "tweet.write"])
    assert offline["refresh_token"] is None
    before = mark(control)
    with pytest.raises(ReauthorizationRequired, match=r"offline\.access"):
        connect(sim, api, offline).refresh_credentials()
    assert calls_since(control, before) == []


def test_pkce_authorisation_code_flow(
    control: SimulatorControl, api: httpx.Client, account: dict[str, Any]
) -> None:
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect = "https://publicist.example/callback"
    params = {
        "response_type": "code",
        "client_id": account["client_id"],
        "redirect_uri": redirect,
        "scope": "tweet.read tweet.write users.read offline.access",
        "state": "s1",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    page = api.get("/i/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert "Allow" in page.text
    consent = api.post("/i/oauth2/authorize", data={**params, "decision": "allow"})
    assert consent.status_code == 302
    location = httpx.URL(consent.headers["location"])
    assert location.params["state"] == "s1"
    form = {
        "grant_type": "authorization_code",
        "code": location.params["code"],
        "redirect_uri": redirect,
        "code_verifier": verifier,
    }
    auth = (account["client_id"], account["client_secret"])
    token = api.post("/2/oauth2/token", data=form, auth=auth)
    assert token.status_code == 200
    assert token.json()["expires_in"] == 7200
    assert token.json()["refresh_token"]
    again = api.post("/2/oauth2/token", data=form, auth=auth)
    assert again.json()["error"] == "invalid_request"  # a code is used once


# -- reconciliation -------------------------------------------------------------------------
def test_commit_then_drop_is_found_and_never_posted_twice(
    x: TwitterConnector, control: SimulatorControl, sim: Simulation
) -> None:
    content = Content(text=f"IP Week opens today & tonight {LONG_URL}", marker="pub-9")
    started = sim.clock.now()
    control.faults(drop_next_creates=1)
    with pytest.raises(OutcomeUnknown):
        x.publish(content)
    found = x.find_post(content, since=started - timedelta(minutes=5))
    assert found is not None
    assert [p["remote_id"] for p in control.posts()] == [found.remote_id]
    assert found.url == f"https://x.com/IPRinCN/status/{found.remote_id}"
    assert found.text is not None
    assert found.text.startswith("IP Week opens today & tonight")
    with pytest.raises(DuplicateContent):  # a blind retry would have been refused anyway
        x.publish(content)
    assert sorted(control.counts().values()) == [1]


def test_find_post_misses_what_was_never_posted_or_is_older(
    x: TwitterConnector, control: SimulatorControl, sim: Simulation
) -> None:
    x.publish(Content(text="yesterday's news"))
    control.clock(advance_seconds=3600)
    since = sim.clock.now()
    assert x.find_post(Content(text="never sent"), since=since - timedelta(minutes=5)) is None
    assert x.find_post(Content(text="yesterday's news"), since=since) is None


def test_find_post_pages_through_a_busy_timeline(
    x: TwitterConnector, control: SimulatorControl, sim: Simulation, account: dict[str, Any]
) -> None:
    since = sim.clock.now() - timedelta(seconds=5)
    target = x.publish(Content(text="the one we lost"))
    for n in range(120):
        sim.record_post(account["user_id"], f"later post {n}", remote_id=sim.snowflake())
    before = mark(control)
    found = x.find_post(Content(text="the one we lost"), since=since)
    assert found is not None
    assert found.remote_id == target.remote_id
    timeline = f"/2/users/{account['user_id']}/tweets"
    assert calls_since(control, before) == [("GET", timeline), ("GET", timeline)]


def test_find_post_asks_who_the_token_is_when_no_user_id_is_stored(
    sim: Simulation, api: httpx.Client, account: dict[str, Any], control: SimulatorControl
) -> None:
    x = connect(sim, api, {**account, "user_id": None})
    x.publish(Content(text="whose post"))
    before = mark(control)
    found = x.find_post(Content(text="whose post"), since=sim.clock.now() - timedelta(minutes=1))
    assert found is not None
    assert calls_since(control, before)[0] == ("GET", "/2/users/me")


# -- metrics --------------------------------------------------------------------------------
def test_metrics_batch_at_100_and_split_above(
    x: TwitterConnector,
    control: SimulatorControl,
    sim: Simulation,
    account: dict[str, Any],
    api: httpx.Client,
) -> None:
    ids = [sim.record_post(account["user_id"], f"bulk {n}").remote_id for n in range(150)]
    control.clock(advance_seconds=3600)
    before = mark(control)
    assert len(x.fetch_metrics(ids[:100])) == 100
    assert calls_since(control, before) == [("GET", "/2/tweets")]
    before = mark(control)
    results = x.fetch_metrics(ids)
    assert [m.remote_id for m in results] == ids
    assert calls_since(control, before) == [("GET", "/2/tweets"), ("GET", "/2/tweets")]
    too_many = api.get(
        "/2/tweets",
        params={"ids": ",".join(ids[:101])},
        headers={"Authorization": f"Bearer {account['access_token']}"},
    )
    assert too_many.status_code == 400
    assert too_many.json()["type"].endswith("/invalid-request")


def test_deleted_and_malformed_ids_are_omitted(
    x: TwitterConnector, control: SimulatorControl, api: httpx.Client, account: dict[str, Any]
) -> None:
    kept = str(x.publish(Content(text="kept")).remote_id)
    gone = str(x.publish(Content(text="deleted later")).remote_id)
    control.delete_post(gone)
    results = x.fetch_metrics([kept, gone, "not-an-id"])
    assert [m.remote_id for m in results] == [kept]
    partial = api.get(
        "/2/tweets",
        params={"ids": f"{kept},{gone}", "tweet.fields": "public_metrics"},
        headers={"Authorization": f"Bearer {account['access_token']}"},
    )
    assert partial.status_code == 200
    assert [e["resource_id"] for e in partial.json()["errors"]] == [gone]
    assert partial.json()["errors"][0]["type"].endswith("/resource-not-found")


def test_collected_counters_add_up_to_the_simulator_truth(
    x: TwitterConnector, control: SimulatorControl
) -> None:
    ids = [str(x.publish(Content(text=f"truth post {n}")).remote_id) for n in range(5)]
    control.clock(advance_seconds=3000)  # inside the token's two hours
    control.freeze(now=True)
    results = x.fetch_metrics(ids)
    totals = control.truth()["totals"]
    assert set(totals) == set(WIRE_NAMES.values())
    for name, wire in WIRE_NAMES.items():
        assert sum(m.counter(name) or 0 for m in results) == totals[wire], name
    control.freeze()


def test_non_public_metrics_are_refused_after_30_days(
    x: TwitterConnector,
    control: SimulatorControl,
    sim: Simulation,
    api: httpx.Client,
    account: dict[str, Any],
) -> None:
    remote_id = str(x.publish(Content(text="private counters")).remote_id)
    headers = {"Authorization": f"Bearer {account['access_token']}"}
    params = {"ids": remote_id, "tweet.fields": "public_metrics,non_public_metrics"}
    fresh = api.get("/2/tweets", params=params, headers=headers).json()
    assert "non_public_metrics" in fresh["data"][0]
    control.clock(advance_seconds=31 * 86400)
    fresh_credentials = x.refresh_credentials()
    headers = {"Authorization": f"Bearer {fresh_credentials.access_token}"}
    old = api.get("/2/tweets", params=params, headers=headers).json()
    assert "non_public_metrics" not in old["data"][0]
    assert old["errors"][0]["title"] == "Field Authorization Error"
    renewed = TwitterConnector(fresh_credentials, http=api, clock=sim.clock)
    assert len(renewed.fetch_metrics([remote_id])) == 1  # public counters are unaffected


def test_default_engagement_calibrates_to_the_reference_scenario(sim: Simulation) -> None:
    """80 posts: about 2,000,000 impressions and 88,000 interactions (4.4 %)."""
    account, _ = sim.add_account("@calibration")
    posts = [sim.record_post(account.account_id, f"article {n}") for n in range(80)]
    later = sim.clock.now() + timedelta(days=30)
    counters = [sim.engagement(post, later) for post in posts]
    views = sum(c["views"] for c in counters)
    interactions = sum(
        c[WIRE_NAMES[name]]
        for c in counters
        for name in TwitterConnector.capabilities.interaction_counters
    )
    assert 1_800_000 <= views <= 2_400_000
    assert 0.040 <= interactions / views <= 0.048


# -- the simulator's other upload shape -----------------------------------------------------
def test_command_style_upload_init_append_finalize_status(
    api: httpx.Client, account: dict[str, Any], sim: Simulation
) -> None:
    """``POST /2/media/upload`` with ``command=...`` (the older v2 shape) is served as well."""
    auth = {"Authorization": f"Bearer {account['access_token']}"}
    init = api.post(
        "/2/media/upload",
        data={"command": "INIT", "media_type": "video/mp4", "total_bytes": "10"},
        headers=auth,
    )
    media_id = init.json()["data"]["id"]
    assert init.json()["data"]["media_key"] == f"7_{media_id}"
    for index, chunk in enumerate((b"12345", b"6789")):
        append = api.post(
            "/2/media/upload",
            data={"command": "APPEND", "media_id": media_id, "segment_index": str(index)},
            files={"media": ("blob", chunk)},
            headers=auth,
        )
        assert append.status_code == 204
    short = api.post(
        "/2/media/upload", data={"command": "FINALIZE", "media_id": media_id}, headers=auth
    )
    assert short.json()["detail"] == "One or more parameters to your request was invalid."
    api.post(
        "/2/media/upload",
        data={"command": "APPEND", "media_id": media_id, "segment_index": "2"},
        files={"media": ("blob", b"0")},
        headers=auth,
    )
    done = api.post(
        "/2/media/upload", data={"command": "FINALIZE", "media_id": media_id}, headers=auth
    )
    assert done.json()["data"]["processing_info"]["state"] == "pending"
    sim.clock.advance(10)
    status = api.get(
        "/2/media/upload", params={"command": "STATUS", "media_id": media_id}, headers=auth
    )
    assert status.json()["data"]["processing_info"] == {
        "state": "succeeded",
        "progress_percent": 100,
    }
    sim.clock.advance(86_400)  # past expires_after_secs: the media id can no longer be used
    token = TwitterConnector(Credentials.from_dict(account), http=api).refresh_credentials()
    late = api.post(
        "/2/tweets",
        json={"media": {"media_ids": [media_id]}},
        headers={"Authorization": f"Bearer {token.access_token}"},
    )
    assert late.status_code == 400
    assert late.json()["detail"] == "Your media IDs are invalid."


def test_281_weighted_with_cjk_and_a_url_is_refused_here_and_by_x(
    api: httpx.Client, account: dict[str, Any]
) -> None:
    text = "a" + "专利" * 64 + " " + LONG_URL  # 1 + 256 + 1 + 23
    assert twitter_text.weighted_length(text) == 281
    assert violations(text) == [
        "text: 281 weighted characters exceeds X's limit of 280 "
        "(CJK characters and emoji count 2, each URL counts 23)"
    ]
    reply = api.post(
        "/2/tweets",
        json={"text": text},
        headers={"Authorization": f"Bearer {account['access_token']}"},
    )
    assert reply.status_code == 400
    assert reply.json()["detail"] == "Your Tweet text is too long."
    assert isinstance(classifier(creates=True)(reply), ContentRejected)
    fits = text[1:]  # 280
    assert violations(fits) == []
    accepted = api.post(
        "/2/tweets",
        json={"text": fits},
        headers={"Authorization": f"Bearer {account['access_token']}"},
    )
    assert accepted.status_code == 201


def test_past_its_deadline_the_post_is_not_created_but_media_still_uploads(
    x: TwitterConnector, control: SimulatorControl, library: Library
) -> None:
    clip = library.add(MediaKind.VIDEO, VIDEO)
    before = mark(control)
    with creation_deadline(-1), pytest.raises(TransientError, match="nothing was sent"):
        x.publish(Content(text="Late launch", media=(clip,)))
    calls = calls_since(control, before)
    assert ("POST", "/2/media/upload/initialize") in calls
    assert ("POST", "/2/tweets") not in calls
    assert control.posts() == []
