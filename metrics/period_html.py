"""A period report as one self-contained HTML page (Jinja2, inline CSS, SVG charts), and as
PDF rendered from that same page by WeasyPrint."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from metrics.period import PeriodReport
from metrics.period_charts import monthly_chart_svg
from metrics.period_labels import labels
from publicist.core.errors import PublicistError

_COVERAGE = re.compile(r"^(\d+) of (\d+) platforms?$")

PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"


class PdfUnavailable(PublicistError):
    """WeasyPrint cannot load the system libraries it draws with (Pango)."""

    def __init__(self) -> None:
        super().__init__(
            "PDF needs the Pango text library on this machine "
            f"(Debian/Ubuntu: apt-get install {PANGO_PACKAGES}); "
            "the html, xlsx, csv and json formats work without it"
        )


def _environment(language: str) -> Environment:
    words = labels(language)
    env = Environment(
        loader=PackageLoader("metrics", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def number(value: int | None) -> str:
        return words["not_available"] if value is None else f"{value:,}"

    def rate(value: float | None) -> str:
        return words["not_available"] if value is None else f"{value:.2%}"

    def moment(value: datetime | None) -> str:
        return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def coverage(text: str) -> str:
        found = _COVERAGE.match(text)
        if language != "zh_CN" or found is None:
            return text
        return f"{found.group(2)}个平台中的{found.group(1)}个"

    env.filters.update(number=number, rate=rate, moment=moment, coverage=coverage)
    # Only web links become links: a URL from a platform is data, not markup to trust.
    env.tests["web_link"] = lambda url: (
        isinstance(url, str) and url.startswith(("https://", "http://"))
    )
    return env


def render_html(report: PeriodReport) -> str:
    """The whole report as one page that needs nothing else: styles and charts inline."""
    words = labels(report.language)
    subject = words["all_accounts"] if report.scope == "all" else report.subject
    template = _environment(report.language).get_template("period_report.html.j2")
    return template.render(
        report=report,
        words=words,
        subject=subject,
        views_chart=monthly_chart_svg(report, "views"),
        interactions_chart=monthly_chart_svg(report, "interactions"),
    )


class _SvgStyleNoise(logging.Filter):
    """Drops WeasyPrint's "Ignored `fill: ...`, unknown property" lines: matplotlib writes
    SVG fill and stroke as style properties, which WeasyPrint's CSS validator does not know
    although its SVG renderer draws them (hundreds of lines per report). Other warnings pass.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (
            str(record.msg).startswith("Ignored `") and args and args[-1] == "unknown property"
        )


def _quiet_svg_styles() -> None:
    log = logging.getLogger("weasyprint")
    if not any(isinstance(f, _SvgStyleNoise) for f in log.filters):
        log.addFilter(_SvgStyleNoise())


def render_pdf(report: PeriodReport) -> bytes:
    """The HTML page laid out on A4 by WeasyPrint (fonts from the system: Noto CJK for
    Chinese)."""
    try:
        from weasyprint import HTML  # loads Pango through cffi: an OSError without it
    except (OSError, ImportError) as exc:
        raise PdfUnavailable() from exc
    page = render_html(report)
    _quiet_svg_styles()
    pdf = HTML(string=page).write_pdf()
    if pdf is None:  # only when WeasyPrint is given a target file, which it is not here
        raise PublicistError("the PDF renderer returned no document")
    return bytes(pdf)
