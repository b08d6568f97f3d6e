"""Events reach people and webhooks: a real SMTP server, a chat channel and a webhook
receiver on 127.0.0.1; at most once per recipient, digests, retries, refused addresses."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from campaigns.accounts import create_account
from campaigns.events.channels import add_channel, subscribe
from campaigns.events.checks import record_lapsing
from campaigns.events.fanout import claim_sends, fan_out
from campaigns.events.kinds import EventKind
from campaigns.events.models import Event, Send, WebhookAttempt, WebhookDelivery
from campaigns.events.queries import webhook_log
from campaigns.events.schedules import schedule_report
from campaigns.events.services import record_event
from campaigns.events.webhooks import TargetRefused, add_webhook
from campaigns.models import Account, Delivery
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import PostInput
from campaigns.services import add_post, submit_post
from campaigns.states import DeliveryState
from connectors.base import Credentials
from connectors.errors import ReauthorizationRequired
from connectors.mock import MockPlatform
from publicist.core.clock import FrozenClock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import Settings, get_settings, reset_settings
from scheduler.channels import apprise_notify
from scheduler.notifying import run_notify
from scheduler.publishing import run_dispatch, run_publish
from scheduler.ratelimit import LocalRateLimiter
from scheduler.reconnect import reconnect_alert
from tests import factories
from tests.conftest import TEST_SECRET, drop_postgres_database, postgres_database
from tests.integration.notify_rig import HttpReceiver, SmtpServer

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
BASE = "https://publicist.example.org"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def notify_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """A migrated database that the units of work (``session_scope``) use, on each engine."""
    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'notify.db'}"
    else:
        url, admin = postgres_database("publicist_notify")
    monkeypatch.setenv("PUBLICIST_DATABASE_URL", url)
    monkeypatch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("PUBLICIST_BASE_URL", BASE)
    reset_settings()
    dispose_engines()
    try:
        upgrade(url)
        yield get_settings()
    finally:
        dispose_engines()
        reset_settings()
        if admin is not None:
            drop_postgres_database(url, admin)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def _person(email: str, *, language: str = "en") -> int:
    with session_scope() as session:
        return add_person(
            session,
            name=email.split("@")[0],
            email=email,
            role=Role.EDITOR,
            password="a long enough password",
            now=NOW,
            language=language,
        ).id


def _channel(name: str, url: str) -> int:
    with session_scope() as session:
        return add_channel(session, name=name, url=url, secret=TEST_SECRET, now=NOW).id


def _subscribe(person: int, channel: int, *kinds: EventKind, digest: int = 0) -> None:
    with session_scope() as session:
        subscribe(
            session,
            person_id=person,
            channel_id=channel,
            kinds=[k.value for k in kinds],
            digest_minutes=digest,
        )


def _fail_posts(
    settings: Settings, clock: FrozenClock, platform: MockPlatform, *, count: int = 1
) -> list[int]:
    """``count`` posts due a second from now, each refused by the platform: failed."""
    with session_scope() as session:
        factories.account(session, handle="@IPRinCN", now=clock.now())
        factories.campaign(session, now=clock.now())
        for n in range(count):
            factories.scheduled_post(
                session,
                campaign_name="IP Creates a Better Life",
                accounts=["mock:@IPRinCN"],
                now=clock.now(),
                in_seconds=1,
                text=f"Hello IP week {n}",
            )
    platform.inject("rejected", times=count)
    clock.advance(timedelta(seconds=1))
    queued: list[tuple[int, int]] = []
    run_dispatch(
        settings=settings,
        clock=clock,
        enqueue=lambda claims: queued.extend((c.delivery_id, c.ticket) for c in claims),
    )
    limiter = LocalRateLimiter()
    for delivery_id, ticket in queued:
        run_publish(
            delivery_id=delivery_id, ticket=ticket, settings=settings, clock=clock, limiter=limiter
        )
    with session_scope() as session:
        states = session.scalars(select(Delivery.state)).all()
        assert set(states) == {DeliveryState.FAILED}
        return list(session.scalars(select(Delivery.post_id).order_by(Delivery.id)))


def _notify(settings: Settings, clock: FrozenClock) -> int:
    return run_notify(settings=settings, clock=clock, notifier=apprise_notify)


def _text(message: object) -> str:
    body = message.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    return str(body.get_content())


def test_a_failed_post_reaches_a_person_by_email_and_chat_with_reason_and_link(
    notify_db: Settings,
    mock_platform: MockPlatform,
    smtp: SmtpServer,
    receiver: HttpReceiver,
) -> None:
    clock = FrozenClock(NOW)
    ann = _person("ann@example.org")
    mei = _person("mei@example.org", language="zh_CN")
    mail = _channel("office mail", smtp.url())
    chat = _channel("team chat", f"json://127.0.0.1:{receiver.port}/chat")
    _subscribe(ann, mail, EventKind.DELIVERY_FAILED)
    _subscribe(ann, chat, EventKind.DELIVERY_FAILED)
    _subscribe(mei, mail, EventKind.DELIVERY_FAILED)
    (post_id,) = _fail_posts(notify_db, clock, mock_platform)

    assert _notify(notify_db, clock) == 3

    by_recipient = {str(m["To"]): m for m in smtp.mailbox.messages}
    assert set(by_recipient) == {"ann@example.org", "mei@example.org"}
    english = _text(by_recipient["ann@example.org"])
    assert "A post was not published" in str(by_recipient["ann@example.org"]["Subject"])
    assert "Reason: mock: content violates policy (injected)" in english  # the platform's
    assert f"{BASE}/posts/{post_id}" in english
    chinese = by_recipient["mei@example.org"]
    assert "未能发布" in str(chinese["Subject"])
    assert "原因" in _text(chinese)
    (chat_message,) = receiver.received
    assert chat_message.path == "/chat"
    assert f"{BASE}/posts/{post_id}" in chat_message.json()["message"]


def test_running_the_task_twice_or_after_a_crash_sends_once(
    notify_db: Settings, mock_platform: MockPlatform, smtp: SmtpServer
) -> None:
    clock = FrozenClock(NOW)
    ann = _person("ann@example.org")
    _subscribe(ann, _channel("office mail", smtp.url()), EventKind.DELIVERY_FAILED)
    _fail_posts(notify_db, clock, mock_platform)
    assert _notify(notify_db, clock) == 1
    assert _notify(notify_db, clock) == 0
    assert len(smtp.mailbox.messages) == 1

    # A second failure whose send is claimed, then the worker dies before it is sent:
    # the send stays claimed and is never sent, rather than risk sending it twice.
    _fail_another(notify_db, clock, mock_platform)
    with session_scope() as session:
        fan_out(session, now=clock.now())
    with session_scope() as session:
        (claimed,) = claim_sends(session, now=clock.now(), secret=TEST_SECRET, base_url=BASE)
    assert _notify(notify_db, clock) == 0
    assert len(smtp.mailbox.messages) == 1
    with session_scope() as session:
        statuses = sorted(session.scalars(select(Send.status)))
        again = session.execute(
            select(func.count()).select_from(Send).where(Send.id.in_(claimed.send_ids))
        ).scalar_one()
    assert statuses == ["sending", "sent"]
    assert again == 1


def _fail_another(settings: Settings, clock: FrozenClock, platform: MockPlatform) -> None:
    with session_scope() as session:
        factories.scheduled_post(
            session,
            campaign_name="IP Creates a Better Life",
            accounts=["mock:@IPRinCN"],
            now=clock.now(),
            in_seconds=1,
            text="Another one",
        )
    platform.inject("rejected")
    clock.advance(timedelta(seconds=1))
    queued: list[tuple[int, int]] = []
    run_dispatch(
        settings=settings,
        clock=clock,
        enqueue=lambda claims: queued.extend((c.delivery_id, c.ticket) for c in claims),
    )
    for delivery_id, ticket in queued:
        run_publish(
            delivery_id=delivery_id,
            ticket=ticket,
            settings=settings,
            clock=clock,
            limiter=LocalRateLimiter(),
        )


def test_a_digest_gathers_many_failures_into_one_message_per_window(
    notify_db: Settings, mock_platform: MockPlatform, smtp: SmtpServer
) -> None:
    clock = FrozenClock(NOW)
    ann = _person("ann@example.org")
    _subscribe(ann, _channel("office mail", smtp.url()), EventKind.DELIVERY_FAILED, digest=15)
    _fail_posts(notify_db, clock, mock_platform, count=6)

    assert _notify(notify_db, clock) == 1
    (digest,) = smtp.mailbox.messages
    assert "6 events in Publicist" in str(digest["Subject"])
    assert _text(digest).count("A post was not published") == 6

    _fail_another(notify_db, clock, mock_platform)
    clock.advance(timedelta(minutes=5))
    assert _notify(notify_db, clock) == 0  # inside the window: gathered, not sent
    clock.advance(timedelta(minutes=10))
    assert _notify(notify_db, clock) == 1
    assert "1 event in Publicist" in str(smtp.mailbox.messages[-1]["Subject"])


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, as docs/webhooks.md tells it."""
    timestamp = headers["publicist-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest("sha256=" + expected, headers["publicist-signature"])


def test_webhooks_are_signed_and_retried_with_backoff_after_a_500(
    notify_db: Settings, mock_platform: MockPlatform, receiver: HttpReceiver
) -> None:
    clock = FrozenClock(NOW)
    with session_scope() as session:
        _target, secret = add_webhook(
            session,
            url=receiver.url(),
            kinds=[],
            allow_private=True,  # the receiver listens on 127.0.0.1
            secret=TEST_SECRET,
            now=NOW,
        )
    receiver.answers = [500]
    (post_id,) = _fail_posts(notify_db, clock, mock_platform)

    assert _notify(notify_db, clock) == 1
    clock.advance(timedelta(seconds=29))
    assert _notify(notify_db, clock) == 0  # the first wait is 30 s
    clock.advance(timedelta(seconds=1))
    assert _notify(notify_db, clock) == 1
    assert _notify(notify_db, clock) == 0

    first, second = receiver.received
    assert all(_verify(secret, r.headers, r.body) for r in (first, second))
    assert not _verify("whsec_wrong", second.headers, second.body)
    assert first.json()["id"] == second.json()["id"] == int(second.headers["publicist-event-id"])
    document = second.json()
    assert document["kind"] == "delivery_failed"
    assert document["post_id"] == post_id
    assert document["payload"]["link"] == f"{BASE}/posts/{post_id}"
    with session_scope() as session:
        log = webhook_log(session)
    assert [(line.number, line.status_code) for line in log] == [(2, 200), (1, 500)]
    assert log[1].error == "answered HTTP 500"
    assert log[0].status == "delivered"


def test_a_webhook_is_given_up_after_a_day_of_failures(
    notify_db: Settings, receiver: HttpReceiver
) -> None:
    clock = FrozenClock(NOW)
    with session_scope() as session:
        add_webhook(
            session, url=receiver.url(), kinds=[], allow_private=True, secret=TEST_SECRET, now=NOW
        )
        record_event(session, kind=EventKind.REPORT_READY, reason="test", now=NOW)
    receiver.answers = [503] * 1000
    for _ in range(200):
        _notify(notify_db, clock)
        clock.advance(timedelta(minutes=10))
    with session_scope() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        last = session.scalars(select(func.max(WebhookAttempt.at))).one()
    assert delivery.status == "gave_up"
    assert last is not None
    assert last - NOW <= timedelta(days=1)
    assert 20 <= delivery.attempts <= 40  # backoff: 30 s doubling up to hourly, for a day
    assert len(receiver.received) == delivery.attempts


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://192.168.1.20/hook",
    ],
)
def test_a_target_on_a_non_public_address_is_refused_unless_allowed(
    notify_db: Settings, url: str
) -> None:
    with session_scope() as session, pytest.raises(TargetRefused, match="allow private"):
        add_webhook(session, url=url, kinds=[], allow_private=False, secret=TEST_SECRET, now=NOW)
    with session_scope() as session:
        target, _secret = add_webhook(
            session, url=url, kinds=[], allow_private=True, secret=TEST_SECRET, now=NOW
        )
        assert target.allow_private


def test_a_rolled_back_change_leaves_no_event(
    notify_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    _fail_posts(notify_db, clock, mock_platform)
    with session_scope() as session:
        assert session.scalars(select(Event.kind)).all() == ["delivery_failed"]
    with pytest.raises(RuntimeError, match="behind the event"):
        _record_then_fail()
    with session_scope() as session:
        assert len(session.scalars(select(Event.id)).all()) == 1


def _record_then_fail() -> None:
    with session_scope() as session:
        record_event(session, kind=EventKind.DELIVERY_FAILED, reason="x", now=NOW)
        raise RuntimeError("the change behind the event failed")


def test_a_token_that_cannot_be_refreshed_tells_staff_once(notify_db: Settings) -> None:
    with session_scope() as session:
        account_id = factories.account(session, now=NOW).id
    for _ in range(2):
        with pytest.raises(ReauthorizationRequired), reconnect_alert(account_id):
            raise ReauthorizationRequired("the refresh token was revoked", platform="mock")
    with session_scope() as session:
        events = session.scalars(select(Event)).all()
    assert [(e.kind, e.account_id) for e in events] == [("account_reconnect", account_id)]
    assert events[0].payload["reason"] == "mock: the refresh token was revoked"


def test_expired_approvals_and_unclaimed_posts_are_told_once(notify_db: Settings) -> None:
    clock = FrozenClock(NOW)
    with session_scope() as session:
        factories.account(session, handle="a", now=NOW)
        factories.campaign(session, now=NOW)
        draft = add_post(
            session,
            data=PostInput(
                campaign="IP Creates a Better Life",
                text="Needs a yes",
                accounts=["mock:a"],
                at=(NOW + timedelta(minutes=5)).isoformat(),
            ),
            now=NOW,
        )
        submit_post(session, post_id=draft.id, now=NOW)
        factories.scheduled_post(
            session, campaign_name="IP Creates a Better Life", accounts=["mock:a"], now=NOW
        )
    # Nobody approves and no worker dispatches: ten minutes of notify ticks.
    for _ in range(120):
        clock.advance(timedelta(seconds=5))
        _notify(notify_db, clock)
    with session_scope() as session:
        kinds = sorted(session.scalars(select(Event.kind)))
    assert kinds == ["approval_expired", "due_unclaimed"]


def test_the_weekly_report_arrives_by_email_with_its_pdf(
    notify_db: Settings, smtp: SmtpServer
) -> None:
    clock = FrozenClock(NOW)  # Monday 09:00 in Shanghai: the first report is the next Monday's
    _channel("office mail", smtp.url())
    with session_scope() as session:
        factories.campaign(session, now=NOW)
        schedule = schedule_report(
            session,
            campaign="IP Creates a Better Life",
            every="week",
            recipients=["Lead@Example.org", "press@example.org"],
            language="en",
            now=NOW,
        )
        first = schedule.next_run_at
    assert first.astimezone(UTC) > NOW
    clock.advance(first.astimezone(UTC) - NOW - timedelta(seconds=1))
    _notify(notify_db, clock)
    assert smtp.mailbox.messages == []
    clock.advance(timedelta(seconds=1))
    _notify(notify_db, clock)
    _notify(notify_db, clock)  # the next tick sends nothing again

    assert sorted(str(m["To"]) for m in smtp.mailbox.messages) == [
        "lead@example.org",
        "press@example.org",
    ]
    message = smtp.mailbox.messages[0]
    assert "Period report: IP Creates a Better Life" in str(message["Subject"])
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert "IP Creates a Better Life" in html.get_content()
    (pdf,) = [part for part in message.iter_attachments()]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename().endswith(".pdf")
    assert pdf.get_content().startswith(b"%PDF")
    with session_scope() as session:
        (event,) = session.scalars(select(Event)).all()
    assert event.kind == "report_ready"
    assert "2026-04-20 to 2026-04-26" in event.payload["reason"]  # the week before it


def test_private_webhook_checked_again_when_posting(notify_db: Settings) -> None:
    """A target added while allowed but later not allowed is refused at POST time too."""
    from campaigns.events.fanout import WebhookJob
    from scheduler.channels import post_webhook

    job = WebhookJob(1, "http://127.0.0.1:9/x", False, "s", 1, b"{}")
    with httpx.Client() as client:
        status, error = post_webhook(client, job, timestamp=1)
    assert status is None
    assert error is not None
    assert "loopback" in error


def test_two_notify_runs_at_once_send_each_event_once(
    notify_db: Settings, smtp: SmtpServer
) -> None:
    """Concurrent runs (two metrics workers) split the outbox (FOR UPDATE SKIP LOCKED on
    PostgreSQL, one writer at a time on SQLite): twenty events, twenty e-mails."""
    ann = _person("ann@example.org")
    _subscribe(ann, _channel("office mail", smtp.url()), EventKind.REPORT_READY)
    with session_scope() as session:
        for n in range(20):
            record_event(session, kind=EventKind.REPORT_READY, reason=f"report {n}", now=NOW)
    clock = FrozenClock(NOW)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                _notify(notify_db, clock)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    reasons = sorted(
        _text(m).split("Reason: ")[1].split("\n")[0].strip() for m in smtp.mailbox.messages
    )
    assert reasons == sorted(f"report {n}" for n in range(20))


def test_the_notify_task_runs_on_the_metrics_queue_every_few_seconds(
    notify_db: Settings, smtp: SmtpServer
) -> None:
    """The Celery wrapper, called as a function, drains the outbox with the real settings;
    beat runs it on the metrics queue, never the publish queue."""
    from scheduler.app import METRICS_QUEUE, celery_config
    from scheduler.tasks import notify

    config = celery_config(notify_db)
    assert config["task_routes"]["scheduler.notify"] == {"queue": METRICS_QUEUE}
    entry = config["beat_schedule"]["notify"]
    assert entry["task"] == "scheduler.notify"
    assert entry["schedule"] <= 30  # a failure reaches a person within a minute
    ann = _person("ann@example.org")
    _subscribe(ann, _channel("office mail", smtp.url()), EventKind.ACCOUNT_RECONNECT)
    with session_scope() as session:
        record_event(session, kind=EventKind.ACCOUNT_RECONNECT, reason="revoked", now=NOW)
    assert notify() == 1
    assert notify() == 0
    assert len(smtp.mailbox.messages) == 1


def test_a_weibo_token_lapsing_within_a_week_is_told_once_per_expiry(notify_db: Settings) -> None:
    with session_scope() as session:
        weibo = create_account(
            session,
            platform="weibo",
            handle="cnipa",
            credentials=Credentials(access_token="weibo-token", user_id="1"),
            secret=factories.SECRET,
            now=NOW,
        )
        weibo.token_expires_at = NOW + timedelta(days=5)
        later = create_account(
            session,
            platform="weibo",
            handle="far",
            credentials=Credentials(access_token="weibo-token-2", user_id="2"),
            secret=factories.SECRET,
            now=NOW,
        )
        later.token_expires_at = NOW + timedelta(days=30)
        factories.account(session, now=NOW).token_expires_at = NOW + timedelta(days=1)  # refreshes
        weibo_id = weibo.id
    for _ in range(3):  # every notify tick checks; one event per account and expiry
        with session_scope() as session:
            record_lapsing(session, now=NOW)
    with session_scope() as session:
        events = session.scalars(select(Event)).all()
        assert [(e.kind, e.account_id) for e in events] == [("token_lapsing", weibo_id)]
        assert "lapses on" in events[0].payload["reason"]
        assert events[0].payload["account"] == "weibo:cnipa"
        session.get_one(Account, weibo_id).token_expires_at = NOW + timedelta(days=6)
    with session_scope() as session:  # reconnected with a new token that lapses again
        assert record_lapsing(session, now=NOW) == 1
