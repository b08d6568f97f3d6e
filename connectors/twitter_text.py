"""X's weighted text length (twitter-text configuration v3), counted before anything is sent.

X does not count code points: after NFC normalisation every URL counts 23 (it becomes a t.co
link), every emoji sequence counts 2 however many code points it spans (skin tones, ZWJ
families, flags, keycaps), code points in a few Latin/punctuation ranges count 1 and all
others (CJK, kana, hangul, most symbols) count 2. A post is valid when its weighted length is
between 1 and 280 and it holds none of the characters X refuses.
See https://developer.x.com/en/docs/counting-characters (configuration v3).

URL detection follows twitter-text's rules in the ways that change a count: a URL must not be
glued to a preceding letter, digit, ``@``, ``$`` or ``#``; a URL without ``http(s)://`` needs a
known top-level domain; CJK text and trailing punctuation end a URL. The top-level-domain list
here holds every country code and the common generic domains, not twitter-text's full list.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23
_SCALE = 100
_DEFAULT_WEIGHT = 200
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_LIGHT_WEIGHT = 100
INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff")

_COUNTRY_CODES = (
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
_TLDS = "|".join(sorted(set(_COUNTRY_CODES.split()) | set(_GENERIC.split()), key=len, reverse=True))

_NOT_BEFORE = r"A-Za-z0-9@＠$#＃\u202a-\u202e"
_LABEL_CHARS = r"A-Za-z0-9\u00c0-\u024f\u0400-\u04ff_"
_PATH_CHARS = r"A-Za-z0-9\u00c0-\u024f\u0400-\u04ff!*';:=+,.$/%#\[\]\-\u2013_~&|@()?"
_PATH_END = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=_#/+-&)")

_WITH_PROTOCOL = re.compile(
    rf"(?<![{_NOT_BEFORE}])https?://"
    rf"(?:[{_LABEL_CHARS}](?:[{_LABEL_CHARS}-]*[{_LABEL_CHARS}])?\.)+[A-Za-z]{{2,}}"
    rf"(?![A-Za-z0-9@+-])(?::\d{{1,5}})?(?:[/?][{_PATH_CHARS}]*)?",
    re.IGNORECASE,
)
_WITHOUT_PROTOCOL = re.compile(
    rf"(?<![{_NOT_BEFORE}\-_./])"
    rf"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.)+(?:{_TLDS})"
    rf"(?![A-Za-z0-9@+_-])(?::\d{{1,5}})?(?:/[{_PATH_CHARS}]*)?",
    re.IGNORECASE,
)


def _trim(url: str) -> str:
    """Drop trailing punctuation that closes a sentence rather than the URL."""
    while url:
        last = url[-1]
        if last == ")" and url.count("(") >= url.count(")"):
            break
        if last != ")" and (last in _PATH_END or last.isalpha()):
            break
        url = url[:-1]
    return url


def find_urls(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every URL X would shorten to a t.co link, in order."""
    spans: list[tuple[int, int]] = []
    taken: set[int] = set()
    for pattern in (_WITH_PROTOCOL, _WITHOUT_PROTOCOL):
        for match in pattern.finditer(text):
            start = match.start()
            end = start + len(_trim(match.group()))
            if any(i in taken for i in range(start, end)):
                continue
            spans.append((start, end))
            taken.update(range(start, end))
    return sorted(spans)


def _pictographic(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2190 <= cp <= 0x21FF
        or 0x2300 <= cp <= 0x23FF
        or 0x25A0 <= cp <= 0x27BF
        or 0x2900 <= cp <= 0x297F
        or 0x2B00 <= cp <= 0x2BFF
        or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2)
        or cp in (0x3030, 0x303D, 0x3297, 0x3299)
    )


def _modifier(cp: int) -> bool:
    """Variation selector 16 or a skin-tone modifier: part of the emoji before it."""
    return cp == 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF


def _regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _tag(cp: int) -> bool:
    return 0xE0020 <= cp <= 0xE007F


def emoji_length(text: str, index: int) -> int:
    """Code points in the emoji sequence starting at ``index`` (0 when none starts there)."""
    n = len(text)
    cp = ord(text[index])
    if text[index] in "0123456789#*":  # keycap: digit, optional VS16, combining enclosing keycap
        after = index + 1
        if after < n and ord(text[after]) == 0xFE0F:
            after += 1
        return after + 1 - index if after < n and ord(text[after]) == 0x20E3 else 0
    if _regional(cp):
        return 2 if index + 1 < n and _regional(ord(text[index + 1])) else 1
    if not _pictographic(cp):
        return 0
    end = index + 1
    while end < n and _modifier(ord(text[end])):
        end += 1
    while end < n and _tag(ord(text[end])):
        end += 1
    while end + 1 < n and ord(text[end]) == 0x200D and _pictographic(ord(text[end + 1])):
        end += 2
        while end < n and _modifier(ord(text[end])):
            end += 1
    if cp in (0x00A9, 0x00AE) and end == index + 1:
        return 0  # a bare (c) or (R) sign is text, not an emoji
    return end - index


def _weight(cp: int) -> int:
    for low, high in _LIGHT_RANGES:
        if low <= cp <= high:
            return _LIGHT_WEIGHT
    return _DEFAULT_WEIGHT


@dataclass(frozen=True)
class ParsedText:
    weighted_length: int
    urls: int
    emoji: int
    invalid_characters: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return 0 < self.weighted_length <= MAX_WEIGHTED_LENGTH and not self.invalid_characters


def parse(text: str) -> ParsedText:
    """Weigh ``text`` as X does (NFC first), counting URLs and emoji sequences as units."""
    text = unicodedata.normalize("NFC", text)
    url_ends = dict(find_urls(text))
    units = urls = emoji = 0
    invalid: list[str] = []
    index = 0
    while index < len(text):
        if index in url_ends:
            units += URL_LENGTH * _SCALE
            urls += 1
            index = url_ends[index]
            continue
        length = emoji_length(text, index)
        if length:
            units += _DEFAULT_WEIGHT
            emoji += 1
            index += length
            continue
        char = text[index]
        if char in INVALID_CHARACTERS and char not in invalid:
            invalid.append(char)
        units += _weight(ord(char))
        index += 1
    return ParsedText(units // _SCALE, urls, emoji, tuple(invalid))


def weighted_length(text: str) -> int:
    return parse(text).weighted_length
