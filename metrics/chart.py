"""Views and interactions over time per platform, drawn as plain SVG text.

Hand-written SVG keeps the repository free of third-party JavaScript and CSS; the same
markup is written by ``publicist report --chart`` and embedded in the dashboard page.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape, quoteattr

from metrics.reports import DailyPoint

WIDTH = 760


@dataclass(frozen=True)
class ChartWords:
    """The chart's own words, so a page in another language can draw it in that language.

    ``views`` and ``interactions`` are panel titles with ``{kind}`` in them; ``description``
    has ``{kind}`` and ``{days}``; ``days_range`` has ``{first}`` and ``{last}``.
    """

    views: str = "Views ({kind})"
    interactions: str = "Interactions ({kind})"
    running_totals: str = "running totals"
    per_day: str = "per day"
    description: str = "Views and interactions per platform ({kind}), {days}."
    days_range: str = "{first} to {last}"
    no_data: str = "no data"
    not_available: str = "not available"
    views_not_available: str = " (views not available)"
    nothing_yet: str = "no metrics collected yet"


ENGLISH = ChartWords()


def _text_width(text: str, size: float = 12) -> float:
    """About how wide ``text`` is drawn: CJK characters take a full em, others about 0.6."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.6 for c in text)


PANEL_HEIGHT = 170
LEFT, RIGHT, TOP = 64, 24, 58
GAP = 54

_COLOURS = {
    "x": "#1d9bf0",
    "twitter": "#1d9bf0",
    "weibo": "#e6162d",
    "wechat": "#07c160",
    "tiktok": "#111111",
    "mock": "#7e57c2",
}
_PALETTE = ("#ef6c00", "#00897b", "#5c6bc0", "#c2185b", "#6d4c41", "#546e7a")


def colour(platform: str, index: int = 0) -> str:
    """The platform's colour: its brand colour when known, else one from a fixed palette."""
    return _COLOURS.get(platform, _PALETTE[index % len(_PALETTE)])


def compact(value: float) -> str:
    """``1234567`` → ``1.2M``; axis labels stay short."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:.0f}"


def _nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, ... × 10ⁿ) at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _cumulative(
    points: Sequence[DailyPoint], days: list[date], counter: str
) -> dict[str, list[int]]:
    """Running totals per platform over ``days``; platforms never giving ``counter`` left out."""
    growth: dict[str, dict[date, int]] = defaultdict(dict)
    for point in points:
        value: int | None = getattr(point, counter)
        if value is not None:
            growth[point.platform][point.day] = growth[point.platform].get(point.day, 0) + value
    series: dict[str, list[int]] = {}
    for platform, by_day in sorted(growth.items()):
        running = 0
        values: list[int] = []
        for day in days:
            running += by_day.get(day, 0)
            values.append(running)
        series[platform] = values
    return series


def _panel(
    *,
    label: str,
    top: float,
    days: list[date],
    series: dict[str, list[int]],
    colours: dict[str, str],
    words: ChartWords = ENGLISH,
) -> list[str]:
    plot_width = WIDTH - LEFT - RIGHT
    bottom = top + PANEL_HEIGHT
    parts = [
        f'<text x="{LEFT}" y="{top - 10:.0f}" class="panel">{escape(label)}</text>',
    ]
    if not series:
        parts.append(
            f'<text x="{LEFT + plot_width / 2:.0f}" y="{top + PANEL_HEIGHT / 2:.0f}" '
            f'class="empty" text-anchor="middle">{escape(words.not_available)}</text>'
        )
        return parts
    ceiling = _nice_ceiling(max(max(values) for values in series.values()))
    for step in range(5):
        value = ceiling * step / 4
        y = bottom - PANEL_HEIGHT * step / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{compact(value)}</text>"
        )

    def x_of(index: int) -> float:
        if len(days) == 1:
            return LEFT + plot_width / 2
        return LEFT + plot_width * index / (len(days) - 1)

    for platform, values in series.items():
        coordinates = " ".join(
            f"{x_of(i):.1f},{bottom - PANEL_HEIGHT * v / ceiling:.1f}" for i, v in enumerate(values)
        )
        parts.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{colours[platform]}" '
            f'stroke-width="2" stroke-linejoin="round" data-platform={quoteattr(platform)}>'
            f"<title>{escape(platform)}: {values[-1]:,}</title></polyline>"
        )
        last_y = bottom - PANEL_HEIGHT * values[-1] / ceiling
        parts.append(
            f'<circle cx="{x_of(len(values) - 1):.1f}" cy="{last_y:.1f}" r="3" '
            f'fill="{colours[platform]}"/>'
        )
    for index in _label_positions(len(days)):
        anchor = "middle"
        if len(days) > 1 and index == 0:
            anchor = "start"
        elif len(days) > 1 and index == len(days) - 1:
            anchor = "end"  # keeps the last date inside the picture
        parts.append(
            f'<text x="{x_of(index):.1f}" y="{bottom + 16:.0f}" class="tick" '
            f'text-anchor="{anchor}">{days[index].isoformat()}</text>'
        )
    return parts


def _label_positions(count: int, most: int = 6) -> list[int]:
    if count <= most:
        return list(range(count))
    step = (count - 1) / (most - 1)
    return sorted({round(step * i) for i in range(most)})


def render_series_svg(
    points: Sequence[DailyPoint],
    *,
    title: str,
    cumulative: bool = True,
    words: ChartWords = ENGLISH,
) -> str:
    """An SVG document of views and interactions per platform over the days in ``points``.

    ``points`` are daily growth (``daily_series``); with ``cumulative`` (the default) the
    lines show running totals, so each line ends at the platform's total in the report.
    Platforms that do not give views are listed as such instead of drawn at zero.
    """
    if points:
        first = min(p.day for p in points)
        last = max(p.day for p in points)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    else:
        days = []
    if cumulative:
        views = _cumulative(points, days, "views")
        interactions = _cumulative(points, days, "interactions")
    else:
        views = _daily(points, days, "views")
        interactions = _daily(points, days, "interactions")
    platforms = sorted({p.platform for p in points})
    colours = {platform: colour(platform, i) for i, platform in enumerate(platforms)}
    height = TOP + 2 * PANEL_HEIGHT + GAP + 44
    kind = words.running_totals if cumulative else words.per_day
    if not days:
        span = words.no_data
    elif len(days) == 1:
        span = days[0].isoformat()
    else:
        span = words.days_range.format(first=days[0].isoformat(), last=days[-1].isoformat())
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(title)}</title>',
        f"<desc>{escape(words.description.format(kind=kind, days=span))}</desc>",
        "<style>text{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;fill:#333}"
        ".title{font-size:16px;font-weight:600}.panel{font-size:13px;font-weight:600}"
        ".tick{font-size:11px;fill:#666}.legend{font-size:12px}.empty{font-size:13px;fill:#999}"
        ".grid{stroke:#e5e5e5;stroke-width:1}</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" class="title">{escape(title)}</text>',
    ]
    legend_x = float(LEFT)
    for platform in platforms:
        note = "" if platform in views or not days else words.views_not_available
        text = escape(platform + note)
        parts.append(
            f'<rect x="{legend_x:.0f}" y="33" width="10" height="10" '
            f'fill="{colours[platform]}"/>'
            f'<text x="{legend_x + 14:.0f}" y="42" class="legend">{text}</text>'
        )
        legend_x += 14 + _text_width(platform + note) + 18
    if not days:
        parts.append(
            f'<text x="{WIDTH / 2:.0f}" y="{TOP + PANEL_HEIGHT:.0f}" class="empty" '
            f'text-anchor="middle">{escape(words.nothing_yet)}</text>'
        )
    else:
        parts += _panel(
            label=words.views.format(kind=kind),
            top=TOP + 20,
            days=days,
            series=views,
            colours=colours,
            words=words,
        )
        parts += _panel(
            label=words.interactions.format(kind=kind),
            top=TOP + 20 + PANEL_HEIGHT + GAP,
            days=days,
            series=interactions,
            colours=colours,
            words=words,
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _daily(points: Sequence[DailyPoint], days: list[date], counter: str) -> dict[str, list[int]]:
    growth: dict[str, dict[date, int]] = defaultdict(dict)
    for point in points:
        value: int | None = getattr(point, counter)
        if value is not None:
            growth[point.platform][point.day] = value
    return {
        platform: [by_day.get(day, 0) for day in days]
        for platform, by_day in sorted(growth.items())
    }
