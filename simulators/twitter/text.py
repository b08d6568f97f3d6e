"""X's documented weighting of post text, implemented here again so the simulator can judge.

The connector has its own implementation (``connectors/twitter_text.py``); this one is written
separately from X's page "Counting characters" (twitter-text configuration v3,
https://docs.x.com/resources/fundamentals/counting-characters) so a weighting bug in the
connector meets a simulator that refuses what X would refuse, instead of the same bug twice.

Configuration v3: ``maxWeightedTweetLength`` 280, ``scale`` 100, ``defaultWeight`` 200,
``transformedURLLength`` 23, ``emojiParsingEnabled``; weight 100 for the ranges U+0000-U+10FF,
U+2000-U+200D, U+2010-U+201F and U+2032-U+2037. Text is NFC-normalised first.
"""

from __future__ import annotations

import re
import unicodedata

LIMIT = 280
_SCALE = 100
_URL_UNITS = 23 * _SCALE
_HEAVY = 200
_LIGHT = 100
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
REFUSED = frozenset({"\ufffe", "\ufeff", "\uffff"})  # twitter-text's invalid characters

# A link X shortens to t.co: with a scheme, any dotted host; without one, a host ending in a
# top-level domain X knows (country codes and the common generic ones). Not glued to a word,
# '@', '$' or '#' before it; CJK or closing punctuation ends it.
_CC = (
    "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br "
    "bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do "
    "dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt "
    "gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp "
    "kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms "
    "mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr "
    "ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv sx "
    "sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn "
    "vu wf ws ye yt za zm zw"
)
_GENERIC = (
    "com net org edu gov mil int info biz name pro aero asia cat coop jobs mobi museum tel "
    "travel xxx app dev page blog shop store online site tech top xyz club live news media "
    "cloud art design email link world today space website life wiki ltd group global network "
    "digital agency studio solutions center company services social video photo events "
    "academy school science health law finance money bank"
)
_TLD = "|".join(sorted({*_CC.split(), *_GENERIC.split()}, key=lambda t: (-len(t), t)))
_WORD = r"A-Za-z0-9\u00c0-\u024f\u0400-\u04ff_"
_PATH = _WORD + r"!*';:=+,.$/%#\[\]\-\u2013~&|@()?"
_BEFORE = r"(?<![A-Za-z0-9@＠$#＃\u202a-\u202e])"
_SCHEMED = re.compile(
    _BEFORE + rf"https?://(?:[{_WORD}](?:[{_WORD}-]*[{_WORD}])?\.)+[A-Za-z]{{2,}}"
    rf"(?![A-Za-z0-9@+-])(?::\d{{1,5}})?(?:[/?][{_PATH}]*)?",
    re.IGNORECASE,
)
_BARE = re.compile(
    r"(?<![A-Za-z0-9@＠$#＃\u202a-\u202e\-_./])"
    rf"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.)+(?:{_TLD})"
    rf"(?![A-Za-z0-9@+_-])(?::\d{{1,5}})?(?:/[{_PATH}]*)?",
    re.IGNORECASE,
)
_ENDS_URL = re.compile(r"[A-Za-z0-9=_#/+\-&)]|[^\W\d_]")


def _without_closing_punctuation(url: str) -> str:
    while url and not _ENDS_URL.fullmatch(url[-1]):
        url = url[:-1]
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1]
        while url and not _ENDS_URL.fullmatch(url[-1]):
            url = url[:-1]
    return url


def link_spans(text: str) -> list[tuple[int, int]]:
    """Where each link X would replace with a t.co link starts and ends."""
    spans: list[tuple[int, int]] = []
    for pattern in (_SCHEMED, _BARE):
        for found in pattern.finditer(text):
            start = found.start()
            end = start + len(_without_closing_punctuation(found.group()))
            if end > start and all(end <= s or start >= e for s, e in spans):
                spans.append((start, end))
    return sorted(spans)


def _is_pictograph(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2190 <= cp <= 0x21FF
        or 0x2300 <= cp <= 0x23FF
        or 0x25A0 <= cp <= 0x27BF
        or 0x2900 <= cp <= 0x297F
        or 0x2B00 <= cp <= 0x2BFF
        or cp in {0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2}
        or cp in {0x3030, 0x303D, 0x3297, 0x3299}
    )


def _emoji_end(text: str, at: int) -> int:
    """The index after the emoji sequence that starts at ``at``, or ``at`` when none does."""
    cps = [ord(c) for c in text]
    first = cps[at]
    if text[at] in "#*0123456789":
        i = at + 1 + (at + 1 < len(cps) and cps[at + 1] == 0xFE0F)
        return i + 1 if i < len(cps) and cps[i] == 0x20E3 else at
    if 0x1F1E6 <= first <= 0x1F1FF:  # regional indicators pair into a flag
        paired = at + 1 < len(cps) and 0x1F1E6 <= cps[at + 1] <= 0x1F1FF
        return at + 2 if paired else at + 1
    if not _is_pictograph(first):
        return at
    i = at + 1

    def skip_modifiers(i: int) -> int:
        while i < len(cps) and (cps[i] == 0xFE0F or 0x1F3FB <= cps[i] <= 0x1F3FF):
            i += 1
        return i

    i = skip_modifiers(i)
    while i < len(cps) and 0xE0020 <= cps[i] <= 0xE007F:  # subdivision flag tags
        i += 1
    while i + 1 < len(cps) and cps[i] == 0x200D and _is_pictograph(cps[i + 1]):
        i = skip_modifiers(i + 2)
    if first in (0x00A9, 0x00AE) and i == at + 1:
        return at  # a plain (c) or (R) is text
    return i


def weighted_length(text: str) -> int:
    """The length X shows for ``text``."""
    text = unicodedata.normalize("NFC", text)
    links = dict(link_spans(text))
    units = 0
    at = 0
    while at < len(text):
        if at in links:
            units, at = units + _URL_UNITS, links[at]
            continue
        end = _emoji_end(text, at)
        if end > at:
            units, at = units + _HEAVY, end
            continue
        cp = ord(text[at])
        light = any(low <= cp <= high for low, high in _LIGHT_RANGES)
        units += _LIGHT if light else _HEAVY
        at += 1
    return units // _SCALE


def refused_characters(text: str) -> bool:
    return any(char in REFUSED for char in text)
