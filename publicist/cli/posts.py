"""``publicist post`` and ``publicist schedule``: write, approve, schedule, fix and import posts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from campaigns.audit.queries import post_history
from campaigns.importing import decode_csv, import_schedule, parse_media
from campaigns.models import Account, Campaign, Delivery, Post
from campaigns.queries import Windows, deliveries_needing_attention
from campaigns.schemas import PostChanges, PostInput, VariantInput
from campaigns.services import (
    add_post,
    approve_post,
    cancel_post,
    edit_post,
    find_campaign,
    get_post,
    reject_post,
    reschedule_post,
    retry_post,
    submit_post,
)
from campaigns.states import ENDED_BADLY, DeliveryState, shown_state
from publicist.cli.audit import compact_json, describe_actor
from publicist.cli.common import (
    Table,
    cell,
    console,
    database,
    id_parser,
    local,
    now,
    resolved,
    safe,
    shorten,
)
from publicist.core.errors import InvalidInput
from publicist.core.settings import get_settings

app = typer.Typer(help="Posts and their deliveries.", no_args_is_help=True)
schedule_app = typer.Typer(help="Bulk scheduling.", no_args_is_help=True)


def _variants(texts: list[str], titles: list[str], digests: list[str]) -> dict[str, VariantInput]:
    fields: dict[str, dict[str, str]] = {}
    for option, values in (("text", texts), ("title", titles), ("digest", digests)):
        for item in values:
            platform, sep, value = item.partition("=")
            if not sep or not platform.strip():
                raise InvalidInput(f"{option}-for", item, "must look like PLATFORM=VALUE")
            fields.setdefault(platform.strip(), {})[option] = value
    return {
        platform: VariantInput(text=v.get("text"), title=v.get("title"), digest=v.get("digest"))
        for platform, v in fields.items()
    }


@app.command("add")
def add(
    campaign: Annotated[str, typer.Option("--campaign", "-c", help="Campaign name or id.")],
    text: Annotated[str, typer.Option("--text", "-t", help="Base text for every platform.")],
    to: Annotated[
        list[str], typer.Option("--to", help="Account (platform:handle or handle), repeatable.")
    ],
    at: Annotated[
        str | None,
        typer.Option(
            help="Publish time: 'YYYY-MM-DD HH:MM' in the campaign's zone, or with +08:00."
        ),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title (WeChat articles, TikTok).")] = None,
    media: Annotated[
        str | None,
        typer.Option(
            help="Media as KIND:MEDIA_ID or KIND:URL, ';'-separated, e.g. image:12 (a library "
            "item, see 'publicist media add') or image:https://example.com/poster.jpg"
        ),
    ] = None,
    text_for: Annotated[
        list[str] | None, typer.Option(help="Per-platform text, PLATFORM=TEXT, repeatable.")
    ] = None,
    title_for: Annotated[
        list[str] | None, typer.Option(help="Per-platform title, PLATFORM=TITLE.")
    ] = None,
    digest_for: Annotated[
        list[str] | None, typer.Option(help="Per-platform digest (WeChat), PLATFORM=DIGEST.")
    ] = None,
    approve: Annotated[
        bool, typer.Option(help="Approve (and so schedule) at once instead of leaving a draft.")
    ] = False,
) -> None:
    """Write a post (a draft unless --approve).

    Example: [bold]publicist post add -c "IP Week" -t "Opening today" --to twitter:@IPRinCN
    --at "2026-12-01 09:30" --text-for weibo="今天开幕" --approve[/]
    """
    data = PostInput(
        campaign=campaign,
        text=text,
        accounts=to,
        at=at,
        title=title,
        media=parse_media(media or ""),
        variants=_variants(text_for or [], title_for or [], digest_for or []),
    )
    with database() as session:
        post = add_post(session, data=data, now=now(), approve=approve)
        console.print(
            f"post {post.id}: {post.state.value}"
            + (f", {len(post.deliveries)} deliveries" if post.deliveries else "")
            + (
                f", at {resolved(post.publish_at, post.campaign.timezone)}"
                if post.publish_at
                else ""
            )
        )


@app.command("approve")
def approve(
    post_ids: Annotated[list[int], typer.Argument(help="Post ids.", parser=id_parser("post"))],
) -> None:
    """Approve posts in review, or drafts (submitted and approved at once: the command line
    is the operator's tool, outside the rule that a person never approves their own post);
    those with a time and accounts are scheduled.

    Example: [bold]publicist post approve 12 13[/]
    """
    with database() as session:
        # In id order: two commands locking the same posts in opposite orders would deadlock.
        for post_id in sorted(post_ids):
            post = approve_post(session, post_id=post_id, now=now(), from_draft=True)
            console.print(f"post {post.id}: {post.state.value}")


@app.command("submit")
def submit(
    post_ids: Annotated[list[int], typer.Argument(help="Post ids.", parser=id_parser("post"))],
) -> None:
    """Send drafts for review.

    Example: [bold]publicist post submit 12[/]
    """
    with database() as session:
        for post_id in sorted(post_ids):  # id order, as approve
            post = submit_post(session, post_id=post_id, now=now())
            console.print(f"post {post.id}: {post.state.value}")


@app.command("reject")
def reject(
    post_id: Annotated[int, typer.Argument(help="Post id.", parser=id_parser("post"))],
    comment: Annotated[str, typer.Option(help="Why, for the editor (required).")],
) -> None:
    """Send a post in review back to its editor with a comment.

    Example: [bold]publicist post reject 12 --comment "The Weibo text needs its link"[/]
    """
    with database() as session:
        post = reject_post(session, post_id=post_id, comment=comment, now=now())
        console.print(f"post {post.id}: rejected")


@app.command("show")
def show(
    post_id: Annotated[int, typer.Argument(help="Post id.", parser=id_parser("post"))],
) -> None:
    """Show a post, its deliveries and its history (who changed what, and when).

    Example: [bold]publicist post show 12[/]
    """
    moment = now()
    with database() as session:
        post = get_post(session, post_id)
        zone = post.campaign.timezone
        console.print(
            f"post {post.id} in {safe(post.campaign.name)}: "
            f"{shown_state(post.state, post.publish_at, now=moment)}, "
            f"at {resolved(post.publish_at, zone)}"
        )
        console.print(cell(post.text))
        if post.review_comment:
            console.print(cell("rejected: " + post.review_comment, "red"))
        for delivery in sorted(post.deliveries, key=lambda d: d.id):
            console.print(
                f"delivery {delivery.id} to {safe(delivery.account.label)}: {delivery.state.value}"
            )
        table = Table("when", "who", "action", "what", "before", "after")
        for entry in post_history(session, post_id=post.id):
            table.add_row(
                local(entry.at, zone),
                describe_actor(entry),
                entry.action,
                f"{entry.object_kind} {entry.object_id}",
                shorten(compact_json(entry.before), 60),
                shorten(compact_json(entry.after), 60),
            )
        console.print(table)


@app.command("cancel")
def cancel(
    post_id: Annotated[int, typer.Argument(help="Post id.", parser=id_parser("post"))],
) -> None:
    """Cancel a post and its deliveries not yet published.

    Example: [bold]publicist post cancel 12[/]
    """
    with database() as session:
        post = cancel_post(session, post_id=post_id, now=now())
        console.print(f"post {post.id}: cancelled")


@app.command("reschedule")
def reschedule(
    post_id: Annotated[int, typer.Argument(help="Post id.", parser=id_parser("post"))],
    at: Annotated[str, typer.Option(help="New time, in the campaign's zone or with offset.")],
) -> None:
    """Move a post to another time.

    Example: [bold]publicist post reschedule 12 --at "2026-12-02 10:00"[/]
    """
    with database() as session:
        post = reschedule_post(session, post_id=post_id, at=at, now=now())
        console.print(f"post {post.id}: now at {resolved(post.publish_at, post.campaign.timezone)}")


@app.command("retry")
def retry(
    post_id: Annotated[int, typer.Argument(help="Post id.", parser=id_parser("post"))],
) -> None:
    """Try a post's failed, missed or unresolved deliveries again, now.

    Example: [bold]publicist post retry 12[/]
    """
    with database() as session:
        for delivery in retry_post(session, post_id=post_id, now=now()):
            console.print(
                f"delivery {delivery.id} to {safe(delivery.account.label)}: scheduled again"
            )


@app.command("edit")
def edit(
    post_id: Annotated[int, typer.Argument(help="Post id.", parser=id_parser("post"))],
    text: Annotated[
        str | None, typer.Option("--text", "-t", help="New base text for every platform.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="New title; '' clears it.")] = None,
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Replace the accounts (platform:handle or handle), repeatable."),
    ] = None,
    media: Annotated[
        str | None, typer.Option(help="Replace the media, KIND:SOURCE;... ('' for none).")
    ] = None,
    text_for: Annotated[
        list[str] | None, typer.Option(help="Per-platform text, PLATFORM=TEXT ('' clears).")
    ] = None,
    title_for: Annotated[
        list[str] | None, typer.Option(help="Per-platform title, PLATFORM=TITLE.")
    ] = None,
    digest_for: Annotated[
        list[str] | None, typer.Option(help="Per-platform digest (WeChat), PLATFORM=DIGEST.")
    ] = None,
) -> None:
    """Change a post's content; an approved or scheduled one becomes a draft to approve again.

    A scheduled post can be edited only while none of its deliveries has started.

    Example: [bold]publicist post edit 12 --text "Opening at 10:00" --text-for weibo="十点开幕"[/]
    """
    variants = _variants(text_for or [], title_for or [], digest_for or [])
    changes = PostChanges(
        text=text,
        title=title,
        accounts=to or None,
        media=None if media is None else parse_media(media),
        variants=dict(variants) if variants else None,
    )
    with database() as session:
        post = edit_post(session, post_id=post_id, changes=changes, now=now())
        console.print(f"post {post.id}: {post.state.value} (edited)")


@app.command("list")
def list_posts(
    campaign: Annotated[
        str | None, typer.Option("--campaign", "-c", help="Only this campaign.")
    ] = None,
    failed: Annotated[
        bool,
        typer.Option(
            help="Only what needs attention: failed, missed or unknown deliveries, and those "
            "stuck longer than their platform normally needs, with the reason."
        ),
    ] = False,
    state: Annotated[str | None, typer.Option(help="Only deliveries in this state.")] = None,
) -> None:
    """List deliveries (one line per post and account).

    Example: [bold]publicist post list --failed[/]
    """
    with database() as session:
        campaign_id = find_campaign(session, campaign).id if campaign else None
        wanted = _state(state)
        table = Table("post", "delivery", "account", "state", "due", "tries", "result")
        if failed:
            items = deliveries_needing_attention(
                session,
                now=now(),
                windows=Windows.from_settings(get_settings()),
                campaign_id=campaign_id,
                limit=10_000,
            )
            zones: dict[int, str] = {
                id_: zone for id_, zone in session.execute(select(Campaign.id, Campaign.timezone))
            }
            shown = [i for i in items if wanted is None or i.state == wanted.value]
            for item in shown:
                table.add_row(
                    str(item.post_id),
                    str(item.delivery_id),
                    item.account,
                    item.state + (" (stuck)" if item.stuck else ""),
                    local(item.due_at, zones[item.campaign_id]),
                    str(item.attempts),
                    cell(item.reason or "", "red"),
                )
            console.print(table)
            console.print(f"{len(shown)} deliveries need attention")
            return
        query = (
            select(Delivery, Post, Account)
            .join(Post, Post.id == Delivery.post_id)
            .join(Account, Account.id == Delivery.account_id)
            .order_by(Delivery.due_at, Delivery.id)
        )
        if campaign_id is not None:
            query = query.where(Post.campaign_id == campaign_id)
        if wanted is not None:
            query = query.where(Delivery.state == wanted)
        rows = session.execute(query).all()
        for delivery, post, account in rows:
            zone = post.campaign.timezone
            result = cell(delivery.url or "")
            if delivery.state in ENDED_BADLY:
                result = cell(delivery.last_error or "", "red")
            table.add_row(
                str(post.id),
                str(delivery.id),
                account.label,
                delivery.state.value,
                local(delivery.due_at, zone),
                str(delivery.attempts),
                result,
            )
        console.print(table)
        console.print(f"{len(rows)} deliveries")


def _state(value: str | None) -> DeliveryState | None:
    if value is None:
        return None
    try:
        return DeliveryState(value)
    except ValueError:
        raise InvalidInput(
            "state", value, "is not one of " + ", ".join(s.value for s in DeliveryState)
        ) from None


@schedule_app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV file.", exists=True, dir_okay=False)],
    draft: Annotated[bool, typer.Option(help="Import as drafts to approve later.")] = False,
) -> None:
    """Import a schedule from CSV: all rows or none.

    Columns: campaign, at, accounts (a;b), text; optional title, media, text@PLATFORM,
    title@PLATFORM, digest@PLATFORM.

    Example: [bold]publicist schedule import week.csv[/]
    """
    text = decode_csv(file.read_bytes())
    with database() as session:
        imported = import_schedule(
            session, lines=io.StringIO(text, newline=""), now=now(), approve=not draft
        )
        console.print(
            f"imported {len(imported.post_ids)} posts ({imported.deliveries} deliveries"
            f"{', drafts' if draft else ' scheduled'})"
        )
