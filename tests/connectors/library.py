"""A media library on disk for connector tests: files stored the way campaigns.media stores them."""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path

from connectors.base import Media, MediaKind
from connectors.media import EXTENSIONS, FetchPolicy, MediaLoader, sniff

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)
"""Test media servers listen on 127.0.0.1; the loader is allowed to fetch from them."""


class Library:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.loader = MediaLoader(library_dir=root, policy=FetchPolicy(allow=LOOPBACK))
        self._next = 1

    def add(self, kind: MediaKind, data: bytes, **fields: object) -> Media:
        """Store ``data`` (whatever it holds: tests also store fakes) and refer to it."""
        found = sniff(data[:16])
        extension = EXTENSIONS[found[1]] if found else "jpg"
        name = f"{hashlib.sha256(data).hexdigest()}.{extension}"
        (self.root / name).write_bytes(data)
        media_id, self._next = self._next, self._next + 1
        return Media(kind, media_id=media_id, library_file=name, **fields)  # type: ignore[arg-type]

    def missing(self, kind: MediaKind) -> Media:
        """An item whose file is not in the folder."""
        media_id, self._next = self._next, self._next + 1
        extension = {MediaKind.VIDEO: "mp4", MediaKind.GIF: "gif"}.get(kind, "jpg")
        return Media(kind, media_id=media_id, library_file=f"{'0' * 64}.{extension}")
