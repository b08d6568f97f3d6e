"""The catalogues: every string of the pages is in them, and every one has a zh_CN translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from publicist.web.i18n import catalogue_path, choose, from_accept_language, translations

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def _extracted() -> set[str]:
    """What ``make messages`` would collect from the templates and the web package today."""
    method_map = [
        ("publicist/web/templates/**.html", "jinja2"),
        ("publicist/web/**.py", "python"),
    ]
    options = {
        "publicist/web/templates/**.html": {
            "extensions": "jinja2.ext.i18n",
            "trim_blocks": "true",
            "lstrip_blocks": "true",
        }
    }
    found = set()
    for _, _, message, _, _ in extract_from_dir(REPO, method_map, options_map=options):
        found.add(message if isinstance(message, str) else message[0])
    assert {"Sign in", "Views by platform"} <= found  # templates and Python both read
    return found


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_string_of_the_pages_is_in_the_catalogue(language: str) -> None:
    with catalogue_path(language).open("rb") as source:
        catalogue = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}
    missing = _extracted() - catalogue
    assert not missing, f"run 'make messages' and translate: {sorted(missing)}"


def test_every_msgid_has_a_zh_cn_translation_with_the_same_placeholders() -> None:
    with catalogue_path("zh_CN").open("rb") as source:
        catalogue = read_po(source)
    checked = 0
    for message in catalogue:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert not message.fuzzy, message.id
        for translated in strings:  # Chinese has one plural form
            assert translated.strip(), f"no zh_CN translation of {message.id!r}"
            assert _placeholders(translated) == _placeholders(ids[-1]), message.id
        checked += 1
    assert checked >= 40


def test_the_compiled_catalogue_translates() -> None:
    assert translations("zh_CN").gettext("Sign out") == "退出登录"
    assert translations("en").gettext("Sign out") == "Sign out"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, zh;q=0.5", "zh_CN"),
        ("en;q=0.2, zh-Hans;q=0.8", "zh_CN"),
        ("zh-TW", None),  # traditional script: not what we translate into
        ("de, fr", None),
        ("", None),
        ("zh;q=oops, en", "en"),
    ],
)
def test_the_browsers_languages_are_matched_by_preference(
    header: str, expected: str | None
) -> None:
    assert from_accept_language(header) == expected


def test_the_persons_setting_comes_first_then_the_browser_then_english() -> None:
    assert choose("en", "zh-CN") == "en"
    assert choose(None, "zh-CN") == "zh_CN"
    assert choose(None, "de") == "en"
    assert choose("xx", None) == "en"
