"""Writing audit entries, in the transaction of the change they describe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from campaigns.actors import Actor
from campaigns.audit.models import AuditEntry
from campaigns.content import shown_media
from campaigns.models import Account, Delivery, Post
from campaigns.people.models import Person

Fields = dict[str, Any]


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    kind: str,
    object_id: int,
    now: datetime,
    before: Fields | None = None,
    after: Fields | None = None,
    post_id: int | None = None,
) -> None:
    """Add one entry holding only the fields that changed between ``before`` and ``after``."""
    old, new = changed(before or {}, after or {})
    session.add(entry(actor, action, kind, object_id, now, old, new, post_id))
    session.flush()


def record_delivery(
    session: Session,
    delivery: Delivery,
    action: str,
    before: Fields,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Add the entry of a staff action on one delivery (``before``: its ``delivery_fields``
    read before the change)."""
    record(
        session,
        actor=actor,
        action=action,
        kind="delivery",
        object_id=delivery.id,
        post_id=delivery.post_id,
        before=before,
        after=delivery_fields(delivery),
        now=now,
    )


def record_many(session: Session, entries: list[AuditEntry]) -> None:
    """Add many entries with one INSERT (the CSV import writes one per post)."""
    if not entries:
        return
    rows = [
        {c.key: getattr(e, c.key) for c in AuditEntry.__table__.columns if c.key != "id"}
        for e in entries
    ]
    session.execute(insert(AuditEntry), rows)


def entry(
    actor: Actor,
    action: str,
    kind: str,
    object_id: int,
    now: datetime,
    before: Fields | None,
    after: Fields | None,
    post_id: int | None = None,
) -> AuditEntry:
    return AuditEntry(
        at=now,
        actor=actor.kind.value,
        person_id=actor.person_id,
        token_id=actor.token_id,
        action=action,
        object_kind=kind,
        object_id=object_id,
        post_id=post_id,
        before=before or None,
        after=after or None,
    )


def changed(before: Fields, after: Fields) -> tuple[Fields, Fields]:
    """The fields whose values differ, as (before, after); a missing key counts as absent."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return {k: before[k] for k in keys if k in before}, {k: after[k] for k in keys if k in after}


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def post_fields(post: Post) -> Fields:
    """What staff change on a post, as JSON-ready values."""
    return {
        "state": post.state.value,
        "text": post.text,
        "title": post.title,
        "media": shown_media(post.media) or [],
        "publish_at": _time(post.publish_at),
        "accounts": sorted(t.account.label for t in post.targets),
        "variants": {
            v.platform: {
                k: val
                for k, val in (
                    ("text", v.text),
                    ("title", v.title),
                    ("digest", v.digest),
                    ("media", shown_media(v.media)),
                )
                if val is not None
            }
            for v in post.variants
        },
        "review_comment": post.review_comment,
    }


def delivery_fields(delivery: Delivery) -> Fields:
    return {
        "state": delivery.state.value,
        "due_at": _time(delivery.due_at),
        "next_attempt_at": _time(delivery.next_attempt_at),
        "attempts": delivery.attempts,
        "url": delivery.url,
    }


def account_fields(account: Account) -> Fields:
    """Never the credentials: only where they point and the quota."""
    return {
        "platform": account.platform,
        "handle": account.handle,
        "status": account.status.value if account.status else None,
        "api_base_url": account.api_base_url,
        "rate_limit_requests": account.rate_limit_requests,
        "rate_limit_per_seconds": account.rate_limit_per_seconds,
    }


def person_fields(person: Person) -> Fields:
    """Never the password hash."""
    return {
        "name": person.name,
        "email": person.email,
        "role": person.role,
        "language": person.language,
        "timezone": person.timezone,
        "disabled": person.disabled,
    }
