"""A period report in every format: the same numbers, nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session

from connectors.base import MetricCounts
from metrics.cadence import Cadence
from metrics.collection import record_counts
from metrics.period import PeriodReport, period_report
from metrics.period_export import ReportFormat, export
from metrics.period_xlsx import _cell
from tests.unit.metrics import builders
from tests.unit.metrics.builders import PLATFORMS

AT = datetime(2021, 4, 20, 2, tzinfo=UTC)
FORMULA = '=HYPERLINK("http://example.com/x","open")'


def _report(session: Session, *, language: str = "en", name: str = FORMULA) -> PeriodReport:
    """A campaign whose name and post text a spreadsheet would run, on X, Weibo and TikTok."""
    campaign = builders.campaign(session, name=name, now=AT)
    for platform, views in (("x", 1200), ("weibo", None), ("tiktok", 3000)):
        account = builders.account(session, platform=platform, handle=f"cnipa-{platform}", now=AT)
        items = [
            builders.delivery(session, campaign=campaign, account=account, at=AT, text="-1+2"),
            builders.delivery(
                session, campaign=campaign, account=account, at=datetime(2021, 6, 3, tzinfo=UTC)
            ),
        ]
        record_counts(
            session,
            capabilities=PLATFORMS[platform],
            delivery_ids={str(d.remote_id): d.id for d in items},
            counts=[
                MetricCounts(remote_id=str(d.remote_id), views=views, likes=7, comments=2, shares=1)
                for d in items
            ],
            cadence=Cadence(),
            now=datetime(2021, 7, 1, tzinfo=UTC),
        )
    return period_report(
        session, start=date(2021, 4, 1), end=date(2021, 6, 30), campaign=campaign, language=language
    )


def _keep(name: str, content: bytes) -> None:
    """With PUBLICIST_KEEP_REPORTS=DIR, leave the rendered files there to look at."""
    folder = os.environ.get("PUBLICIST_KEEP_REPORTS")
    if folder:
        Path(folder, name).write_bytes(content)


def test_json_carries_the_report_with_not_available_as_null(session: Session) -> None:
    report = _report(session)
    rendered = export(report, ReportFormat.JSON)
    data = json.loads(rendered.content)
    assert rendered.media_type == "application/json"
    assert data["totals"]["views"] == 2 * 1200 + 2 * 3000
    assert data["totals"]["views_coverage"] == "2 of 3 platforms"
    weibo = next(p for p in data["totals"]["platforms"] if p["platform"] == "weibo")
    assert weibo["views"] is None
    assert [m["key"] for m in data["months"]] == ["2021-04", "2021-05", "2021-06"]
    assert data["summary"] == report.summary


def test_csv_neutralises_formulas_and_leaves_not_available_empty(session: Session) -> None:
    report = _report(session)
    rendered = export(report, ReportFormat.CSV)
    rows = list(csv.DictReader(io.StringIO(rendered.content.decode())))
    total = next(r for r in rows if r["table"] == "total" and r["platform"] == "all")
    assert (total["published"], total["views"]) == ("6", str(2 * 1200 + 2 * 3000))
    assert total["interactions"] == str(report.totals.interactions)
    weibo = next(r for r in rows if r["table"] == "total" and r["platform"] == "weibo")
    assert weibo["views"] == ""
    assert {r["name"] for r in rows if r["table"] == "campaign"} == {"'" + FORMULA}
    assert "'-1+2" in {r["name"] for r in rows if r["table"] == "top_post"}
    cells = [cell for row in csv.reader(io.StringIO(rendered.content.decode())) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert (
        rendered.filename
        == "publicist-report-2021-04-01-2021-06-30-hyperlink-http-example-com-x-open.csv"
    )


def test_xlsx_has_one_sheet_per_table_numbers_as_numbers_and_no_formula(
    session: Session,
) -> None:
    report = _report(session)
    rendered = export(report, ReportFormat.XLSX)
    _keep("report.xlsx", rendered.content)
    book = load_workbook(io.BytesIO(rendered.content))
    assert book.sheetnames == [
        "Summary",
        "Per platform",
        "Per month",
        "Per account",
        "Per campaign",
        "Top posts",
        "Charts",
    ]
    platforms = list(book["Per platform"].iter_rows(values_only=True))
    assert platforms[0][:4] == ("Scope", "Platform", "Posts published", "Views")
    total = platforms[-1]
    assert total[1:4] == ("all", 6, 2 * 1200 + 2 * 3000)
    assert isinstance(total[3], int)
    weibo = next(row for row in platforms if row[1] == "weibo")
    assert weibo[3] is None  # not available: an empty cell, never 0
    campaigns = list(book["Per campaign"].iter_rows(values_only=True))
    assert campaigns[1][0] == "'" + FORMULA
    texts = [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert all(cell.data_type != "f" for s in book.worksheets for r in s.iter_rows() for cell in r)
    assert book["Charts"]._charts  # the native column charts


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_html_is_one_self_contained_page_with_svg_charts(session: Session, language: str) -> None:
    report = _report(session, language=language, name="知识产权宣传周 <script>")
    rendered = export(report, ReportFormat.HTML)
    _keep(f"report-{language}.html", rendered.content)
    page = rendered.content.decode()
    assert rendered.media_type == "text/html; charset=utf-8"
    assert page.count("<svg") == 2
    assert "<script" not in page  # names are escaped, nothing is loaded or run
    assert "&lt;script&gt;" in page
    assert "<link" not in page
    assert "src=" not in page
    assert report.summary.replace("“", "").split("，")[0][:6] in page
    assert ("不适用" if language == "zh_CN" else "n/a") in page
    ids = re.findall(r' id="([^"]+)"', page)
    assert ids
    assert len(ids) == len(set(ids))  # two charts, no id borrowed from the other
    for svg in page.split("<svg")[1:]:
        ET.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")  # noqa: S314 - our own SVG


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_pdf_is_rendered_from_the_page_with_its_text(
    session: Session, language: str, caplog: pytest.LogCaptureFixture
) -> None:
    report = _report(session, language=language, name="IP Creates a Better Life")
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        rendered = export(report, ReportFormat.PDF)
    assert not [r for r in caplog.records if "unknown property" in r.getMessage()]
    assert not [r for r in caplog.records if "defined twice" in r.getMessage()]
    _keep(f"report-{language}.pdf", rendered.content)
    assert rendered.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(rendered.content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert f"{2 * 1200 + 2 * 3000:,}" in text
    assert ("期间报告" if language == "zh_CN" else "Period report") in text


def test_xlsx_writes_negative_numbers_as_numbers_and_neutralises_only_text() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("cells")
    for column, value in enumerate([-5, -0.25, "-5", "=1+1", None, "IP week"]):
        _cell(sheet, 0, column, value, None)
    book.close()
    row = next(load_workbook(buffer)["cells"].iter_rows(values_only=True))
    assert row == (-5, -0.25, "'-5", "'=1+1", None, "IP week")
