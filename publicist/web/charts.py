"""Per-platform bar charts for the dashboard, drawn with matplotlib as inline SVG."""

from __future__ import annotations

import functools

from metrics.plotting import style, to_svg


def _number(value: int | None, not_available: str) -> str:
    return not_available if value is None else f"{value:,}"


def platform_bars_svg(
    rows: list[tuple[str, int | None]],
    *,
    title: str,
    color: str,
    prefix: str,
    not_available: str = "n/a",
    empty: str = "no deliveries yet",
) -> str:
    """One horizontal bar per platform with its value written beside it; ``None`` (the
    platform does not give the counter) is written as ``not_available``, with no bar.

    Each bar is a group with the id ``<prefix>-bar-<platform>``; the description lists the
    values, so the chart reads (and is checked) as text. Type is set large enough to stay
    readable when the chart is shrunk to a phone's width. The last drawings are kept, keyed
    by everything drawn (as ``metrics.time_chart.render_series_svg``).
    """
    return _drawn_bars(tuple(rows), title, color, prefix, not_available, empty)


@functools.lru_cache(maxsize=32)
def _drawn_bars(
    rows: tuple[tuple[str, int | None], ...],
    title: str,
    color: str,
    prefix: str,
    not_available: str,
    empty: str,
) -> str:
    from matplotlib.figure import Figure

    description = "; ".join(
        f"{platform}: {_number(value, not_available)}" for platform, value in rows
    )
    with style(13):
        figure = Figure(figsize=(5.2, 0.9 + 0.55 * max(1, len(rows))), layout="constrained")
        axes = figure.subplots()
        axes.set_axis_off()
        if not rows:
            axes.text(0.5, 0.5, empty, ha="center", va="center", transform=axes.transAxes)
        largest = max((value for _, value in rows if value), default=0)
        positions = list(range(len(rows)))[::-1]  # the first platform on top
        for y, (platform, value) in zip(positions, rows, strict=True):
            axes.barh(y, 1.0, height=0.62, color="#eef0f4")
            if value and largest:
                (bar,) = axes.barh(y, value / largest, height=0.62, color=color)
                bar.set_gid(f"bar-{platform}")
            axes.text(0.0, y + 0.42, platform, ha="left", va="bottom")
            axes.text(1.0, y + 0.42, _number(value, not_available), ha="right", va="bottom")
        axes.set_xlim(0, 1.0)
        axes.set_ylim(-0.5, max(1, len(rows)) - 0.2 + 0.3)
        return to_svg(figure, prefix=prefix, title=title, description=description)
