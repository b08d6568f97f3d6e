"""What the dashboard shows, read from the same reports as the API; the template lays it out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Account
from campaigns.queries import Windows
from metrics.reports import account_reports, campaign_report, campaign_summaries
from metrics.time_chart import ChartWords, render_series_svg
from publicist.web.charts import platform_bars_svg
from publicist.web.queries import failures, get_campaign

VIEWS_COLOR = "#3b6fd8"
INTERACTIONS_COLOR = "#b5561d"  # 4.5:1 against white, for the bar values beside it


def chart_words(gettext: Callable[[str], str]) -> ChartWords:
    """The time chart's words in the page's language."""
    return ChartWords(
        views=gettext("Views ({kind})"),
        interactions=gettext("Interactions ({kind})"),
        running_totals=gettext("running totals"),
        per_day=gettext("per day"),
        description=gettext("Views and interactions per platform ({kind}), {days}."),
        days_range=gettext("{first} to {last}"),
        no_data=gettext("no data"),
        not_available=gettext("not available"),
        views_not_available=gettext(" (views not available)"),
        nothing_yet=gettext("no metrics collected yet"),
    )


def dashboard_context(
    session: Session,
    *,
    campaign_id: int | None,
    now: datetime,
    windows: Windows,
    gettext: Callable[[str], str],
) -> dict[str, Any]:
    """The template's data; ``campaign_id`` picks the campaign shown in detail (default: newest).

    The SVG charts are built here (inline, no script) with their titles in the page's language.
    """
    summaries = campaign_summaries(session, now=now, windows=windows)
    chosen = next((s for s in summaries if s.campaign_id == campaign_id), None)
    if chosen is None and summaries:
        chosen = summaries[0]
    context: dict[str, Any] = {
        "summaries": summaries,
        "selected": chosen.campaign_id if chosen is not None else None,
        "report": None,
        "accounts": account_reports(
            session,
            accounts=session.scalars(select(Account).order_by(Account.platform, Account.handle)),
        ),
    }
    if chosen is None:
        return context
    report = campaign_report(
        session,
        campaign=get_campaign(session, chosen.campaign_id),
        top=10,
        now=now,
        windows=windows,
    )
    context.update(
        report=report,
        failures=failures(session, campaign_id=report.campaign_id, now=now, windows=windows),
        # Markup: matplotlib writes text as paths, and metrics.plotting escapes the title
        # and description it adds; no value reaches the SVG unescaped.
        views_svg=Markup(  # noqa: S704 - see above
            platform_bars_svg(
                [(p.platform, p.views) for p in report.platforms],
                title=gettext("Views by platform"),
                color=VIEWS_COLOR,
                prefix="views",
                not_available=gettext("n/a"),
                empty=gettext("no deliveries yet"),
            )
        ),
        interactions_svg=Markup(  # noqa: S704 - see above
            platform_bars_svg(
                [(p.platform, p.interactions) for p in report.platforms],
                title=gettext("Interactions by platform"),
                color=INTERACTIONS_COLOR,
                prefix="interactions",
                not_available=gettext("n/a"),
                empty=gettext("no deliveries yet"),
            )
        ),
        series_svg=Markup(  # noqa: S704 - see above
            render_series_svg(report.daily, title=report.campaign, words=chart_words(gettext))
        ),
        series_narrow_svg=Markup(  # noqa: S704 - see above
            render_series_svg(
                report.daily, title=report.campaign, words=chart_words(gettext), narrow=True
            )
        ),
    )
    return context
