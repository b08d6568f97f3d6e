"""The dashboard page: plain HTML with inline SVG, built from the same reports as the API.

Every number carries a ``data-k`` attribute naming what it is, so the browser test can
compare what a person sees with the API's JSON.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Account
from campaigns.queries import Windows
from metrics.chart import render_series_svg
from metrics.reports import (
    AccountReport,
    CampaignReport,
    CampaignSummary,
    account_report,
    campaign_report,
    campaign_summaries,
)
from publicist.web.charts import platform_bars_svg
from publicist.web.queries import failures, get_campaign
from publicist.web.schemas import FailureOut

VIEWS_COLOR = "#3b6fd8"
INTERACTIONS_COLOR = "#e07b39"

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",
"Noto Sans CJK SC",sans-serif;color:#1d2330;background:#f4f5f8}
header{display:flex;align-items:center;gap:16px;padding:14px 32px;background:#1d2330;color:#fff}
header h1{font-size:18px;margin:0;font-weight:600}
header .sub{color:#aab3c5;font-size:13px}
header form{margin-left:auto}
header button{background:none;border:1px solid #566079;color:#dfe4ee;border-radius:6px;
padding:4px 12px;cursor:pointer;font:inherit;font-size:13px}
main{max-width:1200px;margin:0 auto;padding:24px 32px 48px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:10px;padding:18px 22px;
margin-bottom:20px}
h2{font-size:17px;margin:0 0 12px}
h3{font-size:15px;margin:0 0 10px;color:#3a4255}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #eceef2;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#6b7385;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.selected td{background:#f0f4ff}
a{color:#2f5fc4;text-decoration:none}
a:hover{text-decoration:underline}
.muted{color:#7a8296;font-size:13px}
.kpis{display:grid;grid-template-columns:repeat(5,1fr);gap:12px;margin:6px 0 18px}
.kpi{border:1px solid #e6e9ef;border-radius:8px;padding:10px 14px}
.kpi .label{font-size:12px;color:#6b7385;text-transform:uppercase;letter-spacing:.04em}
.kpi .value{font-size:24px;font-weight:600;font-variant-numeric:tabular-nums}
.kpi .note{font-size:12px;color:#7a8296}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:20px}
svg text{font:13px system-ui,sans-serif;fill:#3a4255}
svg .chart-title{font-weight:600;font-size:14px}
svg .value{font-variant-numeric:tabular-nums}
.bad{color:#b3261e}
.series svg{width:100%;max-width:860px;height:auto;display:block;margin:0 auto}
.text{max-width:380px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.login{max-width:420px;margin:12vh auto;background:#fff;border:1px solid #e1e4ea;
border-radius:10px;padding:28px}
.login input{width:100%;padding:8px 10px;font:inherit;border:1px solid #c9ceda;border-radius:6px;
margin:8px 0 14px}
.login button{background:#2f5fc4;color:#fff;border:0;border-radius:6px;padding:8px 18px;
font:inherit;cursor:pointer}
"""


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _when(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _cell(key: str, text: str, *, numeric: bool = True) -> str:
    cls = ' class="n"' if numeric else ""
    return f'<td{cls} data-k="{escape(key)}">{escape(text)}</td>'


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def login_page(error: str | None) -> str:
    message = f'<p class="bad">{escape(error)}</p>' if error else ""
    return _document(
        "Publicist — sign in",
        '<div class="login"><h2>Publicist dashboard</h2>'
        '<p class="muted">Paste an API token (a viewer token is enough; create one with '
        "<code>publicist token create --role viewer</code>).</p>"
        f"{message}"
        '<form method="post" action="/dashboard/login">'
        '<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="off" required>'
        '<button type="submit">Open dashboard</button></form></div>',
    )


def _campaign_list(reports: list[CampaignSummary], selected: int | None) -> str:
    rows = []
    for r in reports:
        k = f"campaign-{r.campaign_id}"
        cls = ' class="selected"' if r.campaign_id == selected else ""
        rows.append(
            f"<tr{cls}>"
            f'<td><a href="/dashboard?campaign={r.campaign_id}">{escape(r.campaign)}</a></td>'
            + _cell(f"{k}-published", _n(r.published))
            + _cell(f"{k}-failed", _n(r.failed))
            + _cell(f"{k}-views", _n(r.views))
            + _cell(f"{k}-interactions", _n(r.interactions))
            + _cell(f"{k}-engagement", _rate(r.engagement_rate))
            + f'<td class="n muted">{escape(_when(r.last_updated, r.timezone))}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="7" class="muted">No campaigns yet.</td></tr>')
    return (
        "<section><h2>Campaigns</h2><table><thead><tr><th>campaign</th>"
        '<th class="n">published</th><th class="n">failed</th><th class="n">views</th>'
        '<th class="n">interactions</th><th class="n">engagement</th><th class="n">updated</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _kpi(key: str, label: str, value: str, note: str = "") -> str:
    note_html = f'<div class="note">{escape(note)}</div>' if note else ""
    return (
        f'<div class="kpi"><div class="label">{escape(label)}</div>'
        f'<div class="value" data-k="{escape(key)}">{escape(value)}</div>{note_html}</div>'
    )


def _platform_table(report: CampaignReport) -> str:
    rows = []
    for p in report.platforms:
        k = f"platform-{p.platform}"
        rows.append(
            f"<tr><td>{escape(p.platform)}</td>"
            + _cell(f"{k}-scheduled", _n(p.scheduled))
            + _cell(f"{k}-published", _n(p.published))
            + _cell(f"{k}-failed", _n(p.failed))
            + _cell(f"{k}-views", _n(p.views))
            + _cell(f"{k}-interactions", _n(p.interactions))
            + "</tr>"
        )
    return (
        '<table><thead><tr><th>platform</th><th class="n">scheduled</th>'
        '<th class="n">published</th><th class="n">failed</th><th class="n">views</th>'
        f'<th class="n">interactions</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _link(url: str | None) -> str:
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(url)}</a>'
    return '<span class="muted">-</span>'


def _top_posts(report: CampaignReport) -> str:
    rows = []
    for index, post in enumerate(report.top_posts, start=1):
        k = f"top-{index}"
        rows.append(
            f"<tr><td>{index}</td><td>{escape(post.platform)}</td>"
            f'<td class="text" title="{escape(post.text)}">{escape(post.text)}</td>'
            + _cell(f"{k}-views", _n(post.views))
            + _cell(f"{k}-interactions", _n(post.interactions))
            + f'<td data-k="{k}-url">{_link(post.url)}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="6" class="muted">Nothing measured yet.</td></tr>')
    return (
        "<section><h2>Top posts by interactions</h2><table><thead><tr><th>#</th>"
        '<th>platform</th><th>text</th><th class="n">views</th><th class="n">interactions</th>'
        f"<th>link</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _failures(items: list[FailureOut], zone: str) -> str:
    rows = [
        f"<tr><td>{f.post_id}</td><td>{escape(f.account)}</td>"
        f'<td class="bad" data-k="failure-{f.delivery_id}-state">{escape(f.state)}</td>'
        f"<td>{escape(_when(f.due_at, zone))}</td>"
        f'<td class="n">{f.attempts}</td><td>{escape(f.error or "")}</td></tr>'
        for f in items
    ]
    if not rows:
        rows.append('<tr><td colspan="6" class="muted">Nothing needs attention.</td></tr>')
    return (
        "<section><h2>Needs attention (failed, missed, unknown or stuck) "
        f'<span class="muted" data-k="failures-count">{len(items)}</span>'
        "</h2><table><thead><tr><th>post</th><th>account</th><th>state</th><th>due</th>"
        '<th class="n">attempts</th><th>reason</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _campaign_detail(
    session: Session, report: CampaignReport, *, now: datetime, windows: Windows
) -> str:
    failed = report.failed + report.unknown
    kpis = "".join(
        (
            _kpi("total-published", "published", _n(report.published), f"of {report.scheduled}"),
            _kpi("total-views", "views", _n(report.views), report.views_coverage),
            _kpi("total-interactions", "interactions", _n(report.interactions)),
            _kpi("total-engagement", "engagement rate", _rate(report.engagement_rate)),
            _kpi("total-failed", "failed or unknown", _n(failed)),
            _kpi("total-attention", "needs attention", _n(report.attention)),
        )
    )
    views = platform_bars_svg(
        [(p.platform, p.views) for p in report.platforms],
        title="Views by platform",
        color=VIEWS_COLOR,
    )
    interactions = platform_bars_svg(
        [(p.platform, p.interactions) for p in report.platforms],
        title="Interactions by platform",
        color=INTERACTIONS_COLOR,
    )
    return (
        f'<section><h2 data-k="selected-campaign">{escape(report.campaign)}</h2>'
        f'<p class="muted">time zone {escape(report.timezone)} · updated '
        f"{escape(_when(report.last_updated, report.timezone))}</p>"
        f'<div class="kpis">{kpis}</div>'
        f'<div class="charts"><div>{views}</div><div>{interactions}</div></div>'
        f"{_platform_table(report)}</section>"
        '<section class="series"><h2>Views and interactions over time</h2>'
        f"{render_series_svg(report.daily, title=report.campaign)}</section>"
        + _top_posts(report)
        + _failures(
            failures(session, campaign_id=report.campaign_id, now=now, windows=windows),
            report.timezone,
        )
    )


def _accounts(reports: list[AccountReport]) -> str:
    rows = []
    for r in reports:
        k = f"account-{r.account_id}"
        since = r.first_published_at.strftime("%Y-%m-%d") if r.first_published_at else "-"
        rows.append(
            f"<tr><td>{escape(r.account)}</td>"
            + _cell(f"{k}-published", _n(r.published))
            + _cell(f"{k}-views", _n(r.views))
            + _cell(f"{k}-interactions", _n(r.interactions))
            + _cell(f"{k}-engagement", _rate(r.engagement_rate))
            + f'<td class="n muted">{escape(since)}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="6" class="muted">No accounts connected.</td></tr>')
    return (
        "<section><h2>Accounts since creation</h2><table><thead><tr><th>account</th>"
        '<th class="n">published</th><th class="n">views</th><th class="n">interactions</th>'
        '<th class="n">engagement</th><th class="n">first post</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def render_dashboard(
    session: Session, *, campaign_id: int | None, now: datetime, windows: Windows
) -> str:
    """The whole page; ``campaign_id`` picks the campaign shown in detail (default: newest)."""
    summaries = campaign_summaries(session, now=now, windows=windows)
    chosen = next((s for s in summaries if s.campaign_id == campaign_id), None)
    if chosen is None and summaries:
        chosen = summaries[0]
    detail = ""
    if chosen is not None:
        campaign = get_campaign(session, chosen.campaign_id)
        report = campaign_report(session, campaign=campaign, top=10, now=now, windows=windows)
        detail = _campaign_detail(session, report, now=now, windows=windows)
    accounts = [
        account_report(session, account=account, top=0)
        for account in session.scalars(select(Account).order_by(Account.platform, Account.handle))
    ]
    header = (
        '<header><h1>Publicist</h1><span class="sub">engagement dashboard · '
        f"{escape(now.strftime('%Y-%m-%d %H:%M UTC'))}</span>"
        '<form method="post" action="/dashboard/logout"><button type="submit">Sign out</button>'
        "</form></header>"
    )
    selected = chosen.campaign_id if chosen is not None else None
    body = (
        header
        + "<main>"
        + _campaign_list(summaries, selected)
        + detail
        + _accounts(accounts)
        + "</main>"
    )
    return _document("Publicist dashboard", body)
