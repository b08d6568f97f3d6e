"""CSV schedule import: all rows or none, every bad row named with its line number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.importing import ImportFailed, import_schedule
from campaigns.models import Delivery, Post
from campaigns.states import DeliveryState, PostState
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
HEADER = "campaign,at,accounts,text,text@mock,title@mock"


@pytest.fixture
def world(session: Session) -> Session:
    factories.account(session, handle="@IPRinCN", now=NOW)
    factories.account(session, handle="cnipa", now=NOW)
    factories.campaign(session, name="IP Creates a Better Life", now=NOW)
    session.flush()
    return session


def _count(session: Session, model: type[Post] | type[Delivery]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_every_row_becomes_a_scheduled_post_with_its_variants(world: Session) -> None:
    lines = [
        HEADER,
        "IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN;mock:cnipa,"
        "How a patent reaches your home,专利如何走进千家万户,",
        "IP Creates a Better Life,2026-04-22T10:00:00+00:00,mock:@IPRinCN,Second post,,",
    ]
    posts = import_schedule(world, lines=lines, now=NOW)
    assert [p.state for p in posts] == [PostState.SCHEDULED, PostState.SCHEDULED]
    # A naive time is read in the campaign's zone (Asia/Shanghai, UTC+8).
    assert posts[0].publish_at == datetime(2026, 4, 21, 1, 30, tzinfo=UTC)
    assert posts[1].publish_at == datetime(2026, 4, 22, 10, 0, tzinfo=UTC)
    assert [(v.platform, v.text) for v in posts[0].variants] == [("mock", "专利如何走进千家万户")]
    deliveries = list(world.scalars(select(Delivery).order_by(Delivery.id)))
    assert len(deliveries) == 3
    assert {d.state for d in deliveries} == {DeliveryState.SCHEDULED}


def test_a_missing_column_is_reported_on_the_header_line(world: Session) -> None:
    with pytest.raises(ImportFailed) as caught:
        import_schedule(world, lines=["campaign,at,text", "x,y,z"], now=NOW)
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].line == 1
    assert "missing column accounts" in str(caught.value)


def test_every_bad_row_is_listed_and_nothing_is_written(world: Session) -> None:
    lines = [
        HEADER,
        "IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN,Good row,,",
        "IP Creates a Better Life,21/04/2026,mock:@IPRinCN,Bad date,,",
        "No Such Campaign,2026-04-21 09:30,mock:@IPRinCN,Unknown campaign,,",
        "IP Creates a Better Life,2026-04-21 09:30,mock:@nobody,Unknown account,,",
        "IP Creates a Better Life,2020-01-01 09:00,mock:@IPRinCN,In the past,,",
        "IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN,,,",
        "IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN,Too,many,fields,here",
    ]
    posts_before, deliveries_before = _count(world, Post), _count(world, Delivery)
    with pytest.raises(ImportFailed) as caught:
        import_schedule(world, lines=lines, now=NOW)
    errors = caught.value.errors
    assert [e.line for e in errors] == [3, 4, 5, 6, 7, 8]
    messages = [e.message for e in errors]
    assert "21/04/2026" in messages[0]
    assert "No Such Campaign" in messages[1]
    assert "@nobody" in messages[2]
    assert "past" in messages[3]
    assert messages[4].startswith("text")
    assert "fields" in messages[5]
    assert "nothing was written" in str(caught.value)
    assert _count(world, Post) == posts_before
    assert _count(world, Delivery) == deliveries_before


def test_a_header_without_rows_is_an_error(world: Session) -> None:
    with pytest.raises(ImportFailed, match="no rows"):
        import_schedule(world, lines=[HEADER], now=NOW)


def test_bad_media_is_named(world: Session) -> None:
    lines = [
        "campaign,at,accounts,text,media",
        "IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN,With media,poster.jpg",
    ]
    with pytest.raises(ImportFailed, match="KIND:MEDIA_ID or KIND:URL"):
        import_schedule(world, lines=lines, now=NOW)


def test_a_title_longer_than_its_column_is_named(world: Session) -> None:
    lines = [
        "campaign,at,accounts,text,title",
        f"IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN,Text,{'T' * 201}",
    ]
    with pytest.raises(ImportFailed, match=r"title: .* is 201 characters long; the limit is 200"):
        import_schedule(world, lines=lines, now=NOW)
