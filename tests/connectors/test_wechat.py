"""The WeChat connector against the WeChat simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import Content, Credentials, Media, MediaKind, PublishState
from connectors.errors import (
    AuthExpired,
    ConnectorError,
    ContentRejected,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    RemoteNotFound,
    TransientError,
    ValidationFailed,
)
from connectors.fingerprint import content_fingerprint
from connectors.http import creation_deadline, make_client
from connectors.media import MediaLoader
from connectors.registry import load
from connectors.wechat import (
    BEIJING,
    ArticleRef,
    Submission,
    WechatConnector,
    article_html,
    plain_text,
)
from simulators.control import SimulatorControl
from simulators.harness import Simulation
from simulators.server import SimulatorServer
from tests.connectors.library import Library

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 256
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 256
GIF = b"GIF89a" + b"\x00" * 64
LONG_LIFE = 30 * 86_400  # tokens that outlive the clock jumps of metrics tests


# -- fixtures -------------------------------------------------------------------------------
SIMULATED = "wechat"
"""The platform the ``server`` fixture (tests/connectors/conftest.py) simulates."""


@pytest.fixture
def sim(server: SimulatorServer) -> Simulation:
    return server.sims["wechat"]


@pytest.fixture
def control(server: SimulatorServer) -> Iterator[SimulatorControl]:
    client = SimulatorControl(server.base_url("wechat"))
    client.reset(seed=5)
    client.clock(set_to=datetime(2026, 4, 20, 9, 30, tzinfo=BEIJING))
    yield client
    client.close()


@pytest.fixture
def api(server: SimulatorServer) -> Iterator[httpx.Client]:
    client = make_client(server.base_url("wechat"))
    yield client
    client.close()


@pytest.fixture
def images(library: Library) -> dict[str, Media]:
    return {
        "cover": library.add(MediaKind.IMAGE, JPEG),
        "inline": library.add(MediaKind.IMAGE, PNG),
    }


@pytest.fixture
def account(control: SimulatorControl) -> dict[str, Any]:
    return control.add_account("cnipa", token_lifetime=LONG_LIFE)


@pytest.fixture
def wechat(
    sim: Simulation, api: httpx.Client, account: dict[str, Any], library: Library
) -> WechatConnector:
    return connect(sim, api, account, media=library.loader)


def connect(
    sim: Simulation,
    api: httpx.Client,
    account: dict[str, Any],
    *,
    media: MediaLoader | None = None,
) -> WechatConnector:
    """A connector on the simulator's virtual clock, so "today" means the same to both."""
    return WechatConnector(Credentials.from_dict(account), http=api, clock=sim.clock, media=media)


def article(images: dict[str, Media], *, title: str = "知识产权宣传周开幕", **kw: Any) -> Content:
    defaults: dict[str, Any] = {
        "text": "主场活动与主旨演讲今天开幕。\n\n详情见 https://www.cnipa.gov.cn/week",
        "title": title,
        "digest": "宣传周开幕",
        "media": (images["cover"],),
        "marker": "pub-1",
    }
    return Content(**{**defaults, **kw})


def knobs(server: SimulatorServer, **settings: Any) -> None:
    httpx.post(
        server.base_url("wechat") + "/__sim/wechat/settings", json=settings, timeout=5
    ).raise_for_status()


def inject(server: SimulatorServer, path: str, **entry: Any) -> None:
    httpx.post(
        server.base_url("wechat") + "/__sim/wechat/inject", json={"path": path, **entry}, timeout=5
    ).raise_for_status()


def sim_get(server: SimulatorServer, path: str) -> Any:
    response = httpx.get(server.base_url("wechat") + path, timeout=5)
    response.raise_for_status()
    return response.json()


def paths(control: SimulatorControl, since: int = 0) -> list[str]:
    """Platform paths called, from the ``since``-th call on (the ledger keeps 10,000)."""
    return [c["path"] for c in control.calls(limit=10_000)[since:]]


def call_count(control: SimulatorControl) -> int:
    return len(control.calls(limit=10_000))


def published(
    wechat: WechatConnector, control: SimulatorControl, content: Content
) -> tuple[str, str]:
    """Publish, let the job finish, and return (remote id, url)."""
    submitted = wechat.publish(content)
    assert submitted.submission_id is not None
    control.clock(advance_seconds=5)
    result = wechat.check_publish(submitted.submission_id)
    assert result.state is PublishState.PUBLISHED
    assert result.remote_id is not None
    assert result.url is not None
    return result.remote_id, result.url


# -- publishing -------------------------------------------------------------------------------
def test_publish_uploads_the_cover_and_inline_images_then_drafts_and_submits(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    content = article(
        images,
        media=(
            images["cover"],
            images["inline"],
        ),
    )
    result = wechat.publish(content)

    assert paths(control) == [
        "/cgi-bin/material/add_material",
        "/cgi-bin/media/uploadimg",
        "/cgi-bin/draft/add",
        "/cgi-bin/freepublish/submit",
    ]
    assert result.state is PublishState.SUBMITTED
    assert result.remote_id is None
    submission = Submission.parse(result.submission_id or "")
    assert submission is not None
    assert (submission.publish_id, submission.msg_data_id) == (
        result.raw["publish_id"],
        result.raw["msg_data_id"],
    )
    assert isinstance(submission.publish_id, str)
    assert submission.publish_id.isdigit()
    jobs = sim_get(server, "/__sim/wechat/jobs")
    assert [j["status"] for j in jobs] == [1]
    assert sim_get(server, "/__sim/wechat/drafts") == []  # the submit consumed the draft


def test_check_publish_polls_until_the_article_exists(
    server: SimulatorServer,
    sim: Simulation,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    content = article(images)
    submitted = wechat.publish(content)
    assert submitted.submission_id is not None

    pending = wechat.check_publish(submitted.submission_id)
    assert pending.state is PublishState.SUBMITTED
    assert pending.submission_id == submitted.submission_id

    control.clock(advance_seconds=5)
    done = wechat.check_publish(submitted.submission_id)
    assert done.state is PublishState.PUBLISHED
    ref = ArticleRef.parse(done.remote_id or "")
    assert ref is not None
    assert ref.msgid == f"{submitted.raw['msg_data_id']}_1"
    assert ref.day == date(2026, 4, 20)
    assert done.url is not None
    assert f"mid={submitted.raw['msg_data_id']}" in done.url
    post = control.posts()[0]
    assert post["remote_id"] == ref.msgid
    assert sim.posts[ref.msgid].extra["article_id"] == ref.article_id
    assert sim.posts[ref.msgid].extra["title"] == "知识产权宣传周开幕"  # real UTF-8, not \u
    assert control.counts() == {
        f"{sim.posts[ref.msgid].account_id}:{content_fingerprint(content.text)}": 1
    }


def test_a_job_finishing_after_midnight_is_dated_by_the_platform(
    control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media]
) -> None:
    control.clock(set_to=datetime(2026, 4, 20, 23, 59, 58, tzinfo=BEIJING))
    submitted = wechat.publish(article(images))
    control.clock(set_to=datetime(2026, 4, 21, 0, 10, tzinfo=BEIJING))
    done = wechat.check_publish(submitted.submission_id or "")
    ref = ArticleRef.parse(done.remote_id or "")
    assert ref is not None
    job_finished = datetime(2026, 4, 21, 0, 0, tzinfo=BEIJING)
    assert done.published_at is not None
    assert done.published_at <= job_finished + timedelta(seconds=2)
    assert ref.day == done.published_at.astimezone(BEIJING).date()
    assert paths(control)[-1] == "/cgi-bin/freepublish/batchget"


def test_the_platform_strips_scripts_and_foreign_images(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    html = (
        "<p>白皮书今日发布</p><script>alert(1)</script>"
        '<p><img src="https://example.org/outside.png"/></p>'
    )
    content = article(
        images,
        text=html,
        media=(
            images["cover"],
            images["inline"],
        ),
    )
    _, _ = published(wechat, control, content)
    listing = wechat._call(
        "POST", "/cgi-bin/freepublish/batchget", payload={"offset": 0, "count": 1}
    )
    stored = listing["item"][0]["content"]["news_item"][0]["content"]
    assert "<script" not in stored
    assert "example.org" not in stored
    assert "mmbiz.qpic.cn" in stored  # our own uploadimg image survives
    assert "白皮书今日发布" in stored


def test_plain_text_is_sent_as_escaped_paragraphs() -> None:
    assert article_html("a < b\nline two\n\n\nsecond") == (
        "<p>a &lt; b<br/>line two</p><p>second</p>"
    )
    assert article_html("<p>already html</p>") == "<p>already html</p>"
    assert plain_text(article_html("one\n\ntwo &")) == "one\n\ntwo &"


def test_media_given_by_url_is_downloaded_then_uploaded(
    control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media], tmp_path: Path
) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "cover.jpg").write_bytes(JPEG)
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "files")
    )
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=files.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{files.server_address[1]}"
        ok = article(images, media=(Media(MediaKind.IMAGE, f"{base}/cover.jpg"),))
        assert wechat.publish(ok).state is PublishState.SUBMITTED
        missing = article(images, media=(Media(MediaKind.IMAGE, f"{base}/absent.jpg"),))
        with pytest.raises(ContentRejected, match="could not be fetched"):
            wechat.publish(missing)
    finally:
        files.shutdown()
        files.server_close()
        thread.join(timeout=5)


# -- validation -------------------------------------------------------------------------------
def test_titles_up_to_32_characters_pass_and_33_fail(images: dict[str, Media]) -> None:
    assert WechatConnector.validate(article(images, title="专" * 32)) == []
    assert WechatConnector.validate(article(images, title="x" * 32)) == []
    [problem] = WechatConnector.validate(article(images, title="专" * 33))
    assert problem.field == "title"
    assert "32" in problem.rule


def test_every_broken_rule_is_reported_at_once(images: dict[str, Media]) -> None:
    content = Content(
        text="",
        title=" ",
        digest="d" * 129,
        media=(
            replace(images["cover"], size_bytes=11 * 1024 * 1024),
            Media(MediaKind.IMAGE, "https://cdn.example.com/anim.gif"),
            Media(MediaKind.VIDEO, "https://cdn.example.com/clip.mp4"),
            *[images["inline"]] * 8,
        ),
    )
    fields = sorted(v.field for v in WechatConnector.validate(content))
    assert fields == ["digest", "media", "media[0]", "media[1]", "media[2]", "text", "title"]


def test_an_article_without_an_image_is_told_it_needs_a_cover(images: dict[str, Media]) -> None:
    [problem] = WechatConnector.validate(article(images, media=()))
    assert problem.field == "media"
    assert "cover" in problem.rule


def test_the_body_limit_counts_html_and_inline_images(images: dict[str, Media]) -> None:
    fits = article(images, text="x" * (20_000 - len("<p></p>") - 1))
    assert WechatConnector.validate(fits) == []
    over = article(images, text="x" * (20_000 - len("<p></p>")))
    [problem] = WechatConnector.validate(over)
    assert (problem.field, problem.value) == ("text", "20000 characters of HTML")
    with_image = article(
        images,
        text="x" * (20_000 - len("<p></p>") - 150),
        media=(
            images["cover"],
            images["inline"],
        ),
    )
    assert [v.field for v in WechatConnector.validate(with_image)] == ["text"]


def test_publish_checks_files_before_any_request(
    control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media], library: Library
) -> None:
    before = call_count(control)
    content = article(
        images,
        media=(
            library.add(MediaKind.IMAGE, b"not an image"),
            library.add(MediaKind.IMAGE, PNG + b"\x00" * (1024 * 1024)),
            library.missing(MediaKind.IMAGE),
        ),
    )
    with pytest.raises(ValidationFailed) as raised:
        wechat.publish(content)
    assert [v.field for v in raised.value.violations] == ["media[0]", "media[1]", "media[2]"]
    with pytest.raises(ValidationFailed):
        wechat.publish(article(images, title="t" * 33))
    assert call_count(control) == before


def test_a_title_the_platform_finds_too_long_is_rejected_with_its_reason(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    knobs(server, title_limit=8)
    try:
        with pytest.raises(ContentRejected, match="title too long") as raised:
            wechat.publish(article(images, title="二〇二一年知识产权宣传周"))
    finally:
        knobs(server, title_limit=32)
    assert raised.value.code == "45003"
    assert sim_get(server, "/__sim/wechat/jobs") == []


def test_escaped_json_would_be_stored_literally(
    server: SimulatorServer, wechat: WechatConnector, images: dict[str, Media]
) -> None:
    """What the connector avoids by sending real UTF-8: a \\u-escaped title grows past 32."""
    cover = wechat._call(
        "POST",
        "/cgi-bin/material/add_material",
        params={"type": "image"},
        files={"media": ("c.jpg", JPEG, "image/jpeg")},
    )
    body = (
        '{"articles": [{"title": "\\u77e5\\u8bc6\\u4ea7\\u6743\\u5ba3\\u4f20\\u5468", '
        f'"content": "<p>x</p>", "thumb_media_id": "{cover["media_id"]}"}}]}}'
    )
    answer = httpx.post(
        server.base_url("wechat") + "/cgi-bin/draft/add",
        params={"access_token": wechat.credentials.access_token},
        content=body.encode(),
        timeout=5,
    ).json()
    assert answer["errcode"] == 45003


# -- asynchronous outcomes ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "reason"),
    [(2, "original-content"), (3, "general failure"), (4, "review")],
)
def test_failed_publish_jobs_are_rejections_with_the_failed_articles(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
    status: int,
    reason: str,
) -> None:
    knobs(server, fail_next=1, fail_status=status)
    submitted = wechat.publish(article(images))
    control.clock(advance_seconds=5)
    with pytest.raises(ContentRejected, match=reason) as raised:
        wechat.check_publish(submitted.submission_id or "")
    assert raised.value.code == f"publish_status {status}"
    assert "article 1" in str(raised.value)
    assert control.posts() == []


def test_review_rejects_blocked_words(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    knobs(server, blocked_words=["违禁"])
    try:
        submitted = wechat.publish(article(images, text="含有违禁内容"))
        control.clock(advance_seconds=5)
        with pytest.raises(ContentRejected, match="review"):
            wechat.check_publish(submitted.submission_id or "")
    finally:
        knobs(server, blocked_words=[])


def test_deleted_blocked_and_unknown_jobs(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    first = wechat.publish(article(images, marker="a"))
    second = wechat.publish(article(images, title="白皮书发布", marker="b"))
    control.clock(advance_seconds=5)
    deleted = ArticleRef.parse(wechat.check_publish(first.submission_id or "").remote_id or "")
    blocked = ArticleRef.parse(wechat.check_publish(second.submission_id or "").remote_id or "")
    assert deleted is not None
    assert blocked is not None
    wechat._call("POST", "/cgi-bin/freepublish/delete", payload={"article_id": deleted.article_id})
    httpx.post(
        server.base_url("wechat") + f"/__sim/wechat/articles/{blocked.article_id}/block",
        timeout=5,
    ).raise_for_status()
    with pytest.raises(RemoteNotFound, match="deleted"):
        wechat.check_publish(first.submission_id or "")
    with pytest.raises(ContentRejected, match="blocked"):
        wechat.check_publish(second.submission_id or "")
    unknown = Submission("999", "999", datetime(2026, 4, 20, tzinfo=UTC)).encode()
    with pytest.raises(RemoteNotFound):
        wechat.check_publish(unknown)
    with pytest.raises(RemoteNotFound):
        wechat.check_publish("not-a-submission")


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("errcode", "expected"),
    [
        (-1, TransientError),
        (42001, AuthExpired),
        (40001, AuthExpired),
        (40014, AuthExpired),
        (48001, ReauthorizationRequired),
        (45166, ContentRejected),
        (53503, ContentRejected),
        (47001, ContentRejected),
    ],
)
def test_errcodes_become_typed_errors(
    server: SimulatorServer,
    wechat: WechatConnector,
    images: dict[str, Media],
    errcode: int,
    expected: type[ConnectorError],
) -> None:
    inject(server, "/cgi-bin/freepublish/submit", errcode=errcode)
    with pytest.raises(expected) as raised:
        wechat.publish(article(images))
    assert raised.value.code == str(errcode)
    assert sim_get(server, "/__sim/wechat/drafts") == []  # the refused draft was discarded


def test_quota_errors_carry_the_platform_reset_time(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    control.clock(set_to=datetime(2026, 4, 20, 22, 15, 40, tzinfo=BEIJING))
    inject(server, "/cgi-bin/draft/add", errcode=45011)
    with pytest.raises(RateLimited) as minute:
        wechat.publish(article(images))
    assert minute.value.retry_at is not None
    assert minute.value.retry_at == datetime(2026, 4, 20, 22, 16, tzinfo=BEIJING)
    inject(server, "/cgi-bin/draft/add", errcode=45009)
    with pytest.raises(RateLimited) as daily:
        wechat.publish(article(images))
    assert daily.value.retry_at == datetime(2026, 4, 21, tzinfo=BEIJING)


def test_the_daily_quota_is_counted_per_api(
    control: SimulatorControl,
    sim: Simulation,
    api: httpx.Client,
    images: dict[str, Media],
    library: Library,
) -> None:
    account = control.add_account("quota", token_lifetime=LONG_LIFE, daily_quota=2)
    wechat = connect(sim, api, account, media=library.loader)
    wechat.publish(article(images))
    wechat.publish(article(images, marker="2"))
    with pytest.raises(RateLimited, match="daily"):
        wechat.publish(article(images, marker="3"))


def test_simulator_faults_use_wechat_signals(
    control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media]
) -> None:
    control.faults(error_rate=1.0)
    with pytest.raises(TransientError, match="system busy"):
        wechat.publish(article(images))
    control.clear_faults()
    control.faults(rate_limit_next=2)
    with pytest.raises(RateLimited, match="per-minute"):
        wechat.publish(article(images))
    with pytest.raises(RateLimited, match="per-minute"):
        wechat.refresh_credentials()


def test_an_unverified_account_may_not_publish(
    control: SimulatorControl,
    sim: Simulation,
    api: httpx.Client,
    images: dict[str, Media],
    library: Library,
) -> None:
    account = control.add_account("personal", verified=False)
    with pytest.raises(ReauthorizationRequired, match="verified"):
        connect(sim, api, account, media=library.loader).publish(article(images))


# -- tokens -------------------------------------------------------------------------------------
def test_an_expired_token_is_refetched_with_the_platform_lifetime(
    control: SimulatorControl,
    sim: Simulation,
    api: httpx.Client,
    images: dict[str, Media],
    library: Library,
) -> None:
    account = control.add_account("office", token_lifetime=3600)
    wechat = connect(sim, api, account, media=library.loader)
    control.expire_tokens(account["account_id"])
    with pytest.raises(AuthExpired) as raised:
        wechat.publish(article(images))
    assert raised.value.code == "42001"

    fresh = wechat.refresh_credentials()
    assert fresh.access_token != wechat.credentials.access_token
    assert fresh.refresh_token is None
    assert fresh.client_id == account["client_id"]
    assert fresh.expires_at is not None
    assert abs((fresh.expires_at - sim.clock.now()).total_seconds() - 3600) < 5
    again = WechatConnector(fresh, http=api, clock=sim.clock, media=library.loader)
    assert again.publish(article(images)).state is PublishState.SUBMITTED


def test_a_token_past_its_expiry_is_not_sent(
    control: SimulatorControl,
    sim: Simulation,
    wechat: WechatConnector,
    api: httpx.Client,
    images: dict[str, Media],
    library: Library,
) -> None:
    stale = WechatConnector(
        Credentials(
            access_token=wechat.credentials.access_token,
            expires_at=sim.clock.now() - timedelta(seconds=1),
        ),
        http=api,
        clock=sim.clock,
        media=library.loader,
    )
    before = call_count(control)
    with pytest.raises(AuthExpired):
        stale.publish(article(images))
    assert call_count(control) == before


def test_a_refused_token_the_platform_still_hands_out_is_replaced_by_force(
    server: SimulatorServer, wechat: WechatConnector
) -> None:
    fresh = wechat.refresh_credentials()
    assert fresh.access_token != wechat.credentials.access_token
    answer = httpx.post(
        server.base_url("wechat") + "/cgi-bin/draft/batchget",
        params={"access_token": wechat.credentials.access_token},
        json={"offset": 0, "count": 1},
        timeout=5,
    ).json()
    assert answer["errcode"] == 40001  # the forced refresh revoked the old token
    with pytest.raises(RateLimited):
        WechatConnector(fresh, http=wechat.http, clock=wechat.clock).refresh_credentials()


def test_stable_tokens_are_shared_until_five_minutes_remain(
    server: SimulatorServer, control: SimulatorControl
) -> None:
    account = control.add_account("shared", token_lifetime=600)
    body = {
        "grant_type": "client_credential",
        "appid": account["client_id"],
        "secret": account["client_secret"],
    }
    url = server.base_url("wechat") + "/cgi-bin/stable_token"
    first = httpx.post(url, json=body, timeout=5).json()
    assert first["access_token"] == account["access_token"]
    assert 590 <= first["expires_in"] <= 600
    control.clock(advance_seconds=301)
    second = httpx.post(url, json=body, timeout=5).json()
    assert second["access_token"] != first["access_token"]
    assert second["expires_in"] == 600
    wrong = httpx.post(url, json={**body, "secret": "nope"}, timeout=5).json()
    assert wrong["errcode"] == 40125


def test_classic_tokens_overlap_for_five_minutes(
    server: SimulatorServer, control: SimulatorControl
) -> None:
    account = control.add_account("classic")
    query = {
        "grant_type": "client_credential",
        "appid": account["client_id"],
        "secret": account["client_secret"],
    }
    base = server.base_url("wechat")
    old = httpx.get(base + "/cgi-bin/token", params=query, timeout=5).json()["access_token"]
    new = httpx.get(base + "/cgi-bin/token", params=query, timeout=5).json()["access_token"]
    assert old != new

    def probe(token: str) -> int:
        answer = httpx.post(
            base + "/cgi-bin/draft/batchget",
            params={"access_token": token},
            json={"offset": 0, "count": 1},
            timeout=5,
        ).json()
        return int(answer.get("errcode", 0))

    assert (probe(old), probe(new)) == (0, 0)
    control.clock(advance_seconds=301)
    assert (probe(old), probe(new)) == (42001, 0)
    assert probe("made-up") == 40014


def test_bad_app_credentials_need_a_person(
    wechat: WechatConnector, api: httpx.Client, sim: Simulation
) -> None:
    wrong = WechatConnector(
        Credentials(client_id=wechat.credentials.client_id, client_secret="wrong"),
        http=api,
        clock=sim.clock,
    )
    with pytest.raises(ReauthorizationRequired, match="appid/secret"):
        wrong.refresh_credentials()
    with pytest.raises(ReauthorizationRequired, match="appid"):
        WechatConnector(Credentials(), http=api, clock=sim.clock).refresh_credentials()


def test_tokens_stay_out_of_the_request_log(
    wechat: WechatConnector, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"), pytest.raises(RemoteNotFound):
        wechat.check_publish(Submission("1", "1", datetime(2026, 4, 20, tzinfo=UTC)).encode())
    assert "access_token=[redacted]" in caplog.text
    assert wechat.credentials.access_token not in caplog.text
    assert wechat.credentials.access_token not in repr(wechat.credentials)


# -- lost responses and reconciliation -------------------------------------------------------------
def test_a_lost_submit_is_reconciled_without_posting_twice(
    control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media]
) -> None:
    content = article(images)
    since = control.now() - timedelta(minutes=5)
    control.faults(drop_next_creates=1)
    with pytest.raises(OutcomeUnknown):
        wechat.publish(content)

    # The job is still running: "not found" would let the scheduler publish again.
    with pytest.raises(OutcomeUnknown, match="publish job"):
        wechat.find_post(content, since=since)

    control.clock(advance_seconds=5)
    found = wechat.find_post(content, since=since)
    assert found is not None
    ref = ArticleRef.parse(found.remote_id)
    assert ref is not None
    assert ref.msgid is not None
    assert found.url is not None
    assert f"mid={ref.msgid.split('_')[0]}" in found.url
    assert sorted(control.counts().values()) == [1]
    assert [p["remote_id"] for p in control.posts()] == [ref.msgid]


def test_a_lost_draft_answer_is_safe_to_retry(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    inject(server, "/cgi-bin/draft/add", drop=True)
    with pytest.raises(TransientError) as raised:
        wechat.publish(article(images))
    assert not isinstance(raised.value, OutcomeUnknown)
    published(wechat, control, article(images))
    assert sorted(control.counts().values()) == [1]
    assert len(sim_get(server, "/__sim/wechat/drafts")) == 1  # the orphan, never published


def test_find_post_ignores_other_articles_and_older_ones(
    control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media]
) -> None:
    published(wechat, control, article(images, text="早先的文章"))
    control.clock(advance_seconds=3600)
    since = control.now()
    remote_id, _ = published(wechat, control, article(images, title="另一篇"))
    target = article(images, text="早先的文章")
    with pytest.raises(OutcomeUnknown):
        wechat.find_post(target, since=since)  # same text, but before `since`
    found = wechat.find_post(article(images, title="另一篇"), since=since)
    assert found is not None
    assert found.remote_id == remote_id


def test_short_article_urls_fall_back_to_matching_metrics_by_title(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    knobs(server, short_urls=True)
    try:
        content = article(images)
        published(wechat, control, content)
        found = wechat.find_post(content, since=control.now() - timedelta(hours=1))
    finally:
        knobs(server, short_urls=False)
    assert found is not None
    ref = ArticleRef.parse(found.remote_id)
    assert ref is not None
    assert ref.msgid is None
    assert ref.title_key
    control.clock(set_to=datetime(2026, 4, 21, 9, 0, tzinfo=BEIJING))
    [counts] = wechat.fetch_metrics([found.remote_id])
    assert counts.views is not None
    assert counts.views > 0


# -- metrics ------------------------------------------------------------------------------------
def test_same_day_figures_are_not_available_the_platform_decides(
    control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media]
) -> None:
    remote_id, _ = published(wechat, control, article(images))
    before = call_count(control)
    [counts] = wechat.fetch_metrics([remote_id])
    assert (counts.views, counts.likes, counts.comments, counts.shares) == (None,) * 4
    assert counts.extras == {"zaikan": None, "favourites": None}
    # One datacube request for the day; WeChat's own calendar (61501) says "not yet".
    assert call_count(control) == before + 1


def test_yesterday_is_delayed_until_eight_then_matches_the_platform(
    sim: Simulation, control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media]
) -> None:
    remote_id, _ = published(wechat, control, article(images))
    control.clock(set_to=datetime(2026, 4, 21, 7, 30, tzinfo=BEIJING))
    [early] = wechat.fetch_metrics([remote_id])
    assert early.views is None
    assert early.raw["is_delay"] is True

    control.clock(set_to=datetime(2026, 4, 21, 8, 30, tzinfo=BEIJING))
    [counts] = wechat.fetch_metrics([remote_id])
    ref = ArticleRef.parse(remote_id)
    assert ref is not None
    assert ref.msgid is not None
    expected = sim.engagement(sim.posts[ref.msgid], datetime(2026, 4, 21, tzinfo=BEIJING))
    assert counts.views == expected["views"] > 0
    assert counts.likes == expected["like_user"]
    assert counts.comments == expected["comment_count"]
    assert counts.shares == expected["share_user"]
    assert counts.extras == {
        "zaikan": expected["zaikan_user"],
        "favourites": expected["collection_user"],
    }
    assert counts.raw["detail"]["stat_date"] == "2026-04-20"


def test_metrics_need_one_request_per_publication_day(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    knobs(server, publish_delay_seconds=0)
    try:
        submissions = [
            wechat.publish(article(images, text=f"第 {n} 篇", marker=f"m{n}")).submission_id
            for n in range(WechatConnector.capabilities.metrics_batch_size)
        ]
        control.clock(set_to=datetime(2026, 4, 22, 10, 0, tzinfo=BEIJING))
        later = [
            wechat.publish(article(images, text=f"次日 {n}", marker=f"l{n}")).submission_id
            for n in range(20)
        ]
        ids = [wechat.check_publish(s or "").remote_id or "" for s in submissions + later]
    finally:
        knobs(server, publish_delay_seconds=2.0)
    control.clock(set_to=datetime(2026, 4, 23, 9, 0, tzinfo=BEIJING))

    before = call_count(control)
    first_day = wechat.fetch_metrics(ids[:100])
    assert paths(control, before) == ["/datacube/getarticletotaldetail"]
    assert [c.remote_id for c in first_day] == ids[:100]
    assert all(c.views is not None for c in first_day)

    before = call_count(control)
    everything = wechat.fetch_metrics(list(reversed(ids)))
    assert paths(control, before) == ["/datacube/getarticletotaldetail"] * 2
    assert [c.remote_id for c in everything] == list(reversed(ids))


def test_deleted_and_malformed_ids_are_omitted(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    kept, _ = published(wechat, control, article(images, marker="k"))
    gone, _ = published(wechat, control, article(images, title="会被删除", marker="g"))
    ref = ArticleRef.parse(gone)
    assert ref is not None
    control.delete_post(ref.msgid or "")
    control.clock(set_to=datetime(2026, 4, 21, 9, 0, tzinfo=BEIJING))
    counts = wechat.fetch_metrics([kept, gone, "garbage", "a:b:c"])
    assert [c.remote_id for c in counts] == [kept]


def test_a_day_the_platform_has_not_closed_yields_no_figures(
    sim: Simulation,
    api: httpx.Client,
    account: dict[str, Any],
    control: SimulatorControl,
    images: dict[str, Media],
    library: Library,
) -> None:
    """Clocks disagreeing around midnight: the platform's 61501 means "not yet", not failure."""

    class Ahead:
        def now(self) -> datetime:
            return sim.clock.now() + timedelta(days=1)

    wechat = connect(sim, api, account, media=library.loader)
    remote_id, _ = published(wechat, control, article(images))
    ahead = WechatConnector(wechat.credentials, http=api, clock=Ahead())
    [counts] = ahead.fetch_metrics([remote_id])
    assert counts.views is None
    assert counts.raw["errcode"] == 61501
    assert paths(control)[-1] == "/datacube/getarticletotaldetail"


def test_the_datacube_refuses_today_and_wider_spans(
    server: SimulatorServer, wechat: WechatConnector
) -> None:
    def ask(begin: str, end: str) -> int:
        answer = httpx.post(
            server.base_url("wechat") + "/datacube/getarticletotaldetail",
            params={"access_token": wechat.credentials.access_token},
            json={"begin_date": begin, "end_date": end},
            timeout=5,
        ).json()
        return int(answer.get("errcode", 0))

    assert ask("2026-04-19", "2026-04-19") == 0
    assert ask("2026-04-20", "2026-04-20") == 61501  # today (Beijing)
    assert ask("2026-04-18", "2026-04-19") == 61501  # more than one day


def test_collected_figures_equal_the_platform_truth_after_a_freeze(
    control: SimulatorControl, wechat: WechatConnector, images: dict[str, Media]
) -> None:
    ids = [
        published(wechat, control, article(images, text=f"文{n}", marker=str(n)))[0]
        for n in range(3)
    ]
    control.freeze(at=datetime(2026, 4, 20, 18, 0, tzinfo=BEIJING))
    control.clock(set_to=datetime(2026, 4, 21, 9, 0, tzinfo=BEIJING))
    counts = wechat.fetch_metrics(ids)
    totals = control.truth()["totals"]
    assert sum(c.views or 0 for c in counts) == totals["views"]
    assert sum(c.shares or 0 for c in counts) == totals["share_user"]
    assert sum(c.counter("favourites") or 0 for c in counts) == totals["collection_user"]


# -- registration -------------------------------------------------------------------------------
def test_the_connector_is_registered() -> None:
    assert load("wechat") is WechatConnector
    caps = WechatConnector.capabilities
    assert caps.publishes_async
    assert caps.requires_media
    assert caps.requires_title
    assert caps.interaction_counters == ("likes", "comments", "shares", "zaikan", "favourites")


def test_past_its_deadline_the_draft_is_not_submitted(
    server: SimulatorServer,
    control: SimulatorControl,
    wechat: WechatConnector,
    images: dict[str, Media],
) -> None:
    with creation_deadline(-1), pytest.raises(TransientError, match="nothing was sent"):
        wechat.publish(article(images))
    called = paths(control)
    assert "/cgi-bin/draft/add" in called
    assert "/cgi-bin/freepublish/submit" not in called
    assert sim_get(server, "/__sim/wechat/jobs") == []
