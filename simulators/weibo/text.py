"""Weibo's length rule for ``statuses/share``, implemented here again so the simulator can judge.

Written apart from the connector's ``connectors/weibo_text.py`` so a weighting bug there meets
a simulator that refuses what Weibo refuses. Weibo's API page for ``statuses/share`` says only
"不超过140个汉字"; the rest is observed behaviour (docs/platforms/weibo.md): a character up to
U+00FF counts half a 汉字, any other BMP character one, a character beyond the BMP (most emoji)
two, and every link 10 (it is replaced by a 20-character t.cn link). Each weight is a knob
(``text_rules``) so a test can play a Weibo that counts otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

# A link runs until the first character a URL cannot hold (RFC 3986's unreserved, reserved
# and '%'), so "详见https://a.cn/x。欢迎" ends the link before the full-width stop.
LINK = re.compile(r"https?://[\w\-.~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE | re.ASCII)
# share.json refuses "#话题#" topics; a '#' in a link is a fragment, not a topic.
_TOPIC = re.compile(r"#[^#\r\n]+#")


@dataclass(frozen=True)
class Measure:
    """Weibo's weights, in half 汉字 so every weight is a whole number."""

    limit: int = 140
    url_half_units: int = 20
    narrow_max_codepoint: int = 0xFF
    narrow_half_units: int = 1
    wide_half_units: int = 2
    astral_half_units: int = 4

    def _weight(self, char: str) -> int:
        point = ord(char)
        if point <= self.narrow_max_codepoint:
            return self.narrow_half_units
        return self.wide_half_units if point < 0x10000 else self.astral_half_units

    def half_units(self, text: str) -> int:
        text = unicodedata.normalize("NFC", text)
        link_units = self.url_half_units * len(LINK.findall(text))
        return link_units + sum(self._weight(char) for char in LINK.sub("", text))

    def too_long(self, text: str) -> bool:
        whole = (self.half_units(text) + 1) // 2  # Weibo rounds half a 汉字 up
        return whole > self.limit


def links(text: str) -> list[str]:
    return LINK.findall(unicodedata.normalize("NFC", text))


def has_topic(text: str) -> bool:
    return _TOPIC.search(LINK.sub(" ", text)) is not None


def safe_domains(value: str | None) -> list[str]:
    """The app's 安全域名 as the simulator keeps them: comma- or space-separated."""
    return [d.strip(" .").lower() for d in re.split(r"[,\s]+", value or "") if d.strip(" .")]


def on_safe_domain(url: str, domains: list[str]) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:  # a malformed port or bracketed host is on no domain
        return False
    return any(host == d or host.endswith("." + d) for d in domains)
