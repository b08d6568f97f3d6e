"""``publicist report --from … --to …``: the period report as a file or on the terminal."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from campaigns.accounts import find_account
from campaigns.services import find_campaign
from metrics.period import PeriodReport, period_report
from metrics.period_export import ReportFormat, export
from publicist.cli.common import Table, console, database, err_console, safe
from publicist.core.errors import InvalidInput

BINARY = (ReportFormat.PDF, ReportFormat.XLSX)


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(field, value, "is not a date (YYYY-MM-DD, e.g. 2021-04-01)") from None


def check_output(output: Path | None, fmt: ReportFormat | None) -> None:
    if output is None:
        return
    if fmt is None:
        raise InvalidInput("--output", str(output), "needs --format pdf, html, xlsx, csv or json")
    if output.is_dir() or not output.parent.is_dir():
        raise InvalidInput("--output", str(output), "must name a file in a folder that exists")


def run_period(
    *,
    start: str | None,
    end: str | None,
    campaign: str | None,
    account: str | None,
    fmt: ReportFormat | None,
    output: Path | None,
    language: str,
    top: int,
) -> None:
    """Build the report, then write it to ``output``, to stdout (text formats) or to its
    download name in the current folder (PDF, XLSX), or print it (no format)."""
    if start is None or end is None:
        missing = "--to" if end is None else "--from"
        raise InvalidInput(missing, "", "is missing: a period report needs both --from and --to")
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if campaign is not None and account is not None:
        raise InvalidInput("--account", account, "cannot be combined with --campaign")
    check_output(output, fmt)
    with database() as session:
        report = period_report(
            session,
            start=first,
            end=last,
            campaign=find_campaign(session, campaign, field="--campaign") if campaign else None,
            account=find_account(session, account, field="--account") if account else None,
            language=language,
            top=top,
        )
    if fmt is None:
        render_period(report)
        return
    rendered = export(report, fmt)
    if output is None and fmt not in BINARY:
        sys.stdout.buffer.write(rendered.content)
        sys.stdout.flush()
        return
    target = output if output is not None else Path(rendered.filename)
    target.write_bytes(rendered.content)
    err_console.print(f"report written to {safe(target)}", highlight=False)


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def render_period(report: PeriodReport) -> None:
    """The summary and the per-platform and per-month tables on the terminal."""
    totals = report.totals
    span = f"{report.start.isoformat()} – {report.end.isoformat()}"
    console.print(f"\n[bold]{safe(report.subject)}[/]  {span}")
    console.print(safe(report.summary), highlight=False)
    console.print(
        f"published: {totals.published}   views: {_n(totals.views)} ({totals.views_coverage})   "
        f"interactions: {_n(totals.interactions)}   engagement rate: "
        f"{_rate(totals.engagement_rate)}",
        highlight=False,
    )
    months = Table(
        "month", "platform", "published", "views", "interactions", "rate", title="per month"
    )
    for month in report.months:
        for row in month.totals.platforms:
            months.add_row(
                month.key,
                row.platform,
                str(row.published),
                _n(row.views),
                _n(row.interactions),
                _rate(row.engagement_rate),
            )
    console.print(months)
