"""Numbers a platform does not give read "not available" in the page's language."""

from __future__ import annotations

from publicist.web.templating import environment


def test_a_missing_number_or_rate_is_named_in_the_page_s_language() -> None:
    for language, word in (("en", "n/a"), ("zh_CN", "暂无")):
        template = environment(language).from_string("{{ none | number }} {{ none | rate }}")
        assert template.render(none=None) == f"{word} {word}"
    assert environment("zh_CN").from_string("{{ 1234 | number }}").render() == "1,234"
