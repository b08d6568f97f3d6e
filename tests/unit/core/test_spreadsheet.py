"""Formula neutralisation of spreadsheet cells (issue 8, finding 8)."""

from __future__ import annotations

from datetime import date

import pytest

from publicist.core.spreadsheet import Cell, neutralise


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://example.com","x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    ["IP Creates a Better Life", "知识产权宣传周", "", "a=b", "1-2", -5, -0.25, 0, None, True],
)
def test_other_values_and_every_number_are_left_as_they_are(value: Cell) -> None:
    assert neutralise(value) == value
    assert type(neutralise(value)) is type(value)


def test_dates_are_left_as_they_are() -> None:
    assert neutralise(date(2021, 4, 1)) == date(2021, 4, 1)
