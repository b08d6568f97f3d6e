"""The period report's summary sentence and its rounded figures, in English and Chinese."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from metrics.summary import (
    Approximation,
    SummaryFacts,
    approximate,
    period_phrase,
    say_number,
    summary_sentence,
)

SEED = SummaryFacts(
    start=date(2021, 4, 1),
    end=date(2021, 12, 31),
    subject_kind="account",
    subject="@IPRinCN",
    accounts=1,
    published=80,
    views=2_034_567,
    views_platforms=1,
    platforms=1,
    interactions=88_412,
)


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, Approximation(0, True)),
        (9_999, Approximation(9_999, True)),
        (10_000, Approximation(10_000, True)),
        (88_412, Approximation(88_000, False)),
        (88_000, Approximation(88_000, True)),
        (2_034_567, Approximation(2_000_000, False)),
        (2_134_567, Approximation(2_100_000, False)),
        (123_456_789, Approximation(120_000_000, False)),
    ],
)
def test_totals_are_rounded_down_to_two_significant_figures(
    total: int, expected: Approximation
) -> None:
    assert approximate(total) == expected
    assert approximate(total).value <= total


@pytest.mark.parametrize(
    ("value", "english", "chinese"),
    [
        (2_000_000, "2 million", "200万"),
        (2_100_000, "2.1 million", "210万"),
        (88_000, "88,000", "8.8万"),
        (15_000, "15,000", "1.5万"),
        (8_800, "8,800", "8800"),
        (120_000_000, "120 million", "1.2亿"),
        (1_200_000_000, "1.2 billion", "12亿"),
    ],
)
def test_numbers_are_said_as_a_reader_says_them(value: int, english: str, chinese: str) -> None:
    assert say_number(value, "en") == english
    assert say_number(value, "zh_CN") == chinese


def test_the_seed_sentence_in_english_and_chinese() -> None:
    assert summary_sentence(SEED, language="en") == (
        "From April to December, @IPRinCN published 80 articles, which drew more than "
        "2 million views and 88,000 interactions."
    )
    assert summary_sentence(SEED, language="zh_CN") == (
        "4月至12月，@IPRinCN共发布80篇文章，获得超过200万次浏览和8.8万次互动。"
    )


def test_the_figures_follow_the_real_totals() -> None:
    facts = replace(SEED, published=1, views=2_134_567, interactions=91_234)
    assert summary_sentence(facts, language="en") == (
        "From April to December, @IPRinCN published 1 article, which drew more than "
        "2.1 million views and 91,000 interactions."
    )


def test_an_exact_figure_never_stands_after_more_than() -> None:
    facts = replace(SEED, views=2_034_567, interactions=1_234)
    assert summary_sentence(facts, language="en") == (
        "From April to December, @IPRinCN published 80 articles, which drew 1,234 "
        "interactions and more than 2 million views."
    )
    assert summary_sentence(facts, language="zh_CN") == (
        "4月至12月，@IPRinCN共发布80篇文章，获得1234次互动和超过200万次浏览。"
    )
    exact_views = replace(SEED, views=5_000, interactions=88_412)
    assert summary_sentence(exact_views, language="en").endswith(
        "which drew 5,000 views and more than 88,000 interactions."
    )


def test_missing_views_and_partial_coverage_are_said() -> None:
    weibo = replace(SEED, subject="cnipa", views=None, interactions=12_345)
    assert summary_sentence(weibo, language="en") == (
        "From April to December, cnipa published 80 articles, which drew more than "
        "12,000 interactions (the platforms give no views)."
    )
    assert "（平台不提供浏览量）" in summary_sentence(weibo, language="zh_CN")
    week = replace(
        SEED,
        subject_kind="campaign",
        subject="2021 National IP Publicity Week",
        views_platforms=3,
        platforms=4,
    )
    assert summary_sentence(week, language="en") == (
        'From April to December, the campaign "2021 National IP Publicity Week" published '
        "80 articles, which drew more than 2 million views (on 3 of 4 platforms) and 88,000 "
        "interactions."
    )
    assert summary_sentence(week, language="zh_CN") == (
        "4月至12月，“2021 National IP Publicity Week”活动共发布80篇文章，"
        "获得超过200万次浏览（4个平台中的3个）和8.8万次互动。"
    )


def test_every_account_and_no_posts() -> None:
    everyone = replace(SEED, subject_kind="all", subject="", accounts=4, published=98)
    assert summary_sentence(everyone, language="en").startswith(
        "From April to December, 4 accounts published 98 articles,"
    )
    assert summary_sentence(everyone, language="zh_CN").startswith(
        "4月至12月，4个账号共发布98篇文章，"
    )
    quiet = replace(SEED, published=0, views=None, interactions=0)
    assert summary_sentence(quiet, language="en") == (
        "From April to December, @IPRinCN published no articles."
    )
    assert summary_sentence(quiet, language="zh_CN") == "4月至12月，@IPRinCN未发布文章。"
    nobody = replace(quiet, subject_kind="all", subject="", accounts=0)
    assert summary_sentence(nobody, language="en") == (
        "From April to December, no articles were published."
    )
    assert summary_sentence(nobody, language="zh_CN") == "4月至12月，未发布文章。"


@pytest.mark.parametrize(
    ("start", "end", "english", "chinese"),
    [
        (date(2021, 4, 1), date(2021, 4, 30), "In April 2021", "2021年4月"),
        (
            date(2021, 4, 1),
            date(2022, 3, 31),
            "From April 2021 to March 2022",
            "2021年4月至2022年3月",
        ),
        (date(2021, 4, 3), date(2021, 12, 20), "From 3 April to 20 December", "4月3日至12月20日"),
        (date(2021, 4, 3), date(2021, 4, 3), "On 3 April 2021", "2021年4月3日"),
        (
            date(2021, 12, 3),
            date(2022, 1, 20),
            "From 3 December 2021 to 20 January 2022",
            "2021年12月3日至2022年1月20日",
        ),
    ],
)
def test_period_phrases(start: date, end: date, english: str, chinese: str) -> None:
    assert period_phrase(start, end, "en") == english
    assert period_phrase(start, end, "zh_CN") == chinese
