"""Weibo's text rules for ``statuses/share``: length in 汉字 units, links, topics, safe domains.

The connector validates with these before sending; the Weibo simulator has its own
implementation (``simulators/weibo/text.py``) so a bug here is caught there. Weibo documents
only "at most 140 汉字"; how other characters count is observed behaviour, so every weight is
a field of :class:`WeiboTextRules` and can be changed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

# Links end at the first character that cannot appear in a URL, so a link written straight
# into Chinese text ("详见https://a.cn/x。欢迎") stops before the full-width punctuation.
URL_PATTERN = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
# share.json refuses "#话题词#" topics; a '#' inside a link (a URL fragment) is not a topic.
TOPIC_PATTERN = re.compile(r"#[^#\r\n]+#")


@dataclass(frozen=True)
class WeiboTextRules:
    """How Weibo measures a status, in half-units so that ½-weights stay integers.

    Defaults follow observed behaviour: U+0000-U+00FF (ASCII, Latin-1) weigh ½, the rest of
    the Basic Multilingual Plane (汉字, full-width punctuation) 1, characters beyond it (most
    emoji) 2, and each link 10, because Weibo replaces it with a 20-character t.cn link.
    The total is rounded up to whole units and compared with ``limit``.
    """

    limit: int = 140
    url_half_units: int = 20
    narrow_max_codepoint: int = 0xFF
    narrow_half_units: int = 1
    wide_half_units: int = 2
    astral_half_units: int = 4

    def half_units(self, text: str) -> int:
        text = unicodedata.normalize("NFC", text)
        links = URL_PATTERN.findall(text)
        rest = URL_PATTERN.sub("", text)
        total = len(links) * self.url_half_units
        for char in rest:
            point = ord(char)
            if point <= self.narrow_max_codepoint:
                total += self.narrow_half_units
            elif point <= 0xFFFF:
                total += self.wide_half_units
            else:
                total += self.astral_half_units
        return total

    def length(self, text: str) -> int:
        """The length Weibo shows, in 汉字 units (half-units rounded up)."""
        return -(-self.half_units(text) // 2)

    def too_long(self, text: str) -> bool:
        return self.length(text) > self.limit


def links(text: str) -> list[str]:
    return URL_PATTERN.findall(unicodedata.normalize("NFC", text))


def topics(text: str) -> list[str]:
    """``#话题#`` topics in ``text``, ignoring '#' inside links."""
    return TOPIC_PATTERN.findall(URL_PATTERN.sub(" ", text))


def link_host(url: str) -> str:
    try:
        host = urlsplit(url).hostname
    except ValueError:  # a malformed port or bracketed host
        return ""
    return (host or "").lower().rstrip(".")


def on_safe_domain(url: str, safe_domains: list[str]) -> bool:
    """Whether ``url``'s host is one of the app's safe domains (安全域名) or below one."""
    host = link_host(url)
    for domain in safe_domains:
        domain = domain.strip().lower().lstrip(".").rstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def parse_domains(value: str | None) -> list[str]:
    """A comma- or space-separated list of safe domains, as kept in ``credentials.extra``."""
    return [part for part in re.split(r"[,\s]+", value or "") if part]
