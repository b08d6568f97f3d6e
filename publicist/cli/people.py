"""``publicist user``: add people, list them, disable them, reset their passwords."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from campaigns.people.passwords import generate_password
from campaigns.people.queries import list_people
from campaigns.people.roles import Role
from campaigns.people.services import add_person, disable_person, reset_password
from publicist.cli.common import Table, console, database, err_console, local, now, safe, settings

app = typer.Typer(help="People who sign in to the workspace.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input "
        "(default: generate one and print it once).",
    ),
]


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set, and whether it was generated (and so must be shown once)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return generate_password(), True


def _show_generated(email: str, password: str) -> None:
    err_console.print(f"password for {safe(email)}; copy it now, it is not shown again:")
    typer.echo(password)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The person's name, as shown in the workspace.")],
    email: Annotated[str, typer.Argument(help="E-mail address; signs them in (any case).")],
    role: Annotated[
        Role,
        typer.Option(
            help="viewer (reads), editor (writes drafts), approver (approves, schedules), "
            "admin (also people, accounts, tokens)."
        ),
    ],
    password_stdin: PasswordStdin = False,
    language: Annotated[
        str | None, typer.Option(help="zh_CN or en (default: the browser's language).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone, e.g. Asia/Shanghai.")
    ] = None,
) -> None:
    """Add a person who signs in with their e-mail and a password.

    Example: [bold]publicist user add "Li Na" li.na@example.org --role editor[/]
    """
    password, generated = _password(password_stdin)
    with database() as session:
        person = add_person(
            session,
            name=name,
            email=email,
            role=role,
            password=password,
            language=language,
            timezone=timezone,
            now=now(),
        )
        shown = f"{person.name} <{person.email}> added as {person.role}"
        address = person.email
    err_console.print(shown)
    if generated:
        _show_generated(address, password)


@app.command("list")
def list_all() -> None:
    """List people with their role, language and whether they are disabled.

    Example: [bold]publicist user list[/]
    """
    zone = settings().default_timezone
    with database() as session:
        table = Table("id", "name", "e-mail", "role", "language", "time zone", "status", "added")
        for person in list_people(session):
            table.add_row(
                str(person.id),
                person.name,
                person.email,
                person.role,
                person.language or "browser's",
                person.timezone or "-",
                "disabled" if person.disabled else "active",
                local(person.created_at, zone),
            )
        console.print(table)


@app.command("disable")
def disable(email: Annotated[str, typer.Argument(help="The person's e-mail address.")]) -> None:
    """Stop a person signing in; their sessions and API tokens stop working at once.

    Example: [bold]publicist user disable li.na@example.org[/]
    """
    with database() as session:
        person = disable_person(session, email=email, now=now())
        console.print(f"{safe(person.email)} disabled")


@app.command("reset-password")
def reset(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password (generated and printed once unless --password-stdin).

    Example: [bold]publicist user reset-password li.na@example.org[/]
    """
    password, generated = _password(password_stdin)
    with database() as session:
        person = reset_password(session, email=email, password=password, now=now())
        address = person.email
    err_console.print(f"password of {safe(address)} reset")
    if generated:
        _show_generated(address, password)
