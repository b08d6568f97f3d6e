"""``publicist api`` serves the HTTP API and dashboard; ``publicist token`` manages its tokens."""

from __future__ import annotations

import copy
from typing import Annotated, Any

import typer

from campaigns.people.queries import get_person
from publicist.cli.common import (
    Table,
    console,
    database,
    err_console,
    id_parser,
    local,
    now,
    safe,
    settings,
)
from publicist.web.tokens import Role, create_token, list_tokens, revoke_token

token_app = typer.Typer(help="API tokens (stored hashed; each shown once).", no_args_is_help=True)


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with tokens redacted from access-log lines (``?token=``)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "publicist.web.redact.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Comma-separated addresses of the reverse proxies whose X-Forwarded-Proto/For"
            " headers are trusted (so session cookies are marked Secure behind https).",
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the dashboard page (/dashboard).

    Example: [bold]publicist api --host 0.0.0.0 --port 8000[/]
    """
    import uvicorn

    with database():
        pass  # create the schema on an empty database before serving
    uvicorn.run(
        "publicist.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_config=_log_config(),
        server_header=False,
    )


@token_app.command("create")
def create(
    role: Annotated[
        Role, typer.Option(help="viewer (reports only), editor (writes), approver, admin.")
    ],
    name: Annotated[
        str | None, typer.Option(help="Who or what uses it, e.g. 'wall display'.")
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(
            help="E-mail of the person it acts for: never more rights than theirs, "
            "and it stops working when they are disabled."
        ),
    ] = None,
) -> None:
    """Create a token and print it once on standard output (it is stored only as a hash).

    Example: [bold]publicist token create --role viewer --name "wall display"[/]
    """
    with database() as session:
        person = get_person(session, email=owner) if owner is not None else None
        issued = create_token(
            session, role=role, name=name or f"{role.value} token", now=now(), owner=person
        )
        token_id = issued.token.id
        secret = issued.secret
    err_console.print(
        f"token {token_id} ({role.value}) created; copy it now, it is not shown again:"
    )
    typer.echo(secret)


@token_app.command("list")
def list_all() -> None:
    """List tokens with their role and last use (never the tokens themselves).

    Example: [bold]publicist token list[/]
    """
    zone = settings().default_timezone
    with database() as session:
        table = Table("id", "name", "role", "owner", "created", "last used", "revoked")
        for token in list_tokens(session):
            table.add_row(
                str(token.id),
                token.name,
                token.role,
                token.owner.email if token.owner is not None else "-",
                local(token.created_at, zone),
                local(token.last_used_at, zone),
                local(token.revoked_at, zone),
            )
        console.print(table)


@token_app.command("revoke")
def revoke(
    token_id: Annotated[
        int, typer.Argument(help="Token id (see 'token list').", parser=id_parser("token"))
    ],
) -> None:
    """Revoke a token; requests that carry it are refused from now on.

    Example: [bold]publicist token revoke 3[/]
    """
    with database() as session:
        token = revoke_token(session, token_id=token_id, now=now())
        console.print(f"token {token.id} ({safe(token.name)}) revoked")
