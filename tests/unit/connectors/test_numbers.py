"""Counters and integers as platforms send them, read by one helper."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.numbers import parse_count, parse_epoch, parse_int


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (16, 16),
        (0, 0),
        ("16", 16),
        (" 16 ", 16),
        ("1,234", 1234),
        (12.0, 12),
        ("1.2万", 12_000),
        ("3万", 30_000),
        ("1.5w", 15_000),
        ("2.35亿", 235_000_000),
        (None, None),
        (-1, None),
        ("-5", None),
        ("", None),
        ("n/a", None),
        ("1.5", None),
        (1.5, None),
        (True, None),
        ([3], None),
    ],
)
def test_a_counter_is_a_non_negative_integer_or_not_available(sent: Any, read: int | None) -> None:
    assert parse_count(sent) == read


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (7200, 7200),
        ("7200", 7200),
        ("-1", -1),
        (-1, -1),
        (None, None),
        ("7e3", None),
        (False, None),
    ],
)
def test_an_integer_may_come_as_text_and_be_negative(sent: Any, read: int | None) -> None:
    assert parse_int(sent) == read


def test_an_epoch_is_read_from_a_number_or_its_text() -> None:
    moment = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    stamp = int(moment.timestamp())
    assert parse_epoch(stamp) == parse_epoch(str(stamp)) == moment
    assert parse_epoch(None) is None
    assert parse_epoch("soon") is None
