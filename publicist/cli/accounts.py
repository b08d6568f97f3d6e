"""``publicist account``: connect platform accounts; credentials are stored encrypted."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer
from sqlalchemy import select

from campaigns.accounts import create_account
from campaigns.models import Account
from campaigns.states import AccountStatus
from campaigns.validation import parse_rate_limit
from connectors.base import Credentials
from publicist.cli.common import Table, console, database, local, now, safe, settings
from publicist.core.errors import InvalidInput
from simulators.control import SimulatorControl

app = typer.Typer(help="Platform accounts that posts are published to.", no_args_is_help=True)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            # Not echoed: connector settings are treated as secrets.
            raise InvalidInput(option, "(not shown)", "must look like KEY=VALUE")
        result[key] = value
    return result


@app.command("add")
def add(
    platform: Annotated[
        str, typer.Argument(help="twitter, weibo, wechat, tiktok, douyin, mock, ...")
    ],
    handle: Annotated[str, typer.Argument(help="The account's name on the platform.")],
    token: Annotated[
        str | None,
        typer.Option(help="Access token (asked for at a prompt when not given)."),
    ] = None,
    refresh_token: Annotated[str | None, typer.Option(help="Refresh token, if any.")] = None,
    client_id: Annotated[str | None, typer.Option(help="App key / appid / client key.")] = None,
    client_secret: Annotated[str | None, typer.Option(help="App secret.")] = None,
    user_id: Annotated[str | None, typer.Option(help="Platform user id (uid, open_id).")] = None,
    api_base_url: Annotated[
        str | None,
        typer.Option(help="Send requests here instead of the platform (e.g. a simulator)."),
    ] = None,
    extra: Annotated[
        list[str] | None, typer.Option(help="Connector-specific KEY=VALUE, repeatable.")
    ] = None,
    rate_limit: Annotated[
        str | None,
        typer.Option(help="Override the publishing quota, e.g. 30/3600 (30 posts per hour)."),
    ] = None,
    simulator: Annotated[
        str | None,
        typer.Option(
            help="Root URL of 'publicist simulate': create the account there and publish to it."
        ),
    ] = None,
) -> None:
    """Connect an account.

    Example: [bold]publicist account add twitter @IPRinCN --token XXXX[/]
    """
    requests: int | None = None
    per_seconds: float | None = None
    if rate_limit is not None:
        requests, per_seconds = parse_rate_limit(rate_limit, field="--rate-limit")
    if simulator:
        credentials, api_base_url = _simulated(platform, handle, simulator)
    else:
        if token is None:
            token = typer.prompt("Access token", hide_input=True)
        credentials = Credentials(
            access_token=token,
            refresh_token=refresh_token,
            client_id=client_id,
            client_secret=client_secret,
            user_id=user_id,
            extra=_pairs(extra or [], "extra"),
        )
    config = settings()
    with database() as session:
        account = create_account(
            session,
            platform=platform,
            handle=handle,
            credentials=credentials,
            secret=config.encryption_key(),
            now=now(),
            api_base_url=api_base_url,
            rate_limit_requests=requests,
            rate_limit_per_seconds=per_seconds,
        )
        console.print(f"added account [bold]{safe(account.label)}[/] (id {account.id})")


def _simulated(platform: str, handle: str, root_url: str) -> tuple[Credentials, str]:
    """Provision ``handle`` on a running simulator; returns its credentials and base URL."""
    base_url = f"{root_url.rstrip('/')}/{platform}"
    control = SimulatorControl(base_url)
    try:
        provisioned = control.add_account(handle)
    except httpx.HTTPError as exc:
        raise InvalidInput(
            "simulator", root_url, f"did not provision a {platform} account ({exc})"
        ) from None
    finally:
        control.close()
    return Credentials.from_dict(provisioned), base_url


@app.command("list")
def list_accounts() -> None:
    """List accounts (credentials are never shown).

    Example: [bold]publicist account list[/]
    """
    config = settings()
    with database() as session:
        table = Table("id", "platform", "handle", "endpoint", "token expires", "quota")
        for account in session.scalars(select(Account).order_by(Account.platform, Account.handle)):
            quota = (
                f"{account.rate_limit_requests}/{account.rate_limit_per_seconds:g}s"
                if account.rate_limit_requests and account.rate_limit_per_seconds
                else "platform default"
            )
            table.add_row(
                str(account.id),
                account.platform,
                # Only an account that cannot publish says so (e.g. "(needs reconnect)").
                account.handle
                if account.status is AccountStatus.ACTIVE
                else f"{account.handle} ({account.status.value.replace('_', ' ')})",
                account.api_base_url or "platform API",
                local(account.token_expires_at, config.default_timezone),
                quota,
            )
        console.print(table)
