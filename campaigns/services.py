"""Campaign and post services: plain functions over a session; the caller commits."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from campaigns.accounts import find_account, refuse_nul
from campaigns.actors import OPERATOR, Actor
from campaigns.audit.log import delivery_fields, post_fields, record, record_delivery
from campaigns.audit.queries import post_revision
from campaigns.connections.health import require_usable
from campaigns.content import MediaLookup, library_of, resolve_content
from campaigns.models import Account, Campaign, Delivery, Post, PostTarget, PostVariant
from campaigns.people.roles import Role
from campaigns.schemas import CampaignInput, CheckedPost, PostChanges, PostInput, VariantInput
from campaigns.states import (
    ENDED_BADLY,
    DeliveryState,
    LatePolicy,
    PostState,
    check_delivery_transition,
    check_post_transition,
    describe_expired,
    is_expired,
)
from campaigns.validation import (
    check_content,
    is_visible,
    optional_text,
    parse_publish_time,
    parse_timezone,
    require_future,
    require_length,
    require_text,
)
from connectors.base import MediaKind
from publicist.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from publicist.core.ids import as_id

TITLE_LIMIT = 200
"""Sizes of the ``title`` and ``digest`` columns of posts and their variants."""
DIGEST_LIMIT = 500
COMMENT_LIMIT = 2000
"""Length of an approver's comment on a rejection."""


def create_campaign(
    session: Session,
    *,
    data: CampaignInput,
    default_timezone: str,
    now: datetime,
    actor: Actor = OPERATOR,
) -> Campaign:
    """A new campaign (an editor's right); letting people approve their own posts in it
    is a policy only an admin sets."""
    actor.require(Role.EDITOR, "creating a campaign")
    if data.self_approval:
        actor.require(Role.ADMIN, "allowing self-approval in a campaign")
    name = require_text(data.name, "name")
    zone = data.timezone or default_timezone
    parse_timezone(zone)
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise InvalidInput(
            "ends_on", data.ends_on.isoformat(), f"is before starts_on {data.starts_on.isoformat()}"
        )
    if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise Conflict(f"campaign {name!r} already exists")
    try:
        late_policy = LatePolicy(data.late_policy)
    except ValueError:
        raise InvalidInput(
            "late_policy",
            data.late_policy,
            "must be 'publish' (publish late) or 'miss' (mark missed)",
        ) from None
    # A tag that shows nothing (blank, or only zero-width characters) is left out.
    hashtags = [tag.strip() for tag in data.hashtags if any(map(is_visible, tag))]
    campaign = Campaign(
        name=name,
        theme=data.theme,
        description=data.description,
        timezone=zone,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        hashtags=hashtags,
        owner=data.owner,
        late_policy=late_policy,
        self_approval=data.self_approval,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    return campaign


def find_campaign(session: Session, reference: str, *, field: str = "campaign") -> Campaign:
    reference = reference.strip()
    refuse_nul(reference, field=field)
    campaign = session.scalar(select(Campaign).where(Campaign.name == reference))
    row_id = as_id(reference)
    if campaign is None and row_id is not None:
        campaign = session.get(Campaign, row_id)
    if campaign is None:
        raise InvalidInput(
            field, reference, "is not a known campaign (see 'publicist campaign list')"
        )
    return campaign


def get_post(session: Session, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("post", post_id, "see 'publicist post list'")
    return post


MEDIA_FIELDS = frozenset({"kind", "media_id", "url", "alt_text"})
URL_LIMIT = 2000
ALT_TEXT_LIMIT = 1000
_MEDIA_HELP = (
    "upload the file to the media library ('publicist media add', POST /api/media) and give "
    "its media_id, or give an http(s) url"
)


def _check_media(library: MediaLookup, items: list[dict[str, object]], field: str) -> None:
    """Each entry is ``{"kind", "media_id"}`` (a library item of that kind) or ``{"kind",
    "url"}`` (http or https); a local path (``source``) is refused and never echoed."""
    kinds = ", ".join(kind.value for kind in MediaKind)
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(where, type(item).__name__, "must be an object")
        if "source" in item:
            raise InvalidInput(f"{where}.source", "(not shown)", f"is not accepted: {_MEDIA_HELP}")
        unknown = sorted(str(key) for key in item if key not in MEDIA_FIELDS)
        if unknown:
            raise InvalidInput(where, ", ".join(unknown), f"is not a media field ({_MEDIA_HELP})")
        kind = item.get("kind")
        if kind not in {k.value for k in MediaKind}:
            raise InvalidInput(f"{where}.kind", str(kind), f"must be one of {kinds}")
        alt_text = item.get("alt_text")
        if alt_text is not None and (
            not isinstance(alt_text, str) or len(alt_text) > ALT_TEXT_LIMIT
        ):
            raise InvalidInput(
                f"{where}.alt_text", "", f"must be text of at most {ALT_TEXT_LIMIT} characters"
            )
        if ("media_id" in item) == ("url" in item):
            raise InvalidInput(
                where, str(kind), f"needs exactly one of media_id and url: {_MEDIA_HELP}"
            )
        if "media_id" in item:
            _check_library_item(library, item.get("media_id"), str(kind), where)
        else:
            _check_url(item.get("url"), where)


def _check_library_item(library: MediaLookup, media_id: object, kind: str, where: str) -> None:
    if not isinstance(media_id, int) or isinstance(media_id, bool) or not 0 < media_id < 2**31:
        raise InvalidInput(f"{where}.media_id", str(media_id), "must be a media library id")
    stored = library(media_id)
    if stored is None:
        raise InvalidInput(
            f"{where}.media_id",
            media_id,
            "is not in the media library (see 'publicist media list')",
        )
    if stored.kind != kind:
        raise InvalidInput(
            f"{where}.kind", kind, f"does not match media item {media_id}, which is a {stored.kind}"
        )


def _check_url(url: object, where: str) -> None:
    """The URL's shape only: where it points is checked when it is fetched, hop by hop."""
    field_name = f"{where}.url"
    if not isinstance(url, str) or len(url) > URL_LIMIT:
        raise InvalidInput(
            field_name, "", f"must be an http(s) URL of at most {URL_LIMIT} characters"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise InvalidInput(field_name, "", "is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidInput(
            field_name, parts.scheme or "", "must be an http or https URL with a host"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(field_name, host, "must not carry a user name or password")


def _resolve_accounts(
    session: Session, data: PostInput, *, field_prefix: str
) -> tuple[Campaign, list[Account]]:
    campaign = find_campaign(session, data.campaign, field=f"{field_prefix}campaign")
    accounts = [
        find_account(session, reference, field=f"{field_prefix}accounts")
        for reference in data.accounts
    ]
    return campaign, accounts


def _variant_rows(checked: CheckedPost) -> list[PostVariant]:
    return [
        PostVariant(platform=platform, text=v.text, title=v.title, digest=v.digest, media=v.media)
        for platform, v in checked.variants.items()
    ]


def add_post(
    session: Session,
    *,
    data: PostInput,
    now: datetime,
    approve: bool = False,
    field_prefix: str = "",
    actor: Actor = OPERATOR,
) -> Post:
    """Create a draft with its variants and targets (an editor's right); with ``approve`` it
    is also submitted and approved in the same call, so scheduled when it has a time (which
    needs the approver role, and a campaign allowing self-approval when a person writes it)."""
    actor.require(Role.EDITOR, "writing a post")
    if approve:
        actor.require(Role.APPROVER, "approving a post")
    campaign, accounts = _resolve_accounts(session, data, field_prefix=field_prefix)
    checked = check_post(
        data,
        campaign=campaign,
        accounts=accounts,
        now=now,
        library=library_of(session),
        field_prefix=field_prefix,
    )
    if approve:
        check_self_approval(campaign, created_by=actor.person_id, actor=actor, post_id=None)
    post = Post(
        campaign_id=checked.campaign_id,
        text=checked.text,
        title=checked.title,
        media=checked.media,
        state=PostState.DRAFT,
        publish_at=checked.publish_at,
        created_at=now,
        created_by=actor.person_id,
    )
    post.variants = _variant_rows(checked)
    post.targets = [PostTarget(account=account) for account in accounts]
    session.add(post)
    session.flush()
    record(
        session,
        actor=actor,
        action="post.create",
        kind="post",
        object_id=post.id,
        post_id=post.id,
        after=post_fields(post),
        now=now,
    )
    if approve:
        approve_post(session, post_id=post.id, now=now, actor=actor, from_draft=True)
    return post


def check_self_approval(
    campaign: Campaign, *, created_by: int | None, actor: Actor, post_id: int | None
) -> None:
    """A person never approves a post they wrote unless its campaign allows it.

    Posts written by the CLI or by a token without an owner have no author, and the CLI
    operator is outside the rule (it has no signed-in person)."""
    if actor.person_id is None or created_by != actor.person_id or campaign.self_approval:
        return
    what = f"post {post_id}" if post_id is not None else "a post"
    raise Forbidden(
        f"{what} was written by {actor.label}, who may not approve it: campaign "
        f"{campaign.name!r} does not allow self-approval (self_approval is off)"
    )


def check_post(
    data: PostInput,
    *,
    campaign: Campaign,
    accounts: list[Account],
    now: datetime,
    library: MediaLookup,
    field_prefix: str = "",
    timed: bool = True,
) -> CheckedPost:
    """Every check of a post's content, writing nothing: ``accounts`` are those
    ``data.accounts`` names, in order (the CSV import resolves them once per file, not once
    per row); ``library`` finds the media library items its media name. ``timed=False``
    skips the publish time (an edit keeps the post's time; reschedule moves it)."""
    p = field_prefix
    text = require_text(data.text, f"{p}text")
    if not data.accounts:
        raise InvalidInput(f"{p}accounts", "", "must name at least one account")
    for index, account in enumerate(accounts):
        if account in accounts[:index]:
            raise InvalidInput(f"{p}accounts", data.accounts[index], "is listed twice")
    publish_at = None
    if timed and data.at is not None:
        publish_at = parse_publish_time(
            data.at, zone=parse_timezone(campaign.timezone), field=f"{p}at"
        )
        require_future(publish_at, now=now, field=f"{p}at")
    _check_media(library, data.media, f"{p}media")
    optional_text(data.title, f"{p}title")
    require_length(data.title, TITLE_LIMIT, f"{p}title")
    for platform, variant in data.variants.items():
        for name, given in (
            ("text", variant.text),
            ("title", variant.title),
            ("digest", variant.digest),
        ):
            optional_text(given, f"{p}variant[{platform}].{name}")
        require_length(variant.title, TITLE_LIMIT, f"{p}variant[{platform}].title")
        require_length(variant.digest, DIGEST_LIMIT, f"{p}variant[{platform}].digest")
    platforms = {a.platform for a in accounts}
    for platform in data.variants:
        if platform not in platforms:
            raise InvalidInput(
                f"{p}variant",
                platform,
                f"targets no chosen account (platforms: {', '.join(sorted(platforms))})",
            )
        _check_media(library, data.variants[platform].media or [], f"{p}variant[{platform}].media")
    for platform in sorted(platforms):
        content = resolve_content(
            text=text,
            title=data.title,
            media=data.media,
            variant=data.variants.get(platform),
            marker="",
            library=library,
        )
        check_content(platform, content, field_prefix=p)
    return CheckedPost(
        campaign_id=campaign.id,
        text=text,
        title=data.title,
        media=list(data.media),
        publish_at=publish_at,
        variants=dict(sorted(data.variants.items())),
        account_ids=[account.id for account in accounts],
    )


def _lock_post(session: Session, post_id: int) -> Post:
    """The post, locked until the transaction ends, with its deliveries re-read under the lock.

    Every staff action on a post starts here, so two actions on one post run one after the
    other and the second sees what the first did: on PostgreSQL the row lock makes it wait
    for the first to commit; on SQLite every write transaction already begins ``IMMEDIATE``
    (publicist.core.database). ``populate_existing`` replaces whatever the session read
    before the lock. The deliveries are locked too, so a worker's compare-and-set on one
    (the claim, the start of an attempt) waits for this action or sees its result, and this
    action never decides on a delivery state a worker has already moved on.
    """
    # FOR NO KEY UPDATE: it excludes every other staff action but not the key-share lock a
    # worker's foreign-key check takes on the post while it holds a delivery's row lock,
    # which FOR UPDATE would turn into a deadlock with the delivery lock below.
    post = session.get(Post, post_id, with_for_update={"key_share": True}, populate_existing=True)
    if post is None:
        raise NotFound("post", post_id, "see 'publicist post list'")
    deliveries = session.scalars(
        select(Delivery)
        .where(Delivery.post_id == post.id)
        .order_by(Delivery.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    set_committed_value(post, "deliveries", list(deliveries))
    return post


def submit_post(session: Session, *, post_id: int, now: datetime, actor: Actor = OPERATOR) -> Post:
    """Send a draft for review (an editor's right); an approver then approves or rejects it."""
    actor.require(Role.EDITOR, "submitting a post")
    post = _lock_post(session, post_id)
    _submit(session, post, now=now, actor=actor)
    return post


def _submit(session: Session, post: Post, *, now: datetime, actor: Actor) -> None:
    before = post_fields(post)
    check_post_transition(post.id, post.state, PostState.IN_REVIEW)
    post.state = PostState.IN_REVIEW
    post.review_comment = None
    _record_post(session, post, "post.submit", before, actor=actor, now=now)


def approve_post(
    session: Session,
    *,
    post_id: int,
    now: datetime,
    actor: Actor = OPERATOR,
    from_draft: bool = False,
) -> Post:
    """Approve a post in review (an approver's right); one with a time and accounts is
    scheduled at once. ``from_draft`` first submits a draft in the same call (the CLI's
    ``--approve``, approving imports), for a caller who may both submit and approve."""
    actor.require(Role.APPROVER, "approving a post")
    post = _lock_post(session, post_id)
    if from_draft and post.state is PostState.DRAFT:
        _submit(session, post, now=now, actor=actor)
    if is_expired(post.state, post.publish_at, now=now):
        raise Conflict(describe_expired(post.id, post.publish_at))
    check_post_transition(post.id, post.state, PostState.APPROVED)
    check_self_approval(post.campaign, created_by=post.created_by, actor=actor, post_id=post.id)
    before = post_fields(post)
    post.state = PostState.APPROVED
    post.approved_at = now
    post.review_comment = None
    if post.publish_at is not None and post.targets:
        _schedule(session, post, now=now)
    _record_post(session, post, "post.approve", before, actor=actor, now=now)
    return post


def reject_post(
    session: Session, *, post_id: int, comment: str, now: datetime, actor: Actor = OPERATOR
) -> Post:
    """Send a post in review back to its editor with the approver's reason."""
    actor.require(Role.APPROVER, "rejecting a post")
    comment = require_text(comment, "comment")
    require_length(comment, COMMENT_LIMIT, "comment")
    post = _lock_post(session, post_id)
    before = post_fields(post)
    check_post_transition(post.id, post.state, PostState.REJECTED)
    post.state = PostState.REJECTED
    post.review_comment = comment
    _record_post(session, post, "post.reject", before, actor=actor, now=now)
    return post


def schedule_post(
    session: Session, *, post_id: int, now: datetime, actor: Actor = OPERATOR
) -> list[Delivery]:
    """Schedule an approved post at its time: one delivery per target account."""
    actor.require(Role.APPROVER, "scheduling a post")
    post = _lock_post(session, post_id)
    before = post_fields(post)
    deliveries = _schedule(session, post, now=now)
    _record_post(session, post, "post.schedule", before, actor=actor, now=now)
    return deliveries


def _record_post(
    session: Session,
    post: Post,
    action: str,
    before: dict[str, object],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        kind="post",
        object_id=post.id,
        post_id=post.id,
        before=before,
        after=post_fields(post),
        now=now,
    )


def _schedule(session: Session, post: Post, *, now: datetime) -> list[Delivery]:
    check_post_transition(post.id, post.state, PostState.SCHEDULED)
    if post.publish_at is None:
        raise InvalidInput("at", "", f"post {post.id} needs a publish time to be scheduled")
    require_future(post.publish_at, now=now)
    for target in post.targets:
        require_usable(target.account, at=post.publish_at, now=now)
    post.state = PostState.SCHEDULED
    deliveries = [
        Delivery(
            post=post,
            account_id=target.account_id,
            state=DeliveryState.SCHEDULED,
            due_at=post.publish_at,
            next_attempt_at=post.publish_at,
            ticket=0,
            attempts=0,
            updated_at=now,
        )
        for target in post.targets
    ]
    session.add_all(deliveries)
    session.flush()
    return deliveries


def cancel_post(session: Session, *, post_id: int, now: datetime, actor: Actor = OPERATOR) -> Post:
    """Cancel a post and every delivery not yet started; published ones stay published.

    A queued delivery becomes cancelled too: its publish task's compare-and-set (queued and
    its ticket) then finds nothing to start.
    """
    actor.require(Role.APPROVER, "cancelling a post")
    post = _lock_post(session, post_id)
    before = post_fields(post)
    check_post_transition(post.id, post.state, PostState.CANCELLED)
    busy = [
        d for d in post.deliveries if d.state in (DeliveryState.PUBLISHING, DeliveryState.SUBMITTED)
    ]
    if busy:
        raise Conflict(
            f"post {post.id} is being published to "
            f"{', '.join(d.account.label for d in busy)}; it cannot be cancelled now"
        )
    post.state = PostState.CANCELLED
    for delivery in post.deliveries:
        if delivery.state in (
            DeliveryState.SCHEDULED,
            DeliveryState.QUEUED,
            DeliveryState.FAILED,
            DeliveryState.UNKNOWN,
            DeliveryState.MISSED,
        ):
            old = delivery_fields(delivery)
            set_delivery_state(delivery, DeliveryState.CANCELLED, now=now)
            record_delivery(session, delivery, "delivery.cancel", old, actor=actor, now=now)
    session.flush()
    _record_post(session, post, "post.cancel", before, actor=actor, now=now)
    return post


def reschedule_post(
    session: Session, *, post_id: int, at: str | datetime, now: datetime, actor: Actor = OPERATOR
) -> Post:
    """Move a post, and its deliveries not yet started, to another time (an approver's
    right; moving a post in review past the time it expired at revives it)."""
    actor.require(Role.APPROVER, "rescheduling a post")
    post = _lock_post(session, post_id)
    before = post_fields(post)
    if post.state not in (
        PostState.DRAFT,
        PostState.IN_REVIEW,
        PostState.REJECTED,
        PostState.APPROVED,
        PostState.SCHEDULED,
    ):
        raise Conflict(f"post {post.id} is {post.state.value}; it cannot be rescheduled")
    moment = parse_publish_time(at, zone=parse_timezone(post.campaign.timezone))
    require_future(moment, now=now)
    started = [
        d
        for d in post.deliveries
        if d.state not in (DeliveryState.SCHEDULED, DeliveryState.QUEUED, DeliveryState.CANCELLED)
    ]
    if started:
        raise Conflict(
            f"post {post.id} has deliveries already {started[0].state.value}; "
            "it cannot be rescheduled"
        )
    for delivery in post.deliveries:
        if delivery.state in (DeliveryState.SCHEDULED, DeliveryState.QUEUED):
            require_usable(delivery.account, at=moment, now=now)
    post.publish_at = moment
    for delivery in post.deliveries:
        if delivery.state in (DeliveryState.SCHEDULED, DeliveryState.QUEUED):
            # A queued delivery's task holds the old ticket and will find nothing to do.
            if delivery.state is DeliveryState.QUEUED:
                set_delivery_state(delivery, DeliveryState.SCHEDULED, now=now)
            delivery.due_at = moment
            delivery.next_attempt_at = moment
    session.flush()
    _record_post(session, post, "post.reschedule", before, actor=actor, now=now)
    return post


def retry_post(
    session: Session, *, post_id: int, now: datetime, actor: Actor = OPERATOR
) -> list[Delivery]:
    """Staff asked to try a post's failed, missed or unresolved deliveries again, now (an
    approver's right: it publishes).

    Returns the deliveries scheduled again; a post with none to retry is a conflict.
    """
    actor.require(Role.APPROVER, "retrying a post")
    post = _lock_post(session, post_id)
    stuck = [d for d in post.deliveries if d.state in ENDED_BADLY]
    if post.state is not PostState.SCHEDULED or not stuck:
        raise Conflict(
            f"post {post.id} is {post.state.value} and has no failed, missed or unknown "
            "deliveries to retry"
        )
    for delivery in stuck:
        old = delivery_fields(delivery)
        set_delivery_state(delivery, DeliveryState.SCHEDULED, now=now)
        delivery.next_attempt_at = now
        delivery.attempts = 0
        record_delivery(session, delivery, "delivery.retry", old, actor=actor, now=now)
    session.flush()
    return stuck


def edit_post(
    session: Session,
    *,
    post_id: int,
    changes: PostChanges,
    now: datetime,
    actor: Actor = OPERATOR,
    expected_revision: int | None = None,
) -> Post:
    """Change a post's content; what was in review, rejected, approved or scheduled goes
    back to draft.

    ``expected_revision`` (:func:`campaigns.audit.queries.post_revision` when the editor
    opened the post) makes the edit a compare-and-set: of two people editing the same
    version, the first wins and the second gets a conflict instead of overwriting it.

    A scheduled post may be edited only while none of its deliveries has started: they are
    removed (a queued one's publish task then finds nothing) and the post is a draft again,
    to be approved anew. The new content meets the same rules as a new post's.
    """
    if changes.empty:
        raise InvalidInput(
            "changes", "", "must change at least one of text, title, accounts, media, variants"
        )
    actor.require(Role.EDITOR, "editing a post")
    post = _lock_post(session, post_id)
    if expected_revision is not None:
        current = post_revision(session, post_id=post.id)
        if current != expected_revision:
            raise Conflict(
                f"post {post.id} was changed by someone else since it was opened "
                f"(revision {expected_revision}, now {current}); reload it and edit again"
            )
    before = post_fields(post)
    if post.state is PostState.CANCELLED:
        raise Conflict(f"post {post.id} is cancelled; it cannot be edited")
    for delivery in post.deliveries:
        if delivery.state not in (DeliveryState.SCHEDULED, DeliveryState.QUEUED):
            raise Conflict(
                f"post {post.id} has a delivery to {delivery.account.label} already "
                f"{delivery.state.value}; it cannot be edited (cancel it instead)"
            )
        if delivery.started_at is not None:
            raise Conflict(
                f"post {post.id} was already tried on {delivery.account.label}; "
                "it cannot be edited (cancel it instead)"
            )
    edited = _edited(post, changes)
    campaign, accounts = _resolve_accounts(session, edited, field_prefix="")
    checked = check_post(
        edited,
        campaign=campaign,
        accounts=accounts,
        now=now,
        library=library_of(session),
        timed=False,
    )
    for delivery in post.deliveries:
        session.delete(delivery)
    set_committed_value(post, "deliveries", [])
    if post.state is not PostState.DRAFT:
        check_post_transition(post.id, post.state, PostState.DRAFT)
        post.state = PostState.DRAFT
        post.approved_at = None
    post.text = checked.text
    post.title = checked.title
    post.media = checked.media
    # Old rows go first: the new ones share their (post, platform) and (post, account) keys.
    post.variants.clear()
    post.targets.clear()
    session.flush()
    post.variants.extend(_variant_rows(checked))
    post.targets.extend(PostTarget(account=account) for account in accounts)
    session.flush()
    _record_post(session, post, "post.edit", before, actor=actor, now=now)
    return post


def _edited(post: Post, changes: PostChanges) -> PostInput:
    """The post as it would be after ``changes``, in the shape :func:`add_post` checks."""
    variants = {
        v.platform: VariantInput(text=v.text, title=v.title, digest=v.digest, media=v.media)
        for v in post.variants
    }
    for platform, change in (changes.variants or {}).items():
        if change is None:
            variants.pop(platform, None)
            continue
        old = variants.get(platform, VariantInput())
        variants[platform] = VariantInput(
            text=_cleared(change.text, old.text),
            title=_cleared(change.title, old.title),
            digest=_cleared(change.digest, old.digest),
            media=old.media if change.media is None else list(change.media),
        )
    accounts = [f"{t.account.platform}:{t.account.handle}" for t in post.targets]
    return PostInput(
        campaign=post.campaign.name,
        text=post.text if changes.text is None else changes.text,
        accounts=accounts if changes.accounts is None else list(changes.accounts),
        title=_cleared(changes.title, post.title),
        media=list(post.media) if changes.media is None else list(changes.media),
        variants={p: v for p, v in variants.items() if v != VariantInput()},
    )


def _cleared(new: str | None, old: str | None) -> str | None:
    """``None`` keeps the old value, an empty string clears it."""
    if new is None:
        return old
    return new or None


def set_delivery_state(delivery: Delivery, target: DeliveryState, *, now: datetime) -> None:
    check_delivery_transition(delivery.id, delivery.state, target)
    delivery.state = target
    delivery.updated_at = now
