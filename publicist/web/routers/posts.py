"""``/api/posts``, ``/api/imports`` and ``/api/audit``: write, review, schedule, fix and
import posts, and read who changed what.

Each route calls the same campaign service the CLI command of the same name calls.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from campaigns.audit.queries import entries_between, post_history
from campaigns.importing import decode_csv, import_schedule
from campaigns.queries import list_posts_in
from campaigns.schemas import PostChanges, PostInput, VariantInput
from campaigns.services import (
    add_post,
    approve_post,
    cancel_post,
    edit_post,
    find_campaign,
    get_post,
    reject_post,
    reschedule_post,
    retry_post,
    schedule_post,
    submit_post,
)
from campaigns.states import PostState, ShownState
from publicist.core.errors import InvalidInput
from publicist.web.auth import Admin, Approver, Editor, Viewer
from publicist.web.deps import DbSession, Now, PathId
from publicist.web.present import audit_out, post_out
from publicist.web.schemas import (
    AtIn,
    AuditOut,
    ImportOut,
    PostCreate,
    PostEdit,
    PostOut,
    RejectIn,
    RetryOut,
    ScheduleIn,
    VariantIn,
)
from publicist.web.tokens import token_actor

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
    now: Now,
    _: Viewer,
    campaign: Annotated[
        str | None, Query(max_length=200, description="Campaign name or id.")
    ] = None,
    state: Annotated[
        ShownState | None,
        Query(description="Only posts in this state (expired: in review past its time)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[PostOut]:
    campaign_id = find_campaign(session, campaign).id if campaign is not None else None
    wanted = None if state is None else state.value
    posts = list_posts_in(
        session, now=now, campaign_id=campaign_id, state=wanted, limit=limit, offset=offset
    )
    return [post_out(p, now=now) for p in posts]


@router.get("/api/posts/{post_id}")
def show_post(post_id: PathId, session: DbSession, now: Now, _: Viewer) -> PostOut:
    return post_out(get_post(session, post_id), now=now)


@router.get("/api/posts/{post_id}/audit", tags=["audit"])
def post_audit(post_id: PathId, session: DbSession, _: Viewer) -> list[AuditOut]:
    """The post's history, oldest first: every change to it and to its deliveries' staff
    actions, with who made it and the changed fields before and after."""
    get_post(session, post_id)
    return [audit_out(e) for e in post_history(session, post_id=post_id)]


@router.post("/api/posts", status_code=status.HTTP_201_CREATED)
def create_post(body: PostCreate, session: DbSession, now: Now, caller: Editor) -> PostOut:
    """Write a post with per-platform variants: a draft, unless ``approve`` is true (then
    submitted and approved at once: the approver role, and for a person a campaign that
    allows self-approval)."""
    with _time_in_range("at", body.at):
        post = add_post(
            session, data=_input(body), now=now, approve=body.approve, actor=token_actor(caller)
        )
    session.flush()
    return post_out(post, now=now)


@router.post("/api/posts/{post_id}/submit")
def submit(post_id: PathId, session: DbSession, now: Now, caller: Editor) -> PostOut:
    """Send a draft for review."""
    post = submit_post(session, post_id=post_id, now=now, actor=token_actor(caller))
    return post_out(post, now=now)


@router.post("/api/posts/{post_id}/approve")
def approve(post_id: PathId, session: DbSession, now: Now, caller: Approver) -> PostOut:
    """Approve a post in review; one with a time and accounts is scheduled at once. Nobody
    approves a post they wrote unless its campaign allows self-approval."""
    post = approve_post(session, post_id=post_id, now=now, actor=token_actor(caller))
    session.flush()
    return post_out(post, now=now)


@router.post("/api/posts/{post_id}/reject")
def reject(
    post_id: PathId, body: RejectIn, session: DbSession, now: Now, caller: Approver
) -> PostOut:
    """Send a post in review back to its editor with a comment (required)."""
    post = reject_post(
        session, post_id=post_id, comment=body.comment, now=now, actor=token_actor(caller)
    )
    return post_out(post, now=now)


@router.post("/api/posts/{post_id}/schedule")
def schedule(
    post_id: PathId,
    session: DbSession,
    now: Now,
    caller: Approver,
    body: ScheduleIn | None = None,
) -> PostOut:
    """Schedule an approved post, optionally setting (or moving) its time first."""
    actor = token_actor(caller)
    post = get_post(session, post_id)
    if body is not None and body.at is not None:
        with _time_in_range("at", body.at):
            post = reschedule_post(session, post_id=post_id, at=body.at, now=now, actor=actor)
    if post.state is not PostState.SCHEDULED or body is None or body.at is None:
        schedule_post(session, post_id=post_id, now=now, actor=actor)
    session.flush()
    return post_out(post, now=now)


@router.post("/api/posts/{post_id}/reschedule")
def reschedule(
    post_id: PathId, body: AtIn, session: DbSession, now: Now, caller: Approver
) -> PostOut:
    """Move a post (and its deliveries not yet started) to another time."""
    with _time_in_range("at", body.at):
        post = reschedule_post(
            session, post_id=post_id, at=body.at, now=now, actor=token_actor(caller)
        )
    return post_out(post, now=now)


@router.post("/api/posts/{post_id}/cancel")
def cancel(post_id: PathId, session: DbSession, now: Now, caller: Approver) -> PostOut:
    """Cancel a post and its deliveries not yet published."""
    post = cancel_post(session, post_id=post_id, now=now, actor=token_actor(caller))
    return post_out(post, now=now)


@router.post("/api/posts/{post_id}/retry")
def retry(post_id: PathId, session: DbSession, now: Now, caller: Approver) -> RetryOut:
    """Try the post's failed, missed or unresolved deliveries again, now."""
    retried = retry_post(session, post_id=post_id, now=now, actor=token_actor(caller))
    return RetryOut(
        post=post_out(get_post(session, post_id), now=now), retried=[d.id for d in retried]
    )


@router.patch("/api/posts/{post_id}")
def edit(post_id: PathId, body: PostEdit, session: DbSession, now: Now, caller: Editor) -> PostOut:
    """Change a post's text, title, accounts, media or variants; it becomes a draft again.

    Fields left out keep their values; an empty title clears it. ``variants`` changes only the
    platforms it names (``null`` removes one's variant). A scheduled post may be edited while
    none of its deliveries has started: they are removed, to be scheduled again on approval.
    """
    post = edit_post(
        session, post_id=post_id, changes=_changes(body), now=now, actor=token_actor(caller)
    )
    return post_out(post, now=now)


@router.get("/api/audit", tags=["audit"])
def audit_log(
    session: DbSession,
    _: Admin,
    start: Annotated[date, Query(alias="from", description="First day (UTC), e.g. 2026-04-01.")],
    end: Annotated[date, Query(alias="to", description="Last day (UTC), included.")],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[AuditOut]:
    """Every audit entry written on these days, oldest first (``publicist audit export``
    writes the same as CSV)."""
    entries = entries_between(session, start=start, end=end, limit=limit, offset=offset)
    return [audit_out(e) for e in entries]


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
    caller: Editor,
    body: Annotated[bytes, Body(media_type="text/csv")] = b"",
    draft: Annotated[bool, Query(description="Import as drafts to approve later.")] = False,
) -> ImportOut:
    """Import a schedule (the CSV file as the request body): all rows or none. Scheduled
    posts need the approver role (and, for a person, campaigns allowing self-approval);
    an editor imports drafts (``draft=true``).

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
            session,
            lines=io.StringIO(text, newline=""),
            now=now,
            approve=not draft,
            actor=token_actor(caller),
        )
    except OverflowError:
        raise InvalidInput("at", "", "has a time out of the supported range of dates") from None
    return ImportOut(
        imported=len(imported.post_ids),
        deliveries=imported.deliveries,
        drafts=draft,
        post_ids=imported.post_ids,
    )
