"""A stable fingerprint of post text, for finding a post again when no marker can travel with it.

None of the four platforms keeps a client-supplied idempotency key, so reconciliation matches
recent posts by the text we sent. Platforms rewrite links (t.co, t.cn) and trim whitespace,
so the fingerprint ignores URLs and whitespace runs and compares NFC-normalised text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Text as a platform is likely to keep it: NFC, links removed, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = _URL.sub("", text)
    return _SPACE.sub(" ", text).strip()


def content_fingerprint(text: str) -> str:
    """16 hex digits identifying ``text`` up to link rewriting and whitespace."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:16]
