"""CSV schedule import: all rows or none, every bad row named with its line number."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from campaigns.importing import MAX_IMPORT_ROWS, ImportFailed, decode_csv, import_schedule
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
    imported = import_schedule(world, lines=lines, now=NOW)
    assert imported.deliveries == 3
    posts = [world.get_one(Post, post_id) for post_id in imported.post_ids]
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


ROW = "IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN,{text},,"


def _import(session: Session, text: str) -> ImportFailed:
    posts_before = _count(session, Post)
    with pytest.raises(ImportFailed) as caught:
        import_schedule(session, lines=io.StringIO(text, newline=""), now=NOW)
    assert _count(session, Post) == posts_before
    return caught.value


def test_a_quote_left_open_to_the_end_of_the_file_names_its_line(world: Session) -> None:
    text = "\n".join(
        [HEADER, ROW.format(text="Fine"), ROW.format(text='"Opening day'), ROW.format(text="x")]
    )
    failed = _import(world, text + "\n")
    assert [e.line for e in failed.errors] == [3]
    assert "never closed" in failed.errors[0].message


def test_a_quote_left_open_that_a_later_quote_closes_names_its_line(world: Session) -> None:
    text = "\n".join(
        [
            HEADER,
            ROW.format(text='"Opening day'),
            ROW.format(text="swallowed"),
            ROW.format(text='"a, quoted" text'),
        ]
    )
    failed = _import(world, text + "\n")
    assert [e.line for e in failed.errors] == [2]
    assert "quote" in failed.errors[0].message


def test_a_quoted_text_that_swallows_whole_rows_is_refused(world: Session) -> None:
    """The quote opened on line 3 closes at the end of line 5's text: one valid-looking record
    that would have been one post holding three rows."""
    text = "\n".join(
        [
            HEADER,
            ROW.format(text="Fine"),
            ROW.format(text='"Opening day'),
            ROW.format(text="Second"),
            'IP Creates a Better Life,2026-04-23 09:30,mock:@IPRinCN,Third",,',
            ROW.format(text="Last"),
        ]
    )
    failed = _import(world, text + "\n")
    assert [e.line for e in failed.errors] == [3]
    assert "runs into line 4" in failed.errors[0].message


def test_a_line_break_outside_a_text_column_is_refused(world: Session) -> None:
    text = HEADER + "\n" + 'IP Creates a Better Life,"2026-04-21\n09:30",mock:@IPRinCN,Hi,,\n'
    failed = _import(world, text)
    assert [e.line for e in failed.errors] == [2]
    assert "column 'at' spans several lines" in failed.errors[0].message


def test_a_text_on_several_lines_is_kept_and_later_lines_keep_their_numbers(
    world: Session,
) -> None:
    text = "\n".join(
        [HEADER, ROW.format(text='"First line\nsecond line"'), ROW.format(text="Next")]
    )
    imported = import_schedule(world, lines=io.StringIO(text + "\n", newline=""), now=NOW)
    assert world.get_one(Post, imported.post_ids[0]).text == "First line\nsecond line"
    bad = "\n".join([HEADER, ROW.format(text='"First\nsecond"'), ROW.format(text="")])
    failed = _import(world, bad + "\n")
    assert [e.line for e in failed.errors] == [4]


def test_a_field_over_the_csv_limit_names_its_line(world: Session) -> None:
    huge = "x" * (csv.field_size_limit() + 1)
    failed = _import(world, "\n".join([HEADER, ROW.format(text="ok"), ROW.format(text=huge)]))
    assert [e.line for e in failed.errors] == [3]
    assert f"longer than {csv.field_size_limit():,} characters" in failed.errors[0].message


def test_a_nul_character_is_refused(world: Session) -> None:
    failed = _import(world, "\n".join([HEADER, ROW.format(text="a\0b")]))
    assert [e.line for e in failed.errors] == [2]
    assert "NUL" in failed.errors[0].message


def test_more_rows_than_the_cap_are_refused_before_anything_is_checked(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("campaigns.importing.MAX_IMPORT_ROWS", 3)
    rows = [ROW.format(text=f"Post {i}") for i in range(4)]
    failed = _import(world, "\n".join([HEADER, *rows]))
    assert [e.line for e in failed.errors] == [5]
    assert "more than 3 rows" in failed.errors[0].message
    imported = import_schedule(world, lines=[HEADER, *rows[:3], ""], now=NOW)
    assert len(imported.post_ids) == 3


def test_the_cap_is_twenty_thousand_rows() -> None:
    assert MAX_IMPORT_ROWS == 20_000


def test_lookups_are_made_once_per_file_not_once_per_row(world: Session) -> None:
    def statements(rows: int) -> int:
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        engine = world.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            lines = [HEADER] + [
                f"IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN;mock:cnipa,P{i},,"
                for i in range(rows)
            ]
            nested = world.begin_nested()
            import_schedule(world, lines=lines, now=NOW)
            nested.rollback()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len([s for s in seen if "SAVEPOINT" not in s.upper()])

    assert statements(5) == statements(200)


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        ("campaign,at\n中文,x\n".encode("gbk"), 2, "not UTF-8 (byte 12 is 0xd6)"),
        ("campaign,at\n".encode("utf-16"), 1, "UTF-16"),
        (b"campaign,at\nok,\x80\n", 2, "byte 15 is 0x80"),
    ],
)
def test_a_file_that_is_not_utf8_names_where(data: bytes, line: int, words: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        decode_csv(data)
    assert [e.line for e in caught.value.errors] == [line]
    assert words in caught.value.errors[0].message


def test_utf8_with_or_without_a_byte_order_mark_is_read() -> None:
    assert decode_csv("\ufeffcampaign,专利\n".encode()) == "campaign,专利\n"
    assert decode_csv("campaign,专利\n".encode()) == "campaign,专利\n"
