"""``publicist media``: add files to the media library and list it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from campaigns.media import add_media_file, display_name, list_media
from publicist.cli.common import console, database, local, now, settings
from publicist.core.errors import InvalidInput

app = typer.Typer(
    help="The media library: pictures and videos posts refer to.", no_args_is_help=True
)


@app.command("add")
def add(
    file: Annotated[str, typer.Argument(help="A JPEG, PNG, WebP, GIF, MP4 or MOV file.")],
    name: Annotated[
        str | None, typer.Option(help="Name shown to people (default: the file's name).")
    ] = None,
) -> None:
    """Copy a file into the library and print its id (the same bytes twice: the same id).

    Example: [bold]publicist media add poster.jpg --name "IP Week poster"[/], then
    [bold]publicist post add ... --media image:ID[/]
    """
    path = Path(file)
    if not path.is_file():
        # Only the file's own name: the operator knows where they looked.
        raise InvalidInput("FILE", display_name(file), "is not a readable file")
    with database() as session:
        try:
            item = add_media_file(
                session, path=path, media_dir=settings().media_dir, name=name, now=now()
            )
        except OSError as exc:
            raise InvalidInput(
                "FILE", display_name(file), f"cannot be read ({exc.strerror})"
            ) from None
        console.print(
            f"media {item.id}: {item.kind} {item.content_type}, {item.size_bytes} bytes "
            f"({escape(item.name)})",
            highlight=False,
        )


@app.command("list")
def list_items() -> None:
    """Every item of the library with its id, kind, type and size.

    Example: [bold]publicist media list[/]
    """
    zone = settings().default_timezone
    with database() as session:
        table = Table("id", "kind", "type", "bytes", "name", "added")
        for item in list_media(session):
            table.add_row(
                str(item.id),
                item.kind,
                item.content_type,
                str(item.size_bytes),
                escape(item.name),
                local(item.created_at, zone),
            )
        console.print(table)
