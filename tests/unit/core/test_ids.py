"""One id parser: ASCII digits within the database's integer range, or a clear error."""

from __future__ import annotations

import pytest

from publicist.core.errors import InvalidInput
from publicist.core.ids import MAX_ID, looks_like_id, parse_id


@pytest.mark.parametrize(
    ("text", "expected"), [("1", 1), ("42", 42), ("007", 7), (str(MAX_ID), MAX_ID)]
)
def test_ascii_digits_in_range_are_ids(text: str, expected: int) -> None:
    assert parse_id(text, field="post") == expected


@pytest.mark.parametrize(
    "text",
    [
        "²",  # str.isdigit() says yes, int() raises
        "١",  # Arabic-Indic one: int() reads it as 1
        "٣٤",
        "１２",  # fullwidth digits
        "1_0",
        " 5",
        "5 ",
        "+5",
        "-1",
        "1.0",
        "",
        "abc",
    ],
)
def test_anything_but_ascii_digits_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_id(text, field="post")
    assert caught.value.field == "post"
    assert caught.value.value == text
    assert "ASCII digits" in caught.value.rule
    assert not looks_like_id(text)


@pytest.mark.parametrize(
    "text",
    ["0", "000", str(MAX_ID + 1), "99999999999", "1" + "0" * 30, "9" * 5000, "0" * 5000 + "1" * 11],
)
def test_ids_outside_the_database_range_are_refused(text: str) -> None:
    assert looks_like_id(text)
    with pytest.raises(InvalidInput) as caught:
        parse_id(text, field="campaign")
    assert caught.value.field == "campaign"
    assert str(MAX_ID) in caught.value.rule


def test_leading_zeros_do_not_matter_however_many() -> None:
    assert parse_id("0" * 5000 + "12", field="post") == 12
