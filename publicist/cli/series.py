"""``publicist series``: recurring posts, one post per occurrence of an RFC 5545 rule."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from campaigns.importing import parse_media
from campaigns.schemas import PostInput
from campaigns.series import (
    OVERLAPS,
    Occurrence,
    SeriesInput,
    cancel_series,
    create_series,
    get_series,
    list_series,
)
from campaigns.services import find_campaign
from publicist.cli.common import Table, console, database, id_parser, now, resolved
from publicist.core.errors import InvalidInput

app = typer.Typer(help="Recurring series of posts.", no_args_is_help=True)

SeriesId = Annotated[int, typer.Argument(help="Series id.", parser=id_parser("series"))]


def _until(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("until", value, "is not a date (YYYY-MM-DD)") from None


@app.command("add")
def add(
    campaign: Annotated[str, typer.Option("--campaign", "-c", help="Campaign name or id.")],
    text: Annotated[str, typer.Option("--text", "-t", help="Base text for every platform.")],
    to: Annotated[
        list[str], typer.Option("--to", help="Account (platform:handle or handle), repeatable.")
    ],
    rule: Annotated[
        str, typer.Option(help="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR.")
    ],
    starts: Annotated[
        str, typer.Option(help="First occurrence, 'YYYY-MM-DD HH:MM' in the campaign's zone.")
    ],
    until: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD), unless the rule has an end.")
    ] = None,
    overlap: Annotated[
        str | None,
        typer.Option(help="For a time the clocks pass twice: 'earlier' or 'later'."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title (WeChat articles, TikTok).")] = None,
    media: Annotated[
        str | None, typer.Option(help="Media as KIND:MEDIA_ID or KIND:URL, ';'-separated.")
    ] = None,
    approve: Annotated[
        bool, typer.Option(help="Approve (and so schedule) every occurrence at once.")
    ] = False,
) -> None:
    """Create a series: one post per occurrence, at the same local wall time across DST
    changes; all of them or none.

    Example: [bold]publicist series add -c "IP Week" -t "Tip of the day" --to twitter:@IPRinCN
    --rule "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" --starts "2026-04-20 09:30" --until 2026-04-26[/]
    """
    if overlap is not None and overlap not in OVERLAPS:
        raise InvalidInput("overlap", overlap, "must be 'earlier' or 'later'")
    data = SeriesInput(
        post=PostInput(
            campaign=campaign, text=text, accounts=to, title=title, media=parse_media(media or "")
        ),
        rule=rule,
        starts=starts,
        until=_until(until),
        overlap=OVERLAPS[overlap] if overlap is not None else None,
        approve=approve,
    )
    with database() as session:
        series = create_series(session, data=data, now=now())
        view = get_series(session, series_id=series.id, now=now())
        console.print(f"series {view.id}: {len(view.occurrences)} posts")
        _occurrences(view.occurrences, view.timezone)


def _occurrences(occurrences: list[Occurrence], zone: str) -> None:
    table = Table("post", "at", "state")
    for occurrence in occurrences:
        table.add_row(
            str(occurrence.post_id), resolved(occurrence.publish_at, zone), occurrence.state
        )
    console.print(table)


@app.command("show")
def show(series_id: SeriesId) -> None:
    """A series and its occurrences.

    Example: [bold]publicist series show 3[/]
    """
    with database() as session:
        view = get_series(session, series_id=series_id, now=now())
        console.print(
            f"series {view.id} of {view.campaign}: {view.rule} from {view.starts} "
            f"({view.timezone})"
            + (f" until {view.until}" if view.until else "")
            + (" — cancelled" if view.cancelled_at else "")
        )
        _occurrences(view.occurrences, view.timezone)


@app.command("list")
def list_all(
    campaign: Annotated[
        str | None, typer.Option("--campaign", "-c", help="Only this campaign.")
    ] = None,
) -> None:
    """Series, newest first.

    Example: [bold]publicist series list[/]
    """
    with database() as session:
        campaign_id = find_campaign(session, campaign).id if campaign else None
        table = Table("series", "rule", "starts", "until", "zone", "cancelled")
        for series in list_series(session, campaign_id=campaign_id):
            table.add_row(
                str(series.id),
                series.rule,
                series.starts_local,
                series.until_on.isoformat() if series.until_on else "-",
                series.timezone,
                "yes" if series.cancelled_at else "",
            )
        console.print(table)


@app.command("cancel")
def cancel(series_id: SeriesId) -> None:
    """Cancel every future occurrence of a series; past ones stay as they are.

    Example: [bold]publicist series cancel 3[/]
    """
    with database() as session:
        cancelled = cancel_series(session, series_id=series_id, now=now())
        console.print(
            f"series {series_id}: cancelled {len(cancelled)} posts"
            + (f" ({', '.join(map(str, cancelled))})" if cancelled else "")
        )
