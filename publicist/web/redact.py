"""Keep secrets out of the access log: the dashboard accepts ``?token=`` once, then a cookie;
a calendar feed's address (``/calendar/feeds/SECRET.ics``) is its only credential; an account
connection's callback (``?code=...&state=...``) carries a one-use authorisation code."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

# A query parameter: a separator (literal or percent-encoded), a name, "=", a value. The
# name is decoded before it is compared, so "%74oken=" or "tok%65n=" (which the server
# reads as "token") are caught too; so is a separator sent encoded, in case anything
# downstream decodes the line once more.
_PARAMETER = re.compile(r"(?i)((?:[?&;]|%3f|%26|%3b)([^=&;?\s\"#]*)=)(?:(?!%26|%3b)[^&;\s\"#])*")
# "code" and "state": an account connection's callback carries a one-use authorisation code.
_SECRET_NAMES = frozenset({"token", "code", "state"})
_FEED = re.compile(r"(?i)(/calendar/feeds/)[^/\s\"?#]+?(\.ics\b|(?=[\s\"?#]))")
_MAX_DECODES = 4


def _decoded(name: str) -> str:
    """``name`` percent-decoded until it stops changing (double encoding included)."""
    for _ in range(_MAX_DECODES):
        decoded = unquote_plus(name)
        if decoded == name:
            break
        name = decoded
    return name.strip().lower()


def _hide(match: re.Match[str]) -> str:
    if _decoded(match.group(2)) in _SECRET_NAMES:
        return match.group(1) + "[redacted]"
    return match.group(0)


def redact(text: str) -> str:
    return _FEED.sub(r"\1[redacted]\2", _PARAMETER.sub(_hide, text))


class RedactTokens(logging.Filter):
    """Rewrites uvicorn access-log records whose request line carries a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        return True
