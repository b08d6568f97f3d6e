"""Recurring series: wall time kept across DST, the DST rule per occurrence, the cap, all or
nothing, each occurrence its own post, and cancelling the future ones together."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.audit.models import AuditEntry
from campaigns.models import Post, PostSeries
from campaigns.schemas import PostInput
from campaigns.series import (
    MAX_OCCURRENCES,
    SeriesInput,
    cancel_series,
    create_series,
    get_series,
    occurrences,
)
from campaigns.services import cancel_post
from campaigns.states import PostState
from publicist.core.errors import Conflict, InvalidInput
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


def _local(times: list[datetime], zone: ZoneInfo = BERLIN) -> list[str]:
    return [t.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") for t in times]


def test_every_weekday_keeps_its_wall_time_across_spring_forward() -> None:
    found = occurrences(
        rule=WEEKDAYS, starts="2026-03-26 09:30", until=date(2026, 4, 1), zone=BERLIN, overlap=None
    )
    assert _local(found) == [
        "2026-03-26 09:30 CET",
        "2026-03-27 09:30 CET",
        "2026-03-30 09:30 CEST",  # after the change: still 09:30 local, an hour earlier in UTC
        "2026-03-31 09:30 CEST",
        "2026-04-01 09:30 CEST",
    ]
    assert found[1] - found[0] == timedelta(days=1)
    assert found[2] - found[1] == timedelta(days=3) - timedelta(hours=1)


def test_the_issue_example_in_shanghai() -> None:
    found = occurrences(
        rule=WEEKDAYS,
        starts="2026-04-20 09:30",
        until=date(2026, 4, 26),
        zone=ZoneInfo("Asia/Shanghai"),
        overlap=None,
    )
    assert len(found) == 5
    assert {t.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M") for t in found} == {"09:30"}


def test_an_occurrence_in_a_gap_refuses_the_series_naming_the_date_and_neighbours() -> None:
    with pytest.raises(InvalidInput) as refused:
        occurrences(
            rule="FREQ=DAILY",
            starts="2026-03-27 02:30",
            until=date(2026, 3, 31),
            zone=BERLIN,
            overlap=None,
        )
    rule = refused.value.rule
    assert "2026-03-29" in rule
    assert "2026-03-29 01:59+01:00 (CET)" in rule
    assert "2026-03-29 03:00+02:00 (CEST)" in rule
    assert "whole series is refused" in rule


def test_an_occurrence_in_a_fold_needs_a_choice() -> None:
    kwargs = {"rule": "FREQ=DAILY", "starts": "2026-10-24 02:30", "until": date(2026, 10, 26)}
    with pytest.raises(InvalidInput) as refused:
        occurrences(zone=BERLIN, overlap=None, **kwargs)  # type: ignore[arg-type]
    assert refused.value.field == "overlap"
    assert "2026-10-25" in refused.value.rule
    earlier = occurrences(zone=BERLIN, overlap="earlier", **kwargs)  # type: ignore[arg-type]
    later = occurrences(zone=BERLIN, overlap="later", **kwargs)  # type: ignore[arg-type]
    assert later[1] - earlier[1] == timedelta(hours=1)
    assert _local(earlier)[1] == "2026-10-25 02:30 CEST"
    assert _local(later)[1] == "2026-10-25 02:30 CET"


@pytest.mark.parametrize(
    ("rule", "starts", "until", "field", "words"),
    [
        ("FREQ=DAILY;COUNT=501", "2026-04-01 10:00", None, "rule", f"limit is {MAX_OCCURRENCES}"),
        ("FREQ=HOURLY", "2026-04-01 10:00", date(2026, 5, 1), "rule", "more than 500"),
        ("FREQ=DAILY", "2026-04-01 10:00", None, "until", "needs an end"),
        ("FREQ=DAILY", "2026-04-01 10:00", date(2029, 1, 1), "until", "two years"),
        ("FREQ=MINUTELY;COUNT=3", "2026-04-01 10:00", None, "rule", "more often than hourly"),
        ("every day", "2026-04-01 10:00", date(2026, 4, 5), "rule", "not an RFC 5545 RRULE"),
        ("FREQ=DAILY", "2026-04-01 10:00+02:00", date(2026, 4, 5), "starts", "without an offset"),
        (
            "FREQ=DAILY;UNTIL=20260405T000000",
            "2026-04-01 10:00",
            date(2026, 4, 5),
            "until",
            "twice",
        ),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=2", "2026-04-01 10:00", None, "rule", "two"),
    ],
)
def test_bad_rules_are_refused_with_field_and_reason(
    rule: str, starts: str, until: date | None, field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        occurrences(rule=rule, starts=starts, until=until, zone=BERLIN, overlap=None)
    assert refused.value.field == field
    assert words in refused.value.rule


def _data(**changes: object) -> SeriesInput:
    base = {
        "post": PostInput(campaign="Weekly", text="Tip of the day", accounts=["mock:cnipa"]),
        "rule": WEEKDAYS,
        "starts": "2026-03-26 09:30",
        "until": date(2026, 4, 1),
    }
    return SeriesInput(**(base | changes))  # type: ignore[arg-type]


@pytest.fixture
def weekly(session: Session) -> None:
    factories.account(session, handle="cnipa", now=NOW)
    factories.campaign(session, name="Weekly", now=NOW, timezone="Europe/Berlin")


@pytest.mark.usefixtures("weekly")
def test_each_occurrence_is_its_own_scheduled_post(session: Session) -> None:
    series = create_series(session, data=_data(approve=True), now=NOW)
    view = get_series(session, series_id=series.id, now=NOW)
    assert len(view.occurrences) == 5
    assert len({o.post_id for o in view.occurrences}) == 5
    assert {o.state for o in view.occurrences} == {"scheduled"}
    posts = session.scalars(select(Post).where(Post.series_id == series.id)).all()
    assert all(len(p.deliveries) == 1 for p in posts)
    # Cancelling one leaves the others.
    cancel_post(session, post_id=view.occurrences[0].post_id, now=NOW)
    states = [o.state for o in get_series(session, series_id=series.id, now=NOW).occurrences]
    assert states == ["cancelled", "scheduled", "scheduled", "scheduled", "scheduled"]
    audit = session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_kind == "series")
    ).all()
    assert audit == ["series.create"]


@pytest.mark.usefixtures("weekly")
def test_a_refused_series_writes_nothing(session: Session) -> None:
    with pytest.raises(InvalidInput):
        create_series(
            session,
            data=_data(rule="FREQ=DAILY", starts="2026-03-27 02:30", until=date(2026, 3, 31)),
            now=NOW,
        )
    with pytest.raises(InvalidInput):  # content checked as for one post
        create_series(
            session,
            data=_data(post=PostInput(campaign="Weekly", text=" ", accounts=["mock:cnipa"])),
            now=NOW,
        )
    with pytest.raises(InvalidInput) as past:
        create_series(session, data=_data(starts="2026-02-02 09:30"), now=NOW)
    assert past.value.field == "starts"
    assert session.scalar(select(func.count()).select_from(Post)) == 0
    assert session.scalar(select(func.count()).select_from(PostSeries)) == 0


@pytest.mark.usefixtures("weekly")
def test_cancel_series_cancels_future_occurrences_only(session: Session) -> None:
    series = create_series(session, data=_data(approve=True), now=NOW)
    later = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # 08:00 in Berlin: two have gone by
    cancelled = cancel_series(session, series_id=series.id, now=later)
    view = get_series(session, series_id=series.id, now=later)
    assert cancelled == [o.post_id for o in view.occurrences[2:]]
    assert [o.state for o in view.occurrences] == [
        "scheduled",
        "scheduled",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    assert view.cancelled_at == later
    with pytest.raises(Conflict):
        cancel_series(session, series_id=series.id, now=later)
    assert session.get_one(Post, cancelled[0]).state is PostState.CANCELLED
