"""``publicist report``: campaign, account and all-campaign numbers as a table, JSON or CSV,
and a chart of views and interactions over time."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from campaigns.accounts import find_account
from campaigns.queries import Windows
from campaigns.services import find_campaign
from metrics.chart import render_series_svg
from metrics.reports import (
    AccountReport,
    CampaignReport,
    CampaignSummary,
    DailyPoint,
    account_report,
    campaign_report,
    campaign_summaries,
)
from publicist.cli.common import console, database, local, now
from publicist.core.errors import InvalidInput
from publicist.core.settings import get_settings


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _blank(value: object) -> object:
    """CSV cell: not available is empty, never 0."""
    return "" if value is None else value


def render_table(report: CampaignReport, *, daily: bool = False) -> None:
    console.print(
        f"\n[bold]{report.campaign}[/]  updated {local(report.last_updated, report.timezone)}"
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
        console.print("[dim]updated earlier: " + "; ".join(stale) + "[/]")
    missing = [
        f"{name}: {text}"
        for name, text in report.coverage.items()
        if name != "views" and not text.startswith(f"{len(report.platforms)} of")
    ]
    if missing:
        console.print("[dim]coverage: " + "; ".join(missing) + " (n/a: not given)[/]")
    if daily:
        _daily_table(report.daily, title=f"per day ({report.timezone})")
    if report.top_posts:
        top = Table("post", "platform", "views", "interactions", "url", "text", title="top posts")
        for post in report.top_posts:
            text = post.text if len(post.text) <= 40 else post.text[:37] + "..."
            top.add_row(
                str(post.post_id),
                post.platform,
                _n(post.views),
                _n(post.interactions),
                post.url or "-",
                text,
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
    console.print(f"\n[bold]{report.account}[/]  added {report.created_at.date().isoformat()}")
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
            text = post.text if len(post.text) <= 40 else post.text[:37] + "..."
            top.add_row(
                str(post.post_id), _n(post.views), _n(post.interactions), post.url or "-", text
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
    writer = csv.writer(sys.stdout)
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
    writer = csv.writer(sys.stdout)
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
    writer = csv.writer(sys.stdout)
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
    writer = csv.writer(sys.stdout)
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
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


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
            "--account", "-a", help="Whole-account view since it was added, e.g. twitter:@IPRinCN."
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
) -> None:
    """Show deliveries, views and interactions: per campaign, per account, or all campaigns.

    Examples: [bold]publicist report "IP Creates a Better Life" --format json[/],
    [bold]publicist report "IP Creates a Better Life" --chart week.svg[/],
    [bold]publicist report --account twitter:@IPRinCN[/], [bold]publicist report[/]
    """
    names = campaigns or []
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
            console.print(f"chart written to {chart}")
