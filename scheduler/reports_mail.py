"""Scheduled report e-mails: a campaign's period report (HTML body, PDF attached) to the
chosen addresses, and a ``report ready`` event."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from campaigns.events.channels import channel_url
from campaigns.events.kinds import EventKind
from campaigns.events.models import Channel
from campaigns.events.schedules import due_schedules, next_run, period_before
from campaigns.events.services import record_event
from campaigns.models import Campaign
from metrics.period import PeriodReport, period_report
from metrics.period_export import ReportFormat, export
from metrics.period_labels import labels
from publicist.core.clock import Clock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from scheduler.channels import Attachment, Notifier, NotifyFailed

log = logging.getLogger("publicist.notify")


@dataclass(frozen=True)
class ReportMail:
    schedule_id: int
    urls: tuple[str, ...]
    report: PeriodReport


def run_scheduled_reports(*, settings: Settings, clock: Clock, notifier: Notifier) -> int:
    """Build and send every report whose time has come; returns how many e-mails left.

    Each schedule moves to its next time in the transaction that takes the report's
    numbers, before anything is sent: a crash afterwards loses one e-mail, never doubles it.
    """
    secret = settings.encryption_key()
    mails: list[ReportMail] = []
    with session_scope() as session:
        for schedule in due_schedules(session, now=clock.now()):
            campaign = session.get_one(Campaign, schedule.campaign_id)
            zone = ZoneInfo(campaign.timezone)
            start, end = period_before(schedule.every, schedule.next_run_at, zone=zone)
            report = period_report(
                session, start=start, end=end, campaign=campaign, language=schedule.language
            )
            channel = session.get_one(Channel, schedule.channel_id)
            urls = tuple(
                channel_url(channel, secret=secret, to=address) for address in schedule.recipients
            )
            mails.append(ReportMail(schedule.id, urls, report))
            record_event(
                session,
                kind=EventKind.REPORT_READY,
                reason=f"the {schedule.every}ly report of {campaign.name} for "
                f"{start.isoformat()} to {end.isoformat()} was e-mailed to "
                f"{len(schedule.recipients)} people",
                now=clock.now(),
                campaign_id=campaign.id,
                dedup_key=f"report:{schedule.id}:{start.isoformat()}",
            )
            schedule.last_run_at = clock.now()
            schedule.next_run_at = next_run(schedule.every, schedule.next_run_at, zone=zone)
    sent = 0
    for mail in mails:
        html = export(mail.report, ReportFormat.HTML)
        pdf = export(mail.report, ReportFormat.PDF)
        words = labels(mail.report.language)
        title = f"{words['title']}: {mail.report.subject} ({mail.report.start} – {mail.report.end})"
        for url in mail.urls:
            try:
                notifier(
                    url,
                    title=title,
                    body=html.content.decode("utf-8"),
                    html=True,
                    attachments=[Attachment(pdf.filename, pdf.content, pdf.media_type)],
                )
                sent += 1
            except NotifyFailed as failed:
                log.warning(
                    "report schedule %s: an e-mail was not sent: %s", mail.schedule_id, failed
                )
    return sent
