"""What needs attention: deliveries that ended badly, and those stuck past their window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Delivery, DeliveryAttempt
from campaigns.queries import (
    Windows,
    attention_counts,
    deliveries_needing_attention,
    processing_window,
)
from campaigns.states import DeliveryState
from publicist.core.settings import Settings
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
WINDOWS = Windows.from_settings(Settings())


def _deliveries(session: Session, count: int) -> list[Delivery]:
    factories.account(session, handle="a", now=NOW - timedelta(days=1))
    factories.campaign(session, now=NOW - timedelta(days=1))
    for n in range(count):
        factories.scheduled_post(
            session,
            campaign_name="IP Creates a Better Life",
            accounts=["mock:a"],
            now=NOW - timedelta(days=1),
            in_seconds=3600 * 24 + 60 * n,  # due from NOW on, a minute apart
            text=f"post {n}",
        )
    return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def _in(
    session: Session,
    delivery: Delivery,
    state: DeliveryState,
    *,
    since: timedelta,
    error: str | None = None,
) -> None:
    """Put ``delivery`` in ``state`` as its current attempt would have, ``since`` ago."""
    delivery.state = state
    delivery.last_error = error
    delivery.next_attempt_at = NOW - since
    delivery.updated_at = NOW - timedelta(seconds=5)  # e.g. a poll or a postponed lookup
    if state in (DeliveryState.PUBLISHING, DeliveryState.SUBMITTED, DeliveryState.FAILED):
        delivery.attempts = 1
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                number=1,
                started_at=NOW - since,
                finished_at=None if state is DeliveryState.PUBLISHING else NOW - since,
                outcome=state.value,
            )
        )
    session.flush()


def test_ended_and_stuck_deliveries_are_listed_with_their_reason(session: Session) -> None:
    (
        failed,
        publishing_long,
        publishing_now,
        queued_long,
        queued_now,
        submitted_long,
        submitted_now,
        future,
    ) = _deliveries(session, 8)
    _in(session, failed, DeliveryState.FAILED, since=timedelta(hours=1), error="HTTP 403")
    _in(
        session,
        publishing_long,
        DeliveryState.PUBLISHING,
        since=timedelta(minutes=15),
        error="the platform could not be asked (HTTP 503); asking again at 01:01:00 UTC",
    )
    _in(session, publishing_now, DeliveryState.PUBLISHING, since=timedelta(seconds=100))
    _in(session, queued_long, DeliveryState.QUEUED, since=timedelta(minutes=3))
    _in(session, queued_now, DeliveryState.QUEUED, since=timedelta(seconds=10))
    mock_window = processing_window("mock")
    _in(session, submitted_long, DeliveryState.SUBMITTED, since=mock_window * 2)
    _in(session, submitted_now, DeliveryState.SUBMITTED, since=mock_window / 2)

    found = {
        a.delivery_id: a for a in deliveries_needing_attention(session, now=NOW, windows=WINDOWS)
    }

    assert set(found) == {failed.id, publishing_long.id, queued_long.id, submitted_long.id}
    assert (found[failed.id].stuck, found[failed.id].reason) == (False, "HTTP 403")
    publishing = found[publishing_long.id]
    assert publishing.stuck
    assert publishing.reason == (
        "publishing for 15 min, longer than the 220 s mock normally needs; last error: the "
        "platform could not be asked (HTTP 503); asking again at 01:01:00 UTC"
    )
    assert found[queued_long.id].reason == (
        "queued for 180 s, longer than the 60 s mock normally needs"
    )
    assert found[submitted_long.id].state == "submitted"
    assert future.id not in found
    counts = attention_counts(session, now=NOW, windows=WINDOWS, by="campaign")
    assert counts == {failed.post.campaign_id: 4}
    assert attention_counts(session, now=NOW, windows=WINDOWS, by="account") == {
        failed.account_id: 4
    }


def test_an_asynchronous_platform_has_its_own_processing_window() -> None:
    assert processing_window("wechat") == timedelta(minutes=10)
    assert processing_window("tiktok") == timedelta(minutes=30)
    assert processing_window("no-such-platform") == timedelta(minutes=10)


def test_reports_count_the_same_deliveries_as_the_attention_counts(session: Session) -> None:
    """Reports pass the platforms they read with the delivery counts to the stuck count
    instead of reading every account's platform: the same numbers."""
    from metrics.reports import account_report, campaign_report, campaign_summaries

    failed, publishing_long, queued_long, submitted_long, submitted_now = _deliveries(session, 5)
    _in(session, failed, DeliveryState.FAILED, since=timedelta(hours=1), error="HTTP 403")
    _in(session, publishing_long, DeliveryState.PUBLISHING, since=timedelta(minutes=15))
    _in(session, queued_long, DeliveryState.QUEUED, since=timedelta(minutes=3))
    window = processing_window("mock")
    _in(session, submitted_long, DeliveryState.SUBMITTED, since=window + timedelta(seconds=1))
    _in(session, submitted_now, DeliveryState.SUBMITTED, since=window - timedelta(seconds=1))

    counts = attention_counts(session, now=NOW, windows=WINDOWS, by="campaign")
    assert counts == {failed.post.campaign_id: 4}
    campaign = failed.post.campaign
    report = campaign_report(session, campaign=campaign, top=0, now=NOW, windows=WINDOWS)
    assert report.attention == 4
    (summary,) = campaign_summaries(session, now=NOW, windows=WINDOWS)
    assert summary.attention == 4
    account = failed.account
    assert account_report(session, account=account, top=0, now=NOW, windows=WINDOWS).attention == 4
