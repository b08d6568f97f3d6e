"""``publicist notify`` and ``publicist webhook``: channels, subscriptions, webhooks and
scheduled report e-mails, for admins at the terminal."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from campaigns.events.channels import add_channel, find_channel, remove_channel, subscribe
from campaigns.events.kinds import KINDS
from campaigns.events.models import Channel
from campaigns.events.queries import (
    active_channels,
    active_webhooks,
    report_schedules,
    subscriptions_of,
    webhook_log,
)
from campaigns.events.schedules import remove_schedule, schedule_report
from campaigns.events.webhooks import add_webhook, remove_webhook
from campaigns.models import Campaign
from campaigns.people.queries import find_person
from publicist.cli.common import Table, console, database, err_console, local, now, safe, settings
from publicist.core.errors import NotFound

app = typer.Typer(help="Notification channels, who gets which events, report e-mails.")
channel_app = typer.Typer(help="Apprise channels (e-mail, WeCom, DingTalk, Feishu, Slack…).")
app.add_typer(channel_app, name="channel")
webhook_app = typer.Typer(help="Signed JSON webhooks for every event (docs/webhooks.md).")

EVENTS_HELP = "Event kinds: " + ", ".join(KINDS) + " (repeat the option)."


def _url_argument(url: str) -> str:
    """``-`` reads the URL from standard input, keeping its secrets out of shell history."""
    return sys.stdin.readline().strip() if url == "-" else url


@channel_app.command("add")
def channel_add(
    url: Annotated[str, typer.Argument(help="Apprise URL, or - to read it from stdin.")],
    name: Annotated[str, typer.Option(help="A name people choose the channel by.")],
) -> None:
    """Add a channel; mailto:// URLs are e-mail (each person's own address receives it).

    Example: [bold]publicist notify channel add - --name mail < smtp-url.txt[/]
    """
    with database() as session:
        channel = add_channel(
            session,
            name=name,
            url=_url_argument(url),
            secret=settings().encryption_key(),
            now=now(),
        )
        console.print(f"channel {channel.id} ({channel.kind}) added: {safe(channel.url_redacted)}")


@channel_app.command("list")
def channel_list() -> None:
    """List channels with their URLs redacted."""
    with database() as session:
        table = Table("id", "name", "kind", "url (redacted)")
        for channel in active_channels(session):
            table.add_row(
                str(channel.id), safe(channel.name), channel.kind, safe(channel.url_redacted)
            )
    console.print(table)


@channel_app.command("remove")
def channel_remove(channel: Annotated[str, typer.Argument(help="Channel name or id.")]) -> None:
    """Disable a channel and end its subscriptions."""
    with database() as session:
        remove_channel(session, key=channel)
    console.print(f"channel {safe(channel)} removed")


@app.command("subscribe")
def subscribe_person(
    person: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    channel: Annotated[str, typer.Option(help="Channel name or id.")],
    event: Annotated[list[str] | None, typer.Option("--event", help=EVENTS_HELP)] = None,
    digest: Annotated[
        int, typer.Option(help="Minutes gathered into one message; 0 sends each at once.")
    ] = 0,
) -> None:
    """Choose which events reach a person on a channel (no --event: none any more).

    Example: [bold]publicist notify subscribe ann@example.org --channel mail
    --event delivery_failed --digest 15[/]
    """
    with database() as session:
        found = find_person(session, email=person)
        if found is None:
            raise NotFound("person", person)
        subscription = subscribe(
            session,
            person_id=found.id,
            channel_id=find_channel(session, channel).id,
            kinds=event or [],
            digest_minutes=digest,
        )
    if subscription is None:
        console.print(f"{safe(person)} gets nothing on {safe(channel)} any more")
    else:
        console.print(f"{safe(person)} gets {', '.join(subscription.kinds)} on {safe(channel)}")


@app.command("subscriptions")
def subscriptions(person: Annotated[str, typer.Argument(help="E-mail address.")]) -> None:
    """What reaches a person, and where."""
    with database() as session:
        found = find_person(session, email=person)
        if found is None:
            raise NotFound("person", person)
        table = Table("channel", "events", "digest (min)")
        for row in subscriptions_of(session, person_id=found.id):
            channel = session.get_one(Channel, row.channel_id)
            table.add_row(safe(channel.name), ", ".join(row.kinds), str(row.digest_minutes))
    console.print(table)


@app.command("schedule-report")
def schedule(
    campaign: Annotated[str, typer.Argument(help="Campaign name or id.")],
    every: Annotated[str, typer.Option(help="week or month.")],
    to: Annotated[list[str], typer.Option("--to", help="E-mail address (repeat the option).")],
    language: Annotated[str, typer.Option(help="en or zh_CN.")] = "en",
    channel: Annotated[
        str | None, typer.Option(help="E-mail channel (default: the first one added).")
    ] = None,
) -> None:
    """E-mail a campaign's period report every week or month (HTML body, PDF attached).

    Example: [bold]publicist notify schedule-report "IP Week" --every week
    --to lead@example.org[/]
    """
    with database() as session:
        made = schedule_report(
            session,
            campaign=campaign,
            every=every,
            recipients=to,
            language=language,
            channel=channel,
            now=now(),
        )
        zone = session.get_one(Campaign, made.campaign_id).timezone
        console.print(f"report schedule {made.id}: first sent {local(made.next_run_at, zone)}")


@app.command("report-schedules")
def schedules() -> None:
    """List scheduled report e-mails."""
    with database() as session:
        table = Table("id", "campaign", "every", "to", "next")
        for row in report_schedules(session):
            campaign = session.get_one(Campaign, row.campaign_id)
            table.add_row(
                str(row.id),
                safe(campaign.name),
                row.every,
                safe(", ".join(row.recipients)),
                local(row.next_run_at, campaign.timezone),
            )
    console.print(table)


@app.command("unschedule-report")
def unschedule(schedule_id: Annotated[str, typer.Argument(help="Schedule id.")]) -> None:
    """Stop a scheduled report e-mail."""
    with database() as session:
        remove_schedule(session, schedule_id=schedule_id)
    console.print(f"report schedule {safe(schedule_id)} removed")


@webhook_app.command("add")
def webhook_add(
    url: Annotated[str, typer.Argument(help="An http(s) URL on a public address.")],
    event: Annotated[list[str] | None, typer.Option("--event", help=EVENTS_HELP)] = None,
    allow_private: Annotated[
        bool,
        typer.Option(help="Allow a private, loopback or link-local address (internal hosts)."),
    ] = False,
) -> None:
    """Register a webhook; its signing secret is printed once.

    Example: [bold]publicist webhook add https://hooks.example.org/in --event delivery_failed[/]
    """
    with database() as session:
        target, secret = add_webhook(
            session,
            url=url,
            kinds=event or [],
            allow_private=allow_private,
            secret=settings().encryption_key(),
            now=now(),
        )
        target_id = target.id
    err_console.print(f"webhook {target_id} added; its signing secret, shown only now:")
    typer.echo(secret)


@webhook_app.command("list")
def webhook_list() -> None:
    """List webhook targets (never their secrets)."""
    with database() as session:
        table = Table("id", "url", "events", "private allowed")
        for target in active_webhooks(session):
            table.add_row(
                str(target.id),
                safe(target.url),
                ", ".join(target.kinds) or "all",
                "yes" if target.allow_private else "no",
            )
    console.print(table)


@webhook_app.command("remove")
def webhook_remove(target: Annotated[str, typer.Argument(help="Webhook id.")]) -> None:
    """Stop sending to a webhook."""
    with database() as session:
        remove_webhook(session, target_id=target)
    console.print(f"webhook {safe(target)} removed")


@webhook_app.command("log")
def webhook_delivery_log(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many attempts.")] = 50,
) -> None:
    """The latest webhook attempts: time, event, status code or error."""
    with database() as session:
        table = Table("at (UTC)", "webhook", "event", "kind", "attempt", "status", "error", "state")
        for line in webhook_log(session, limit=limit):
            table.add_row(
                line.at.strftime("%Y-%m-%d %H:%M:%S"),
                str(line.target_id),
                str(line.event_id),
                line.kind,
                str(line.number),
                "-" if line.status_code is None else str(line.status_code),
                safe(line.error or ""),
                line.status,
            )
    console.print(table)
