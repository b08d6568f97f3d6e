"""The post and delivery state machines, checked pair by pair against the documented moves."""

from __future__ import annotations

import itertools

import pytest

from campaigns.states import (
    DELIVERY_TRANSITIONS,
    POST_TRANSITIONS,
    DeliveryState,
    InvalidTransition,
    PostState,
    check_delivery_transition,
    check_post_transition,
)
from publicist.core.errors import Conflict

# Written out from DESIGN.md ("Core model") rather than read from the tables under test.
ALLOWED_POST = {
    ("draft", "in_review"),  # submitted by its editor (README, "Review and roles")
    ("draft", "cancelled"),
    ("in_review", "approved"),
    ("in_review", "rejected"),
    ("in_review", "draft"),  # edited while in review
    ("in_review", "cancelled"),
    ("rejected", "draft"),  # edited, as the approver's comment asks
    ("rejected", "cancelled"),
    ("approved", "scheduled"),
    ("approved", "draft"),
    ("approved", "cancelled"),
    ("scheduled", "cancelled"),
    ("scheduled", "draft"),  # edited before any delivery started (README, "A short tour")
}

ALLOWED_DELIVERY = {
    ("scheduled", "queued"),
    ("scheduled", "cancelled"),
    ("scheduled", "missed"),
    ("queued", "publishing"),
    ("queued", "scheduled"),
    ("queued", "cancelled"),
    ("publishing", "published"),
    ("publishing", "submitted"),
    ("publishing", "scheduled"),
    ("publishing", "failed"),
    ("publishing", "unknown"),
    ("submitted", "published"),
    ("submitted", "failed"),
    ("submitted", "unknown"),
    ("unknown", "published"),
    ("unknown", "scheduled"),
    ("unknown", "failed"),
    ("unknown", "cancelled"),
    ("failed", "scheduled"),
    ("failed", "cancelled"),
    ("missed", "scheduled"),
    ("missed", "cancelled"),
}

POST_PAIRS = list(itertools.product(PostState, PostState))
DELIVERY_PAIRS = list(itertools.product(DeliveryState, DeliveryState))


def test_the_tables_cover_every_state() -> None:
    assert set(POST_TRANSITIONS) == set(PostState)
    assert set(DELIVERY_TRANSITIONS) == set(DeliveryState)


def test_the_tables_allow_exactly_the_documented_moves() -> None:
    post = {(a.value, b.value) for a, targets in POST_TRANSITIONS.items() for b in targets}
    delivery = {(a.value, b.value) for a, targets in DELIVERY_TRANSITIONS.items() for b in targets}
    assert post == ALLOWED_POST
    assert delivery == ALLOWED_DELIVERY


@pytest.mark.parametrize(
    ("current", "target"), POST_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in POST_PAIRS]
)
def test_post_transition(current: PostState, target: PostState) -> None:
    if (current.value, target.value) in ALLOWED_POST:
        check_post_transition(7, current, target)
        return
    with pytest.raises(InvalidTransition) as caught:
        check_post_transition(7, current, target)
    assert str(caught.value) == f"post 7 is {current.value}; it cannot become {target.value}"
    assert caught.value.current == current.value
    assert caught.value.target == target.value


@pytest.mark.parametrize(
    ("current", "target"),
    DELIVERY_PAIRS,
    ids=[f"{a.value}->{b.value}" for a, b in DELIVERY_PAIRS],
)
def test_delivery_transition(current: DeliveryState, target: DeliveryState) -> None:
    if (current.value, target.value) in ALLOWED_DELIVERY:
        check_delivery_transition(42, current, target)
        return
    with pytest.raises(InvalidTransition) as caught:
        check_delivery_transition(42, current, target)
    assert str(caught.value) == f"delivery 42 is {current.value}; it cannot become {target.value}"
    assert (caught.value.current, caught.value.target) == (current.value, target.value)


def test_final_states_have_no_way_out() -> None:
    assert POST_TRANSITIONS[PostState.CANCELLED] == frozenset()
    assert DELIVERY_TRANSITIONS[DeliveryState.PUBLISHED] == frozenset()
    assert DELIVERY_TRANSITIONS[DeliveryState.CANCELLED] == frozenset()


def test_invalid_transition_is_a_conflict() -> None:
    # The CLI and API turn Conflict into a refusal, not a crash.
    with pytest.raises(Conflict):
        check_delivery_transition(1, DeliveryState.PUBLISHED, DeliveryState.SCHEDULED)
