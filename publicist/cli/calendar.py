"""``publicist calendar``: secret iCalendar feed URLs of campaigns (made, listed, revoked)."""

from __future__ import annotations

from typing import Annotated

import typer

from campaigns.calendar.feeds import create_feed, feed_path, live_feeds, revoke_feed
from campaigns.services import find_campaign
from publicist.cli.common import Table, console, database, err_console, id_parser, local, now, safe
from publicist.core.errors import InvalidInput

app = typer.Typer(
    help="The plan as an iCalendar feed per campaign (a secret URL, stored hashed).",
    no_args_is_help=True,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
"""Where ``publicist api`` listens by default; pass the address people reach it at."""


@app.command("feed")
def feed(
    campaign: Annotated[str, typer.Argument(help="Campaign name or id.")],
    base_url: Annotated[
        str, typer.Option(help="The workspace's address as calendar clients reach it.")
    ] = DEFAULT_BASE_URL,
) -> None:
    """Make a feed URL for a campaign and print it once (only its hash is kept).

    Example: [bold]publicist calendar feed "IP Creates a Better Life" --base-url https://publicist.example.org[/]
    """
    base = base_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")) or any(c.isspace() for c in base):
        raise InvalidInput(
            "base-url", base_url, "must be an http(s) address such as https://publicist.example.org"
        )
    with database() as session:
        found = find_campaign(session, campaign)
        issued = create_feed(session, campaign=found, now=now())
        name = found.name
    err_console.print(
        f"feed {issued.feed_id} of {safe(name)} made; copy its URL now, it is not shown again:"
    )
    typer.echo(base + feed_path(issued.secret))


@app.command("feeds")
def feeds() -> None:
    """List the feeds not revoked (never their URLs).

    Example: [bold]publicist calendar feeds[/]
    """
    with database() as session:
        table = Table("id", "campaign", "made")
        for row in live_feeds(session):
            table.add_row(
                str(row.id), safe(row.campaign.name), local(row.created_at, row.campaign.timezone)
            )
        console.print(table)


@app.command("revoke")
def revoke(
    feed_id: Annotated[
        int, typer.Argument(help="Feed id (see 'calendar feeds').", parser=id_parser("feed"))
    ],
) -> None:
    """Revoke a feed: its URL answers 404 from now on.

    Example: [bold]publicist calendar revoke 3[/]
    """
    with database() as session:
        row = revoke_feed(session, feed_id=feed_id, now=now())
        console.print(f"calendar feed {row.id} revoked")
