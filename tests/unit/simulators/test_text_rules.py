"""The simulators' own text rules agree with the connectors' on the texts that matter.

Two implementations of one documented rule: where they disagree, one of them has a bug, and
the simulator (the independent witness) is what a connector test meets.
"""

from __future__ import annotations

import random

import pytest

from connectors import twitter_text
from connectors.weibo_text import WeiboTextRules
from simulators.twitter import text as x_text
from simulators.weibo.text import Measure

SAMPLES = [
    "a" * 280,
    "你好",
    "こんにちは한국어",
    "Sale 50% 折扣 https://example.com/a/very/long/path",
    "cnipa.gov.cn and node.js",
    "访问https://example.com了解",
    "e\u0301" * 3,
    "👨\u200d👩\u200d👧\u200d👦 👋🏽 🏳️\u200d🌈 🇨🇳 1️⃣ \u2764\ufe0f © ©️",
    "(see https://x.com/a) https://a.com/b). x@a.com #a.com",
    "详见https://a.cn/x。欢迎 #话题# 😀",
]


def _random_texts(count: int) -> list[str]:
    pieces = [*"ab.c/:h tps()#@-_,。你😀\u200d\ufe0f1\u20e3 ", "https://", ".com", ".cn", "🇨🇳"]
    rng = random.Random(7)
    return ["".join(rng.choices(pieces, k=rng.randint(0, 16))) for _ in range(count)]


@pytest.mark.parametrize("text", SAMPLES + _random_texts(400))
def test_x_weighted_length_agrees(text: str) -> None:
    assert x_text.weighted_length(text) == twitter_text.weighted_length(text)
    assert x_text.link_spans(text) == twitter_text.find_urls(text)


@pytest.mark.parametrize("text", SAMPLES + _random_texts(400))
def test_weibo_length_agrees(text: str) -> None:
    assert Measure().half_units(text) == WeiboTextRules().half_units(text)
    assert Measure(limit=5).too_long(text) == WeiboTextRules(limit=5).too_long(text)


def test_the_simulator_refuses_what_a_mis_weighing_connector_lets_through() -> None:
    # 141 汉字: a connector that counted them as 1 each would send it; X counts 282.
    text = "专" * 141
    assert x_text.weighted_length(text) == 282 > x_text.LIMIT
