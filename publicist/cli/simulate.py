"""``publicist simulate``: the four platform simulators on 127.0.0.1, for trying things out."""

from __future__ import annotations

from typing import Annotated

import typer

from publicist.cli.common import console
from publicist.core.errors import InvalidInput
from simulators.server import PLATFORM_MODULES, serve


def simulate(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8900,
    platform: Annotated[
        list[str] | None,
        typer.Option(help="Serve only these platforms (repeatable); default all four."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for engagement and fault draws.")] = 1,
) -> None:
    """Serve the X, Weibo, WeChat and TikTok simulators until interrupted.

    Each platform answers under its own prefix, e.g. http://127.0.0.1:8900/twitter, and is
    steered through /<platform>/__sim (clock, accounts, faults, inspection).

    Example: [bold]publicist simulate --port 8900[/], then
    [bold]publicist account add twitter @me --simulator http://127.0.0.1:8900[/]
    """
    chosen = platform or list(PLATFORM_MODULES)
    for name in chosen:
        if name not in PLATFORM_MODULES:
            known = ", ".join(PLATFORM_MODULES)
            raise InvalidInput("platform", name, f"has no simulator ({known})")
    for name in chosen:
        console.print(f"{name:8} http://127.0.0.1:{port}/{name}   control: /{name}/__sim")
    serve(chosen, port=port, seed=seed)
