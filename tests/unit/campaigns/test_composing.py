"""The composer's live checks: counters as each platform counts, and the same verdict as the
checks that refuse a post when it is written; edits as a compare-and-set on the revision."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from campaigns.accounts import create_account
from campaigns.audit.queries import post_revision
from campaigns.composing import check_variants, counters, in_tab_order, measure_text
from campaigns.schemas import PostChanges, PostInput, VariantInput
from campaigns.services import add_post, edit_post
from connectors.base import Content, Credentials
from publicist.core.clock import FrozenClock
from publicist.core.errors import Conflict, InvalidInput
from tests import factories


def test_each_platform_counts_as_it_does() -> None:
    assert measure_text("twitter", "专" * 140 + "a") == 281
    assert measure_text("twitter", "see https://example.org/a-very-long-path") == 4 + 23
    assert measure_text("weibo", "专利" + "ab") == 3
    assert measure_text("tiktok", "😀") == 2
    assert measure_text("mock", "😀") == 1


def test_wechat_counts_title_and_digest_not_the_html_body() -> None:
    shown = counters("wechat", Content(text="正文", title="标" * 33, digest="摘要"))
    assert [(c.field, c.used, c.limit, c.over) for c in shown] == [
        ("title", 33, 32, True),
        ("digest", 2, 128, False),
    ]


def test_tabs_keep_the_composers_order() -> None:
    assert in_tab_order({"weibo", "mock", "twitter"}) == ["twitter", "weibo", "mock"]


@pytest.mark.parametrize(("text", "refused"), [("专" * 140 + "a", True), ("专" * 140, False)])
def test_the_live_check_and_the_saving_check_agree(
    session: Session, clock: FrozenClock, text: str, refused: bool
) -> None:
    now = clock.now()
    create_account(
        session,
        platform="twitter",
        handle="@IPRinCN",
        credentials=Credentials(access_token="a", user_id="1"),
        secret=factories.SECRET,
        now=now,
    )
    factories.campaign(session, name="Main", now=now)
    data = PostInput(
        campaign="Main",
        text="base",
        accounts=["twitter:@IPRinCN"],
        variants={"twitter": VariantInput(text=text)},
    )
    (check,) = check_variants(session, data=data, platforms=["twitter"])
    assert (not check.ok) is refused
    assert check.counters[0].used == len(text) * 2 - (1 if refused else 0)
    if refused:
        with pytest.raises(InvalidInput, match="exceeds X's limit of 280"):
            add_post(session, data=data, now=now)
    else:
        assert add_post(session, data=data, now=now).id > 0


def test_an_edit_of_a_version_already_changed_is_a_conflict(
    session: Session, clock: FrozenClock
) -> None:
    now: datetime = clock.now()
    factories.account(session, now=now)
    factories.campaign(session, name="Main", now=now)
    post = add_post(
        session,
        data=PostInput(campaign="Main", text="first", accounts=["mock:@IPRinCN"]),
        now=now,
    )
    opened = post_revision(session, post_id=post.id)
    assert opened > 0
    edit_post(
        session,
        post_id=post.id,
        changes=PostChanges(text="the first editor's"),
        now=now,
        expected_revision=opened,
    )
    with pytest.raises(Conflict, match="changed by someone else"):
        edit_post(
            session,
            post_id=post.id,
            changes=PostChanges(text="the second editor's"),
            now=now,
            expected_revision=opened,
        )
    assert post.text == "the first editor's"
