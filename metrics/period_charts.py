"""Charts of a period report (views and interactions per month and platform) as SVG.

Drawn with matplotlib's object API (a ``Figure``, never pyplot's global state), so
concurrent API requests cannot draw into each other's figure. Text is written as paths, so
the SVG needs no font on the reader's side (Chinese titles included).
"""

from __future__ import annotations

import io
import re

from metrics.period import PeriodReport
from metrics.period_labels import labels
from metrics.plotting import font_families

# One colour per platform, the same in every chart.
COLOURS = {
    "twitter": "#1d9bf0",
    "x": "#1d9bf0",
    "weibo": "#e6162d",
    "wechat": "#07c160",
    "tiktok": "#111111",
    "douyin": "#fe2c55",
    "mock": "#7a5af8",
}
_FALLBACK = ("#f79009", "#667085", "#2e90fa", "#ee46bc")
_ID = re.compile(r'\b(id)="([^"]+)"')


def _colour(platform: str, index: int) -> str:
    return COLOURS.get(platform, _FALLBACK[index % len(_FALLBACK)])


def month_series(report: PeriodReport, counter: str) -> dict[str, list[int]]:
    """Per platform, ``counter`` in each month of the period (0 where it published nothing);
    a platform that never gives ``counter`` is left out rather than drawn as 0."""
    platforms = sorted(
        {
            p.platform
            for month in report.months
            for p in month.totals.platforms
            if getattr(p, counter) is not None
        }
    )
    series: dict[str, list[int]] = {platform: [] for platform in platforms}
    for month in report.months:
        values = {p.platform: getattr(p, counter) for p in month.totals.platforms}
        for platform in platforms:
            series[platform].append(values.get(platform) or 0)
    return series


def monthly_chart_svg(report: PeriodReport, counter: str) -> str:
    """Grouped bars: one group per month, one bar per platform, as a standalone SVG."""
    # Imported here: matplotlib takes a second to load and most commands never draw.
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    words = labels(report.language)
    series = month_series(report, counter)
    months = [month.key for month in report.months]
    with rc_context(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": "publicist",  # stable element ids: the same report, the same SVG
            # A list of families: matplotlib falls back glyph by glyph (Latin, then CJK);
            # font_families finds the CJK font even when matplotlib's cache predates it.
            "font.family": list(font_families()),
            "font.size": 9,
        }
    ):
        figure = Figure(figsize=(7.5, 3.2), layout="constrained")
        axes = figure.subplots()
        axes.set_title(words[f"{counter}_chart"], loc="left", fontsize=11)
        width = 0.8 / max(1, len(series))
        for index, (platform, values) in enumerate(series.items()):
            offsets = [m + (index - (len(series) - 1) / 2) * width for m in range(len(months))]
            axes.bar(offsets, values, width=width, label=platform, color=_colour(platform, index))
        axes.set_xticks(range(len(months)), months, rotation=45 if len(months) > 12 else 0)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", color="#e4e7ec", linewidth=0.6)
        axes.set_axisbelow(True)
        if series:
            # Above the plot, right of the title: never over a bar.
            axes.legend(
                frameon=False,
                ncols=min(6, len(series)),
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                borderaxespad=0.2,
            )
        else:
            posts = report.totals.published > 0
            message = words["no_views"] if counter == "views" and posts else words["no_posts"]
            axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
            axes.set_yticks([])
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    # The XML declaration and doctype cannot stand inside an HTML page; the <svg> can.
    return _own_ids(svg[svg.index("<svg") :], prefix=counter)


def _own_ids(svg: str, *, prefix: str) -> str:
    """Prefix every element id and reference: two charts in one page would otherwise share
    matplotlib's ids (``figure_1``, glyph and marker definitions) and borrow each other's."""
    svg = _ID.sub(lambda m: f'{m.group(1)}="{prefix}-{m.group(2)}"', svg)
    svg = svg.replace('xlink:href="#', f'xlink:href="#{prefix}-')
    return svg.replace("url(#", f"url(#{prefix}-")
