"""CSV schedule import: all rows are checked, every bad row is reported, nothing half-written.

Columns: ``campaign``, ``at``, ``accounts`` (``;``-separated), ``text`` are required;
``title`` and ``media`` (``kind:MEDIA_ID;kind:URL``: library ids or http(s) URLs) are
optional, and ``text@PLATFORM``, ``title@PLATFORM``, ``digest@PLATFORM`` give variants.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from campaigns.models import Post
from campaigns.schemas import PostInput, VariantInput
from campaigns.services import add_post
from publicist.core.errors import InvalidInput, PublicistError

REQUIRED_COLUMNS = ("campaign", "at", "accounts", "text")
VARIANT_FIELDS = ("text", "title", "digest")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFailed(PublicistError):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        count = len(errors)
        lines = "\n".join(f"  {error}" for error in errors)
        super().__init__(
            f"schedule not imported, {count} bad row{'s' * (count != 1)} "
            f"(nothing was written):\n{lines}"
        )


def parse_media(value: str, *, field: str = "media") -> list[dict[str, Any]]:
    """``image:12;video:https://example.com/clip.mp4``: media library ids or http(s) URLs.

    Anything else (a local file path) is refused without being echoed: upload the file to
    the media library first (``publicist media add``).
    """
    items: list[dict[str, Any]] = []
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        kind, sep, reference = (x.strip() for x in part.partition(":"))
        if reference.isascii() and reference.isdigit() and len(reference) <= 10:
            items.append({"kind": kind, "media_id": int(reference)})
        elif sep and reference.lower().startswith(("http://", "https://")):
            items.append({"kind": kind, "url": reference})
        else:
            raise InvalidInput(
                field,
                f"{kind}:…" if sep else "…",
                "must be KIND:MEDIA_ID or KIND:URL, e.g. image:12 or image:https://example.com/"
                "poster.jpg (upload a local file first: publicist media add FILE)",
            )
    return items


def _row_to_input(row: dict[str, str]) -> PostInput:
    variants: dict[str, dict[str, str]] = {}
    for column, value in row.items():
        if column and "@" in column and value and value.strip():
            name, _, platform = column.partition("@")
            if name in VARIANT_FIELDS:
                variants.setdefault(platform.strip(), {})[name] = value.strip()
    return PostInput(
        campaign=row.get("campaign") or "",
        at=row.get("at") or "",
        accounts=[a.strip() for a in (row.get("accounts") or "").split(";") if a.strip()],
        text=row.get("text") or "",
        title=(row.get("title") or "").strip() or None,
        media=parse_media(row.get("media") or ""),
        variants={
            p: VariantInput(text=f.get("text"), title=f.get("title"), digest=f.get("digest"))
            for p, f in variants.items()
        },
    )


def import_schedule(
    session: Session, *, lines: Iterable[str], now: datetime, approve: bool = True
) -> list[Post]:
    """Add every row as a post (scheduled unless ``approve`` is false) or raise ImportFailed.

    The caller's transaction is left with either all rows or, after ImportFailed, none.
    """
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportFailed(
            [
                RowError(
                    1,
                    f"missing column{'s' * (len(missing) > 1)} "
                    f"{', '.join(missing)} (header: {', '.join(header)})",
                )
            ]
        )
    errors: list[RowError] = []
    posts: list[Post] = []
    whole_file = session.begin_nested()  # undone as one if any row is bad
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append(
                RowError(
                    line,
                    f"has {len(header) + len(row[None])} fields; the header has {len(header)}",
                )
            )
            continue
        savepoint = session.begin_nested()
        try:
            posts.append(add_post(session, data=_row_to_input(row), now=now, approve=approve))
            savepoint.commit()
        except PublicistError as error:
            savepoint.rollback()
            errors.append(RowError(line, str(error)))
    if not posts and not errors:
        errors.append(RowError(1, "the file has a header but no rows"))
    if errors:
        whole_file.rollback()
        raise ImportFailed(errors)
    whole_file.commit()
    return posts
