"""Numbers as platforms send them: counters and integers that arrive as ints, text or "1.2万".

A counter a platform does not give, or gives in a shape we cannot read, is "not available"
(``None``), never 0: reports keep it out of totals instead of counting a zero.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_UNITS = {"": 1, "万": 10_000, "w": 10_000, "亿": 100_000_000}
"""Chinese apps abbreviate large counters: 万 (and its pinyin "w") is 10⁴, 亿 is 10⁸."""
_ABBREVIATED = re.compile(r"^(\d+(?:\.\d+)?)\s*(万|w|亿)?$", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?\d+$")


def parse_int(value: Any) -> int | None:
    """An integer sent as a JSON number or as text (``"16"``, ``"-1"``); otherwise ``None``.

    For codes, lifetimes, cursors and timestamps; booleans and fractions are not integers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    return None


def parse_count(value: Any) -> int | None:
    """A lifetime counter: a non-negative integer, as a number or as text, thousands
    separators and "1.2万"/"3亿" abbreviations included; negative, fractional without a unit,
    missing or unreadable values are ``None`` (not available)."""
    if isinstance(value, str):
        match = _ABBREVIATED.match(value.strip().replace(",", ""))
        if match is None:
            return None
        number, unit = match.group(1), (match.group(2) or "").lower()
        try:
            amount = Decimal(number) * _UNITS[unit]
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            return None
        return int(amount) if unit or amount == amount.to_integral_value() else None
    number = parse_int(value)
    return number if number is not None and number >= 0 else None


def parse_epoch(value: Any) -> datetime | None:
    """A moment sent as Unix seconds (a number or its text); ``None`` when there is none."""
    seconds = parse_int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
