"""Review of posts (submit, approve, reject, expired), roles and self-approval, and the audit
entries each change writes; on SQLite and PostgreSQL through the real services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.actors import OPERATOR, Actor, ActorKind, person_actor
from campaigns.audit.models import AuditEntry
from campaigns.audit.queries import entries_between, post_history
from campaigns.importing import import_schedule
from campaigns.models import Campaign, Delivery, Post
from campaigns.people.models import Person
from campaigns.people.roles import Role
from campaigns.people.services import add_person, disable_person, reset_password
from campaigns.queries import list_posts_in
from campaigns.schemas import CampaignInput, PostChanges, PostInput
from campaigns.services import (
    add_post,
    approve_post,
    cancel_post,
    create_campaign,
    edit_post,
    reject_post,
    reschedule_post,
    retry_post,
    submit_post,
)
from campaigns.states import DeliveryState, PostState, shown_state
from publicist.core.errors import Conflict, Forbidden, InvalidInput
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
AT = "2026-04-20 12:00"  # Asia/Shanghai: 04:00 UTC, three hours after NOW
AT_UTC = "2026-04-20T04:00:00+00:00"
CAMPAIGN = "IP Creates a Better Life"
CSV_HEADER = "campaign,at,accounts,text"


def _person(session: Session, email: str, role: Role) -> Actor:
    # Straight into the table: the rules here are about roles, not passwords.
    person = Person(
        name=email, email=email, password_hash="x", role=role.value, disabled=False, created_at=NOW
    )
    session.add(person)
    session.flush()
    return person_actor(person.id, person.role)


@pytest.fixture
def seeded(session: Session) -> Session:
    factories.account(session, handle="a", now=NOW)
    factories.campaign(session, now=NOW)
    return session


@pytest.fixture
def editor(seeded: Session) -> Actor:
    return _person(seeded, "li.na@example.org", Role.EDITOR)


@pytest.fixture
def approver(seeded: Session) -> Actor:
    return _person(seeded, "wang@example.org", Role.APPROVER)


def _draft(session: Session, actor: Actor = OPERATOR, *, at: str | None = AT) -> Post:
    data = PostInput(
        campaign=CAMPAIGN, text="How a patent reaches your home", accounts=["a"], at=at
    )
    return add_post(session, data=data, now=NOW, actor=actor)


def _posts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Post)) or 0


# states


def test_a_post_is_submitted_then_approved_and_scheduled(
    seeded: Session, editor: Actor, approver: Actor
) -> None:
    post = _draft(seeded, editor)
    assert post.created_by == editor.person_id
    submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    assert post.state is PostState.IN_REVIEW
    approve_post(seeded, post_id=post.id, now=NOW, actor=approver)
    assert post.state is PostState.SCHEDULED
    assert len(post.deliveries) == 1


def test_a_draft_is_not_approved_without_review(seeded: Session, approver: Actor) -> None:
    post = _draft(seeded)
    with pytest.raises(Conflict, match="is draft; it cannot become approved"):
        approve_post(seeded, post_id=post.id, now=NOW, actor=approver)
    assert post.state is PostState.DRAFT
    # The operator's one-call approval submits first.
    approve_post(seeded, post_id=post.id, now=NOW, from_draft=True)
    assert post.state is PostState.SCHEDULED


def test_a_rejected_post_carries_the_comment_and_goes_back_to_draft_when_edited(
    seeded: Session, editor: Actor, approver: Actor
) -> None:
    post = _draft(seeded, editor)
    submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    with pytest.raises(InvalidInput, match="comment"):
        reject_post(seeded, post_id=post.id, comment=" \u200b ", now=NOW, actor=approver)
    assert post.state is PostState.IN_REVIEW
    reject_post(seeded, post_id=post.id, comment="Add the Weibo link", now=NOW, actor=approver)
    assert (post.state, post.review_comment) == (PostState.REJECTED, "Add the Weibo link")
    with pytest.raises(Conflict, match="is rejected"):
        approve_post(seeded, post_id=post.id, now=NOW, actor=approver)
    with pytest.raises(Conflict, match="is rejected"):
        submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    edit_post(seeded, post_id=post.id, changes=PostChanges(text="Fixed"), now=NOW, actor=editor)
    assert post.state is PostState.DRAFT
    submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    assert (post.state, post.review_comment) == (PostState.IN_REVIEW, None)


def test_editing_a_post_in_review_sends_it_back_to_draft(seeded: Session, editor: Actor) -> None:
    post = _draft(seeded, editor)
    submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    edit_post(seeded, post_id=post.id, changes=PostChanges(text="New"), now=NOW, actor=editor)
    assert post.state is PostState.DRAFT


def test_a_post_still_in_review_at_its_time_expires_and_is_not_approved(
    seeded: Session, editor: Actor, approver: Actor
) -> None:
    post = _draft(seeded, editor)
    submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    late = NOW + timedelta(hours=3)  # its publish time
    assert shown_state(post.state, post.publish_at, now=NOW) == "in_review"
    assert shown_state(post.state, post.publish_at, now=late) == "expired"
    assert [p.id for p in list_posts_in(seeded, now=late, state="expired")] == [post.id]
    assert list_posts_in(seeded, now=late, state="in_review") == []
    with pytest.raises(Conflict, match="expired"):
        approve_post(seeded, post_id=post.id, now=late, actor=approver)
    assert seeded.scalars(select(Delivery).where(Delivery.post_id == post.id)).all() == []
    reschedule_post(seeded, post_id=post.id, at="2026-04-21 12:00", now=late, actor=approver)
    assert list_posts_in(seeded, now=late, state="in_review") == [post]
    approve_post(seeded, post_id=post.id, now=late, actor=approver)
    assert post.state is PostState.SCHEDULED


# roles and self-approval


def test_each_action_needs_its_role(seeded: Session, editor: Actor) -> None:
    viewer = _person(seeded, "view@example.org", Role.VIEWER)
    with pytest.raises(Forbidden, match="writing a post needs the editor role"):
        _draft(seeded, viewer)
    post = _draft(seeded, editor)
    with pytest.raises(Forbidden, match="submitting a post needs the editor role"):
        submit_post(seeded, post_id=post.id, now=NOW, actor=viewer)
    submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    for refused in (
        lambda: approve_post(seeded, post_id=post.id, now=NOW, actor=editor),
        lambda: reject_post(seeded, post_id=post.id, comment="no", now=NOW, actor=editor),
        lambda: cancel_post(seeded, post_id=post.id, now=NOW, actor=editor),
        lambda: reschedule_post(seeded, post_id=post.id, at=AT, now=NOW, actor=editor),
    ):
        with pytest.raises(Forbidden, match="needs the approver role"):
            refused()
    assert post.state is PostState.IN_REVIEW


def test_a_person_never_approves_their_own_post_unless_the_campaign_allows_it(
    seeded: Session, approver: Actor
) -> None:
    post = _draft(seeded, approver)
    submit_post(seeded, post_id=post.id, now=NOW, actor=approver)
    with pytest.raises(Forbidden, match="does not allow self-approval"):
        approve_post(seeded, post_id=post.id, now=NOW, actor=approver)
    assert post.state is PostState.IN_REVIEW
    # A colleague may; so may the same person where the campaign allows it.
    colleague = _person(seeded, "zhao@example.org", Role.APPROVER)
    approve_post(seeded, post_id=post.id, now=NOW, actor=colleague)
    assert post.state is PostState.SCHEDULED
    create_campaign(
        seeded,
        data=CampaignInput(name="Own", timezone="Asia/Shanghai", self_approval=True),
        default_timezone="Asia/Shanghai",
        now=NOW,
    )
    data = PostInput(campaign="Own", text="Mine", accounts=["a"], at=AT)
    own = add_post(seeded, data=data, now=NOW, approve=True, actor=approver)
    assert own.state is PostState.SCHEDULED


def test_approving_at_creation_is_refused_for_ones_own_post_and_writes_nothing(
    seeded: Session, approver: Actor
) -> None:
    data = PostInput(campaign=CAMPAIGN, text="Mine", accounts=["a"], at=AT)
    with pytest.raises(Forbidden, match="self-approval"):
        add_post(seeded, data=data, now=NOW, approve=True, actor=approver)
    assert _posts(seeded) == 0
    lines = [CSV_HEADER, f"{CAMPAIGN},{AT},a,Mine"]
    with pytest.raises(Forbidden, match="self-approval"):
        import_schedule(seeded, lines=lines, now=NOW, actor=approver)
    assert _posts(seeded) == 0


def test_only_an_admin_lets_a_campaign_allow_self_approval(seeded: Session) -> None:
    approver = _person(seeded, "boss@example.org", Role.APPROVER)
    data = CampaignInput(name="Loose", timezone="Asia/Shanghai", self_approval=True)
    with pytest.raises(Forbidden, match="needs the admin role"):
        create_campaign(seeded, data=data, default_timezone="UTC", now=NOW, actor=approver)
    assert seeded.scalar(select(Campaign).where(Campaign.name == "Loose")) is None


def test_an_editor_imports_drafts_and_a_token_without_owner_may_approve(
    seeded: Session, editor: Actor
) -> None:
    lines = [CSV_HEADER, f"{CAMPAIGN},{AT},a,First"]
    with pytest.raises(Forbidden, match="approver role"):
        import_schedule(seeded, lines=lines, now=NOW, actor=editor)
    drafts = import_schedule(seeded, lines=lines, now=NOW, approve=False, actor=editor)
    draft = seeded.get_one(Post, drafts.post_ids[0])
    assert (draft.state, draft.created_by) == (PostState.DRAFT, editor.person_id)
    machine = Actor(kind=ActorKind.TOKEN, role=Role.APPROVER, token_id=7)
    scheduled = import_schedule(seeded, lines=lines, now=NOW, actor=machine)
    assert seeded.get_one(Post, scheduled.post_ids[0]).state is PostState.SCHEDULED


# audit


def test_every_step_of_a_review_is_in_the_posts_history(
    seeded: Session, editor: Actor, approver: Actor
) -> None:
    post = _draft(seeded, editor)
    submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    reject_post(seeded, post_id=post.id, comment="Shorter", now=NOW, actor=approver)
    edit_post(seeded, post_id=post.id, changes=PostChanges(text="Short"), now=NOW, actor=editor)
    submit_post(seeded, post_id=post.id, now=NOW, actor=editor)
    approve_post(seeded, post_id=post.id, now=NOW, actor=approver)
    cancel_post(seeded, post_id=post.id, now=NOW, actor=approver)
    history = post_history(seeded, post_id=post.id)
    assert [e.action for e in history] == [
        "post.create",
        "post.submit",
        "post.reject",
        "post.edit",
        "post.submit",
        "post.approve",
        "delivery.cancel",
        "post.cancel",
    ]
    assert {e.person_id for e in history} == {editor.person_id, approver.person_id}
    assert {e.actor for e in history} == {"person"}
    reject = history[2]
    assert reject.before == {"state": "in_review", "review_comment": None}
    assert reject.after == {"state": "rejected", "review_comment": "Shorter"}
    edit = history[3]
    assert edit.before == {"state": "rejected", "text": "How a patent reaches your home"}
    assert edit.after == {"state": "draft", "text": "Short"}
    assert history[6].object_kind == "delivery"
    assert history[6].after == {"state": "cancelled"}
    day = entries_between(seeded, start=NOW.date(), end=NOW.date())
    assert [e.action for e in day[:1]] == ["account.create"]  # the fixture's account
    assert [e for e in day if e.post_id == post.id] == history


def test_an_import_writes_one_entry_per_post_and_the_cli_is_named(seeded: Session) -> None:
    lines = [CSV_HEADER, f"{CAMPAIGN},{AT},a,First", f"{CAMPAIGN},{AT},a,Second"]
    imported = import_schedule(seeded, lines=lines, now=NOW)
    entries = list(
        seeded.scalars(
            select(AuditEntry).where(AuditEntry.object_kind == "post").order_by(AuditEntry.id)
        )
    )
    assert [(e.action, e.post_id, e.actor) for e in entries] == [
        ("post.import", post_id, "cli") for post_id in imported.post_ids
    ]
    assert entries[0].after is not None
    assert entries[0].after["state"] == "scheduled"
    assert entries[0].after["accounts"] == ["mock:a"]


def test_a_period_outside_the_log_is_empty_and_a_reversed_one_is_refused(
    seeded: Session,
) -> None:
    _draft(seeded)
    day = NOW.date()
    assert entries_between(seeded, start=day + timedelta(days=1), end=day + timedelta(days=2)) == []
    with pytest.raises(InvalidInput, match="to: '2026-04-19' is before from 2026-04-20"):
        entries_between(seeded, start=day, end=day - timedelta(days=1))


def test_changes_to_people_are_audited_without_their_passwords(seeded: Session) -> None:
    admin = _person(seeded, "admin@example.org", Role.ADMIN)
    person = add_person(
        seeded,
        name="Li Na",
        email="li.na@example.org",
        role=Role.EDITOR,
        password="correct horse battery",
        now=NOW,
        actor=admin,
    )
    reset_password(
        seeded, email="li.na@example.org", password="another passphrase", now=NOW, actor=admin
    )
    disable_person(seeded, email="li.na@example.org", now=NOW, actor=admin)
    with pytest.raises(Forbidden, match="needs the admin role"):
        disable_person(seeded, email="admin@example.org", now=NOW, actor=person_actor(1, "editor"))
    entries = list(
        seeded.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_kind == "person", AuditEntry.object_id == person.id)
            .order_by(AuditEntry.id)
        )
    )
    assert [(e.action, e.person_id) for e in entries] == [
        ("person.add", admin.person_id),
        ("person.reset_password", admin.person_id),
        ("person.disable", admin.person_id),
    ]
    assert entries[1].after == {"password": "(changed)"}
    assert entries[2].before == {"disabled": False}
    assert entries[2].after == {"disabled": True}
    assert "argon2" not in str([(e.before, e.after) for e in entries])


def test_a_retry_is_in_the_posts_history_with_the_deliverys_change(
    seeded: Session, approver: Actor
) -> None:
    post = _draft(seeded)
    approve_post(seeded, post_id=post.id, now=NOW, from_draft=True)
    delivery = post.deliveries[0]
    seeded.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(state=DeliveryState.FAILED, started_at=NOW, attempts=5)
    )
    retry_post(seeded, post_id=post.id, now=NOW, actor=approver)
    last = post_history(seeded, post_id=post.id)[-1]
    assert (last.action, last.object_kind, last.object_id) == (
        "delivery.retry",
        "delivery",
        delivery.id,
    )
    assert last.before == {"state": "failed", "attempts": 5, "next_attempt_at": AT_UTC}
    assert last.after == {"state": "scheduled", "attempts": 0, "next_attempt_at": NOW.isoformat()}
    assert last.person_id == approver.person_id
