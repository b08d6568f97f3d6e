"""The media library: files uploaded once, checked by their bytes, stored under names we choose.

An upload streams into a temporary file inside the library folder while its sha256 and size
are counted; only then is it typed (magic bytes, never the name), capped per kind, and moved
into place with one atomic rename under ``<sha256>.<ext>``. The row is written after the
file is complete, so a row never lacks its file (a rolled-back request may leave a file
without a row, which the next upload of the same bytes reuses); the same bytes uploaded
twice are one item.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.models import MediaItem
from connectors.media import (
    ACCEPTED,
    EXTENSIONS,
    LIBRARY_NAME,
    MEDIA_LIMITS,
    MIB,
    SNIFF_BYTES,
    FetchPolicy,
    MediaLoader,
    sniff,
)
from publicist.core.errors import InvalidInput, NotFound
from publicist.core.settings import Settings

MAX_UPLOAD_BYTES = max(MEDIA_LIMITS.values())
"""No upload may be larger than the largest kind's cap (a video's)."""
NAME_LIMIT = 200
_SPACES = re.compile(r"\s+")


def display_name(raw: str | None) -> str:
    """A name for people: the last path component, without control characters, ≤ 200."""
    text = re.split(r"[/\\]", raw or "")[-1]
    text = "".join(c for c in text if not unicodedata.category(c).startswith("C"))
    text = _SPACES.sub(" ", text).strip()[:NAME_LIMIT].strip()
    return text or "upload"


class Upload:
    """Bytes being received into a temporary file in the library folder.

    Use it as a context manager: whatever was not added to the library is deleted on exit.
    """

    def __init__(self, media_dir: Path) -> None:
        media_dir.mkdir(parents=True, exist_ok=True)
        self.media_dir = media_dir
        handle, name = tempfile.mkstemp(dir=media_dir, prefix=".upload-", suffix=".part")
        self._file = os.fdopen(handle, "wb")
        self.path = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0
        self.head = b""

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_UPLOAD_BYTES:
            raise InvalidInput(
                "file",
                f"more than {MAX_UPLOAD_BYTES} bytes",
                f"exceeds the largest media file Publicist stores ({MAX_UPLOAD_BYTES // MIB} "
                "MiB, a video)",
            )
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> str:
        """Flush the file to disk; returns its sha256."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        return self._hash.hexdigest()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Upload:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.discard()


def add_media(session: Session, *, upload: Upload, name: str | None, now: datetime) -> MediaItem:
    """Add the uploaded file to the library, or return the item that already holds its bytes."""
    digest = upload.finish()
    shown = display_name(name)
    found = sniff(upload.head)
    if found is None:
        raise InvalidInput(
            "file", shown, f"is not a file Publicist accepts ({ACCEPTED}; checked by content)"
        )
    kind, content_type = found
    limit = MEDIA_LIMITS[kind]
    if upload.size > limit:
        raise InvalidInput(
            "file", f"{upload.size} bytes", f"exceeds the {limit // MIB} MiB limit for a {kind}"
        )
    stored_name = f"{digest}.{EXTENSIONS[content_type]}"
    target = upload.media_dir / stored_name
    existing = _by_digest(session, digest)
    if existing is not None and target.exists():
        return existing
    # Readable by the publishing workers, which may run as another user; media are public.
    upload.path.chmod(0o644)
    os.replace(upload.path, target)  # atomic: the name holds the whole file or nothing
    if existing is not None:
        return existing  # its file had gone missing and is back
    item = MediaItem(
        kind=kind.value,
        content_type=content_type,
        size_bytes=upload.size,
        sha256=digest,
        name=shown,
        stored_name=stored_name,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:
        # The same bytes arrived at the same moment: the other upload's row is the item.
        winner = _by_digest(session, digest)
        if winner is None:
            raise
        return winner
    return item


def _by_digest(session: Session, digest: str) -> MediaItem | None:
    return session.scalar(select(MediaItem).where(MediaItem.sha256 == digest))


def add_media_file(
    session: Session, *, path: Path, media_dir: Path, name: str | None, now: datetime
) -> MediaItem:
    """Add a file the operator named (the CLI); read in chunks, never whole."""
    with Upload(media_dir) as upload, path.open("rb") as source:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            upload.write(chunk)
        return add_media(session, upload=upload, name=name or path.name, now=now)


def list_media(session: Session) -> list[MediaItem]:
    return list(session.scalars(select(MediaItem).order_by(MediaItem.id)))


def get_media(session: Session, media_id: int) -> MediaItem:
    item = session.get(MediaItem, media_id)
    if item is None:
        raise NotFound("media item", media_id, "see 'publicist media list'")
    return item


def media_file(item: MediaItem, *, media_dir: Path) -> Path:
    """Where the library keeps ``item``: built from the name Publicist chose, nothing else."""
    if not LIBRARY_NAME.fullmatch(item.stored_name):
        raise NotFound("media file", item.id)
    path = media_dir / item.stored_name
    if not path.is_file():
        raise NotFound("media file", item.id, "the library's copy is missing")
    return path


def media_loader(settings: Settings) -> MediaLoader:
    """The loader every connector gets: this library's folder, and the fetch allow-list."""
    return MediaLoader(
        library_dir=settings.media_dir,
        policy=FetchPolicy(allow=settings.media_fetch_networks),
    )
