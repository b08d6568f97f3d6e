"""What the CLI prints of stored values: escape sequences and control characters removed."""

from __future__ import annotations

import pytest

from publicist.cli.common import clean, safe, shorten


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain 中文", "plain 中文"),
        ("red\x1b[31m text\x1b[0m", "red text"),
        ("title\x1b]0;pwned\x07 set", "title set"),
        ("title\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "titlelink"),
        ("csi8\x9b2J bit", "csi8 bit"),
        ("osc8\x9d0;t\x9c bit", "osc8 bit"),
        ("lone esc\x1b", "lone esc"),
        ("bell\x07 nul\x00 del\x7f", "bell nul del"),
        ("a\u202eb\u2066c\u200fd", "abcd"),
        ("two\nlines\tand\rcr", "two lines and cr"),
    ],
)
def test_clean_keeps_only_printable_text(value: str, shown: str) -> None:
    assert clean(value) == shown


def test_clean_keeps_line_breaks_only_when_asked() -> None:
    assert clean("a\nb\x1b[2Jc", multiline=True) == "a\nbc"


def test_safe_escapes_rich_markup() -> None:
    assert safe("Spring [/] launch [bold]x") == "Spring \\[/] launch \\[bold]x"


def test_shorten_cleans_before_cutting() -> None:
    assert shorten("\x1b[31m" + "x" * 50, 10) == "xxxxxxx..."
    assert shorten("short", 10) == "short"
