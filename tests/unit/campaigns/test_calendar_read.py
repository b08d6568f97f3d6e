"""The calendar's read: deliveries in a window, filtered, ordered, with their text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from campaigns.calendar.queries import Filters, entries, first_line, post_detail
from campaigns.schemas import PostInput, VariantInput
from campaigns.services import add_post, cancel_post
from campaigns.states import DeliveryState
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


def _plan(session: Session) -> dict[str, int]:
    factories.account(session, handle="@IPRinCN", now=NOW)
    factories.account(session, handle="cnipa", now=NOW)
    main = factories.campaign(session, name="Main", now=NOW, timezone="Asia/Shanghai")
    other = factories.campaign(session, name="Other", now=NOW, timezone="Europe/Berlin")
    ids = {"main": main.id, "other": other.id}
    # Local 2026-04-21 23:30 in Shanghai is 15:30 UTC on the 21st.
    first = add_post(
        session,
        data=PostInput(
            campaign="Main",
            text="\n  Patents at home\nsecond line",
            accounts=["mock:@IPRinCN", "mock:cnipa"],
            at="2026-04-21 23:30",
            variants={"mock": VariantInput(text="专利走进千家万户")},
        ),
        now=NOW,
        approve=True,
    )
    second = add_post(
        session,
        data=PostInput(
            campaign="Other", text="Berlin morning", accounts=["mock:cnipa"], at="2026-04-22 09:00"
        ),
        now=NOW,
        approve=True,
    )
    late = add_post(
        session,
        data=PostInput(
            campaign="Main", text="Next month", accounts=["mock:cnipa"], at="2026-05-02 10:00"
        ),
        now=NOW,
        approve=True,
    )
    cancel_post(session, post_id=late.id, now=NOW)
    ids.update(first=first.id, second=second.id, late=late.id)
    return ids


def test_a_window_holds_the_deliveries_due_in_it_by_time(session: Session) -> None:
    ids = _plan(session)
    start = datetime(2026, 4, 20, tzinfo=UTC)
    found = entries(session, start=start, end=start + timedelta(days=7))
    assert [(e.post_id, e.account, e.state) for e in found] == [
        (ids["first"], "mock:@IPRinCN", "scheduled"),  # 15:30 UTC on the 21st
        (ids["first"], "mock:cnipa", "scheduled"),
        (ids["second"], "mock:cnipa", "scheduled"),  # 09:00 in Berlin: 07:00 UTC on the 22nd
    ]
    assert found[0].due_at == datetime(2026, 4, 21, 15, 30, tzinfo=UTC)
    assert found[0].first_line == "专利走进千家万户"  # the platform's variant
    assert (found[0].campaign, found[0].timezone) == ("Main", "Asia/Shanghai")
    assert found[2].first_line == "Berlin morning"


def test_the_window_is_half_open_in_utc(session: Session) -> None:
    ids = _plan(session)
    due = datetime(2026, 4, 21, 15, 30, tzinfo=UTC)
    assert entries(session, start=due + timedelta(seconds=1), end=due + timedelta(hours=1)) == []
    assert {e.post_id for e in entries(session, start=due, end=due + timedelta(seconds=1))} == {
        ids["first"]
    }
    # The local day 2026-04-21 in Shanghai ends at 16:00 UTC: the post is on it ...
    shanghai_day = datetime(2026, 4, 20, 16, 0, tzinfo=UTC)
    assert len(entries(session, start=shanghai_day, end=shanghai_day + timedelta(days=1))) == 2
    # ... while in Berlin the same instant falls on the 21st too, the next post on the 22nd.
    berlin_22nd = datetime(2026, 4, 21, 22, 0, tzinfo=UTC)
    found = entries(session, start=berlin_22nd, end=berlin_22nd + timedelta(days=1))
    assert [e.post_id for e in found] == [ids["second"]]


def test_filters_narrow_by_campaign_platform_account_and_state(session: Session) -> None:
    ids = _plan(session)
    start, end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)

    def posts(filters: Filters) -> list[int]:
        return [e.post_id for e in entries(session, start=start, end=end, filters=filters)]

    assert posts(Filters()) == [ids["first"], ids["first"], ids["second"], ids["late"]]
    assert posts(Filters(campaign_id=ids["other"])) == [ids["second"]]
    assert posts(Filters(campaign_id=ids["main"], states=[DeliveryState.CANCELLED])) == [
        ids["late"]
    ]
    cnipa = entries(session, start=start, end=end)[1].account_id
    assert posts(Filters(account_id=cnipa, states=[DeliveryState.SCHEDULED])) == [
        ids["first"],
        ids["second"],
    ]
    assert posts(Filters(platform="mock", campaign_id=ids["other"])) == [ids["second"]]
    assert posts(Filters(platform="weibo")) == []


def test_the_panel_reads_the_whole_post(session: Session) -> None:
    ids = _plan(session)
    detail = post_detail(session, post_id=ids["first"])
    assert detail.text == "Patents at home\nsecond line"
    assert detail.accounts == ["mock:@IPRinCN", "mock:cnipa"]
    assert [d.state for d in detail.deliveries] == ["scheduled", "scheduled"]
    assert detail.publish_at == datetime(2026, 4, 21, 15, 30, tzinfo=UTC)


def test_first_line_skips_blank_lines_and_cuts_long_ones() -> None:
    assert first_line("\n \n  Hello\nworld") == "Hello"
    assert first_line("x" * 100, limit=10) == "x" * 9 + "…"
    assert first_line("") == ""
