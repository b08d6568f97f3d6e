"""``publicist report``: campaign, account and all-campaign numbers as a table, JSON or CSV,
and a chart of views and interactions over time."""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from campaigns.accounts import find_account
from campaigns.queries import Windows
from campaigns.services import find_campaign
from metrics.period_export import ReportFormat
from metrics.reports import (
    AccountReport,
    CampaignReport,
    CampaignSummary,
    DailyPoint,
    account_report,
    campaign_report,
    campaign_summaries,
)
from metrics.time_chart import render_series_svg
from publicist.cli.common import Table, console, database, local, now, safe, shorten, terminal_json
from publicist.cli.period import run_period
from publicist.core.errors import InvalidInput
from publicist.core.settings import get_settings
from publicist.core.spreadsheet import Cell, neutralise


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"
    HTML = "html"
    XLSX = "xlsx"


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _blank(value: Cell) -> Cell:
    """CSV cell: not available is empty, never 0."""
    return "" if value is None else value


class _SafeCsv:
    """CSV rows on stdout, each cell neutralised so no spreadsheet runs it as a formula."""

    def __init__(self) -> None:
        self._writer = csv.writer(sys.stdout)

    def writerow(self, row: list[Cell]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])


def _csv_writer() -> _SafeCsv:
    return _SafeCsv()


def render_table(report: CampaignReport, *, daily: bool = False) -> None:
    console.print(
        f"\n[bold]{safe(report.campaign)}[/]  updated {local(report.last_updated, report.timezone)}"
    )
    console.print(
        f"deliveries: {report.scheduled} scheduled, {report.published} published, "
        f"{report.failed} failed, {report.unknown} unknown" + _attention(report.attention)
    )
    console.print(f"views: {_n(report.views)} ({report.views_coverage})")
    console.print(
        f"interactions: {_n(report.interactions)}   "
        f"engagement rate: {_rate(report.engagement_rate)}"
    )
    # Two narrow tables rather than one wide one: both stay readable in 80 columns.
    posts = Table("platform", "scheduled", "published", "failed", "unknown", title="deliveries")
    engagement = Table(
        "platform", "views", "likes", "comments", "shares", "interactions", "rate",
        title="engagement",
    )  # fmt: skip
    for row in report.platforms:
        posts.add_row(
            row.platform, str(row.scheduled), str(row.published), str(row.failed), str(row.unknown)
        )
        engagement.add_row(
            row.platform,
            _n(row.views),
            _n(row.likes),
            _n(row.comments),
            _n(row.shares),
            _n(row.interactions),
            _rate(row.engagement_rate),
        )
    console.print(posts)
    console.print(engagement)
    stale = [
        f"{row.platform} {local(row.last_updated, report.timezone)}"
        for row in report.platforms
        if row.last_updated is not None and row.last_updated != report.last_updated
    ]
    if stale:
        console.print("[dim]updated earlier: " + safe("; ".join(stale)) + "[/]")
    missing = [
        f"{name}: {text}"
        for name, text in report.coverage.items()
        if name != "views" and not text.startswith(f"{len(report.platforms)} of")
    ]
    if missing:
        console.print("[dim]coverage: " + safe("; ".join(missing)) + " (n/a: not given)[/]")
    if daily:
        _daily_table(report.daily, title=f"per day ({report.timezone})")
    if report.top_posts:
        top = Table("post", "platform", "views", "interactions", "url", "text", title="top posts")
        for post in report.top_posts:
            top.add_row(
                str(post.post_id),
                post.platform,
                _n(post.views),
                _n(post.interactions),
                post.url or "-",
                shorten(post.text, 40),
            )
        console.print(top)


def _daily_table(points: list[DailyPoint], *, title: str) -> None:
    table = Table("day", "platform", "views", "interactions", title=title)
    for point in points:
        table.add_row(
            point.day.isoformat(), point.platform, _n(point.views), _n(point.interactions)
        )
    console.print(table)


def _attention(count: int | None) -> str:
    if count is None:
        return ""
    return f"; [red]{count} need attention[/] (post list --failed)" if count else "; 0 stuck"


def render_account(report: AccountReport) -> None:
    console.print(
        f"\n[bold]{safe(report.account)}[/]  added {report.created_at.date().isoformat()}"
    )
    console.print(
        f"posts: {report.published} published, {report.failed} failed, "
        f"{report.unknown} unknown, {report.scheduled} scheduled in all"
        + (
            f" (first {report.first_published_at.date().isoformat()}, "
            f"last {report.last_published_at.date().isoformat()})"
            if report.first_published_at and report.last_published_at
            else ""
        )
        + _attention(report.attention)
    )
    console.print(
        f"views: {_n(report.views)}   interactions: {_n(report.interactions)} "
        f"(likes {_n(report.likes)}, comments {_n(report.comments)}, "
        f"shares {_n(report.shares)}, and the platform's extras)   "
        f"engagement rate: {_rate(report.engagement_rate)}"
    )
    table = Table(
        "campaign", "published", "failed", "unknown", "views", "interactions",
        title="per campaign",
    )  # fmt: skip
    for item in report.campaigns:
        table.add_row(
            item.campaign,
            str(item.published),
            str(item.failed),
            str(item.unknown),
            _n(item.views),
            _n(item.interactions),
        )
    console.print(table)
    if report.top_posts:
        top = Table("post", "views", "interactions", "url", "text", title="top posts")
        for post in report.top_posts:
            top.add_row(
                str(post.post_id),
                _n(post.views),
                _n(post.interactions),
                post.url or "-",
                shorten(post.text, 40),
            )
        console.print(top)


def render_summaries(summaries: list[CampaignSummary]) -> None:
    table = Table(
        "campaign",
        "published",
        "failed",
        "unknown",
        "attention",
        "views",
        "interactions",
        "engagement",
        "updated",
        title="campaigns",
    )
    for item in summaries:
        table.add_row(
            item.campaign,
            f"{item.published} of {item.scheduled}",
            str(item.failed),
            str(item.unknown),
            _n(item.attention),
            f"{_n(item.views)} ({item.views_coverage})",
            _n(item.interactions),
            _rate(item.engagement_rate),
            local(item.last_updated, item.timezone),
        )
    console.print(table)


def write_csv(reports: list[CampaignReport]) -> None:
    writer = _csv_writer()
    writer.writerow(
        [
            "campaign",
            "platform",
            "scheduled",
            "published",
            "failed",
            "views",
            "likes",
            "comments",
            "shares",
            "interactions",
            "last_updated",
        ]
    )
    for report in reports:
        for row in report.platforms:
            writer.writerow(
                [
                    report.campaign,
                    row.platform,
                    row.scheduled,
                    row.published,
                    row.failed,
                    _blank(row.views),
                    _blank(row.likes),
                    _blank(row.comments),
                    _blank(row.shares),
                    row.interactions,
                    row.last_updated.isoformat() if row.last_updated else "",
                ]
            )
        writer.writerow(
            [
                report.campaign,
                "all",
                report.scheduled,
                report.published,
                report.failed,
                _blank(report.views),
                "",
                "",
                "",
                report.interactions,
                report.last_updated.isoformat() if report.last_updated else "",
            ]
        )


def _write_daily_csv(reports: list[CampaignReport]) -> None:
    writer = _csv_writer()
    writer.writerow(
        ["campaign", "day", "platform", "views", "likes", "comments", "shares", "interactions"]
    )
    for report in reports:
        for point in report.daily:
            writer.writerow(
                [
                    report.campaign,
                    point.day.isoformat(),
                    point.platform,
                    _blank(point.views),
                    _blank(point.likes),
                    _blank(point.comments),
                    _blank(point.shares),
                    point.interactions,
                ]
            )


def _write_account_csv(report: AccountReport) -> None:
    writer = _csv_writer()
    writer.writerow(
        ["account", "campaign", "scheduled", "published", "failed", "views", "interactions"]
    )
    for item in report.campaigns:
        writer.writerow(
            [
                report.account,
                item.campaign,
                item.scheduled,
                item.published,
                item.failed,
                _blank(item.views),
                item.interactions,
            ]
        )
    writer.writerow(
        [
            report.account,
            "all",
            report.scheduled,
            report.published,
            report.failed,
            _blank(report.views),
            report.interactions,
        ]
    )


def _write_summaries_csv(summaries: list[CampaignSummary]) -> None:
    writer = _csv_writer()
    writer.writerow(
        [
            "campaign",
            "scheduled",
            "published",
            "failed",
            "views",
            "views_coverage",
            "interactions",
            "engagement_rate",
            "last_updated",
        ]
    )
    for item in summaries:
        writer.writerow(
            [
                item.campaign,
                item.scheduled,
                item.published,
                item.failed,
                _blank(item.views),
                item.views_coverage,
                item.interactions,
                _blank(item.engagement_rate),
                item.last_updated.isoformat() if item.last_updated else "",
            ]
        )


def _print_json(data: Any) -> None:
    sys.stdout.write(terminal_json(data) + "\n")


def _check_chart(chart: Path | None, campaigns: list[str], account: str | None) -> None:
    if chart is None:
        return
    if chart.suffix.lower() != ".svg":
        raise InvalidInput("--chart", str(chart), "must name an .svg file (the chart is SVG)")
    if account is not None or len(campaigns) != 1:
        raise InvalidInput("--chart", str(chart), "needs exactly one campaign")
    if not chart.parent.is_dir():
        raise InvalidInput("--chart", str(chart), "is in a folder that does not exist")


def report(
    campaigns: Annotated[
        list[str] | None,
        typer.Argument(help="Campaign names or ids; none: every campaign's totals."),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            "-a",
            help="Whole-account view since it was added, e.g. twitter:@IPRinCN; "
            "with --from/--to, that account's period report.",
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.TABLE,
    top: Annotated[int, typer.Option(help="How many top posts to list.", min=0)] = 5,
    chart: Annotated[
        Path | None,
        typer.Option(help="Write views and interactions over time per platform as SVG."),
    ] = None,
    daily: Annotated[
        bool, typer.Option("--daily", help="List growth per day and platform (CSV: only that).")
    ] = False,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Period report: first day (YYYY-MM-DD, campaign's zone)."),
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Period report: last day.")] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", "-c", help="Period report of one campaign.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Period report: write it to this file."),
    ] = None,
    language: Annotated[str, typer.Option("--language", help="Period report: en or zh_CN.")] = "en",
) -> None:
    """Show deliveries, views and interactions: per campaign, per account, or all campaigns.

    Examples: [bold]publicist report "IP Creates a Better Life" --format json[/],
    [bold]publicist report "IP Creates a Better Life" --chart week.svg[/],
    [bold]publicist report --account twitter:@IPRinCN[/], [bold]publicist report[/];
    a period: [bold]publicist report --from 2021-04-01 --to 2021-12-31 --account
    twitter:@IPRinCN --format pdf --output 2021.pdf --language zh_CN[/]
    """
    names = campaigns or []
    if start is not None or end is not None or campaign is not None or output is not None:
        if names:
            raise InvalidInput("campaign", names[0], "goes in --campaign for a period report")
        if chart is not None or daily:
            raise InvalidInput("--chart" if chart else "--daily", "", "is not for period reports")
        run_period(
            start=start,
            end=end,
            campaign=campaign,
            account=account,
            fmt=None if format is Format.TABLE else ReportFormat(format.value),
            output=output,
            language=language,
            top=top,
        )
        return
    if format in (Format.PDF, Format.HTML, Format.XLSX):
        raise InvalidInput("--format", format.value, "is for period reports (add --from and --to)")
    if account is not None and names:
        raise InvalidInput("--account", account, "cannot be combined with campaign names")
    _check_chart(chart, names, account)
    if account is not None:
        with database() as session:
            account_data = account_report(
                session,
                account=find_account(session, account, field="--account"),
                top=top,
                now=now(),
                windows=Windows.from_settings(get_settings()),
            )
        if format is Format.JSON:
            _print_json(account_data.to_dict())
        elif format is Format.CSV:
            _write_account_csv(account_data)
        else:
            render_account(account_data)
        return
    if not names:
        with database() as session:
            summaries = campaign_summaries(
                session, now=now(), windows=Windows.from_settings(get_settings())
            )
        if format is Format.JSON:
            _print_json([item.to_dict() for item in summaries])
        elif format is Format.CSV:
            _write_summaries_csv(summaries)
        else:
            render_summaries(summaries)
        return
    with database() as session:
        reports = [
            campaign_report(
                session,
                campaign=find_campaign(session, name),
                top=top,
                now=now(),
                windows=Windows.from_settings(get_settings()),
            )
            for name in names
        ]
    if chart is not None:
        chart.write_text(
            render_series_svg(reports[0].daily, title=reports[0].campaign), encoding="utf-8"
        )
    if format is Format.JSON:
        data = [r.to_dict() for r in reports]
        _print_json(data if len(data) > 1 else data[0])
    elif format is Format.CSV:
        (_write_daily_csv if daily else write_csv)(reports)
    else:
        for item in reports:
            render_table(item, daily=daily)
        if chart is not None:
            console.print(f"chart written to {safe(chart)}")
