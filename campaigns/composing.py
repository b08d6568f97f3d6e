"""What the composer shows while one types: each platform's counters and broken rules, computed
by the same connector rules that refuse a post when it is written (``check_post``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from campaigns.content import content_for, library_of, resolve_content
from campaigns.models import Post
from campaigns.schemas import PostInput
from campaigns.validation import platform_capabilities, platform_violations
from connectors import twitter_text
from connectors.base import Content
from connectors.errors import Violation
from connectors.tiktok import utf16_units
from connectors.wechat import MAX_DIGEST
from connectors.weibo_text import WeiboTextRules

COMPOSER_PLATFORMS = ("twitter", "weibo", "wechat", "tiktok", "douyin")
"""The platforms the composer has a tab for, in the order the tabs are shown."""

# How each platform counts a text, as its own connector module counts it when validating;
# a platform not listed (a third-party connector) counts code points.
_MEASURES: dict[str, Callable[[str], int]] = {
    "twitter": lambda text: twitter_text.parse(text).weighted_length,
    "weibo": WeiboTextRules().length,
    "tiktok": utf16_units,
}
# WeChat's body is measured as HTML (the rule reports it); its counters are title and digest.
_UNCOUNTED_TEXT = frozenset({"wechat"})


@dataclass(frozen=True)
class Counter:
    """One "used/limit" counter: ``field`` is text, title or digest."""

    field: str
    used: int
    limit: int

    @property
    def over(self) -> bool:
        return self.used > self.limit


@dataclass(frozen=True)
class VariantCheck:
    """A platform's variant as it would be published, with its counters and broken rules."""

    platform: str
    content: Content
    counters: list[Counter]
    violations: list[Violation]

    @property
    def ok(self) -> bool:
        return not self.violations


def measure_text(platform: str, text: str) -> int:
    """The length of ``text`` as ``platform`` counts it."""
    measure = _MEASURES.get(platform, len)
    return measure(text)


def counters(platform: str, content: Content) -> list[Counter]:
    caps = platform_capabilities(platform)
    shown: list[Counter] = []
    if platform not in _UNCOUNTED_TEXT:
        shown.append(Counter("text", measure_text(platform, content.text), caps.max_text_length))
    if caps.max_title_length is not None:
        shown.append(Counter("title", len(content.title or ""), caps.max_title_length))
    if platform == "wechat":
        shown.append(Counter("digest", len(content.digest or ""), MAX_DIGEST))
    return shown


def check_variants(
    session: Session, *, data: PostInput, platforms: list[str]
) -> list[VariantCheck]:
    """Each platform's content from ``data`` (its variant over the base), checked; nothing
    is written and nothing raises: a draft is allowed to be wrong while it is typed."""
    library = library_of(session)
    checks = []
    for platform in platforms:
        content = resolve_content(
            text=data.text,
            title=data.title,
            media=data.media,
            variant=data.variants.get(platform),
            marker="",
            library=library,
        )
        checks.append(
            VariantCheck(
                platform=platform,
                content=content,
                counters=counters(platform, content),
                violations=platform_violations(platform, content),
            )
        )
    return checks


def in_tab_order(platforms: set[str]) -> list[str]:
    """The composer's platforms in its tab order, then any others by name."""
    known = [p for p in COMPOSER_PLATFORMS if p in platforms]
    return known + sorted(platforms - set(COMPOSER_PLATFORMS))


def check_stored(session: Session, *, post: Post) -> list[VariantCheck]:
    """The same checks of a stored post, for each platform it is meant for."""
    platforms = in_tab_order({target.account.platform for target in post.targets})
    checks = []
    for platform in platforms:
        content = content_for(post, platform, marker="", session=session)
        checks.append(
            VariantCheck(
                platform=platform,
                content=content,
                counters=counters(platform, content),
                violations=platform_violations(platform, content),
            )
        )
    return checks
