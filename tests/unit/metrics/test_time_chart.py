"""The time chart (matplotlib SVG): one line per platform with a point per day, running
totals that never fall, its numbers in words, Chinese labels drawn from a CJK font."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from metrics.plotting import font_families
from metrics.reports import DailyPoint
from metrics.time_chart import ChartWords, compact, render_series_svg
from tests.drawings import count_drawings

SVG = "{http://www.w3.org/2000/svg}"
_PAIR = re.compile(r"[ML]\s*(-?[\d.]+)\s+(-?[\d.]+)")


def _points() -> list[DailyPoint]:
    return [
        DailyPoint(date(2021, 4, 20), "x", views=1000, interactions=50),
        DailyPoint(date(2021, 4, 20), "weibo", views=None, interactions=30),
        DailyPoint(date(2021, 4, 22), "x", views=500, interactions=20),
        DailyPoint(date(2021, 4, 23), "weibo", views=None, interactions=5),
        DailyPoint(date(2021, 4, 23), "tiktok", views=7000, interactions=400),
    ]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input


def _lines(svg: str) -> dict[str, list[tuple[float, float]]]:
    """Each drawn series (``views-x``, ``interactions-weibo``...) as its (x, y) vertices."""
    lines: dict[str, list[tuple[float, float]]] = {}
    for group in _parse(svg).iter(f"{SVG}g"):
        found = re.fullmatch(r"series-series-(views|interactions)-(.+)", group.attrib.get("id", ""))
        if found:
            path = group.find(f"{SVG}path")
            assert path is not None
            vertices = [(float(x), float(y)) for x, y in _PAIR.findall(path.attrib["d"])]
            lines[f"{found.group(1)}-{found.group(2)}"] = vertices
    return lines


def test_each_platform_gets_a_line_per_counter_with_a_point_per_day() -> None:
    svg = render_series_svg(_points(), title="2021 National IP Publicity Week")
    lines = _lines(svg)
    # Weibo gives no views: it has an interactions line only.
    assert set(lines) == {
        "views-tiktok",
        "views-x",
        "interactions-tiktok",
        "interactions-weibo",
        "interactions-x",
    }
    assert all(len(vertices) == 4 for vertices in lines.values())  # 20 to 23 April
    # Running totals never fall (SVG y grows downwards); X's views end above its start.
    for vertices in lines.values():
        ys = [y for _, y in vertices]
        assert ys == sorted(ys, reverse=True)
    assert lines["views-x"][-1][1] < lines["views-x"][0][1]
    description = _parse(svg).find(f"{SVG}desc")
    assert description is not None
    assert description.text == (
        "Views and interactions per platform (running totals), 2021-04-20 to 2021-04-23. "
        "tiktok: views 7,000, interactions 400; weibo: interactions 35; "
        "x: views 1,500, interactions 70."
    )


def test_per_day_mode_draws_each_days_growth() -> None:
    lines = _lines(render_series_svg(_points(), title="IP Week", cumulative=False))
    ys = [y for _, y in lines["views-x"]]
    # 1,000 on the 20th, nothing on the 21st, 500 on the 22nd, nothing on the 23rd.
    assert ys[1] == ys[3] > ys[2] > ys[0]


def test_the_chart_is_self_contained_and_escapes_its_words() -> None:
    svg = render_series_svg(_points(), title='<IP> & "Life"')
    root = _parse(svg)
    assert root.attrib["role"] == "img"
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == '<IP> & "Life"'
    assert "<script" not in svg
    assert not re.search(r'href="(?!#)', svg)  # only references inside the picture


def test_the_narrow_variant_has_its_own_ids() -> None:
    wide = render_series_svg(_points(), title="IP Week")
    narrow = render_series_svg(_points(), title="IP Week", narrow=True)
    ids = set(re.findall(r'id="([^"]+)"', wide))
    assert not ids & set(re.findall(r'id="([^"]+)"', narrow))


@pytest.mark.parametrize(
    "points",
    [[], [DailyPoint(date(2021, 4, 20), "x", views=0, interactions=0)]],
    ids=["no data", "one day of zeros"],
)
def test_empty_or_flat_data_still_draws(points: list[DailyPoint]) -> None:
    svg = render_series_svg(points, title="Young Innovators")
    description = _parse(svg).find(f"{SVG}desc")
    assert description is not None
    assert description.text is not None
    assert ("no data" in description.text) == (not points)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (950, "950"), (1000, "1k"), (88_000, "88k"), (2_060_000, "2.1M"), (3e9, "3B")],
)
def test_axis_labels_are_compact(value: float, text: str) -> None:
    assert compact(value) == text


def test_the_chart_speaks_the_pages_language_in_a_cjk_font() -> None:
    if not any("CJK" in name for name in font_families()):
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    words = ChartWords(
        views="阅读量（{kind}）",
        interactions="互动量（{kind}）",
        running_totals="累计",
        description="各平台阅读量与互动量（{kind}），{days}。",
        days_range="{first} 至 {last}",
        views_not_available="（无阅读量数据）",
    )
    svg = render_series_svg(_points(), title="知识产权宣传周", words=words)
    description = _parse(svg).find(f"{SVG}desc")
    assert description is not None
    assert description.text is not None
    assert description.text.startswith("各平台阅读量与互动量（累计），2021-04-20 至 2021-04-23。")
    # Text is drawn as glyph paths: the Chinese ones come from the CJK font, not boxes.
    glyphs = re.findall(r'<path id="series-([A-Za-z-]+)-[0-9a-f]+"', svg)
    assert any("CJK" in name for name in glyphs)


def test_the_same_numbers_are_drawn_once_and_new_ones_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from metrics import time_chart

    drawn = count_drawings(monkeypatch, "metrics.time_chart")
    time_chart._drawn_series.cache_clear()
    first = render_series_svg(_points(), title="IP Week")
    again = render_series_svg(list(_points()), title="IP Week")
    assert again == first
    assert len(drawn) == 1
    grown = [*_points(), DailyPoint(date(2021, 4, 24), "x", views=10, interactions=1)]
    assert render_series_svg(grown, title="IP Week") != first
    render_series_svg(_points(), title="IP Week", narrow=True)
    render_series_svg(_points(), title="知识产权宣传周")
    assert len(drawn) == 4
