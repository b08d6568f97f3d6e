"""The per-platform bars: scaled to the largest, n/a drawn as text, names escaped."""

from __future__ import annotations

import re

from publicist.web.charts import platform_bars_svg


def _bars(svg: str) -> list[int]:
    return [
        int(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="(\d+)"[^>]*fill="#123456"', svg)
    ]


def test_bars_are_scaled_to_the_largest_value() -> None:
    svg = platform_bars_svg(
        [("twitter", 2_000_000), ("wechat", 500_000)], title="Views", color="#123456"
    )
    full, quarter = _bars(svg)
    assert quarter * 4 == full
    assert "2,000,000" in svg
    assert "500,000" in svg


def test_a_platform_without_the_counter_shows_na_and_no_bar() -> None:
    svg = platform_bars_svg([("weibo", None), ("twitter", 10)], title="Views", color="#123456")
    assert "n/a" in svg
    assert len(_bars(svg)) == 1


def test_names_are_escaped_and_an_empty_chart_says_so() -> None:
    svg = platform_bars_svg([("<b>x</b>", 1)], title="A & B", color="#123456")
    assert "<b>" not in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in svg
    assert "A &amp; B" in svg
    assert "no deliveries yet" in platform_bars_svg([], title="Views", color="#123456")
