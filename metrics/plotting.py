"""What every matplotlib chart shares: fonts (CJK when installed), colours, SVG output.

Figures are built with the object API (a ``Figure``, never pyplot's global state), so
concurrent requests cannot draw into each other's figure. Text is written as paths: the SVG
needs no font on the reader's side, Chinese labels included.
"""

from __future__ import annotations

import io
import logging
import re
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger("publicist.metrics")

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
_WANTED = ("DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC")
_ID = re.compile(r'\b(id)="([^"]+)"')


def colour(platform: str, index: int = 0) -> str:
    """The platform's colour: its brand colour when known, else one from a fixed palette."""
    return COLOURS.get(platform, _FALLBACK[index % len(_FALLBACK)])


@lru_cache(maxsize=1)
def font_families() -> tuple[str, ...]:
    """The installed ones of our font families, Latin first then CJK (matplotlib falls back
    glyph by glyph along the list). Without a CJK font (Debian: fonts-noto-cjk) charts still
    draw; Chinese characters then show as boxes, which is logged once."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    if not any("CJK" in name for name in installed):
        # matplotlib's font cache may predate the fonts' installation: add them directly.
        for path in font_manager.findSystemFonts():
            if "NotoSansCJK-Regular" in path or "NotoSansCJK-Bold" in path:
                font_manager.fontManager.addfont(path)
        installed = {font.name for font in font_manager.fontManager.ttflist}
    families = tuple(name for name in _WANTED if name in installed)
    if not any("CJK" in name for name in families):
        log.warning("no CJK font installed (fonts-noto-cjk): Chinese chart labels will not show")
    return families or ("sans-serif",)


def style(font_size: float) -> AbstractContextManager[None]:
    """matplotlib settings for drawing one figure: ``with style(9): ...``."""
    from matplotlib import rc_context

    return rc_context(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": "publicist",  # stable element ids: the same data, the same SVG
            "font.family": list(font_families()),
            "font.size": font_size,
        }
    )


def to_svg(figure: Figure, *, prefix: str, title: str, description: str) -> str:
    """``figure`` as an ``<svg>`` to inline in a page or write to a file: ids prefixed (two
    charts in one page must not share matplotlib's ids), with a title and a description
    that say in words what it shows (screen readers, and text search)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # no XML declaration or doctype inside an HTML page
    svg = _ID.sub(lambda m: f'{m.group(1)}="{prefix}-{m.group(2)}"', svg)
    svg = svg.replace('xlink:href="#', f'xlink:href="#{prefix}-').replace(
        "url(#", f"url(#{prefix}-"
    )
    opening_end = svg.index(">") + 1
    opening = svg[:opening_end]
    # Scales to its box: as wide as the page allows, height following.
    opening = re.sub(r'\swidth="[^"]*"', ' width="100%"', opening, count=1)
    opening = re.sub(r'\sheight="[^"]*"', "", opening, count=1)
    opening = opening.replace("<svg", f'<svg role="img" aria-labelledby="{prefix}-title"', 1)
    labels = f'<title id="{prefix}-title">{escape(title)}</title><desc>{escape(description)}</desc>'
    return opening + labels + svg[opening_end:]
