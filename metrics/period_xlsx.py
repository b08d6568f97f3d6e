"""A period report as an XLSX workbook: one sheet per table, and native charts of the months.

Written with XlsxWriter (write-only, fast, native Excel charts, typed writes): every cell is
written as what it is (a number as a number, text as text through ``neutralise``), never
guessed, so no text becomes a formula or a link.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter

from metrics.period import PeriodGroup, PeriodPlatform, PeriodReport, PeriodTotals
from metrics.period_charts import month_series
from metrics.period_labels import labels
from publicist.core.spreadsheet import Cell, neutralise

_NUMBERS = ("published", "views", "likes", "comments", "shares", "interactions")


class _Sheet:
    """One worksheet written row by row with typed cells."""

    def __init__(self, book: Any, name: str, formats: dict[str, Any]) -> None:
        self.sheet = book.add_worksheet(name[:31])
        self.formats = formats
        self.row = 0

    def write(self, values: Sequence[Cell], *, header: bool = False, rate_at: int = -1) -> None:
        for column, value in enumerate(values):
            style = self.formats["header"] if header else None
            if column == rate_at and isinstance(value, float):
                style = self.formats["rate"]
            _cell(self.sheet, self.row, column, value, style)
        self.row += 1

    def widths(self, *widths: int) -> None:
        for column, width in enumerate(widths):
            self.sheet.set_column(column, column, width)


def _cell(sheet: Any, row: int, column: int, value: Cell, style: Any) -> None:
    if value is None:
        sheet.write_blank(row, column, None, style)  # not available: empty, never 0
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, style)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, style)
    elif isinstance(value, datetime | date):
        sheet.write_string(row, column, value.isoformat(), style)
    else:
        sheet.write_string(row, column, str(neutralise(value)), style)


def _platform_cells(name: str, p: PeriodPlatform) -> list[Cell]:
    return [
        name,
        p.platform,
        p.published,
        p.views,
        p.likes,
        p.comments,
        p.shares,
        p.interactions,
        p.engagement_rate,
        p.last_updated,
    ]


def _total_cells(name: str, t: PeriodTotals, all_word: str) -> list[Cell]:
    return [
        name,
        all_word,
        t.published,
        t.views,
        None,
        None,
        None,
        t.interactions,
        t.engagement_rate,
        t.last_updated,
    ]


def _table(sheet: _Sheet, words: dict[str, str], first: str, groups: list[PeriodGroup]) -> None:
    sheet.write(
        [
            first,
            words["platform"],
            *(words[name] for name in _NUMBERS),
            words["engagement_rate"],
            words["last_updated"],
        ],
        header=True,
    )
    for group in groups:
        for platform in group.totals.platforms:
            sheet.write(_platform_cells(group.key, platform), rate_at=8)
        sheet.write(_total_cells(group.key, group.totals, words["all"]), rate_at=8)
    sheet.widths(28, 12, 10, 12, 10, 10, 10, 12, 12, 26)


def render_xlsx(report: PeriodReport) -> bytes:
    """The report's tables, one per sheet, with views and interactions charted per month."""
    words = labels(report.language)
    subject = words["all_accounts"] if report.scope == "all" else report.subject
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    formats = {
        "header": book.add_format({"bold": True, "bg_color": "#F2F4F7"}),
        "rate": book.add_format({"num_format": "0.00%"}),
    }

    summary = _Sheet(book, words["summary"], formats)
    summary.write([words["title"], subject], header=True)
    summary.write([words["period"], f"{report.start.isoformat()} – {report.end.isoformat()}"])
    summary.write([words["summary"], report.summary])
    summary.write([words["published"], report.totals.published])
    summary.write([words["views"], report.totals.views])
    summary.write([words["coverage"], report.totals.views_coverage])
    summary.write([words["interactions"], report.totals.interactions])
    summary.write([words["engagement_rate"], report.totals.engagement_rate], rate_at=1)
    summary.write([words["last_updated"], report.totals.last_updated])
    summary.write([])
    summary.write([words["notes"]])
    summary.widths(20, 110)

    platforms = _Sheet(book, words["platforms"], formats)
    _table(platforms, words, words["scope"], [PeriodGroup(key=subject, totals=report.totals)])
    months = _Sheet(book, words["months"], formats)
    _table(months, words, words["month"], report.months)
    accounts = _Sheet(book, words["accounts"], formats)
    _table(accounts, words, words["account"], report.accounts)
    campaigns = _Sheet(book, words["campaigns"], formats)
    _table(campaigns, words, words["campaign"], report.campaigns)

    top = _Sheet(book, words["top_posts"], formats)
    top.write(
        [
            words["post"],
            words["platform"],
            words["account"],
            words["views"],
            words["interactions"],
            words["url"],
            words["text"],
        ],
        header=True,
    )
    for post in report.top_posts:
        top.write(
            [post.post_id, post.platform, post.account, post.views, post.interactions, post.url,
             post.text]
        )  # fmt: skip
    top.widths(8, 10, 18, 12, 12, 40, 80)

    _charts(book, report, words, formats)
    book.close()
    return buffer.getvalue()


def _charts(book: Any, report: PeriodReport, words: dict[str, str], formats: Any) -> None:
    """A sheet of month × platform figures and a native column chart of each."""
    sheet = _Sheet(book, words["charts"], formats)
    months = [month.key for month in report.months]
    anchor = 0
    for counter in ("views", "interactions"):
        series = month_series(report, counter)
        top = sheet.row
        sheet.write([words[f"{counter}_chart"]], header=True)
        sheet.write([words["month"], *series], header=True)
        for index, month in enumerate(months):
            sheet.write([month, *(values[index] for values in series.values())])
        if series and months:
            chart = book.add_chart({"type": "column"})
            name = sheet.sheet.get_name()
            for column, platform in enumerate(series, start=1):
                chart.add_series(
                    {
                        "name": platform,
                        "categories": [name, top + 2, 0, top + 1 + len(months), 0],
                        "values": [name, top + 2, column, top + 1 + len(months), column],
                    }
                )
            chart.set_title({"name": words[f"{counter}_chart"]})
            chart.set_size({"width": 720, "height": 300})
            sheet.sheet.insert_chart(anchor, len(series) + 2, chart)
            anchor += 16
        sheet.write([])
    sheet.widths(12, 12, 12, 12, 12, 12)
