"""What each platform gives, read from its connector's capabilities (the registry's cached
lookup)."""

from __future__ import annotations

from connectors import registry
from connectors.base import Capabilities
from connectors.errors import ConnectorError
from publicist.core.errors import PublicistError


def capabilities_of(platform: str) -> Capabilities | None:
    """``None`` when no installed connector serves ``platform`` any more."""
    try:
        return registry.load(platform).capabilities
    except (PublicistError, ConnectorError):
        return None


def gives(platform: str, counter: str, *, reported: bool) -> bool:
    """Whether ``platform`` gives ``counter``: views unless its connector says otherwise;
    likes, comments and shares when they count towards its interactions. For a connector
    no longer installed, whether any post ``reported`` the counter decides."""
    capabilities = capabilities_of(platform)
    if capabilities is None:
        return reported
    if counter == "views":
        return capabilities.views_available
    return counter in capabilities.interaction_counters
