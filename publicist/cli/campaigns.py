"""``publicist campaign``: create and inspect campaigns."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from sqlalchemy import func, select

from campaigns.models import Campaign, Post
from campaigns.schemas import CampaignInput
from campaigns.services import create_campaign, find_campaign
from publicist.cli.common import Table, console, database, local, now, safe, settings, shorten
from publicist.core.errors import InvalidInput

app = typer.Typer(help="Publicity campaigns.", no_args_is_help=True)


def _date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, value, "is not a date (use YYYY-MM-DD)") from None


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Unique campaign name.")],
    theme: Annotated[str | None, typer.Option(help="The campaign's theme.")] = None,
    description: Annotated[str | None, typer.Option(help="Longer description.")] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA zone for times given without offset (default: PUBLICIST_DEFAULT_TIMEZONE)."
        ),
    ] = None,
    starts: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    ends: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")] = None,
    hashtag: Annotated[list[str] | None, typer.Option(help="Hashtag, repeatable.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who runs it.")] = None,
    late_policy: Annotated[
        str,
        typer.Option(
            help="When a post is found long after its time (system down): 'publish' it late, "
            "or 'miss' it and list it for staff."
        ),
    ] = "publish",
    self_approval: Annotated[
        bool,
        typer.Option(
            help="Let a person approve posts they wrote themselves (off: a colleague must)."
        ),
    ] = False,
) -> None:
    """Create a campaign.

    Example: [bold]publicist campaign create "IP Creates a Better Life" --timezone Asia/Shanghai[/]
    """
    data = CampaignInput(
        name=name,
        timezone=timezone,
        theme=theme,
        description=description,
        starts_on=_date(starts, "starts"),
        ends_on=_date(ends, "ends"),
        hashtags=hashtag or [],
        owner=owner,
        late_policy=late_policy,
        self_approval=self_approval,
    )
    with database() as session:
        campaign = create_campaign(
            session, data=data, default_timezone=settings().default_timezone, now=now()
        )
        console.print(
            f"created campaign [bold]{safe(campaign.name)}[/] "
            f"(id {campaign.id}, {campaign.timezone})"
        )


@app.command("list")
def list_campaigns() -> None:
    """List campaigns with their post counts.

    Example: [bold]publicist campaign list[/]
    """
    with database() as session:
        counts = dict(
            session.execute(select(Post.campaign_id, func.count()).group_by(Post.campaign_id)).all()
        )
        table = Table("id", "name", "time zone", "dates", "posts")
        for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
            dates = f"{campaign.starts_on or '?'} – {campaign.ends_on or '?'}"
            table.add_row(
                str(campaign.id),
                campaign.name,
                campaign.timezone,
                dates,
                str(counts.get(campaign.id, 0)),
            )
        console.print(table)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Campaign name or id.")]) -> None:
    """Show a campaign and its posts.

    Example: [bold]publicist campaign show "IP Creates a Better Life"[/]
    """
    with database() as session:
        campaign = find_campaign(session, name)
        console.print(f"[bold]{safe(campaign.name)}[/] (id {campaign.id})")
        for label, value in (
            ("theme", campaign.theme),
            ("description", campaign.description),
            ("time zone", campaign.timezone),
            ("dates", f"{campaign.starts_on or '?'} – {campaign.ends_on or '?'}"),
            ("hashtags", " ".join(campaign.hashtags) or None),
            ("owner", campaign.owner),
        ):
            if value:
                console.print(f"  {label}: {safe(value)}")
        table = Table("post", "state", "publish at", "targets", "text")
        for post in sorted(campaign.posts, key=lambda p: p.id):
            table.add_row(
                str(post.id),
                post.state.value,
                local(post.publish_at, campaign.timezone),
                ", ".join(t.account.label for t in post.targets),
                shorten(post.text, 60),
            )
        console.print(table)
