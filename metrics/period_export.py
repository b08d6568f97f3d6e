"""A period report in the format asked for: PDF, HTML, XLSX, CSV or JSON, with its media type
and a download file name. The CLI and the API both call ``export``."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from metrics.period import PeriodGroup, PeriodReport
from publicist.core.spreadsheet import Cell, neutralise


class ReportFormat(StrEnum):
    PDF = "pdf"
    HTML = "html"
    XLSX = "xlsx"
    CSV = "csv"
    JSON = "json"


MEDIA_TYPES = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.JSON: "application/json",
}

CSV_COLUMNS = (
    "table", "name", "platform", "published", "views", "views_coverage", "likes", "comments",
    "shares", "interactions", "engagement_rate", "last_updated", "url",
)  # fmt: skip


@dataclass(frozen=True)
class Rendered:
    content: bytes
    media_type: str
    filename: str


def filename(report: PeriodReport, fmt: ReportFormat) -> str:
    """``publicist-report-2021-04-01-2021-12-31-iprincn.pdf``: ASCII only, safe in a header."""
    slug = re.sub(r"[^a-z0-9]+", "-", report.subject.lower()).strip("-")[:40]
    parts = ["publicist-report", report.start.isoformat(), report.end.isoformat()]
    if report.scope != "all" and slug:
        parts.append(slug)
    return "-".join(parts) + "." + fmt.value


def export(report: PeriodReport, fmt: ReportFormat) -> Rendered:
    """The report rendered as ``fmt``."""
    if fmt is ReportFormat.PDF:
        from metrics.period_html import render_pdf

        content = render_pdf(report)
    elif fmt is ReportFormat.HTML:
        from metrics.period_html import render_html

        content = render_html(report).encode("utf-8")
    elif fmt is ReportFormat.XLSX:
        from metrics.period_xlsx import render_xlsx

        content = render_xlsx(report)
    elif fmt is ReportFormat.CSV:
        content = render_csv(report).encode("utf-8")
    else:
        content = (json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n").encode()
    return Rendered(content=content, media_type=MEDIA_TYPES[fmt], filename=filename(report, fmt))


def _group_rows(table: str, groups: list[PeriodGroup]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for group in groups:
        totals = group.totals
        for p in totals.platforms:
            rows.append(
                [table, group.key, p.platform, p.published, p.views, None, p.likes, p.comments,
                 p.shares, p.interactions, p.engagement_rate, p.last_updated, None]
            )  # fmt: skip
        rows.append(
            [table, group.key, "all", totals.published, totals.views, totals.views_coverage,
             None, None, None, totals.interactions, totals.engagement_rate, totals.last_updated,
             None]
        )  # fmt: skip
    return rows


def render_csv(report: PeriodReport) -> str:
    """Every table in one long CSV (column ``table``: total, month, account, campaign,
    top_post); not available is an empty cell, never 0; no cell can run as a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    rows = _group_rows("total", [PeriodGroup(key=report.subject, totals=report.totals)])
    rows += _group_rows("month", report.months)
    rows += _group_rows("account", report.accounts)
    rows += _group_rows("campaign", report.campaigns)
    for post in report.top_posts:
        rows.append(
            ["top_post", post.text, post.platform, None, post.views, None, None, None, None,
             post.interactions, None, None, post.url]
        )  # fmt: skip
    for row in rows:
        writer.writerow(["" if cell is None else _text(neutralise(cell)) for cell in row])
    return buffer.getvalue()


def _text(cell: Cell) -> Cell:
    return cell.isoformat() if isinstance(cell, date | datetime) else cell
