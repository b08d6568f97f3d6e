"""Publicist's app on each platform, read from the settings (``PUBLICIST_X_CLIENT_ID``, ...)."""

from __future__ import annotations

from campaigns.connections.flows import OAuthApp
from publicist.core.errors import InvalidInput
from publicist.core.settings import Settings

SETTING_PREFIX = {"twitter": "x", "tiktok": "tiktok", "weibo": "weibo", "douyin": "douyin"}
"""The platforms connected by a consent page, and their settings' prefix (X keeps its name)."""


def setting_name(platform: str, key: str) -> str:
    return f"PUBLICIST_{SETTING_PREFIX[platform].upper()}_{key.upper()}"


def configured(settings: Settings, platform: str) -> bool:
    prefix = SETTING_PREFIX.get(platform)
    return prefix is not None and bool(getattr(settings, f"{prefix}_client_id"))


def oauth_app(settings: Settings, platform: str) -> OAuthApp:
    """The app for ``platform``; refused, naming the missing setting, when not configured."""
    prefix = SETTING_PREFIX.get(platform)
    if prefix is None:
        raise InvalidInput(
            "platform",
            platform,
            f"is not connected by a consent page (one of {', '.join(SETTING_PREFIX)})",
        )
    client_id = getattr(settings, f"{prefix}_client_id")
    if not client_id:
        raise InvalidInput(
            "platform",
            platform,
            f"has no app configured: set {setting_name(platform, 'client_id')}",
        )
    secret = getattr(settings, f"{prefix}_client_secret")
    return OAuthApp(
        platform=platform,
        client_id=str(client_id),
        client_secret=secret.get_secret_value() if secret is not None else None,
        api_base=getattr(settings, f"{prefix}_api_base"),
        auth_base=getattr(settings, f"{prefix}_auth_base"),
    )
