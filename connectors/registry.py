"""Which connectors exist: every one, built-in or third-party, through its entry point.

A package declares ``[project.entry-points."publicist.connectors"]
slug = "package.module:ConnectorClass"`` (Publicist's own connectors are declared the same
way in its pyproject.toml); that line is a connector's only registration. Each is loaded
inside its own error handling, so one broken plugin cannot stop the others; ``load_all()``
tells what failed and why. :func:`load` is the one lookup the application uses; it is cached,
because scanning the installed entry points costs milliseconds on every call.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from importlib.metadata import entry_points
from typing import cast

from connectors.base import Connector
from publicist.core.errors import PublicistError

ENTRY_POINT_GROUP = "publicist.connectors"


class UnknownPlatform(PublicistError):
    def __init__(self, slug: str, known: list[str]) -> None:
        self.slug = slug
        close = difflib.get_close_matches(slug, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        super().__init__(
            f"platform: {slug!r} is not an installed connector (installed: "
            f"{', '.join(sorted(known))}){hint}"
        )


class ConnectorLoadError(PublicistError):
    pass


def _declared() -> dict[str, str]:
    return {entry.name: entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Slugs of every declared connector (not yet imported)."""
    return sorted(_declared())


def _import(path: str) -> type[Connector]:
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    target = getattr(module, attribute)
    if not isinstance(target, type) or not hasattr(target, "capabilities"):
        raise TypeError(f"{path} is not a connector class (no 'capabilities')")
    return cast(type[Connector], target)


@functools.cache
def load(slug: str) -> type[Connector]:
    """The connector class for ``slug``, looked up once per process; unknown slugs get a
    did-you-mean error (errors are not cached, so a plugin installed later is found)."""
    declared = _declared()
    path = declared.get(slug)
    if path is None:
        raise UnknownPlatform(slug, list(declared))
    try:
        return _import(path)
    except Exception as exc:
        raise ConnectorLoadError(f"connector {slug!r} ({path}) failed to load: {exc}") from exc


def load_all() -> tuple[dict[str, type[Connector]], dict[str, str]]:
    """Every loadable connector, and for each broken one the reason it failed."""
    loaded: dict[str, type[Connector]] = {}
    broken: dict[str, str] = {}
    for slug, path in sorted(_declared().items()):
        try:
            loaded[slug] = _import(path)
        except Exception as exc:  # a broken plugin must not hide the others
            broken[slug] = f"{type(exc).__name__}: {exc}"
    return loaded, broken
