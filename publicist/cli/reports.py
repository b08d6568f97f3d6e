"""``publicist report``: a campaign's numbers as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from campaigns.services import find_campaign
from metrics.reports import CampaignReport, campaign_report
from publicist.cli.common import console, database, local


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def render_table(report: CampaignReport) -> None:
    rate = f"{report.engagement_rate:.2%}" if report.engagement_rate is not None else "n/a"
    console.print(
        f"\n[bold]{report.campaign}[/]  updated {local(report.last_updated, report.timezone)}"
    )
    console.print(
        f"deliveries: {report.scheduled} scheduled, {report.published} published, "
        f"{report.failed} failed" + (f", {report.unknown} unknown" if report.unknown else "")
    )
    console.print(
        f"views: {_n(report.views)} ({report.views_coverage})   "
        f"interactions: {_n(report.interactions)}   engagement rate: {rate}"
    )
    table = Table(
        "platform",
        "scheduled",
        "published",
        "failed",
        "views",
        "likes",
        "comments",
        "shares",
        "interactions",
        title="per platform",
    )
    for row in report.platforms:
        table.add_row(
            row.platform,
            str(row.scheduled),
            str(row.published),
            str(row.failed),
            _n(row.views),
            _n(row.likes),
            _n(row.comments),
            _n(row.shares),
            _n(row.interactions),
        )
    console.print(table)
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
                    "" if row.views is None else row.views,
                    row.likes,
                    row.comments,
                    row.shares,
                    row.interactions,
                ]
            )
        writer.writerow(
            [
                report.campaign,
                "all",
                report.scheduled,
                report.published,
                report.failed,
                "" if report.views is None else report.views,
                "",
                "",
                "",
                report.interactions,
            ]
        )


def report(
    campaigns: Annotated[list[str], typer.Argument(help="Campaign names or ids.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.TABLE,
    top: Annotated[int, typer.Option(help="How many top posts to list.", min=0)] = 5,
) -> None:
    """Show a campaign's deliveries, views and interactions, per platform and top posts.

    Example: [bold]publicist report "IP Creates a Better Life" --format json[/]
    """
    with database() as session:
        reports = [
            campaign_report(session, campaign=find_campaign(session, name), top=top)
            for name in campaigns
        ]
    if format is Format.JSON:
        data = [r.to_dict() for r in reports]
        sys.stdout.write(
            json.dumps(data if len(data) > 1 else data[0], indent=2, ensure_ascii=False) + "\n"
        )
    elif format is Format.CSV:
        write_csv(reports)
    else:
        for item in reports:
            render_table(item)
