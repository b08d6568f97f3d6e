"""Entry point: the Typer app, its sub-commands, and the one place errors become exit codes."""

from __future__ import annotations

import logging

import typer

from publicist.cli import (
    accounts,
    api,
    audit,
    calendar,
    campaigns,
    connect,  # noqa: F401 - adds account connect, disable and remove
    deliveries,
    media,
    notify,
    people,
    posts,
    reports,
    runtime,
    series,
    simulate,
)
from publicist.cli.common import fail
from publicist.core.errors import PublicistError

app = typer.Typer(
    name="publicist",
    help="Plan publicity campaigns, publish on time and exactly once, and report engagement.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.add_typer(accounts.app, name="account")
app.add_typer(campaigns.app, name="campaign")
app.add_typer(posts.app, name="post")
app.add_typer(media.app, name="media")
app.add_typer(posts.schedule_app, name="schedule")
app.add_typer(runtime.db_app, name="db")
app.add_typer(api.token_app, name="token")
app.add_typer(people.app, name="user")
app.add_typer(calendar.app, name="calendar")
app.add_typer(audit.app, name="audit")
app.add_typer(notify.app, name="notify")
app.add_typer(notify.webhook_app, name="webhook")
app.add_typer(deliveries.app, name="delivery")
app.add_typer(series.app, name="series")
app.command("inbox")(deliveries.show_inbox)
app.command("report")(reports.report)
app.command("connectors")(runtime.connectors)
app.command("health")(runtime.health)
app.command("worker")(runtime.worker)
app.command("beat")(runtime.beat)
app.command("run")(runtime.run)
app.command("api")(api.serve)
app.command("demo")(runtime.demo)
app.command("simulate")(simulate.simulate)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except PublicistError as error:
        fail(str(error))
