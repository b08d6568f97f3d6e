"""The demo's replay of the reference scenario (April to December 2021 on the simulators'
virtual clock): the period report equals the platforms' own counters per platform and per
month, @IPRinCN's summary reads like the annual report's sentence, and the PDF and XLSX carry
the dashboard's totals."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from campaigns.models import Account, Delivery
from campaigns.states import DeliveryState
from metrics.models import DailyRollup
from metrics.period import PeriodReport, period_report
from metrics.period_export import ReportFormat, export
from metrics.reports import account_reports
from publicist.core.database import session_scope
from publicist.demo import Replay, platform_truth, replayed, report_by_month

pytestmark = [
    pytest.mark.slow,
    # The demo hands tasks to its worker through kombu's SQLAlchemy transport, whose model
    # uses a loader strategy SQLAlchemy 2.1 deprecates (kombu's code, not ours).
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning"),
]

APRIL, DECEMBER = date(2021, 4, 1), date(2021, 12, 31)


@pytest.fixture(scope="module")
def replay() -> Iterator[Replay]:
    with replayed() as done:
        yield done


def _x_report(language: str) -> PeriodReport:
    with session_scope() as session:
        account = session.scalars(select(Account).where(Account.handle == "@IPRinCN")).one()
        return period_report(session, start=APRIL, end=DECEMBER, account=account, language=language)


def test_the_period_report_equals_the_platforms_counters_per_platform_and_month(
    replay: Replay,
) -> None:
    truth = platform_truth(replay.controls)  # summed from the simulators' own counters
    with session_scope() as session:
        report = period_report(session, start=APRIL, end=DECEMBER)
    ours = report_by_month(report)
    assert {key for key, (posts, _, _) in ours.items() if posts} == set(truth)
    for key, (posts, views, interactions) in truth.items():
        shown = ours[key]
        # Weibo gives no views to the API: the report says "not available", never 0.
        expected_views = None if key[0] == "weibo" else views
        assert shown == [posts, expected_views, interactions], key
    # Nine months of publishing on X, not one day.
    assert {month for platform, month in truth if platform == "twitter"} == {
        f"2021-{m:02d}" for m in range(4, 13)
    }


def test_x_totals_are_the_annual_reports_figures(replay: Replay) -> None:
    report = _x_report("en")
    assert report.totals.published == 80
    assert report.totals.views is not None
    assert report.totals.views > 2_000_000
    assert abs(report.totals.interactions - 88_000) < 880  # within 1 %


def test_the_summary_reads_like_the_seed_in_english_and_chinese(replay: Replay) -> None:
    assert _x_report("en").summary == (
        "From April to December, @IPRinCN published 80 articles, which drew more than "
        "2.1 million views and 88,000 interactions."
    )
    assert _x_report("zh_CN").summary == (
        "4月至12月，@IPRinCN共发布80篇文章，获得超过210万次浏览和8.8万次互动。"
    )


def test_posts_went_out_on_time_over_the_span_and_rollups_span_the_months(
    replay: Replay,
) -> None:
    with session_scope() as session:
        states = dict(
            session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
        )
        first, last = session.execute(
            select(func.min(Delivery.published_at), func.max(Delivery.published_at))
        ).one()
        late = session.scalar(select(func.max(Delivery.lateness_ms)))
        days = session.execute(select(func.min(DailyRollup.day), func.max(DailyRollup.day))).one()
    assert states == {DeliveryState.PUBLISHED: 101}
    assert first is not None
    assert last is not None
    assert (first.month, last.month) == (4, 12)
    assert late is not None
    assert late < 60_000  # on the virtual clock: within a minute of the due time
    assert days[0] < date(2021, 4, 15)
    assert days[1] == DECEMBER


def test_pdf_and_xlsx_carry_the_dashboards_totals(replay: Replay) -> None:
    with session_scope() as session:
        account = session.scalars(select(Account).where(Account.handle == "@IPRinCN")).one()
        (dashboard,) = account_reports(session, accounts=[account])  # the dashboard's row
    report = _x_report("en")
    assert dashboard.views is not None
    assert (report.totals.published, report.totals.views, report.totals.interactions) == (
        dashboard.published,
        dashboard.views,
        dashboard.interactions,
    )
    workbook = load_workbook(io.BytesIO(export(report, ReportFormat.XLSX).content))
    values = {
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    }
    assert {dashboard.published, dashboard.views, dashboard.interactions} <= values
    pdf = PdfReader(io.BytesIO(export(report, ReportFormat.PDF).content))
    text = " ".join(page.extract_text() for page in pdf.pages)
    for figure in (dashboard.views, dashboard.interactions):
        assert f"{figure:,}" in text
    assert report.summary.split(",")[0] in " ".join(text.split())
