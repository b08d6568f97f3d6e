"""``publicist inbox`` and ``publicist delivery``: what needs a person, and the actions on one
delivery (the same services as the workspace's inbox and ``/api/deliveries``)."""

from __future__ import annotations

from typing import Annotated

import typer

from campaigns.delivery_actions import (
    cancel_delivery,
    confirm_delivery,
    republish_delivery,
    reschedule_delivery,
    retry_delivery,
)
from campaigns.models import Delivery
from campaigns.queries import Windows, inbox
from campaigns.reasons import PLAIN
from publicist.cli.common import cell, console, database, id_parser, local, now, safe
from publicist.core.settings import get_settings

app = typer.Typer(help="Act on one delivery that needs a person.", no_args_is_help=True)

DeliveryId = Annotated[int, typer.Argument(help="Delivery id.", parser=id_parser("delivery"))]


def _said(delivery: Delivery, what: str) -> None:
    console.print(f"delivery {delivery.id} to {safe(delivery.account.label)}: {what}")


COMMANDS = {
    "retry": "publicist delivery retry {id}",
    "reschedule": 'publicist delivery reschedule {id} --at "YYYY-MM-DD HH:MM"',
    "cancel": "publicist delivery cancel {id}",
    "confirm": "publicist delivery confirm {id} --url URL",
    "republish": "publicist delivery republish {id}",
}
POST_COMMANDS = {
    "reschedule": 'publicist post reschedule {id} --at "YYYY-MM-DD HH:MM"',
    "cancel": "publicist post cancel {id}",
}


def show_inbox(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 200,
) -> None:
    """What needs a person: failed, unknown, missed, stuck and rate-limited deliveries and
    expired posts, newest first, with the reason in plain words and the commands that act.

    Example: [bold]publicist inbox[/]
    """
    with database() as session:
        items = inbox(
            session, now=now(), windows=Windows.from_settings(get_settings()), limit=limit
        )
        for item in items:
            head = (
                f"delivery {item.delivery_id} (post {item.post_id})"
                if item.delivery_id is not None
                else f"post {item.post_id}"
            )
            where = f" · {safe(item.account)}" if item.account else ""
            console.print(
                f"[bold]{head}[/]{where} · {item.state} · {local(item.due_at, item.timezone)}"
                f" · {safe(item.campaign)}",
                highlight=False,
            )
            console.print(cell(f"  why: {PLAIN[item.reason]}", "red"))
            if item.detail:
                console.print(cell(f"  platform said: {item.detail}"))
            commands = POST_COMMANDS if item.delivery_id is None else COMMANDS
            key = item.delivery_id if item.delivery_id is not None else item.post_id
            for action in item.actions:
                console.print(cell(f"  {commands[action].format(id=key)}", "dim"))
        console.print(f"{len(items)} items need a person")


@app.command("retry")
def retry(delivery_id: DeliveryId) -> None:
    """Try a failed, missed or waiting delivery again, now.

    Example: [bold]publicist delivery retry 42[/]
    """
    with database() as session:
        _said(retry_delivery(session, delivery_id=delivery_id, now=now()), "scheduled again")


@app.command("reschedule")
def reschedule(
    delivery_id: DeliveryId,
    at: Annotated[
        str,
        typer.Option(help="'YYYY-MM-DD HH:MM' in the campaign's zone, or with an offset."),
    ],
) -> None:
    """Publish a failed, missed or waiting delivery at another time.

    Example: [bold]publicist delivery reschedule 42 --at "2026-12-01 09:30"[/]
    """
    with database() as session:
        delivery = reschedule_delivery(session, delivery_id=delivery_id, at=at, now=now())
        _said(delivery, f"scheduled at {local(delivery.due_at, delivery.post.campaign.timezone)}")


@app.command("cancel")
def cancel(delivery_id: DeliveryId) -> None:
    """Give up on one delivery (the post's others stay as they are).

    Example: [bold]publicist delivery cancel 42[/]
    """
    with database() as session:
        _said(cancel_delivery(session, delivery_id=delivery_id, now=now()), "cancelled")


@app.command("confirm")
def confirm(
    delivery_id: DeliveryId,
    url: Annotated[str, typer.Option(help="Where the post is live (http or https).")],
) -> None:
    """Record a delivery whose outcome was lost as published at URL, after checking the
    account yourself (audited).

    Example: [bold]publicist delivery confirm 42 --url https://x.com/IPRinCN/status/1[/]
    """
    with database() as session:
        delivery = confirm_delivery(session, delivery_id=delivery_id, url=url, now=now())
        _said(delivery, f"published at {safe(delivery.url)}")


@app.command("republish")
def republish(
    delivery_id: DeliveryId,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask: I accept it may appear twice.")
    ] = False,
) -> None:
    """Publish a delivery whose outcome was lost again, now. It may already be live: then it
    appears twice (check the account first, and use 'delivery confirm' if it is there).

    Example: [bold]publicist delivery republish 42[/]
    """
    if not yes:
        typer.confirm(
            f"Delivery {delivery_id} may already be live; publishing again may post it twice. "
            "Publish again?",
            abort=True,
        )
    with database() as session:
        _said(republish_delivery(session, delivery_id=delivery_id, now=now()), "publishing again")
