"""Per-platform bar charts as inline SVG: no script, no third-party code, readable as text."""

from __future__ import annotations

from html import escape

BAR_HEIGHT = 22
GAP = 10
LABEL_WIDTH = 90
VALUE_WIDTH = 90
WIDTH = 520


def _number(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def platform_bars_svg(rows: list[tuple[str, int | None]], *, title: str, color: str) -> str:
    """One horizontal bar per platform, scaled to the largest; ``None`` is drawn as n/a."""
    top = 28
    height = top + max(1, len(rows)) * (BAR_HEIGHT + GAP) + 4
    track = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    largest = max((v for _, v in rows if v), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="bars">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not rows:
        parts.append(f'<text x="0" y="{top + 16}" class="muted">no deliveries yet</text>')
    for index, (platform, value) in enumerate(rows):
        y = top + index * (BAR_HEIGHT + GAP)
        length = round(track * value / largest) if value and largest else 0
        parts.append(
            f'<text x="0" y="{y + 16}" class="axis">{escape(platform)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{track}" height="{BAR_HEIGHT}" '
            f'rx="3" fill="#eef0f4"/>'
        )
        if length:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{max(length, 2)}" '
                f'height="{BAR_HEIGHT}" rx="3" fill="{color}"/>'
            )
        parts.append(
            f'<text x="{WIDTH}" y="{y + 16}" text-anchor="end" class="value">'
            f"{_number(value)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
