"""The composer's form and words, without a server: links in previews, forms read into the
services' inputs, and broken rules in the person's language."""

from __future__ import annotations

from campaigns.composing import Counter, VariantCheck
from connectors.base import Content
from connectors.errors import Violation
from publicist.web.composer_view import ComposerForm, describe_violation, linkify
from publicist.web.i18n import translations


def test_previews_link_only_web_addresses_and_escape_the_rest() -> None:
    shown = str(linkify("<script>x</script> https://example.org/a?b=1&c=2\njavascript:alert(1)"))
    assert "<script>" not in shown
    assert '<a href="https://example.org/a?b=1&amp;c=2"' in shown
    assert "<br>" in shown
    assert 'href="javascript' not in shown


def test_a_platform_without_a_chosen_account_loses_its_variant_and_blank_tabs_say_nothing() -> None:
    form = ComposerForm.parse(
        {
            "text": ["base"],
            "accounts": ["3"],
            "text_twitter": ["on X"],
            "text_weibo": ["on Weibo, but no Weibo account"],
            "title_wechat": ["  "],
        }
    )
    changes = form.changes(kind_of=lambda _: None, platforms={"twitter"})
    assert changes.variants is not None
    assert changes.variants["twitter"] is not None
    assert changes.variants["twitter"].text == "on X"
    assert changes.variants["weibo"] is None
    assert changes.variants["wechat"] is None
    assert changes.accounts == ["3"]


def test_a_broken_rule_is_said_in_chinese_and_an_unknown_one_keeps_its_words() -> None:
    gettext = translations("zh_CN").gettext
    check = VariantCheck(
        platform="twitter",
        content=Content(text="x"),
        counters=[Counter("text", 281, 280)],
        violations=[],
    )
    over = Violation("text", "281 weighted characters", "exceeds X's limit of 280 (...)")
    assert describe_violation("twitter", over, check, gettext).startswith("X 超出长度：281/280")
    odd = Violation("media[0]", "gif", "is not accepted by X (accepted: image)")
    said = describe_violation("twitter", odd, check, gettext)
    assert "is not accepted by X" in said
    assert said.startswith("X 不接受")
