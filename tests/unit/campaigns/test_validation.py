"""Checks made before anything is written: zones, publish times, text, content per platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.validation import (
    check_content,
    parse_publish_time,
    parse_timezone,
    require_future,
    require_text,
)
from connectors.base import Content, Media, MediaKind
from publicist.core.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Asia/Shanghai", "UTC", "America/New_York", "Europe/Berlin"])
def test_parse_timezone_accepts_iana_names(name: str) -> None:
    assert parse_timezone(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus_Mons",
        "../etc",
        "/etc/passwd",
        "Asia/../Asia/Shanghai",
        "",
        "Asia/Shanghai ",
        "+08:00",
        "Asia\\Shanghai",
    ],
)
def test_parse_timezone_refuses_other_strings(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_timezone(name, field="campaign.timezone")
    error = caught.value
    assert error.field == "campaign.timezone"
    assert error.value == name
    assert "is not an IANA time zone name" in error.rule
    assert str(error).startswith(f"campaign.timezone: {name!r} ")


def test_parse_timezone_default_field_name() -> None:
    with pytest.raises(InvalidInput, match=r"^timezone: 'Nowhere/City' is not an IANA"):
        parse_timezone("Nowhere/City")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01T09:30:00+08:00", datetime(2026, 12, 1, 1, 30, tzinfo=UTC)),
        ("2026-12-01 09:30+08:00", datetime(2026, 12, 1, 1, 30, tzinfo=UTC)),
        ("2026-12-01 09:30Z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01 09:30-05:00", datetime(2026, 12, 1, 14, 30, tzinfo=UTC)),
        ("  2026-12-01 09:30+00:00  ", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_publish_time_with_offset_ignores_the_zone(value: str, expected: datetime) -> None:
    moment = parse_publish_time(value, zone=SHANGHAI)
    assert moment == expected
    assert moment.tzinfo is UTC
    assert parse_publish_time(value, zone=None) == expected


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2026-12-01 09:30", "Asia/Shanghai", datetime(2026, 12, 1, 1, 30, tzinfo=UTC)),
        ("2026-12-01T09:30", "Asia/Shanghai", datetime(2026, 12, 1, 1, 30, tzinfo=UTC)),
        ("2026-07-01 09:30", "Europe/Berlin", datetime(2026, 7, 1, 7, 30, tzinfo=UTC)),
        ("2026-01-01 09:30", "Europe/Berlin", datetime(2026, 1, 1, 8, 30, tzinfo=UTC)),
        ("2026-12-01", "Asia/Shanghai", datetime(2026, 11, 30, 16, 0, tzinfo=UTC)),
    ],
)
def test_parse_publish_time_reads_naive_values_in_the_zone(
    value: str, zone: str, expected: datetime
) -> None:
    moment = parse_publish_time(value, zone=ZoneInfo(zone))
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)


def test_parse_publish_time_accepts_datetimes() -> None:
    naive = datetime(2026, 12, 1, 9, 30)  # noqa: DTZ001 - a naive value is the input under test
    assert parse_publish_time(naive, zone=SHANGHAI) == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    aware = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert parse_publish_time(aware, zone=SHANGHAI) == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def test_parse_publish_time_naive_without_zone_names_field_value_and_rule() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_publish_time("2026-12-01 09:30", zone=None, field="row.at")
    error = caught.value
    assert error.field == "row.at"
    assert error.value == "2026-12-01 09:30"
    assert "has no time zone" in error.rule
    assert "+08:00" in error.rule
    assert str(error).startswith("row.at: '2026-12-01 09:30' has no time zone")


def test_parse_publish_time_naive_datetime_without_zone_is_refused() -> None:
    naive = datetime(2026, 12, 1, 9, 30)  # noqa: DTZ001
    with pytest.raises(InvalidInput, match="has no time zone"):
        parse_publish_time(naive, zone=None)


@pytest.mark.parametrize(
    "value",
    ["tomorrow 9am", "", "2026-13-01 09:30", "2026-02-30 10:00", "09:30", "2026/12/01 09:30"],
)
def test_parse_publish_time_refuses_garbage(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_publish_time(value, zone=SHANGHAI)
    error = caught.value
    assert error.field == "at"
    assert error.value == value
    assert "is not a date and time" in error.rule


def test_require_future() -> None:
    require_future(NOW + timedelta(microseconds=1), now=NOW)
    with pytest.raises(InvalidInput) as caught:
        require_future(NOW - timedelta(minutes=1), now=NOW, field="at")
    assert caught.value.field == "at"
    assert caught.value.value == "2026-04-20T00:59:00+00:00"
    assert "is in the past" in caught.value.rule
    assert NOW.isoformat() in caught.value.rule


def test_require_future_refuses_now_itself() -> None:
    with pytest.raises(InvalidInput, match="is in the past"):
        require_future(NOW, now=NOW)


def test_require_text() -> None:
    assert require_text("  Hello IP week \n", "text") == "Hello IP week"
    for empty in (None, "", "   ", "\n\t"):
        with pytest.raises(InvalidInput) as caught:
            require_text(empty, "post.text")
        assert caught.value.field == "post.text"
        assert caught.value.rule == "must not be empty"


def test_check_content_accepts_content_at_the_limits() -> None:
    media = tuple(Media(MediaKind.IMAGE, f"https://cdn.example.com/p{i}.jpg") for i in range(4))
    check_content("mock", Content(text="x" * 280, media=media))


def test_check_content_too_long_text() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_content("mock", Content(text="字" * 281))
    error = caught.value
    assert error.field == "text[mock]"
    assert error.value == "281 characters"
    assert "limit of 280" in error.rule


def test_check_content_too_many_media() -> None:
    media = tuple(Media(MediaKind.IMAGE, f"https://cdn.example.com/p{i}.jpg") for i in range(5))
    with pytest.raises(InvalidInput) as caught:
        check_content("mock", Content(text="hi", media=media), field_prefix="row.")
    error = caught.value
    assert error.field == "row.media[mock]"
    assert error.value == "5 items"
    assert "maximum of 4" in error.rule


def test_check_content_media_kind_not_accepted() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_content(
            "mock",
            Content(text="hi", media=(Media(MediaKind.GIF, "https://cdn.example.com/a.gif"),)),
        )
    assert caught.value.field == "media[0][mock]"
    assert caught.value.value == "gif"


@pytest.mark.parametrize("text", ["", "   "])
def test_check_content_empty(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_content("mock", Content(text=text))
    assert caught.value.field == "text[mock]"
    assert caught.value.rule == "must not be empty"


def test_check_content_lists_every_problem() -> None:
    media = tuple(Media(MediaKind.IMAGE, f"https://cdn.example.com/p{i}.jpg") for i in range(6))
    with pytest.raises(InvalidInput) as caught:
        check_content("mock", Content(text="x" * 300, media=media))
    message = str(caught.value)
    assert caught.value.field == "media[mock]"  # common rules are checked first
    assert "all problems:" in message
    assert "media: 6 items" in message
    assert "text: 300 characters" in message


def test_parse_publish_time_out_of_range_is_bad_input_not_a_crash() -> None:
    with pytest.raises(InvalidInput, match="outside the range"):
        parse_publish_time("0001-01-01T00:00+14:00", zone=None)
