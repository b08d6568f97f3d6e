"""Ids as people and clients type them: ASCII digits within the database's integer range.

``str.isdigit`` and ``int`` accept far more ("²", "١", "1_000", " 7 "), so a lookup could
crash or silently land on another row; every id typed anywhere goes through here instead.
"""

from __future__ import annotations

import re

from publicist.core.errors import InvalidInput

MAX_ID = 2**31 - 1
"""Ids are 32-bit integers on every engine (PostgreSQL ``integer``)."""

_ASCII_DIGITS = re.compile(r"[0-9]+")


def looks_like_id(text: str) -> bool:
    """True when ``text`` is written as an id (ASCII digits only), whatever its size."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def parse_id(text: str, *, field: str) -> int:
    """The id written in ``text``; :class:`InvalidInput` naming ``field`` otherwise."""
    if not looks_like_id(text):
        raise InvalidInput(field, text, "is not an id (ASCII digits 0-9 only)")
    # Compare lengths first: a long run of digits is refused without building a huge int
    # (``int`` refuses strings over 4,300 digits with a ValueError of its own).
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_ID)) or not 1 <= int(digits) <= MAX_ID:
        raise InvalidInput(field, text, f"is not an id (ids run from 1 to {MAX_ID})")
    return int(digits)
