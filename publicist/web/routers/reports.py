"""``/api/reports``: the dashboard's read-only numbers, from the same functions as the CLI.

Every route here is open to the viewer role. Counters a platform does not give are
``null`` (not available), never 0; totals state their coverage.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.accounts import find_account, get_account
from campaigns.models import Account
from campaigns.services import find_campaign
from metrics.period import period_report
from metrics.period_export import MEDIA_TYPES, ReportFormat, export
from metrics.period_html import PdfUnavailable
from metrics.reports import (
    AccountReport,
    CampaignReport,
    CampaignSummary,
    CampaignTotals,
    DailyPoint,
    PlatformTotals,
    TopPost,
    account_report,
    account_reports,
    campaign_report,
    campaign_summaries,
    campaign_totals,
    daily_series,
    top_posts,
)
from metrics.time_chart import render_series_svg
from publicist.web.deps import PathId, Waits
from publicist.web.errors import error_response
from publicist.web.json_body import JsonBody
from publicist.web.queries import campaign_heading, failures
from publicist.web.reading import ViewerRead
from publicist.web.schemas import ErrorDetail, FailureOut

router = APIRouter(prefix="/api/reports", tags=["reports"])

Top = Annotated[int, Query(ge=0, le=100, description="How many top posts to list.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many rows.")]

# Each route names its model for the schema and writes its value with the same serialiser,
# without validating it again (publicist.web.json_body).
_SUMMARIES = JsonBody[list[CampaignSummary]](list[CampaignSummary])
_REPORT = JsonBody[CampaignReport](CampaignReport)
_TOTALS = JsonBody[CampaignTotals](CampaignTotals)
_PLATFORMS = JsonBody[list[PlatformTotals]](list[PlatformTotals])
_SERIES = JsonBody[list[DailyPoint]](list[DailyPoint])
_TOP = JsonBody[list[TopPost]](list[TopPost])
_FAILURES = JsonBody[list[FailureOut]](list[FailureOut])
_ACCOUNTS = JsonBody[list[AccountReport]](list[AccountReport])
_ACCOUNT = JsonBody[AccountReport](AccountReport)


@router.get("/campaigns", response_model=list[CampaignSummary])
async def campaigns(read: ViewerRead, windows: Waits) -> Response:
    """Every campaign with its totals (newest first): the dashboard's campaign list."""
    return await read(
        lambda session: _SUMMARIES(campaign_summaries(session, now=read.now, windows=windows))
    )


@router.get("/campaigns/{campaign_id}", response_model=CampaignReport)
async def campaign(campaign_id: PathId, read: ViewerRead, windows: Waits, top: Top = 5) -> Response:
    """One campaign: totals with coverage, per platform, per day and top posts
    (the same numbers as ``publicist report --format json``)."""

    def report(session: Session) -> Response:
        found = campaign_heading(session, campaign_id)
        return _REPORT(
            campaign_report(session, campaign=found, top=top, now=read.now, windows=windows)
        )

    return await read(report)


@router.get("/campaigns/{campaign_id}/totals", response_model=CampaignTotals)
async def totals(campaign_id: PathId, read: ViewerRead) -> Response:
    """Views and interactions alone, from the daily rollups: the cheapest read for a tile
    that refreshes often. Equal to the report's totals."""

    def sums(session: Session) -> Response:
        campaign_heading(session, campaign_id)
        return _TOTALS(campaign_totals(session, campaign_id=campaign_id))

    return await read(sums)


@router.get("/campaigns/{campaign_id}/platforms", response_model=list[PlatformTotals])
async def platforms(campaign_id: PathId, read: ViewerRead) -> Response:
    """Deliveries, views and interactions per platform."""

    def per_platform(session: Session) -> Response:
        found = campaign_heading(session, campaign_id)
        return _PLATFORMS(campaign_report(session, campaign=found, top=0).platforms)

    return await read(per_platform)


@router.get("/campaigns/{campaign_id}/series", response_model=list[DailyPoint])
async def series(campaign_id: PathId, read: ViewerRead) -> Response:
    """Growth per day (in the campaign's time zone) and platform, oldest first."""

    def per_day(session: Session) -> Response:
        campaign_heading(session, campaign_id)
        return _SERIES(daily_series(session, campaign_id=campaign_id))

    return await read(per_day)


@router.get(
    "/campaigns/{campaign_id}/chart.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def chart(campaign_id: PathId, read: ViewerRead) -> Response:
    """Views and interactions over time per platform, as an SVG image."""

    def drawn(session: Session) -> Response:
        found = campaign_heading(session, campaign_id)
        svg = render_series_svg(daily_series(session, campaign_id=found.id), title=found.name)
        return Response(svg, media_type="image/svg+xml")

    return await read(drawn)


@router.get("/campaigns/{campaign_id}/top-posts", response_model=list[TopPost])
async def campaign_top_posts(
    campaign_id: PathId,
    read: ViewerRead,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    """The posts with the most interactions, with their URLs."""

    def top(session: Session) -> Response:
        campaign_heading(session, campaign_id)
        return _TOP(top_posts(session, campaign_id=campaign_id, limit=limit))

    return await read(top)


@router.get("/campaigns/{campaign_id}/failures", response_model=list[FailureOut])
async def campaign_failures(
    campaign_id: PathId, read: ViewerRead, windows: Waits, limit: Limit = 100
) -> Response:
    """Failed, missed and unknown deliveries of one campaign, and those stuck longer than
    their platform normally needs, with the reason."""

    def listed(session: Session) -> Response:
        campaign_heading(session, campaign_id)
        return _FAILURES(
            failures(session, campaign_id=campaign_id, now=read.now, windows=windows, limit=limit)
        )

    return await read(listed)


@router.get("/failures", response_model=list[FailureOut])
async def all_failures(read: ViewerRead, windows: Waits, limit: Limit = 100) -> Response:
    """Failed, missed, unknown and stuck deliveries of every campaign."""
    return await read(
        lambda session: _FAILURES(
            failures(session, campaign_id=None, now=read.now, windows=windows, limit=limit)
        )
    )


@router.get("/accounts", response_model=list[AccountReport])
async def accounts(read: ViewerRead, windows: Waits) -> Response:
    """Every account's totals since it was added, across campaigns (no credentials)."""

    def every_account(session: Session) -> Response:
        listed = session.scalars(select(Account).order_by(Account.platform, Account.handle))
        return _ACCOUNTS(account_reports(session, accounts=listed, now=read.now, windows=windows))

    return await read(every_account)


@router.get("/accounts/{account_id}", response_model=AccountReport)
async def account(account_id: PathId, read: ViewerRead, windows: Waits, top: Top = 5) -> Response:
    """The whole-account view: everything one account published, per campaign, top posts."""

    def view(session: Session) -> Response:
        found = get_account(session, account_id)
        return _ACCOUNT(
            account_report(session, account=found, top=top, now=read.now, windows=windows)
        )

    return await read(view)


@router.get(
    "/period",
    response_class=Response,
    responses={
        200: {
            "description": "The report as a download (Content-Disposition names the file).",
            "content": {media_type: {} for media_type in MEDIA_TYPES.values()},
        },
        503: {"description": "PDF asked for where the server lacks the Pango library."},
    },
)
async def period(
    read: ViewerRead,
    start: Annotated[date, Query(alias="from", description="First day, e.g. 2021-04-01.")],
    end: Annotated[date, Query(alias="to", description="Last day, e.g. 2021-12-31.")],
    campaign: Annotated[
        str | None, Query(max_length=200, description="A campaign's id or name.")
    ] = None,
    account: Annotated[
        str | None, Query(max_length=200, description="An account: platform:handle or its id.")
    ] = None,
    format: Annotated[ReportFormat, Query(description="pdf, html, xlsx, csv or json.")] = (
        ReportFormat.JSON
    ),
    language: Annotated[Literal["en", "zh_CN"], Query(description="Summary and labels.")] = "en",
    top: Top = 10,
) -> Any:
    """The period report (``publicist report --from … --to …``): posts published between two
    days (in each campaign's time zone) and what they drew, per platform, account, campaign
    and month, top posts and a summary sentence, in the format asked for."""
    report = await read(
        lambda session: period_report(
            session,
            start=start,
            end=end,
            campaign=find_campaign(session, campaign) if campaign is not None else None,
            account=find_account(session, account) if account is not None else None,
            language=language,
            top=top,
        )
    )
    try:
        # Rendered after the read, with the database connection already given back.
        rendered = await anyio.to_thread.run_sync(export, report, format)
    except PdfUnavailable as exc:
        return error_response(503, ErrorDetail(type="unavailable", message=str(exc)))
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"'},
    )
