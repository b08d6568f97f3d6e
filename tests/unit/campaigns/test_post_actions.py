"""Staff actions on a post (approve, cancel, reschedule, retry, edit), on SQLite and PostgreSQL.

Each rule is checked through the real services; the concurrent races are in
tests/integration/test_post_races.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.models import Delivery, Post
from campaigns.publishing import begin_attempt, claim_due
from campaigns.schemas import PostChanges, PostInput, VariantInput
from campaigns.services import (
    add_post,
    approve_post,
    cancel_post,
    edit_post,
    reschedule_post,
    retry_post,
    submit_post,
)
from campaigns.states import DeliveryState, PostState
from publicist.core.errors import Conflict, InvalidInput
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
AT = "2026-04-20 12:00"  # Asia/Shanghai: 04:00 UTC, three hours after NOW
LEASE = timedelta(minutes=2)


@pytest.fixture
def seeded(session: Session) -> Session:
    factories.account(session, handle="a", now=NOW)
    factories.account(session, handle="b", now=NOW)
    factories.campaign(session, now=NOW)
    return session


def _post(session: Session, *, approve: bool = False, at: str | None = AT, **extra: object) -> Post:
    data = PostInput(
        campaign="IP Creates a Better Life",
        text="How a patent reaches your home",
        accounts=["mock:a", "mock:b"],
        at=at,
        **extra,  # type: ignore[arg-type]
    )
    return add_post(session, data=data, now=NOW, approve=approve)


def _review(session: Session, post_id: int) -> None:
    """Submit a draft, then approve it: the review every post goes through."""
    submit_post(session, post_id=post_id, now=NOW)
    approve_post(session, post_id=post_id, now=NOW)


def _deliveries(session: Session, post_id: int) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.post_id == post_id)
            .order_by(Delivery.id)
            .execution_options(populate_existing=True)
        )
    )


def _claim_all(session: Session) -> dict[int, int]:
    """Claim everything due in the next day: delivery id -> ticket."""
    claims = claim_due(session, now=NOW, lookahead=timedelta(days=1))
    return {claim.delivery_id: claim.ticket for claim in claims}


def _fail(session: Session, delivery: Delivery, state: DeliveryState) -> None:
    """What the worker leaves after an attempt that failed (or whose outcome was lost)."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(state=state, started_at=NOW, attempts=1, last_error="content violates policy")
    )


# approve and cancel


def test_approving_a_timed_draft_schedules_it_and_a_second_approval_conflicts(
    seeded: Session,
) -> None:
    post = _post(seeded)
    _review(seeded, post.id)
    assert post.state is PostState.SCHEDULED
    assert [d.state for d in _deliveries(seeded, post.id)] == [DeliveryState.SCHEDULED] * 2
    with pytest.raises(Conflict, match="is scheduled; it cannot become approved"):
        approve_post(seeded, post_id=post.id, now=NOW)
    assert len(_deliveries(seeded, post.id)) == 2


def test_a_cancelled_post_has_nothing_left_to_claim(seeded: Session) -> None:
    post = _post(seeded, approve=True)
    cancel_post(seeded, post_id=post.id, now=NOW)
    assert {d.state for d in _deliveries(seeded, post.id)} == {DeliveryState.CANCELLED}
    assert _claim_all(seeded) == {}
    with pytest.raises(Conflict, match="is cancelled"):
        cancel_post(seeded, post_id=post.id, now=NOW)


def test_a_post_cancelled_while_queued_never_starts(seeded: Session) -> None:
    post = _post(seeded, approve=True)
    tickets = _claim_all(seeded)
    assert set(tickets) == {d.id for d in _deliveries(seeded, post.id)}
    cancel_post(seeded, post_id=post.id, now=NOW)
    for delivery_id, ticket in tickets.items():
        due = NOW + timedelta(hours=3)
        started = begin_attempt(
            seeded, delivery_id=delivery_id, ticket=ticket, now=due, lease=LEASE
        )
        assert started is None
    assert {d.state for d in _deliveries(seeded, post.id)} == {DeliveryState.CANCELLED}


def test_the_claim_refuses_deliveries_of_a_post_that_is_not_scheduled(seeded: Session) -> None:
    """Even if a post and its deliveries ever disagree, the post's state decides."""
    kept = _post(seeded, approve=True)
    stopped = _post(seeded, approve=True)
    seeded.execute(update(Post).where(Post.id == stopped.id).values(state=PostState.CANCELLED))
    claimed = _claim_all(seeded)
    assert set(claimed) == {d.id for d in _deliveries(seeded, kept.id)}
    assert {d.state for d in _deliveries(seeded, stopped.id)} == {DeliveryState.SCHEDULED}


def test_a_post_being_published_cannot_be_cancelled(seeded: Session) -> None:
    post = _post(seeded, approve=True)
    tickets = _claim_all(seeded)
    first = min(tickets)
    begin_attempt(seeded, delivery_id=first, ticket=tickets[first], now=NOW, lease=LEASE)
    with pytest.raises(Conflict, match="is being published to mock:a"):
        cancel_post(seeded, post_id=post.id, now=NOW)


def test_an_action_reads_the_post_again_instead_of_trusting_the_session(seeded: Session) -> None:
    """A post the session loaded earlier and another transaction changed is read afresh."""
    post = _post(seeded)
    seeded.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(state=PostState.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    assert post.state is PostState.DRAFT  # the session's stale copy
    with pytest.raises(Conflict, match="is cancelled; it cannot become approved"):
        approve_post(seeded, post_id=post.id, now=NOW)
    assert _deliveries(seeded, post.id) == []


# reschedule


def test_rescheduling_moves_queued_deliveries_back_to_the_schedule(seeded: Session) -> None:
    post = _post(seeded, approve=True)
    tickets = _claim_all(seeded)
    reschedule_post(seeded, post_id=post.id, at="2026-04-21 12:00", now=NOW)
    deliveries = _deliveries(seeded, post.id)
    assert {d.state for d in deliveries} == {DeliveryState.SCHEDULED}
    assert {d.due_at for d in deliveries} == {datetime(2026, 4, 21, 4, 0, tzinfo=UTC)}
    for delivery_id, ticket in tickets.items():
        assert (
            begin_attempt(seeded, delivery_id=delivery_id, ticket=ticket, now=NOW, lease=LEASE)
            is None
        )


def test_a_cancelled_post_cannot_be_rescheduled(seeded: Session) -> None:
    post = _post(seeded, approve=True)
    cancel_post(seeded, post_id=post.id, now=NOW)
    with pytest.raises(Conflict, match="is cancelled; it cannot be rescheduled"):
        reschedule_post(seeded, post_id=post.id, at="2026-04-21 12:00", now=NOW)


# retry


def test_retry_schedules_failed_and_unknown_deliveries_again_now(seeded: Session) -> None:
    post = _post(seeded, approve=True)
    first, second = _deliveries(seeded, post.id)
    _fail(seeded, first, DeliveryState.FAILED)
    _fail(seeded, second, DeliveryState.UNKNOWN)
    later = NOW + timedelta(hours=4)
    retried = retry_post(seeded, post_id=post.id, now=later)
    assert [d.id for d in retried] == [first.id, second.id]
    for delivery in _deliveries(seeded, post.id):
        assert (delivery.state, delivery.next_attempt_at, delivery.attempts) == (
            DeliveryState.SCHEDULED,
            later,
            0,
        )


def test_retry_with_nothing_to_retry_is_a_conflict(seeded: Session) -> None:
    draft = _post(seeded)
    with pytest.raises(Conflict, match="is draft and has no failed"):
        retry_post(seeded, post_id=draft.id, now=NOW)
    scheduled = _post(seeded, approve=True)
    with pytest.raises(Conflict, match="is scheduled and has no failed"):
        retry_post(seeded, post_id=scheduled.id, now=NOW)


def test_a_cancelled_post_is_not_retried(seeded: Session) -> None:
    post = _post(seeded, approve=True)
    _fail(seeded, _deliveries(seeded, post.id)[0], DeliveryState.FAILED)
    cancel_post(seeded, post_id=post.id, now=NOW)
    with pytest.raises(Conflict, match="is cancelled"):
        retry_post(seeded, post_id=post.id, now=NOW)


# edit


def test_editing_a_draft_changes_its_content_and_keeps_it_a_draft(seeded: Session) -> None:
    post = _post(seeded, title="Patents", variants={"mock": VariantInput(title="Patents at home")})
    changes = PostChanges(
        text="Patents reach your home",
        accounts=["mock:b"],
        media=[{"kind": "image", "url": "https://cdn.example.com/poster.jpg"}],
        variants={"mock": VariantInput(text="专利走进千家万户")},
    )
    edit_post(seeded, post_id=post.id, changes=changes, now=NOW)
    seeded.expire_all()
    edited = seeded.get_one(Post, post.id)
    assert edited.state is PostState.DRAFT
    assert edited.text == "Patents reach your home"
    assert edited.title == "Patents"
    assert edited.media == [{"kind": "image", "url": "https://cdn.example.com/poster.jpg"}]
    assert [t.account.label for t in edited.targets] == ["mock:b"]
    [variant] = edited.variants
    # Only the given field of the variant changed; its title stayed.
    assert (variant.text, variant.title) == ("专利走进千家万户", "Patents at home")
    assert edited.publish_at == datetime(2026, 4, 20, 4, 0, tzinfo=UTC)


def test_an_edit_clears_a_title_and_removes_a_variant(seeded: Session) -> None:
    post = _post(seeded, title="Patents", variants={"mock": VariantInput(text="专利")})
    edit_post(
        seeded, post_id=post.id, changes=PostChanges(title="", variants={"mock": None}), now=NOW
    )
    seeded.expire_all()
    edited = seeded.get_one(Post, post.id)
    assert (edited.title, edited.variants) == (None, [])


def test_editing_an_approved_post_makes_it_a_draft_again(seeded: Session) -> None:
    post = _post(seeded, at=None)
    _review(seeded, post.id)
    assert post.state is PostState.APPROVED
    edit_post(seeded, post_id=post.id, changes=PostChanges(text="Changed"), now=NOW)
    assert (post.state, post.approved_at) == (PostState.DRAFT, None)


def test_editing_a_scheduled_post_removes_its_deliveries_until_approved_again(
    seeded: Session,
) -> None:
    post = _post(seeded, approve=True)
    tickets = _claim_all(seeded)  # both queued: their publish tasks wait for their time
    edit_post(seeded, post_id=post.id, changes=PostChanges(text="Changed"), now=NOW)
    assert post.state is PostState.DRAFT
    assert _deliveries(seeded, post.id) == []
    for delivery_id, ticket in tickets.items():
        assert (
            begin_attempt(seeded, delivery_id=delivery_id, ticket=ticket, now=NOW, lease=LEASE)
            is None
        )
    _review(seeded, post.id)
    again = _deliveries(seeded, post.id)
    assert post.state is PostState.SCHEDULED
    assert [(d.state, d.ticket) for d in again] == [(DeliveryState.SCHEDULED, 0)] * 2


@pytest.mark.parametrize(
    "state",
    [
        DeliveryState.PUBLISHING,
        DeliveryState.SUBMITTED,
        DeliveryState.PUBLISHED,
        DeliveryState.FAILED,
        DeliveryState.UNKNOWN,
    ],
)
def test_a_post_with_a_started_delivery_cannot_be_edited(
    seeded: Session, state: DeliveryState
) -> None:
    post = _post(seeded, approve=True)
    _fail(seeded, _deliveries(seeded, post.id)[1], state)
    with pytest.raises(Conflict, match=f"delivery to mock:b already {state.value}"):
        edit_post(seeded, post_id=post.id, changes=PostChanges(text="Changed"), now=NOW)
    assert post.state is PostState.SCHEDULED
    assert len(_deliveries(seeded, post.id)) == 2


def test_a_post_waiting_to_try_again_cannot_be_edited(seeded: Session) -> None:
    """Scheduled again after a failed attempt: it has started, and its attempts are kept."""
    post = _post(seeded, approve=True)
    first = _deliveries(seeded, post.id)[0]
    _fail(seeded, first, DeliveryState.FAILED)
    retry_post(seeded, post_id=post.id, now=NOW)
    with pytest.raises(Conflict, match="was already tried on mock:a"):
        edit_post(seeded, post_id=post.id, changes=PostChanges(text="Changed"), now=NOW)


def test_a_cancelled_post_cannot_be_edited(seeded: Session) -> None:
    post = _post(seeded)
    cancel_post(seeded, post_id=post.id, now=NOW)
    with pytest.raises(Conflict, match="is cancelled; it cannot be edited"):
        edit_post(seeded, post_id=post.id, changes=PostChanges(text="Changed"), now=NOW)


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        (PostChanges(text="   "), "text", "   "),
        (PostChanges(accounts=[]), "accounts", ""),
        (PostChanges(accounts=["mock:nobody"]), "accounts", "mock:nobody"),
        (PostChanges(accounts=["mock:a", "mock:a"]), "accounts", "mock:a"),
        (PostChanges(title="x" * 201), "title", "x" * 201),
        (
            PostChanges(media=[{"kind": "hologram", "url": "https://x.example"}]),
            "media[0].kind",
            None,
        ),
        (
            PostChanges(media=[{"kind": "image", "source": "/etc/publicist.key"}]),
            "media[0].source",
            None,
        ),
        (PostChanges(variants={"weibo": VariantInput(text="微博")}), "variant", "weibo"),
        (PostChanges(), "changes", ""),
    ],
)
def test_an_edit_meets_the_rules_of_a_new_post_and_writes_nothing_when_refused(
    seeded: Session, changes: PostChanges, field: str, value: str | None
) -> None:
    post = _post(seeded, approve=True)
    with pytest.raises(InvalidInput) as refused:
        edit_post(seeded, post_id=post.id, changes=changes, now=NOW)
    assert refused.value.field == field
    if value is not None:
        assert refused.value.value == value
    assert post.state is PostState.SCHEDULED
    assert post.text == "How a patent reaches your home"
    assert len(_deliveries(seeded, post.id)) == 2
