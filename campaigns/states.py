"""The post and delivery state machines: every allowed move is listed here and nowhere else."""

from __future__ import annotations

from enum import StrEnum

from publicist.core.errors import Conflict


class PostState(StrEnum):
    DRAFT = "draft"
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


class LatePolicy(StrEnum):
    PUBLISH = "publish"
    """Publish late, at the account's quota pace."""
    MISS = "miss"
    """Do not publish; mark the delivery missed for staff to decide."""


POST_TRANSITIONS: dict[PostState, frozenset[PostState]] = {
    PostState.DRAFT: frozenset({PostState.APPROVED, PostState.CANCELLED}),
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
