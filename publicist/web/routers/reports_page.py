"""``/reports``: the period report in the workspace (signed-in viewers and up).

Choose a period (or a preset), optionally a campaign or an account, the language and the
format; the page shows the summary sentence and the totals first, and ``/reports/download``
hands over the same report as PDF, XLSX, CSV, JSON or HTML, made by the same code as
``publicist report --from … --to …`` and ``GET /api/reports/period``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign
from metrics.period import PeriodReport, period_report
from metrics.period_export import ReportFormat, export
from metrics.period_html import PdfUnavailable
from metrics.summary import LANGUAGES
from publicist.core.errors import InvalidInput, NotFound
from publicist.web.deps import AppSettings, DbSession, Now
from publicist.web.i18n import translations
from publicist.web.report_periods import (
    PRESETS,
    ReportChoice,
    local_today,
    parse_choice_id,
    parse_day,
    preset_period,
)
from publicist.web.templating import render
from publicist.web.visitor import CurrentVisitor, Visitor

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=40)]


def _choice(
    visitor: Visitor,
    *,
    start: str | None,
    end: str | None,
    campaign: str | None,
    account: str | None,
    language: str | None,
    format: str | None,
) -> ReportChoice:
    chosen_language = language or visitor.language
    if chosen_language not in LANGUAGES:
        raise InvalidInput("language", chosen_language, f"must be one of {', '.join(LANGUAGES)}")
    chosen_format = format or ReportFormat.PDF.value
    if chosen_format not in {f.value for f in ReportFormat}:
        raise InvalidInput("format", chosen_format, "must be pdf, xlsx, csv, json or html")
    return ReportChoice(
        start=parse_day("from", start),
        end=parse_day("to", end),
        campaign_id=parse_choice_id("campaign", campaign),
        account_id=parse_choice_id("account", account),
        language=chosen_language,
        format=chosen_format,
    )


def _report(session: Session, choice: ReportChoice) -> PeriodReport:
    if choice.start is None or choice.end is None:
        raise InvalidInput("from", "", "a period needs its first and last day")
    if choice.end < choice.start:
        raise InvalidInput("to", choice.end.isoformat(), "is before the first day")
    if choice.campaign_id is not None and choice.account_id is not None:
        raise InvalidInput("account", str(choice.account_id), "cannot be combined with a campaign")
    campaign = account = None
    if choice.campaign_id is not None:
        campaign = session.get(Campaign, choice.campaign_id)
        if campaign is None:
            raise NotFound("campaign", choice.campaign_id)
    if choice.account_id is not None:
        account = session.get(Account, choice.account_id)
        if account is None:
            raise NotFound("account", choice.account_id)
    return period_report(
        session,
        start=choice.start,
        end=choice.end,
        campaign=campaign,
        account=account,
        language=choice.language,
    )


def _message(visitor: Visitor, error: InvalidInput | NotFound | PdfUnavailable) -> str:
    """The problem in the page's language, naming the field and the value."""
    gettext = translations(visitor.language).gettext
    if isinstance(error, PdfUnavailable):
        return gettext("PDF cannot be made on this server (the Pango library is missing).")
    if isinstance(error, NotFound):
        if error.kind == "campaign":
            return gettext("There is no campaign with the id %(value)s.") % {"value": error.key}
        return gettext("There is no account with the id %(value)s.") % {"value": error.key}
    value = repr(str(error.value))[:60]
    if error.field == "to" and "before" in error.rule:
        return gettext("The period ends (%(value)s) before it starts.") % {"value": value}
    if error.field == "account" and "campaign" in error.rule:
        return gettext("Choose a campaign or an account, not both.")
    if error.rule.startswith("a period needs"):
        return gettext("Choose the period's first and last day.")
    if "YYYY-MM-DD" in error.rule:
        return gettext("%(field)s: %(value)s is not a date (YYYY-MM-DD).") % {
            "field": _field_name(visitor, error.field),
            "value": value,
        }
    return gettext("This report cannot be made: %(field)s %(value)s %(rule)s") % {
        "field": _field_name(visitor, error.field),
        "value": value,
        "rule": error.rule,
    }


def _field_name(visitor: Visitor, field: str) -> str:
    gettext = translations(visitor.language).gettext
    names = {
        "from": gettext("From"),
        "to": gettext("To"),
        "campaign": gettext("campaign"),
        "account": gettext("account"),
        "language": gettext("Language"),
        "format": gettext("Format"),
        "preset": gettext("Period"),
    }
    return names.get(field, field)


def _page(
    session: Session,
    visitor: Visitor,
    choice: ReportChoice | None,
    *,
    today_presets: dict[str, tuple[str, str]],
    report: PeriodReport | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "visitor": visitor,
        "active": "reports",
        "here": "/reports",
        "choice": choice,
        "report": report,
        "problem": problem,
        "presets": today_presets,
        "formats": [f.value for f in ReportFormat],
        "campaigns": session.scalars(select(Campaign).order_by(Campaign.name)).all(),
        "accounts": session.scalars(
            select(Account).order_by(Account.platform, Account.handle)
        ).all(),
        "download": _download_url(choice) if report is not None and choice else None,
    }
    return visitor.finish(render(visitor.language, "reports.html", context, status=status))


def _download_url(choice: ReportChoice) -> str:
    query: dict[str, str] = {
        "from": choice.start.isoformat() if choice.start else "",
        "to": choice.end.isoformat() if choice.end else "",
        "language": choice.language,
        "format": choice.format,
    }
    if choice.campaign_id is not None:
        query["campaign"] = str(choice.campaign_id)
    if choice.account_id is not None:
        query["account"] = str(choice.account_id)
    return "/reports/download?" + urlencode(query)


def _presets(today: date) -> dict[str, tuple[str, str]]:
    """Each preset's first and last day, as the form's values."""
    periods = {name: preset_period(name, today=today) for name in PRESETS}
    return {name: (first.isoformat(), last.isoformat()) for name, (first, last) in periods.items()}


@router.get("/reports")
def reports_page(
    session: DbSession,
    visitor: CurrentVisitor,
    now: Now,
    settings: AppSettings,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    campaign: Text = None,
    account: Text = None,
    language: Text = None,
    format: Text = None,
) -> Response:
    if visitor.person is None:
        return RedirectResponse("/signin?" + urlencode({"next": "/reports"}), status_code=303)
    zone = visitor.person.timezone or settings.default_timezone
    presets = _presets(local_today(now, zone))
    try:
        choice = _choice(
            visitor,
            start=start,
            end=end,
            campaign=campaign,
            account=account,
            language=language,
            format=format,
        )
    except InvalidInput as error:
        return _page(
            session,
            visitor,
            None,
            today_presets=presets,
            problem=_message(visitor, error),
            status=422,
        )
    if not choice.complete and start is None and end is None:
        return _page(session, visitor, choice, today_presets=presets)
    try:
        report = _report(session, choice)
    except (InvalidInput, NotFound) as error:
        status = 404 if isinstance(error, NotFound) else 422
        return _page(
            session,
            visitor,
            choice,
            today_presets=presets,
            problem=_message(visitor, error),
            status=status,
        )
    return _page(session, visitor, choice, today_presets=presets, report=report)


@router.get("/reports/download")
def reports_download(
    session: DbSession,
    visitor: CurrentVisitor,
    now: Now,
    settings: AppSettings,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    campaign: Text = None,
    account: Text = None,
    language: Text = None,
    format: Text = None,
) -> Response:
    if visitor.person is None:
        return RedirectResponse("/signin?" + urlencode({"next": "/reports"}), status_code=303)
    zone = visitor.person.timezone or settings.default_timezone
    presets = _presets(local_today(now, zone))
    choice: ReportChoice | None = None
    try:
        choice = _choice(
            visitor,
            start=start,
            end=end,
            campaign=campaign,
            account=account,
            language=language,
            format=format,
        )
        rendered = export(_report(session, choice), ReportFormat(choice.format))
    except (InvalidInput, NotFound, PdfUnavailable) as error:
        status = {NotFound: 404, PdfUnavailable: 503}.get(type(error), 422)
        return _page(
            session,
            visitor,
            choice,
            today_presets=presets,
            problem=_message(visitor, error),
            status=status,
        )
    return visitor.finish(
        Response(
            rendered.content,
            media_type=rendered.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{rendered.filename}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
    )
