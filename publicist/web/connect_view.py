"""The accounts page's words: platform names, token health and why a connection failed, in
the person's language."""

from __future__ import annotations

from collections.abc import Callable

from campaigns.connections.errors import ConnectionFailed, ConnectionProblem
from campaigns.connections.health import Health, TokenHealth
from publicist.web.templating import local_time

Gettext = Callable[[str], str]

PLATFORM_NAMES = {
    "twitter": "X",
    "tiktok": "TikTok",
    "weibo": "Weibo 微博",
    "douyin": "Douyin 抖音",
    "wechat": "WeChat 微信公众号",
    "mock": "Mock",
}


def health_words(health: TokenHealth, *, gettext: Gettext, zone: str) -> tuple[str, str]:
    """A short status and a sentence saying what it means, with the expiry in ``zone``."""
    when = local_time(health.expires_at, zone) if health.expires_at else ""
    if health.health is Health.REFRESHES:
        note = (
            gettext("Token valid until %(when)s; refreshes automatically.") % {"when": when}
            if when
            else gettext("Refreshes automatically.")
        )
        return gettext("Connected"), note
    if health.health is Health.EXPIRES:
        return gettext("Connected"), gettext(
            "Expires on %(when)s and cannot be refreshed: reconnect before then."
        ) % {"when": when}
    if health.health is Health.EXPIRED:
        return gettext("Expired"), gettext(
            "The token expired on %(when)s: reconnect the account."
        ) % {"when": when}
    if health.health is Health.NEEDS_RECONNECT:
        return gettext("Needs reconnect"), gettext(
            "The platform refused to renew the token: reconnect the account."
        )
    if health.health is Health.DISABLED:
        return gettext("Disabled"), gettext("Nothing is published to it; reconnect to enable it.")
    return gettext("Removed"), ""


def problem_words(error: ConnectionFailed, *, gettext: Gettext) -> str:
    """Why the account was not connected (nothing was saved), and what to do."""
    words = {
        ConnectionProblem.DENIED: gettext(
            "Access was refused on the platform's page, so no account was connected."
        ),
        ConnectionProblem.STATE_UNKNOWN: gettext(
            "This answer does not belong to a connection you started here; nothing was saved. "
            "Start again with Connect."
        ),
        ConnectionProblem.STATE_EXPIRED: gettext(
            "The connection was started more than 10 minutes ago and has lapsed; "
            "start again with Connect."
        ),
        ConnectionProblem.STATE_USED: gettext(
            "This connection was completed already; start again with Connect."
        ),
        ConnectionProblem.NO_CODE: gettext(
            "The platform sent no authorisation code back; start again with Connect."
        ),
        ConnectionProblem.CODE_REFUSED: gettext(
            "The platform refused the authorisation code (expired or used already); "
            "start again with Connect."
        ),
        ConnectionProblem.TOKEN_ENDPOINT: gettext(
            "The platform's token service did not answer properly; try again in a few minutes."
        ),
        ConnectionProblem.APP_REFUSED: gettext(
            "WeChat refused the app ID and AppSecret, or this server's IP address is not on "
            "the account's IP allow-list."
        ),
        ConnectionProblem.OTHER_ACCOUNT: gettext(
            "You authorised a different account than the one being reconnected; sign in to "
            "the right account on the platform and try again."
        ),
    }
    text = words[error.problem]
    if error.detail:
        text += " " + gettext("Platform's answer: %(detail)s") % {"detail": error.detail}
    return text
