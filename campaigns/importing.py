"""CSV schedule import: all rows are checked, every bad row is reported, nothing half-written.

Columns: ``campaign``, ``at``, ``accounts`` (``;``-separated), ``text`` are required;
``title`` and ``media`` (``kind:MEDIA_ID;kind:URL``: library ids or http(s) URLs) are
optional, and ``text@PLATFORM``, ``title@PLATFORM``, ``digest@PLATFORM`` give variants.

The file is parsed strictly (a stray or unclosed quote is an error naming its line, never
rows silently merged into one), every row is checked before anything is written, campaigns
and accounts are looked up once per file, and the posts, their variants, targets and
deliveries are written with one ``INSERT`` per table, executed once for all its rows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from campaigns.accounts import find_account
from campaigns.actors import OPERATOR, Actor
from campaigns.audit.log import entry, record_many
from campaigns.content import library_of
from campaigns.models import Account, Campaign, Delivery, Post, PostTarget, PostVariant
from campaigns.people.roles import Role
from campaigns.schemas import CheckedPost, PostInput, VariantInput
from campaigns.services import check_post, check_self_approval, find_campaign
from campaigns.states import DeliveryState, PostState
from publicist.core.errors import InvalidInput, PublicistError

REQUIRED_COLUMNS = ("campaign", "at", "accounts", "text")
VARIANT_FIELDS = ("text", "title", "digest")
MULTILINE_FIELDS = ("text",)
"""Columns whose values may span lines (with their ``@PLATFORM`` variants); a line break
anywhere else means a quote was left open."""
MAX_IMPORT_ROWS = 20_000
"""Rows per file (or request): one import is one transaction, and a bigger schedule is
better split by week or campaign than held in one."""
_LOOKS_LIKE_A_TIME = re.compile(r"\s*\d{4}-\d{2}-\d{2}")
T = TypeVar("T")


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


@dataclass(frozen=True)
class Imported:
    """What an import wrote (plain values: the rows were inserted in bulk, not as objects)."""

    post_ids: list[int]
    deliveries: int


def decode_csv(data: bytes) -> str:
    """The file as text: UTF-8, with or without a byte order mark; anything else is refused
    with where the first byte that is not UTF-8 is."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFailed([RowError(1, "the file is UTF-16; save it as UTF-8 (CSV UTF-8)")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportFailed(
            [
                RowError(
                    line,
                    f"the file is not UTF-8 (byte {error.start} is 0x{data[error.start]:02x}); "
                    "save it as UTF-8 (CSV UTF-8), e.g. not GBK or UTF-16",
                )
            ]
        ) from None


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


def _records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """``(first line, fields)`` of each record, the header included; a file that cannot be
    read as CSV raises ImportFailed naming the line where the bad record starts."""
    reader = csv.reader(lines, strict=True)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFailed([RowError(start, _csv_problem(str(error)))]) from None
        if any("\0" in value for value in fields):
            raise ImportFailed(
                [RowError(start, "contains a NUL character (is the file UTF-16? save it as UTF-8)")]
            )
        yield start, fields
        start = reader.line_num + 1


def _csv_problem(message: str) -> str:
    if "unexpected end of data" in message:
        return (
            "a quoted field opened in this row is never closed; close the quote, "
            'or write a quote inside a quoted field as ""'
        )
    if "expected after" in message:
        return (
            "a quote closes in the middle of a field (there is text right after it); "
            'write a quote inside a quoted field as "", or quote the whole field'
        )
    if "field larger than field limit" in message:
        return f"a field is longer than {csv.field_size_limit():,} characters"
    return f"is not valid CSV ({message})"


def _swallowed_row(
    line: int, fields: list[str], header: list[str], at_index: int
) -> RowError | None:
    """A record spanning lines is fine for texts, but a line break in another column, or a
    text line that is itself a whole row, means an open quote has merged rows."""
    for column, value in zip(header, fields, strict=False):
        if "\n" not in value and "\r" not in value:
            continue
        name = column.partition("@")[0]
        if name not in MULTILINE_FIELDS:
            return RowError(
                line,
                f"column {column!r} spans several lines; a quote opened in this row is "
                'probably not closed (write a quote inside a quoted field as "")',
            )
        for offset, part in enumerate(value.splitlines()[1:], start=1):
            inner = next(csv.reader([part]), [])
            if len(inner) > at_index and _LOOKS_LIKE_A_TIME.match(inner[at_index]):
                return RowError(
                    line,
                    f"the quoted {column!r} runs into line {line + offset}, which looks like "
                    'a row of its own; close the quote, or write a quote inside it as ""',
                )
    return None


def import_schedule(
    session: Session,
    *,
    lines: Iterable[str],
    now: datetime,
    approve: bool = True,
    actor: Actor = OPERATOR,
) -> Imported:
    """Add every row as a post (scheduled unless ``approve`` is false) or raise ImportFailed.

    Drafts need the editor role; scheduled posts are submitted and approved by the importer,
    so they need the approver role and, for a person, campaigns that allow self-approval.
    Nothing is written unless every row is good; the caller commits.
    """
    actor.require(Role.EDITOR, "importing posts")
    if approve:
        actor.require(Role.APPROVER, "importing scheduled posts (import drafts instead)")
    records = _records(lines)
    header = next((fields for _, fields in records), [])
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
    at_index = header.index("at")
    errors: list[RowError] = []
    posts: list[CheckedPost] = []
    campaigns: dict[str, Campaign | PublicistError] = {}
    accounts: dict[str, Account | PublicistError] = {}
    count = 0
    for line, fields in records:
        if not any(value.strip() for value in fields):
            continue  # a blank line, as spreadsheets leave at the end
        count += 1
        if count > MAX_IMPORT_ROWS:
            raise ImportFailed(
                [
                    RowError(
                        line,
                        f"the file has more than {MAX_IMPORT_ROWS:,} rows, the most one "
                        "import takes; split it (e.g. by week or campaign)",
                    )
                ]
            )
        if len(fields) != len(header):
            errors.append(RowError(line, f"has {len(fields)} fields; the header has {len(header)}"))
            continue
        swallowed = _swallowed_row(line, fields, header, at_index)
        if swallowed is not None:
            errors.append(swallowed)
            continue
        try:
            data = _row_to_input(dict(zip(header, fields, strict=True)))
            campaign = _once(campaigns, data.campaign, lambda r: find_campaign(session, r))
            targets = [
                _once(accounts, ref, lambda r: find_account(session, r, field="accounts"))
                for ref in data.accounts
            ]
            posts.append(
                check_post(
                    data, campaign=campaign, accounts=targets, now=now, library=library_of(session)
                )
            )
        except PublicistError as error:
            errors.append(RowError(line, str(error)))
    if not posts and not errors:
        errors.append(RowError(1, "the file has a header but no rows"))
    if errors:
        raise ImportFailed(errors)
    if approve:
        for found in campaigns.values():
            if isinstance(found, Campaign):
                check_self_approval(found, created_by=actor.person_id, actor=actor, post_id=None)
    labels = {a.id: a.label for a in accounts.values() if isinstance(a, Account)}
    return _insert(session, posts, now=now, approve=approve, actor=actor, labels=labels)


def _once(cache: dict[str, T | PublicistError], reference: str, find: Callable[[str], T]) -> T:
    """``find(reference)``, asked once per distinct reference; its error is kept as well."""
    key = reference.strip()
    if key not in cache:
        try:
            cache[key] = find(key)
        except PublicistError as error:
            cache[key] = error
    found = cache[key]
    if isinstance(found, PublicistError):
        raise found
    return found


def _reserve_post_ids(session: Session, count: int) -> list[int]:
    """Ids for ``count`` new posts, known before they are inserted so that their variants,
    targets and deliveries go in with them, one statement per table (``INSERT ...
    RETURNING`` in parameter order runs one row at a time on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('posts', 'id')) "
                    "FROM generate_series(1, :count)"
                ),
                {"count": count},
            )
        )
    # SQLite: every transaction starts with BEGIN IMMEDIATE (publicist.core.database), so no
    # other writer can take these ids before the insert.
    highest = session.scalar(select(func.max(Post.id))) or 0
    return list(range(highest + 1, highest + 1 + count))


def _insert(
    session: Session,
    posts: list[CheckedPost],
    *,
    now: datetime,
    approve: bool,
    actor: Actor,
    labels: dict[int, str],
) -> Imported:
    """One INSERT per table, executed once with every row (``executemany``: psycopg sends
    them in one pipeline, sqlite3 steps one prepared statement; measured faster on
    PostgreSQL than multi-row ``VALUES`` pages, which psycopg spends its time rewriting).
    Approving a new post with a time and accounts schedules it, as
    ``services.approve_post`` and ``schedule_post`` do for one post."""
    state = PostState.SCHEDULED if approve else PostState.DRAFT
    ids = _reserve_post_ids(session, len(posts))
    session.execute(
        insert(Post),
        [
            {
                "id": post_id,
                "campaign_id": post.campaign_id,
                "text": post.text,
                "title": post.title,
                "media": post.media,
                "state": state,
                "publish_at": post.publish_at,
                "created_at": now,
                "approved_at": now if approve else None,
                "created_by": actor.person_id,
            }
            for post_id, post in zip(ids, posts, strict=True)
        ],
    )
    variants = [
        {
            "post_id": post_id,
            "platform": platform,
            "text": v.text,
            "title": v.title,
            "digest": v.digest,
            "media": v.media,
        }
        for post_id, post in zip(ids, posts, strict=True)
        for platform, v in post.variants.items()
    ]
    targets = [
        (post_id, post.publish_at, account_id)
        for post_id, post in zip(ids, posts, strict=True)
        for account_id in post.account_ids
    ]
    if variants:
        session.execute(insert(PostVariant), variants)
    session.execute(insert(PostTarget), [{"post_id": p, "account_id": a} for p, _, a in targets])
    deliveries = 0
    if approve:
        session.execute(
            insert(Delivery),
            [
                {
                    "post_id": post_id,
                    "account_id": account_id,
                    "state": DeliveryState.SCHEDULED,
                    "due_at": at,
                    "next_attempt_at": at,
                    "ticket": 0,
                    "attempts": 0,
                    "updated_at": now,
                }
                for post_id, at, account_id in targets
            ],
        )
        deliveries = len(targets)
    record_many(
        session,
        [
            entry(
                actor,
                "post.import",
                "post",
                post_id,
                now,
                None,
                {
                    "state": state.value,
                    "text": post.text,
                    "title": post.title,
                    "publish_at": post.publish_at.isoformat() if post.publish_at else None,
                    "accounts": sorted(labels[a] for a in post.account_ids),
                },
                post_id,
            )
            for post_id, post in zip(ids, posts, strict=True)
        ],
    )
    return Imported(post_ids=ids, deliveries=deliveries)
