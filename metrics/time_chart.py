"""Views and interactions over time per platform, drawn with matplotlib as SVG.

The same chart is written by ``publicist report --chart`` and inlined in the dashboard; the
dashboard also draws a narrow variant (larger type, fewer ticks) for phones.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from metrics.plotting import colour, style, to_svg
from metrics.reports import DailyPoint


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


def compact(value: float) -> str:
    """``1234567`` → ``1.2M``; axis labels stay short."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:.0f}"


def _series(
    points: Sequence[DailyPoint], days: list[date], counter: str, *, cumulative: bool
) -> dict[str, list[int]]:
    """Per platform, ``counter`` on each of ``days`` (running totals with ``cumulative``);
    platforms never giving ``counter`` are left out rather than drawn at zero."""
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
            running = running + by_day.get(day, 0) if cumulative else by_day.get(day, 0)
            values.append(running)
        series[platform] = values
    return series


def render_series_svg(
    points: Sequence[DailyPoint],
    *,
    title: str,
    cumulative: bool = True,
    words: ChartWords = ENGLISH,
    narrow: bool = False,
) -> str:
    """An SVG of views and interactions per platform over the days in ``points``.

    ``points`` are daily growth (``daily_series``); with ``cumulative`` (the default) the
    lines show running totals, so each line ends at the platform's total in the report.
    Each line is a group with the id ``series-<counter>-<platform>``; the description lists
    every platform's last value, so the chart can be read (and checked) as text.

    Drawing takes matplotlib a few hundred milliseconds, and the numbers change only when
    metrics are collected: the last drawings are kept, keyed by everything drawn (the
    points, the title, the words, the shape), so a page shown again with the same numbers
    does not draw again.
    """
    return _drawn_series(tuple(points), title, cumulative, words, narrow)


@functools.lru_cache(maxsize=32)
def _drawn_series(
    points: tuple[DailyPoint, ...],
    title: str,
    cumulative: bool,
    words: ChartWords,
    narrow: bool,
) -> str:
    # Imported here: matplotlib takes a second to load and most commands never draw.
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    if points:
        first = min(p.day for p in points)
        last = max(p.day for p in points)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    else:
        days = []
    kind = words.running_totals if cumulative else words.per_day
    views = _series(points, days, "views", cumulative=cumulative)
    interactions = _series(points, days, "interactions", cumulative=cumulative)
    platforms = sorted({p.platform for p in points})
    if not days:
        span = words.no_data
    elif len(days) == 1:
        span = days[0].isoformat()
    else:
        span = words.days_range.format(first=days[0].isoformat(), last=days[-1].isoformat())
    totals = "; ".join(
        f"{platform}: "
        + ", ".join(
            f"{label} {series[platform][-1]:,}"
            for label, series in (("views", views), ("interactions", interactions))
            if platform in series
        )
        for platform in platforms
    )
    description = words.description.format(kind=kind, days=span) + (f" {totals}." if totals else "")
    with style(12 if narrow else 9):
        figure = Figure(figsize=(4.2, 6.4) if narrow else (7.6, 5.2), layout="constrained")
        figure.suptitle(title, x=0.02, ha="left", fontsize=14 if narrow else 12)
        panels = figure.subplots(2, 1, sharex=True)
        for axes, label, series, counter in (
            (panels[0], words.views.format(kind=kind), views, "views"),
            (panels[1], words.interactions.format(kind=kind), interactions, "interactions"),
        ):
            axes.set_title(label, loc="left", fontsize=12 if narrow else 10)
            axes.spines[["top", "right"]].set_visible(False)
            axes.grid(axis="y", color="#e4e7ec", linewidth=0.6)
            axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: compact(value)))
            if not days or not series:
                message = words.nothing_yet if not days else words.not_available
                axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
                axes.set_yticks([])
                continue
            for index, platform in enumerate(platforms):
                if platform not in series:
                    continue
                (line,) = axes.plot(
                    days,
                    series[platform],
                    color=colour(platform, index),
                    linewidth=2.2 if narrow else 1.8,
                    label=platform,
                    marker="o" if len(days) == 1 else None,
                )
                line.set_gid(f"series-{counter}-{platform}")
            axes.set_ylim(bottom=0)
        if days:
            locator = AutoDateLocator(minticks=2, maxticks=4 if narrow else 7)  # type: ignore[no-untyped-call]
            panels[1].xaxis.set_major_locator(locator)
            panels[1].xaxis.set_major_formatter(
                ConciseDateFormatter(  # type: ignore[no-untyped-call]
                    locator, formats=["%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M", "%S"]
                )
            )
        if platforms:
            handles = [
                (platform + ("" if platform in views or not days else words.views_not_available))
                for platform in platforms
            ]
            for index, (platform, text) in enumerate(zip(platforms, handles, strict=True)):
                panels[0].plot([], [], color=colour(platform, index), linewidth=3, label=text)
            by_label = {h.get_label(): h for h in panels[0].get_lines()}
            figure.legend(
                [by_label[text] for text in handles],
                handles,
                loc="outside lower center",  # under the dates: never over the title
                ncols=2 if narrow else min(5, len(platforms)),
                frameon=False,
            )
        return to_svg(
            figure,
            prefix="series-narrow" if narrow else "series",
            title=title,
            description=description,
        )
