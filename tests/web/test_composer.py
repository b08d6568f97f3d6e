"""The composer, the campaign form and the post page: who may write, the live checks (the
connectors' own rules, in the person's language), DST choices, concurrent edits, and every
review action through its service with its refusals explained."""

from __future__ import annotations

import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.accounts import create_account
from campaigns.models import Campaign, MediaItem, Post
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import PostInput
from campaigns.services import add_post
from campaigns.states import PostState
from connectors.base import Credentials
from tests import factories
from tests.web.conftest import Api

PASSWORD = "correct horse battery"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
CJK_281 = "专" * 140 + "a"
"""281 weighted characters on X: 140 CJK characters count 2 each, one letter 1."""


@pytest.fixture
def plan(api: Api) -> dict[str, int]:
    """A campaign in Shanghai and one in New York, an X and a Weibo account, one person per role."""
    now = api.clock.now()  # 2026-04-20 09:00 in Shanghai
    with api.sessions() as session, session.begin():
        ids = {}
        for platform, handle in (("twitter", "@IPRinCN"), ("weibo", "cnipa")):
            account = create_account(
                session,
                platform=platform,
                handle=handle,
                credentials=Credentials(access_token="token-abc", user_id=handle),
                secret=factories.SECRET,
                now=now,
            )
            ids[platform] = account.id
        ids["main"] = factories.campaign(session, name="Main", now=now).id
        ids["york"] = factories.campaign(
            session, name="York", now=now, timezone="America/New_York"
        ).id
        for role in Role:
            add_person(
                session,
                name=f"{role.value} person",
                email=f"{role.value}@example.org",
                role=role,
                password=PASSWORD,
                now=now,
            )
        return ids


@pytest.fixture
def clients(api: Api) -> Iterator[list[TestClient]]:
    made: list[TestClient] = []
    yield made
    for client in made:
        client.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


def _signed_in(api: Api, clients: list[TestClient], role: Role, language: str = "en") -> TestClient:
    client = TestClient(api.client.app, raise_server_exceptions=True)
    clients.append(client)
    client.headers["Accept-Language"] = "zh-CN" if language == "zh_CN" else "en"
    csrf = _csrf(client.get("/signin").text)
    response = client.post(
        "/signin",
        data={"email": f"{role.value}@example.org", "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def _compose(
    client: TestClient, campaign: int, fields: dict[str, str | list[str]], path: str = ""
) -> tuple[str, object]:
    page = client.get(path or f"/posts/new?campaign={campaign}")
    assert page.status_code == 200, page.text
    data = {"csrf_token": _csrf(page.text), "campaign": str(campaign), **fields}
    return page.text, client.post(
        path.replace("/edit", "/edit") if path else "/posts/new", data=data, follow_redirects=False
    )


def _post_id(location: str) -> int:
    found = re.match(r"/posts/(\d+)\?done=", location)
    assert found is not None, location
    return int(found.group(1))


def test_a_viewer_has_no_composer_and_is_refused_it(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    viewer = _signed_in(api, clients, Role.VIEWER)
    campaigns = viewer.get("/campaigns")
    assert campaigns.status_code == 200
    assert 'data-k="nav-composer"' not in campaigns.text
    assert "/posts/new" not in campaigns.text
    refused = viewer.get(f"/posts/new?campaign={plan['main']}")
    assert refused.status_code == 403
    assert "Only editors, approvers and admins may write" in refused.text
    forged = viewer.post("/posts/new", data={"text": "x"}, follow_redirects=False)
    assert forged.status_code == 403
    editor = _signed_in(api, clients, Role.EDITOR)
    assert 'data-k="nav-composer"' in editor.get("/campaigns").text


@pytest.mark.parametrize(
    ("language", "over", "fits"),
    [
        ("en", "Too long for X: 281 of 280", "Ready for X."),
        ("zh_CN", "X 超出长度：281/280", "可以发布到 X。"),
    ],
)
def test_the_live_check_counts_cjk_double_on_x_in_the_persons_language(
    api: Api,
    plan: dict[str, int],
    clients: list[TestClient],
    language: str,
    over: str,
    fits: str,
) -> None:
    editor = _signed_in(api, clients, Role.EDITOR, language)
    page = editor.get(f"/posts/new?campaign={plan['main']}")
    csrf = _csrf(page.text)
    checked = editor.post(
        "/posts/check",
        data={
            "csrf_token": csrf,
            "text": "base",
            "text_twitter": CJK_281,
            "accounts": [str(plan["twitter"])],
        },
    )
    assert checked.status_code == 200, checked.text
    assert ">281/280<" in checked.text.replace("Text ", ">").replace("正文 ", ">")
    assert over in checked.text
    fixed = editor.post(
        "/posts/check",
        data={
            "csrf_token": csrf,
            "text": "base",
            "text_twitter": CJK_281[:-1],
            "accounts": [str(plan["twitter"])],
        },
    )
    assert "280/280" in fixed.text
    assert fits in fixed.text
    without_token = editor.post("/posts/check", data={"text": "x"})
    assert without_token.status_code == 403


def test_an_editor_writes_a_post_with_an_image_and_an_approver_schedules_it(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    editor = _signed_in(api, clients, Role.EDITOR)
    page = editor.get(f"/posts/new?campaign={plan['main']}")
    uploaded = editor.post(
        "/composer/media?name=poster.png",
        content=PNG,
        headers={"X-CSRF-Token": _csrf(page.text), "Content-Type": "application/octet-stream"},
    )
    assert uploaded.status_code == 201, uploaded.text
    media_id = uploaded.json()["id"]
    assert editor.get(f"/media/{media_id}/view").content == PNG
    refused_upload = editor.post("/composer/media?name=x.png", content=PNG)
    assert refused_upload.status_code == 403
    not_an_image = editor.post(
        "/composer/media?name=x.png",
        content=b"#!/bin/sh\necho hi\n",
        headers={"X-CSRF-Token": _csrf(page.text)},
    )
    assert not_an_image.status_code == 422
    _, saved = _compose(
        editor,
        plan["main"],
        {
            "text": "IP Week opens https://example.org/ip",
            "text_twitter": CJK_281[:-1],
            "media_twitter": str(media_id),
            "accounts": [str(plan["twitter"]), str(plan["weibo"])],
            "date": "2026-04-21",
            "time": "10:00",
            "action": "submit",
        },
    )
    assert saved.status_code == 303, saved.text
    post_id = _post_id(saved.headers["location"])
    shown = editor.get(saved.headers["location"]).text
    assert "Submitted for review." in shown
    assert f'src="/media/{media_id}/view"' in shown
    assert "2026-04-21 10:00+08:00" in shown
    assert 'data-k="approve"' not in shown  # an editor does not approve

    approver = _signed_in(api, clients, Role.APPROVER)
    post_page = approver.get(f"/posts/{post_id}")
    csrf = _csrf(post_page.text)
    no_comment = approver.post(
        f"/posts/{post_id}/reject", data={"csrf_token": csrf, "comment": " "}
    )
    assert no_comment.status_code == 422
    assert "comment" in no_comment.text
    approved = approver.post(
        f"/posts/{post_id}/approve", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert approved.status_code == 303
    with api.sessions() as session:
        post = session.get(Post, post_id)
        assert post is not None
        assert post.state is PostState.SCHEDULED
        assert len(post.deliveries) == 2
    moved = approver.post(
        f"/posts/{post_id}/reschedule",
        data={"csrf_token": csrf, "date": "2026-04-20", "time": "08:00:00"},
    )
    assert moved.status_code == 422
    assert "is in the past" in moved.text
    history = approver.get(f"/posts/{post_id}").text
    for action in ("written", "submitted for review", "approved"):
        assert action in history


def test_a_post_approved_then_edited_goes_back_to_draft_and_the_page_says_so(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    with api.sessions() as session, session.begin():
        post = factories.scheduled_post(
            session,
            campaign_name="Main",
            accounts=["twitter:@IPRinCN"],
            now=api.clock.now(),
            in_seconds=3600,
        )
        post_id = post.id
    editor = _signed_in(api, clients, Role.EDITOR)
    page = editor.get(f"/posts/{post_id}/edit")
    assert 'data-k="back-to-review"' in page.text
    saved = editor.post(
        f"/posts/{post_id}/edit",
        data={
            "csrf_token": _csrf(page.text),
            "revision": re.search(r'name="revision" value="(\d+)"', page.text)[1],  # type: ignore[index]
            "text": "Changed after approval",
            "accounts": [str(plan["twitter"])],
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].endswith("done=back-to-draft")
    with api.sessions() as session:
        stored = session.get(Post, post_id)
        assert stored is not None
        assert stored.state is PostState.DRAFT
        assert stored.deliveries == []


def test_of_two_concurrent_edits_one_wins_and_the_other_sees_a_conflict(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    first, second = (_signed_in(api, clients, Role.EDITOR) for _ in range(2))
    _, saved = _compose(
        first, plan["main"], {"text": "Original", "accounts": [str(plan["twitter"])]}
    )
    post_id = _post_id(saved.headers["location"])
    pages = [client.get(f"/posts/{post_id}/edit").text for client in (first, second)]
    answers = []
    for client, page, text in zip(
        (first, second), pages, ("First wins", "Second loses"), strict=True
    ):
        answers.append(
            client.post(
                f"/posts/{post_id}/edit",
                data={
                    "csrf_token": _csrf(page),
                    "revision": re.search(r'name="revision" value="(\d+)"', page)[1],  # type: ignore[index]
                    "text": text,
                    "accounts": [str(plan["twitter"])],
                },
                follow_redirects=False,
            )
        )
    assert answers[0].status_code == 303
    assert answers[1].status_code == 409
    assert "Someone else changed this post since you opened it" in answers[1].text
    assert "Second loses" in answers[1].text  # what they typed is still on the page
    with api.sessions() as session:
        stored = session.get(Post, post_id)
        assert stored is not None
        assert stored.text == "First wins"


def test_a_time_the_clocks_skip_offers_its_neighbours_and_a_repeated_one_asks_which(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    editor = _signed_in(api, clients, Role.EDITOR)
    base = {"text": "Spring forward", "accounts": [str(plan["twitter"])], "action": "submit"}
    _, gap = _compose(editor, plan["york"], {**base, "date": "2027-03-14", "time": "02:30"})
    assert gap.status_code == 422
    choices = re.findall(r'name="at" value="([^"]+)" data-k="choice"', gap.text)
    assert choices == ["2027-03-14 01:59-05:00", "2027-03-14 03:00-04:00"]
    _, overlap = _compose(editor, plan["york"], {**base, "date": "2026-11-01", "time": "01:30"})
    assert overlap.status_code == 422
    radios = re.findall(r'type="radio" name="at" value="([^"]+)"', overlap.text)
    assert radios == ["2026-11-01 01:30-04:00", "2026-11-01 01:30-05:00"]
    # The intent (submit) is kept, and the chosen time is taken as given.
    _, chosen = _compose(
        editor, plan["york"], {**base, "intent": "submit", "at": radios[1], "action": ""}
    )
    assert chosen.status_code == 303, chosen.text
    with api.sessions() as session:
        post = session.get(Post, _post_id(chosen.headers["location"]))
        assert post is not None
        assert post.publish_at is not None
        assert post.publish_at.isoformat() == "2026-11-01T06:30:00+00:00"


def test_self_approval_is_refused_in_the_persons_language(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    approver = _signed_in(api, clients, Role.APPROVER, "zh_CN")
    _, saved = _compose(
        approver,
        plan["main"],
        {
            "text": "Mine",
            "accounts": [str(plan["twitter"])],
            "date": "2026-04-22",
            "time": "09:00",
            "action": "submit",
        },
    )
    post_id = _post_id(saved.headers["location"])
    page = approver.get(f"/posts/{post_id}")
    refused = approver.post(f"/posts/{post_id}/approve", data={"csrf_token": _csrf(page.text)})
    assert refused.status_code == 403
    assert "不允许自我审批" in refused.text
    forged = approver.post(f"/posts/{post_id}/approve", data={})
    assert forged.status_code == 403
    assert 'data-k="refused"' in forged.text


def test_the_campaign_form_creates_a_campaign_and_only_an_admin_allows_self_approval(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    editor = _signed_in(api, clients, Role.EDITOR)
    form = editor.get("/campaigns/new")
    assert form.status_code == 200
    assert 'id="self_approval" disabled' in form.text
    fields = {
        "csrf_token": _csrf(form.text),
        "name": "GI Stories on the Dining Table",
        "theme": "Geographical indications",
        "timezone": "Asia/Shanghai",
        "starts_on": "2026-04-20",
        "ends_on": "2026-04-26",
        "hashtags": "#GI, #IP",
    }
    made = editor.post("/campaigns/new", data=fields, follow_redirects=False)
    assert made.status_code == 303, made.text
    assert "Campaign created." in editor.get(made.headers["location"]).text
    again = editor.post("/campaigns/new", data=fields)
    assert again.status_code == 409
    assert "already exists" in again.text
    forbidden = editor.post(
        "/campaigns/new", data={**fields, "name": "Other", "self_approval": "on"}
    )
    assert forbidden.status_code == 403
    backwards = editor.post(
        "/campaigns/new", data={**fields, "name": "Other", "ends_on": "2026-04-01"}
    )
    assert backwards.status_code == 422
    assert "ends_on" in backwards.text
    with api.sessions() as session:
        campaign = session.query(Campaign).filter_by(name=fields["name"]).one()
        assert campaign.hashtags == ["#GI", "#IP"]
        assert campaign.self_approval is False
        assert session.query(MediaItem).count() == 0
    listed = editor.get("/campaigns").text
    assert fields["name"] in listed


def test_saving_refuses_what_the_live_check_showed_and_keeps_what_was_typed(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    editor = _signed_in(api, clients, Role.EDITOR)
    _, no_account = _compose(editor, plan["main"], {"text": "Nobody to publish to"})
    assert no_account.status_code == 422
    assert "Choose at least one account to publish to." in no_account.text
    _, too_long = _compose(
        editor,
        plan["main"],
        {"text": "base", "text_twitter": CJK_281, "accounts": [str(plan["twitter"])]},
    )
    assert too_long.status_code == 422
    assert "Not saved: X does not accept this post" in too_long.text
    assert CJK_281 in too_long.text
    assert "Too long for X: 281 of 280" in too_long.text
    with api.sessions() as session:
        assert session.query(Post).count() == 0


def test_a_post_whose_media_the_composer_cannot_show_is_not_edited_there(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    with api.sessions() as session, session.begin():
        post = add_post(
            session,
            data=PostInput(
                campaign="Main",
                text="With a picture on the web",
                accounts=["twitter:@IPRinCN"],
                media=[{"kind": "image", "url": "https://example.org/poster.png"}],
            ),
            now=api.clock.now(),
        )
        post_id = post.id
    editor = _signed_in(api, clients, Role.EDITOR)
    page = editor.get(f"/posts/{post_id}/edit")
    assert page.status_code == 409
    assert "edit it with the API or the command line" in page.text
    csrf = _csrf(editor.get(f"/posts/{post_id}").text)
    saved = editor.post(
        f"/posts/{post_id}/edit",
        data={"csrf_token": csrf, "revision": "1", "text": "x", "accounts": [str(plan["twitter"])]},
    )
    assert saved.status_code == 409
    with api.sessions() as session:
        stored = session.get(Post, post_id)
        assert stored is not None
        assert stored.media == [{"kind": "image", "url": "https://example.org/poster.png"}]


def test_a_repeated_post_becomes_a_series_of_posts_each_submitted_for_review(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    editor = _signed_in(api, clients, Role.EDITOR)
    fields = {
        "text": "IP Week, every weekday",
        "accounts": [str(plan["twitter"])],
        "date": "2026-04-20",
        "time": "09:30",
        "repeat": "weekdays",
        "repeat_until": "2026-04-26",
        "action": "submit",
    }
    page, made = _compose(editor, plan["main"], fields)
    assert 'name="repeat"' in page
    assert 'for="repeat_until"' in page
    assert made.status_code == 303, made.text  # type: ignore[attr-defined]
    location = made.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/series/\d+", location)
    with api.sessions() as session:
        posts = session.scalars(
            select(Post).where(Post.series_id == int(location.rsplit("/", 1)[1])).order_by(Post.id)
        ).all()
        local = [p.publish_at.astimezone(ZoneInfo("Asia/Shanghai")) for p in posts if p.publish_at]
        assert [(t.day, t.hour, t.minute) for t in local] == [(d, 9, 30) for d in range(20, 25)]
        assert {p.state for p in posts} == {PostState.IN_REVIEW}
    assert "Post " in editor.get(location).text


def test_a_repetition_the_clocks_pass_twice_is_refused_until_one_is_chosen_and_nothing_is_written(
    api: Api, plan: dict[str, int], clients: list[TestClient]
) -> None:
    editor = _signed_in(api, clients, Role.EDITOR, language="zh_CN")
    fields = {
        "text": "Daily at 01:30",
        "accounts": [str(plan["twitter"])],
        "date": "2026-10-30",
        "time": "01:30",
        "repeat": "daily",
        "repeat_until": "2026-11-02",
    }
    with api.sessions() as session:
        before = session.scalar(select(func.count(Post.id)))
    page, refused = _compose(editor, plan["york"], fields)
    assert "每个工作日" in page  # the repeat choices in the person's language
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "2026-11-01" in refused.text  # type: ignore[attr-defined]
    with api.sessions() as session:
        assert session.scalar(select(func.count(Post.id))) == before
    _, made = _compose(editor, plan["york"], {**fields, "repeat_overlap": "later"})
    assert made.status_code == 303, made.text  # type: ignore[attr-defined]
    with api.sessions() as session:
        assert session.scalar(select(func.count(Post.id))) == (before or 0) + 4
