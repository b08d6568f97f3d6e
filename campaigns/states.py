"""The post and delivery state machines: every allowed move is listed here and nowhere else."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from publicist.core.errors import Conflict


class PostState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    """Submitted by its editor; an approver approves or rejects it."""
    REJECTED = "rejected"
    """Sent back with the approver's comment; editing it makes it a draft again."""
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class DeliveryState(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    PUBLISHING = "publishing"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    MISSED = "missed"
    """Found too late to publish (the system was down) under a campaign's "miss" policy."""


class AccountStatus(StrEnum):
    """Whether an account may be published to; none of them deletes its history."""

    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
    """A token refresh failed for good (revoked, invalid_grant): a person must connect it again."""
    DISABLED = "disabled"
    """Paused by an admin: future deliveries cancelled; reconnecting or enabling revives it."""
    REMOVED = "removed"
    """Soft-removed: hidden from choices, its published deliveries and metrics stay in reports."""


class LatePolicy(StrEnum):
    PUBLISH = "publish"
    """Publish late, at the account's quota pace."""
    MISS = "miss"
    """Do not publish; mark the delivery missed for staff to decide."""


POST_TRANSITIONS: dict[PostState, frozenset[PostState]] = {
    PostState.DRAFT: frozenset({PostState.IN_REVIEW, PostState.CANCELLED}),
    # in_review -> draft: edited while in review; it is submitted again.
    PostState.IN_REVIEW: frozenset(
        {PostState.APPROVED, PostState.REJECTED, PostState.DRAFT, PostState.CANCELLED}
    ),
    # rejected -> draft: its editor edits it, as the approver's comment asks.
    PostState.REJECTED: frozenset({PostState.DRAFT, PostState.CANCELLED}),
    # approved -> draft: edited; the new content needs approving again.
    PostState.APPROVED: frozenset({PostState.SCHEDULED, PostState.DRAFT, PostState.CANCELLED}),
    # scheduled -> draft: edited before any delivery started; its deliveries are removed.
    PostState.SCHEDULED: frozenset({PostState.DRAFT, PostState.CANCELLED}),
    PostState.CANCELLED: frozenset(),
}

DELIVERY_TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.SCHEDULED: frozenset(
        {DeliveryState.QUEUED, DeliveryState.CANCELLED, DeliveryState.MISSED}
    ),
    # queued -> scheduled: rescheduled while its task waited; the stale task finds no match.
    DeliveryState.QUEUED: frozenset(
        {DeliveryState.PUBLISHING, DeliveryState.SCHEDULED, DeliveryState.CANCELLED}
    ),
    # publishing -> scheduled: a retry, planned through the database rather than the broker.
    DeliveryState.PUBLISHING: frozenset(
        {
            DeliveryState.PUBLISHED,
            DeliveryState.SUBMITTED,
            DeliveryState.SCHEDULED,
            DeliveryState.FAILED,
            DeliveryState.UNKNOWN,
        }
    ),
    DeliveryState.SUBMITTED: frozenset(
        {DeliveryState.PUBLISHED, DeliveryState.FAILED, DeliveryState.UNKNOWN}
    ),
    # unknown is resolved by reconciliation or by staff; never republished silently.
    DeliveryState.UNKNOWN: frozenset(
        {
            DeliveryState.PUBLISHED,
            DeliveryState.SCHEDULED,
            DeliveryState.FAILED,
            DeliveryState.CANCELLED,
        }
    ),
    # failed -> scheduled: staff asked for a retry.
    DeliveryState.FAILED: frozenset({DeliveryState.SCHEDULED, DeliveryState.CANCELLED}),
    # missed -> scheduled: staff chose to publish it after all.
    DeliveryState.MISSED: frozenset({DeliveryState.SCHEDULED, DeliveryState.CANCELLED}),
    DeliveryState.PUBLISHED: frozenset(),
    DeliveryState.CANCELLED: frozenset(),
}

ACTIVE_DELIVERY_STATES = frozenset(
    {
        DeliveryState.SCHEDULED,
        DeliveryState.QUEUED,
        DeliveryState.PUBLISHING,
        DeliveryState.SUBMITTED,
    }
)


class ShownState(StrEnum):
    """A post's state as reads show it: the stored states, and ``expired``."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    REJECTED = "rejected"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


EXPIRED = ShownState.EXPIRED.value
"""How reads show a post still in review at its publish time: it has no deliveries, so it is
never published, and approving it is refused until it is rescheduled. Derived, never stored:
the dispatcher's per-second tick reads only deliveries and needs no query for it."""


def shown_state(state: PostState, publish_at: datetime | None, *, now: datetime) -> str:
    """A post's state as staff see it: ``expired`` for one in review past its time."""
    if is_expired(state, publish_at, now=now):
        return EXPIRED
    return state.value


def is_expired(state: PostState, publish_at: datetime | None, *, now: datetime) -> bool:
    return state is PostState.IN_REVIEW and publish_at is not None and publish_at <= now


def describe_expired(post_id: object, publish_at: datetime | None) -> str:
    when = publish_at.isoformat() if publish_at is not None else "its time"
    return (
        f"post {post_id} expired: it was still in review at {when}; "
        "reschedule it to a later time first"
    )


ENDED_BADLY = (DeliveryState.FAILED, DeliveryState.UNKNOWN, DeliveryState.MISSED)
"""Delivery states that ended without a post and wait for staff: a retry schedules them again."""


class InvalidTransition(Conflict):
    def __init__(self, kind: str, key: object, current: str, target: str) -> None:
        self.current = current
        self.target = target
        super().__init__(f"{kind} {key} is {current}; it cannot become {target}")


def check_post_transition(post_id: object, current: PostState, target: PostState) -> None:
    if target not in POST_TRANSITIONS[current]:
        raise InvalidTransition("post", post_id, current.value, target.value)


def check_delivery_transition(
    delivery_id: object, current: DeliveryState, target: DeliveryState
) -> None:
    if target not in DELIVERY_TRANSITIONS[current]:
        raise InvalidTransition("delivery", delivery_id, current.value, target.value)
