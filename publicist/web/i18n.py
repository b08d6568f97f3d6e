"""The workspace's languages: catalogues compiled from the .po files, and choosing one.

The ``.po`` files in ``publicist/web/locale`` are the only source: they are compiled in memory
when first used (Babel, in ``publicist.core.catalogues``, which the workers' notification
messages read too), so a fresh clone, an editable install and a wheel all work without a
build step or committed binaries.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from campaigns.people.services import LANGUAGES
from publicist.core.catalogues import DOMAIN, LOCALE_DIR, catalogue_path, translations

__all__ = ["DOMAIN", "LOCALE_DIR", "catalogue_path", "choose", "translations"]

DEFAULT = "en"
"""What a page speaks when neither the person nor the browser names a language we have."""

HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
NAMES = {"zh_CN": "中文", "en": "English"}
"""Each language named in itself, for the switch."""


def from_accept_language(header: str | None) -> str | None:
    """The first language of ours in an ``Accept-Language`` header, by its q-values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        found = _ours(tag)
        if found is not None:
            return found
    return None


def _ours(tag: str) -> str | None:
    if tag == "*":
        return None
    try:
        locale = Locale.parse(tag, sep="-") if "-" in tag else Locale.parse(tag)
    except (ValueError, UnknownLocaleError):
        return None
    if locale.language == "zh":
        # Chinese in traditional script (zh-TW, zh-HK, zh-Hant) is not what we translate into.
        script = locale.script or ("Hant" if locale.territory in ("TW", "HK", "MO") else "Hans")
        return "zh_CN" if script == "Hans" else None
    return "en" if locale.language == "en" else None


def choose(person_language: str | None, accept_language: str | None) -> str:
    """The person's setting, then the browser's languages, then English."""
    if person_language in LANGUAGES:
        return person_language
    return from_accept_language(accept_language) or DEFAULT
