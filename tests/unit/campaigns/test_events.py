"""Events' pure parts: signatures, backoff, report periods, redaction, wording, settings; and
the outbox rows written by the domain's own calls (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.events.channels import add_channel, channel_url, redact, subscribe
from campaigns.events.fanout import backoff
from campaigns.events.kinds import EventKind
from campaigns.events.models import Event
from campaigns.events.schedules import first_run, next_run, period_before
from campaigns.events.services import record_event, record_rate_limit
from campaigns.events.webhooks import sign
from campaigns.events.wording import digest_for, message_for
from campaigns.models import Delivery
from connectors.errors import RateLimited, TransientError
from publicist.core.errors import InvalidInput
from publicist.core.settings import Settings
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"id": 1}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("whsec_x", timestamp=1700000000, body=body) == "sha256=" + expected
    assert sign("whsec_x", timestamp=1700000001, body=body) != "sha256=" + expected


def test_webhook_backoff_doubles_from_thirty_seconds_up_to_an_hour() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(10_000) == timedelta(hours=1)


def test_report_periods_are_the_week_or_month_before_the_run() -> None:
    monday = datetime(2026, 4, 27, 8, 0, tzinfo=SHANGHAI)
    assert first_run("week", now=NOW, zone=SHANGHAI) == monday
    assert [d.isoformat() for d in period_before("week", monday, zone=SHANGHAI)] == [
        "2026-04-20",
        "2026-04-26",
    ]
    assert next_run("week", monday, zone=SHANGHAI) == datetime(2026, 5, 4, 8, 0, tzinfo=SHANGHAI)
    december = datetime(2026, 12, 20, tzinfo=UTC)
    january = first_run("month", now=december, zone=SHANGHAI)
    assert january == datetime(2027, 1, 1, 8, 0, tzinfo=SHANGHAI)
    assert [d.isoformat() for d in period_before("month", january, zone=SHANGHAI)] == [
        "2026-12-01",
        "2026-12-31",
    ]
    assert next_run("month", january, zone=SHANGHAI) == datetime(2027, 2, 1, 8, 0, tzinfo=SHANGHAI)


def test_channel_urls_are_shown_redacted_and_addressed_per_person() -> None:
    url = "mailtos://ann:Sup3rSecret@smtp.example.org?from=publicist@example.org"
    assert "Sup3rSecret" not in redact(url)
    assert "smtp.example.org" in redact(url)
    assert "b0t7oKen1234567890" not in redact("wecombot://b0t7oKen1234567890")


def test_base_url_must_be_http_without_credentials() -> None:
    assert Settings(base_url="https://publicist.example.org/").base_url == (
        "https://publicist.example.org"
    )
    for bad in ("ftp://x.org", "https://user:pw@x.org", "publicist.example.org"):
        with pytest.raises(ValueError, match="base_url"):
            Settings(base_url=bad)


def test_an_outbox_row_per_change_and_only_long_rate_limits(session: Session) -> None:
    factories.account(session, now=NOW)
    factories.campaign(session, now=NOW)
    factories.scheduled_post(
        session, campaign_name="IP Creates a Better Life", accounts=["mock:@IPRinCN"], now=NOW
    )
    delivery = session.scalars(select(Delivery)).one()
    soon, later = NOW + timedelta(minutes=59), NOW + timedelta(hours=2)
    limited = RateLimited("slow down", platform="mock", retry_at=later)
    assert (
        record_rate_limit(session, delivery=delivery, error=limited, retry_at=soon, now=NOW) is None
    )
    assert (
        record_rate_limit(
            session,
            delivery=delivery,
            error=TransientError("x", platform="mock"),
            retry_at=later,
            now=NOW,
        )
        is None
    )
    event = record_rate_limit(session, delivery=delivery, error=limited, retry_at=later, now=NOW)
    assert event is not None
    assert (event.kind, event.delivery_id, event.post_id) == (
        "rate_limited",
        delivery.id,
        delivery.post_id,
    )
    assert event.payload["link"] == f"/posts/{delivery.post_id}"
    first = record_event(session, kind=EventKind.DUE_UNCLAIMED, reason="r", now=NOW, dedup_key="k")
    again = record_event(session, kind=EventKind.DUE_UNCLAIMED, reason="r", now=NOW, dedup_key="k")
    assert first is not None
    assert again is None
    assert len(session.scalars(select(Event)).all()) == 2


def test_messages_speak_the_recipients_language(session: Session) -> None:
    event = record_event(
        session, kind=EventKind.DELIVERY_FAILED, reason="too long", now=NOW, post_id=7
    )
    assert event is not None
    english = message_for(event, language="en", base_url="https://p.example.org")
    assert english.title == "Publicist: A post was not published"
    assert "Reason: too long" in english.body
    assert "https://p.example.org/posts/7" in english.body
    chinese = message_for(event, language="zh_CN", base_url="https://p.example.org")
    assert "一条帖子未能发布" in chinese.title
    assert "原因：too long" in chinese.body
    assert digest_for([event, event], language="en", base_url="x").title == (
        "2 events in Publicist"
    )


def test_subscriptions_refuse_unknown_kinds_and_long_digests(session: Session) -> None:
    from campaigns.people.roles import Role
    from campaigns.people.services import add_person

    person = add_person(
        session,
        name="Ann",
        email="ann@example.org",
        role=Role.EDITOR,
        password="long enough pw",
        now=NOW,
    )
    channel = add_channel(
        session,
        name="mail",
        url="mailto://smtp.example.org?from=a@example.org",
        secret="s",
        now=NOW,
    )
    assert channel.kind == "email"
    assert channel_url(channel, secret="s", to="ann@example.org").endswith("to=ann%40example.org")
    with pytest.raises(InvalidInput, match="not an event kind"):
        subscribe(
            session, person_id=person.id, channel_id=channel.id, kinds=["x"], digest_minutes=0
        )
    with pytest.raises(InvalidInput, match="digest_minutes"):
        subscribe(
            session,
            person_id=person.id,
            channel_id=channel.id,
            kinds=["delivery_failed"],
            digest_minutes=1441,
        )
    with pytest.raises(InvalidInput, match="not a notification URL") as refused:
        add_channel(session, name="bad", url="nonsense://secret-token", secret="s", now=NOW)
    assert "secret-token" not in str(refused.value)
