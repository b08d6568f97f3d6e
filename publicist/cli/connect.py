"""``publicist account connect|disable|remove``: connect an account through the platform's
consent page (or WeChat's app id and secret), and retire accounts after listing the
deliveries that will be cancelled."""

from __future__ import annotations

from typing import Annotated

import typer

from campaigns.accounts import find_account
from campaigns.connections.apps import oauth_app
from campaigns.connections.errors import ConnectionFailed
from campaigns.connections.flows import (
    complete_connection,
    connect_with_app_secret,
    start_connection,
)
from campaigns.connections.lifecycle import disable_account, remove_account
from campaigns.connections.queries import future_deliveries
from publicist.cli.accounts import app
from publicist.cli.callback import CallbackListener
from publicist.cli.common import Table, console, database, fail, local, now, safe, settings

HINTS = {
    "denied": "access was refused on the platform's page; nothing was saved",
    "state_unknown": "the answer does not belong to this connection; nothing was saved",
    "state_expired": "the connection lapsed (10 minutes); run the command again",
    "state_used": "this connection was completed already",
    "no_code": "the platform sent no authorisation code back",
    "code_refused": "the platform refused the authorisation code (expired or used already)",
    "token_endpoint": "the platform's token service failed; try again in a few minutes",
    "app_refused": "WeChat refused the app id and AppSecret, or this server's IP address is "
    "not on the account's IP allow-list (mp.weixin.qq.com: Settings and Development, Basic "
    "Configuration)",
    "other_account": "a different account than the one being reconnected was authorised",
}


def _failed(error: ConnectionFailed) -> None:
    detail = f" ({safe(error.detail)})" if error.detail else ""
    fail(f"the account was not connected: {HINTS[error.problem.value]}{detail}")


@app.command("connect")
def connect(
    platform: Annotated[str, typer.Argument(help="twitter, tiktok, weibo, douyin or wechat.")],
    account: Annotated[
        str | None, typer.Option(help="Reconnect this account (id or platform:handle).")
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=5, max=3600, help="Seconds to wait for the browser to return.")
    ] = 300.0,
    port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="Local port of the callback (0: any free one; use the port "
            "registered with the platform when it demands an exact redirect address).",
        ),
    ] = 0,
    handle: Annotated[
        str | None, typer.Option(help="WeChat: the account's name as staff should see it.")
    ] = None,
    app_id: Annotated[str | None, typer.Option(help="WeChat: the AppID (开发者ID).")] = None,
) -> None:
    """Connect an account by the platform's own consent page.

    Prints the address to open in a browser, waits on 127.0.0.1 for the platform to send the
    browser back, then exchanges the code and stores the tokens encrypted. WeChat has no
    consent page: give --handle and --app-id; the AppSecret is asked for at a prompt.
    """
    config = settings()
    secret = config.encryption_key()
    with database() as session:
        account_id = find_account(session, account).id if account else None
    if platform == "wechat":
        _connect_wechat(handle, app_id, account_id, api_base=config.wechat_api_base)
        return
    app_config = oauth_app(config, platform)
    with CallbackListener(port) as listener:
        with database() as session:
            started = start_connection(
                session,
                app=app_config,
                redirect_uri=listener.redirect_uri,
                secret=secret,
                now=now(),
                account_id=account_id,
            )
        console.print("Open this address in a browser, sign in and allow Publicist:")
        console.print(started.authorize_url, soft_wrap=True, markup=False, highlight=False)
        console.print(f"[dim]waiting up to {timeout:g} s on {listener.redirect_uri} ...[/]")
        answer = listener.wait(timeout)
    if answer is None:
        fail(f"no answer from the browser within {timeout:g} s; the account was not connected")
    try:
        with database() as session:
            done = complete_connection(
                session,
                app=app_config,
                state=answer.get("state"),
                code=answer.get("code"),
                error=answer.get("error"),
                secret=secret,
                now=now(),
            )
    except ConnectionFailed as error:
        _failed(error)
    verb = "reconnected" if done.reconnected else "connected"
    console.print(f"{verb} account [bold]{safe(done.label)}[/] (id {done.account_id})")


def _connect_wechat(
    handle: str | None, app_id: str | None, account_id: int | None, *, api_base: str | None
) -> None:
    if not handle or not app_id:
        fail("wechat: give --handle and --app-id (the AppSecret is asked for at a prompt)")
    console.print(
        "WeChat answers only servers on the account's IP allow-list (IP白名单): add this "
        "server's outgoing IP address first (mp.weixin.qq.com: Settings and Development, "
        "Basic Configuration)."
    )
    app_secret = typer.prompt("AppSecret", hide_input=True)
    config = settings()
    try:
        with database() as session:
            done = connect_with_app_secret(
                session,
                platform="wechat",
                handle=handle,
                app_id=app_id,
                app_secret=app_secret,
                api_base=api_base,
                secret=config.encryption_key(),
                now=now(),
                account_id=account_id,
            )
    except ConnectionFailed as error:
        _failed(error)
    verb = "reconnected" if done.reconnected else "connected"
    console.print(f"{verb} account [bold]{safe(done.label)}[/] (id {done.account_id})")


def _retire(reference: str, *, action: str, yes: bool) -> None:
    config = settings()
    zone = config.default_timezone
    with database() as session:
        account = find_account(session, reference)
        waiting = future_deliveries(session, account_id=account.id)
        label, account_id = account.label, account.id
    if waiting:
        table = Table(title=f"{len(waiting)} future deliveries of {safe(label)} to cancel")
        table.add_column("delivery")
        table.add_column("post")
        table.add_column("due")
        for item in waiting:
            table.add_row(
                str(item.delivery_id),
                f"#{item.post_id} {safe(item.excerpt)}",
                local(item.due_at, zone),
            )
        console.print(table)
    else:
        console.print(f"no future deliveries of {safe(label)} are waiting")
    if not yes and not typer.confirm(f"{action.capitalize()} {label} and cancel these?"):
        fail("nothing was changed")
    with database() as session:
        if action == "disable":
            cancelled = disable_account(session, account_id=account_id, now=now())
        else:
            cancelled = remove_account(
                session, account_id=account_id, secret=config.encryption_key(), now=now()
            )
    console.print(
        f"{action}d account [bold]{safe(label)}[/]; {len(cancelled)} deliveries cancelled"
        + ("; its history stays in reports" if action == "remove" else "")
    )


@app.command("disable")
def disable(
    account: Annotated[str, typer.Argument(help="Id or platform:handle.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Stop publishing to an account; lists and cancels its future deliveries."""
    _retire(account, action="disable", yes=yes)


@app.command("remove")
def remove(
    account: Annotated[str, typer.Argument(help="Id or platform:handle.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove an account (soft: published history and metrics stay in reports); lists and
    cancels its future deliveries and erases its stored tokens."""
    _retire(account, action="remove", yes=yes)
