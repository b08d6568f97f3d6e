"""The SVG chart: well-formed, self-contained, one line per platform ending at its total."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from metrics.chart import ChartWords, compact, render_series_svg
from metrics.reports import DailyPoint

SVG = "{http://www.w3.org/2000/svg}"


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


def _lines(svg: str) -> dict[str, list[str]]:
    root = _parse(svg)
    lines: dict[str, list[str]] = {}
    for line in root.iter(f"{SVG}polyline"):
        title = line.find(f"{SVG}title")
        assert title is not None
        assert title.text is not None
        lines.setdefault(line.attrib["data-platform"], []).append(title.text)
    return lines


def test_each_platform_gets_a_running_total_line_ending_at_its_total() -> None:
    svg = render_series_svg(_points(), title="2021 National IP Publicity Week")

    assert _lines(svg) == {
        "tiktok": ["tiktok: 7,000", "tiktok: 400"],
        "x": ["x: 1,500", "x: 70"],
        "weibo": ["weibo: 35"],  # interactions only: Weibo gives no views
    }
    assert "weibo (views not available)" in svg
    root = _parse(svg)
    assert root.tag == f"{SVG}svg"
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "tick"]
    assert "2021-04-20" in ticks
    assert "2021-04-23" in ticks


def test_per_day_mode_draws_each_day_growth() -> None:
    svg = render_series_svg(_points(), title="IP Week", cumulative=False)
    lines = _lines(svg)
    assert lines["x"] == ["x: 0", "x: 0"]  # no growth on X on the last day (the 23rd)
    assert lines["tiktok"] == ["tiktok: 7,000", "tiktok: 400"]


def test_the_chart_is_self_contained_and_escapes_text() -> None:
    svg = render_series_svg(_points(), title='<IP> & "Life"')

    root = _parse(svg)
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == '<IP> & "Life"'
    assert "<script" not in svg
    assert "href" not in svg
    assert svg.count("http") == 1  # the SVG namespace only: nothing is fetched


@pytest.mark.parametrize(
    "points",
    [[], [DailyPoint(date(2021, 4, 20), "x", views=0, interactions=0)]],
    ids=["no data", "one day of zeros"],
)
def test_empty_or_flat_data_still_draws(points: list[DailyPoint]) -> None:
    svg = render_series_svg(points, title="Young Innovators")
    _parse(svg)
    if not points:
        assert "no metrics collected yet" in svg


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (950, "950"), (1000, "1k"), (88_000, "88k"), (2_060_000, "2.1M"), (3e9, "3B")],
)
def test_axis_labels_are_compact(value: float, text: str) -> None:
    assert compact(value) == text


def test_the_chart_speaks_the_pages_language() -> None:
    words = ChartWords(
        views="阅读量（{kind}）",
        interactions="互动量（{kind}）",
        running_totals="累计",
        description="各平台阅读量与互动量（{kind}），{days}。",
        days_range="{first} 至 {last}",
        views_not_available="（无阅读量数据）",
    )
    svg = render_series_svg(_points(), title="知识产权宣传周", words=words)
    root = _parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "阅读量（累计）" in texts
    assert "互动量（累计）" in texts
    assert "weibo（无阅读量数据）" in texts
    description = root.find(f"{SVG}desc")
    assert description is not None
    assert description.text == "各平台阅读量与互动量（累计），2021-04-20 至 2021-04-23。"
    assert "Views" not in svg
    assert "running totals" not in svg
