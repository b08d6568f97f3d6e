"""The per-platform bars (matplotlib SVG): scaled to the largest, n/a without a bar, the
values in words, the title escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from publicist.web.charts import platform_bars_svg
from tests.drawings import count_drawings

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input


def _bar_widths(svg: str, prefix: str) -> dict[str, float]:
    """Each bar's drawn width, from its rectangle's path (``M x0 y0 L x1 y0 ...``)."""
    widths: dict[str, float] = {}
    for group in _parse(svg).iter(f"{SVG}g"):
        found = re.fullmatch(rf"{prefix}-bar-(.+)", group.attrib.get("id", ""))
        if found:
            path = group.find(f"{SVG}path")
            assert path is not None
            xs = [float(x) for x in re.findall(r"[ML]\s*(-?[\d.]+)\s+-?[\d.]+", path.attrib["d"])]
            widths[found.group(1)] = max(xs) - min(xs)
    return widths


def _description(svg: str) -> str | None:
    found = _parse(svg).find(f"{SVG}desc")
    assert found is not None
    return found.text


def test_bars_are_scaled_to_the_largest_value() -> None:
    svg = platform_bars_svg(
        [("twitter", 2_000_000), ("wechat", 500_000)], title="Views", color="#123456", prefix="v"
    )
    widths = _bar_widths(svg, "v")
    assert widths["twitter"] / widths["wechat"] == pytest.approx(4.0, rel=1e-3)
    assert _description(svg) == "twitter: 2,000,000; wechat: 500,000"
    assert "#123456" in svg


def test_a_platform_without_the_counter_shows_na_and_no_bar() -> None:
    svg = platform_bars_svg(
        [("weibo", None), ("twitter", 10)], title="Views", color="#123456", prefix="v"
    )
    assert set(_bar_widths(svg, "v")) == {"twitter"}
    assert _description(svg) == "weibo: n/a; twitter: 10"


def test_the_title_is_escaped_and_an_empty_chart_still_draws() -> None:
    svg = platform_bars_svg([("<b>x</b>", 1)], title="A & B", color="#123456", prefix="v")
    assert "<b>" not in svg
    root = _parse(svg)
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == "A & B"
    empty = platform_bars_svg([], title="Views", color="#123456", prefix="v")
    assert _bar_widths(empty, "v") == {}


def test_the_same_bars_are_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from publicist.web import charts

    drawn = count_drawings(monkeypatch, "publicist.web.charts")
    charts._drawn_bars.cache_clear()
    rows: list[tuple[str, int | None]] = [("x", 10), ("weibo", None)]
    first = platform_bars_svg(rows, title="Views", color="#123456", prefix="views")
    assert platform_bars_svg(list(rows), title="Views", color="#123456", prefix="views") == first
    assert len(drawn) == 1
    platform_bars_svg([("x", 11), ("weibo", None)], title="Views", color="#123456", prefix="views")
    platform_bars_svg(rows, title="浏览量", color="#123456", prefix="views")
    assert len(drawn) == 3
