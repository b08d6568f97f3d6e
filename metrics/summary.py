"""The period report's one-paragraph summary, in the annual report's own words.

"From April to December, @IPRinCN published 80 articles, which drew more than 2 million
views and 88,000 interactions." / "4月至12月，@IPRinCN共发布80篇文章，获得超过200万次浏览和
8.8万次互动。" Figures are rounded down from the real totals by ``approximate`` alone, so
"more than" is always true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

LANGUAGES = ("en", "zh_CN")

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class Approximation:
    """A total rounded down to two significant figures (totals under 10,000 are exact)."""

    value: int
    exact: bool


def approximate(total: int) -> Approximation:
    """Round ``total`` down to two significant figures: 2,134,567 → 2,100,000."""
    if total < 10_000:
        return Approximation(total, True)
    step = 10 ** (len(str(total)) - 2)
    value = total // step * step
    return Approximation(value, value == total)


def _decimal(value: int, unit: int) -> str:
    return f"{value / unit:.1f}".rstrip("0").rstrip(".")


def say_number(value: int, language: str) -> str:
    """``value`` as a reader says it: "2.1 million", "88,000"; "210万", "8.8万", "1.2亿"."""
    if language == "zh_CN":
        if value >= 100_000_000:
            return _decimal(value, 100_000_000) + "亿"
        if value >= 10_000:
            return _decimal(value, 10_000) + "万"
        return str(value)
    if value >= 1_000_000_000:
        return _decimal(value, 1_000_000_000) + " billion"
    if value >= 1_000_000:
        return _decimal(value, 1_000_000) + " million"
    return f"{value:,}"


@dataclass(frozen=True)
class SummaryFacts:
    """What the sentence says. ``subject`` is an account's handle, a campaign's name, or
    ``None`` for every account (then ``accounts`` counts them)."""

    start: date
    end: date
    subject_kind: str  # "account", "campaign" or "all"
    subject: str
    accounts: int
    published: int
    views: int | None
    views_platforms: int
    platforms: int
    interactions: int


def _whole_months(start: date, end: date) -> bool:
    return start.day == 1 and (end + timedelta(days=1)).day == 1


def period_phrase(start: date, end: date, language: str) -> str:
    """ "From April to December" / "4月至12月"; the year only when the period spans two."""
    zh = language == "zh_CN"
    same_year = start.year == end.year
    if _whole_months(start, end):
        if (start.year, start.month) == (end.year, end.month):
            return (
                f"{start.year}年{start.month}月"
                if zh
                else f"In {_MONTHS[start.month - 1]} {start.year}"
            )
        if zh:
            if same_year:
                return f"{start.month}月至{end.month}月"
            return f"{start.year}年{start.month}月至{end.year}年{end.month}月"
        if same_year:
            return f"From {_MONTHS[start.month - 1]} to {_MONTHS[end.month - 1]}"
        return (
            f"From {_MONTHS[start.month - 1]} {start.year} to {_MONTHS[end.month - 1]} {end.year}"
        )
    if start == end:
        return (
            f"{start.year}年{start.month}月{start.day}日"
            if zh
            else f"On {start.day} {_MONTHS[start.month - 1]} {start.year}"
        )
    if zh:
        if same_year:
            return f"{start.month}月{start.day}日至{end.month}月{end.day}日"
        return f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"
    if same_year:
        return f"From {start.day} {_MONTHS[start.month - 1]} to {end.day} {_MONTHS[end.month - 1]}"
    return (
        f"From {start.day} {_MONTHS[start.month - 1]} {start.year} "
        f"to {end.day} {_MONTHS[end.month - 1]} {end.year}"
    )


def _subject(facts: SummaryFacts, language: str) -> str:
    if language == "zh_CN":
        if facts.subject_kind == "campaign":
            return f"“{facts.subject}”活动"
        if facts.subject_kind == "all":
            return f"{facts.accounts}个账号"
        return facts.subject
    if facts.subject_kind == "campaign":
        return f'the campaign "{facts.subject}"'
    if facts.subject_kind == "all":
        return f"{facts.accounts} account" + ("" if facts.accounts == 1 else "s")
    return facts.subject


def summary_sentence(facts: SummaryFacts, *, language: str) -> str:
    """One paragraph in the seed sentence's form, in English (``en``) or Chinese (``zh_CN``)."""
    zh = language == "zh_CN"
    when = period_phrase(facts.start, facts.end, language)
    who = _subject(facts, language)
    if facts.published == 0 and facts.subject_kind == "all":
        return f"{when}，未发布文章。" if zh else f"{when}, no articles were published."
    if facts.published == 0:
        return f"{when}，{who}未发布文章。" if zh else f"{when}, {who} published no articles."
    posts = (
        f"{facts.published}篇文章"
        if zh
        else f"{facts.published} article" + ("" if facts.published == 1 else "s")
    )
    interactions = approximate(facts.interactions)
    said_interactions = say_number(interactions.value, language)
    if facts.views is None:
        if zh:
            return (
                f"{when}，{who}共发布{posts}，"
                f"获得{_more(interactions, zh)}{said_interactions}次互动（平台不提供浏览量）。"
            )
        return (
            f"{when}, {who} published {posts}, which drew {_more(interactions, zh)}"
            f"{said_interactions} interactions (the platforms give no views)."
        )
    views = approximate(facts.views)
    said_views = say_number(views.value, language)
    partial = facts.views_platforms < facts.platforms
    if zh:
        coverage = f"（{facts.platforms}个平台中的{facts.views_platforms}个）" if partial else ""
        views_part = f"{_more(views, zh)}{said_views}次浏览{coverage}"
        if views.exact or interactions.exact:
            # Each figure carries its own qualifier; an exact one first keeps "超过" off it.
            interactions_part = f"{_more(interactions, zh)}{said_interactions}次互动"
            first, second = (
                (interactions_part, views_part)
                if interactions.exact and not views.exact
                else (views_part, interactions_part)
            )
            return f"{when}，{who}共发布{posts}，获得{first}和{second}。"
        # Both rounded: one "超过" covers both, as in the seed.
        return f"{when}，{who}共发布{posts}，获得{views_part}和{said_interactions}次互动。"
    coverage = f" (on {facts.views_platforms} of {facts.platforms} platforms)" if partial else ""
    views_part = f"{_more(views, zh)}{said_views} views{coverage}"
    if views.exact or interactions.exact:
        interactions_part = f"{_more(interactions, zh)}{said_interactions} interactions"
        first, second = (
            (interactions_part, views_part)
            if interactions.exact and not views.exact
            else (views_part, interactions_part)
        )
        return f"{when}, {who} published {posts}, which drew {first} and {second}."
    return (
        f"{when}, {who} published {posts}, which drew {views_part} "
        f"and {said_interactions} interactions."
    )


def _more(figure: Approximation, zh: bool) -> str:
    if figure.exact:
        return ""
    return "超过" if zh else "more than "
