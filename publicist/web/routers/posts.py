"""``/api/posts`` and ``/api/imports``: write, approve, schedule, fix and import posts.

Each route calls the same campaign service the CLI command of the same name calls.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Body, Query, status
from sqlalchemy import select

from campaigns.importing import decode_csv, import_schedule
from campaigns.models import Post
from campaigns.schemas import PostChanges, PostInput, VariantInput
from campaigns.services import (
    add_post,
    approve_post,
    cancel_post,
    edit_post,
    find_campaign,
    get_post,
    reschedule_post,
    retry_post,
    schedule_post,
)
from campaigns.states import PostState
from publicist.core.errors import InvalidInput
from publicist.web.auth import Editor
from publicist.web.deps import DbSession, Now, PathId
from publicist.web.present import post_out
from publicist.web.schemas import (
    AtIn,
    ImportOut,
    PostCreate,
    PostEdit,
    PostOut,
    RetryOut,
    ScheduleIn,
    VariantIn,
)

MAX_CSV_BYTES = 5 * 1024 * 1024

router = APIRouter(tags=["posts"])


@contextmanager
def _time_in_range(field: str, value: str | None) -> Iterator[None]:
    """A time near year 1 or 9999 can overflow when converted to UTC; that is bad input."""
    try:
        yield
    except OverflowError:
        raise InvalidInput(field, value or "", "is out of the supported range of dates") from None


def _input(body: PostCreate) -> PostInput:
    return PostInput(
        campaign=body.campaign,
        text=body.text,
        accounts=list(body.accounts),
        at=body.at,
        title=body.title,
        media=[m.as_dict() for m in body.media],
        variants={
            platform: VariantInput(
                text=v.text,
                title=v.title,
                digest=v.digest,
                media=[m.as_dict() for m in v.media] if v.media is not None else None,
            )
            for platform, v in body.variants.items()
        },
    )


def _edited_variant(body: VariantIn | None) -> VariantInput | None:
    if body is None:
        return None
    media = None if body.media is None else [m.as_dict() for m in body.media]
    return VariantInput(text=body.text, title=body.title, digest=body.digest, media=media)


def _changes(body: PostEdit) -> PostChanges:
    return PostChanges(
        text=body.text,
        title=body.title,
        accounts=None if body.accounts is None else list(body.accounts),
        media=None if body.media is None else [m.as_dict() for m in body.media],
        variants=None
        if body.variants is None
        else {p: _edited_variant(v) for p, v in body.variants.items()},
    )


@router.get("/api/posts")
def list_posts(
    session: DbSession,
    _: Editor,
    campaign: Annotated[
        str | None, Query(max_length=200, description="Campaign name or id.")
    ] = None,
    state: Annotated[PostState | None, Query(description="Only posts in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[PostOut]:
    query = select(Post).order_by(Post.id).limit(limit).offset(offset)
    if campaign is not None:
        query = query.where(Post.campaign_id == find_campaign(session, campaign).id)
    if state is not None:
        query = query.where(Post.state == state)
    return [post_out(p) for p in session.scalars(query)]


@router.get("/api/posts/{post_id}")
def show_post(post_id: PathId, session: DbSession, _: Editor) -> PostOut:
    return post_out(get_post(session, post_id))


@router.post("/api/posts", status_code=status.HTTP_201_CREATED)
def create_post(body: PostCreate, session: DbSession, now: Now, _: Editor) -> PostOut:
    """Write a post with per-platform variants; a draft unless ``approve`` is true."""
    with _time_in_range("at", body.at):
        post = add_post(session, data=_input(body), now=now, approve=body.approve)
    session.flush()
    return post_out(post)


@router.post("/api/posts/{post_id}/approve")
def approve(post_id: PathId, session: DbSession, now: Now, _: Editor) -> PostOut:
    """Approve a draft; one with a time and accounts is scheduled at once."""
    post = approve_post(session, post_id=post_id, now=now)
    session.flush()
    return post_out(post)


@router.post("/api/posts/{post_id}/schedule")
def schedule(
    post_id: PathId, session: DbSession, now: Now, _: Editor, body: ScheduleIn | None = None
) -> PostOut:
    """Schedule an approved post, optionally setting (or moving) its time first."""
    post = get_post(session, post_id)
    if body is not None and body.at is not None:
        with _time_in_range("at", body.at):
            post = reschedule_post(session, post_id=post_id, at=body.at, now=now)
    if post.state is not PostState.SCHEDULED or body is None or body.at is None:
        schedule_post(session, post_id=post_id, now=now)
    session.flush()
    return post_out(post)


@router.post("/api/posts/{post_id}/reschedule")
def reschedule(post_id: PathId, body: AtIn, session: DbSession, now: Now, _: Editor) -> PostOut:
    """Move a post (and its deliveries not yet started) to another time."""
    with _time_in_range("at", body.at):
        post = reschedule_post(session, post_id=post_id, at=body.at, now=now)
    return post_out(post)


@router.post("/api/posts/{post_id}/cancel")
def cancel(post_id: PathId, session: DbSession, now: Now, _: Editor) -> PostOut:
    """Cancel a post and its deliveries not yet published."""
    return post_out(cancel_post(session, post_id=post_id, now=now))


@router.post("/api/posts/{post_id}/retry")
def retry(post_id: PathId, session: DbSession, now: Now, _: Editor) -> RetryOut:
    """Try the post's failed, missed or unresolved deliveries again, now."""
    retried = retry_post(session, post_id=post_id, now=now)
    return RetryOut(post=post_out(get_post(session, post_id)), retried=[d.id for d in retried])


@router.patch("/api/posts/{post_id}")
def edit(post_id: PathId, body: PostEdit, session: DbSession, now: Now, _: Editor) -> PostOut:
    """Change a post's text, title, accounts, media or variants; it becomes a draft again.

    Fields left out keep their values; an empty title clears it. ``variants`` changes only the
    platforms it names (``null`` removes one's variant). A scheduled post may be edited while
    none of its deliveries has started: they are removed, to be scheduled again on approval.
    """
    return post_out(edit_post(session, post_id=post_id, changes=_changes(body), now=now))


@router.post(
    "/api/imports",
    status_code=status.HTTP_201_CREATED,
    tags=["imports"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def import_csv(
    session: DbSession,
    now: Now,
    _: Editor,
    body: Annotated[bytes, Body(media_type="text/csv")] = b"",
    draft: Annotated[bool, Query(description="Import as drafts to approve later.")] = False,
) -> ImportOut:
    """Import a schedule (the CSV file as the request body): all rows or none.

    Columns: campaign, at, accounts (a;b), text; optional title, media, text@PLATFORM,
    title@PLATFORM, digest@PLATFORM. A failed import lists every bad row by line number.
    """
    if not body:
        raise InvalidInput("file", "", "is empty; send the CSV as the request body")
    if len(body) > MAX_CSV_BYTES:
        raise InvalidInput("file", f"{len(body)} bytes", f"is larger than {MAX_CSV_BYTES} bytes")
    text = decode_csv(body)
    try:
        imported = import_schedule(
            session, lines=io.StringIO(text, newline=""), now=now, approve=not draft
        )
    except OverflowError:
        raise InvalidInput("at", "", "has a time out of the supported range of dates") from None
    return ImportOut(
        imported=len(imported.post_ids),
        deliveries=imported.deliveries,
        drafts=draft,
        post_ids=imported.post_ids,
    )
