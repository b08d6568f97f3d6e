"""The composer, the campaign form and the post page: who may write, the live checks (the
connectors' own rules, in the person's language), DST choices, concurrent edits, and every
review action through its service with its refusals explained."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from campaigns.accounts import create_account
from campaigns.models import Campaign, MediaItem, Post
from campaigns.people.roles import Role
from campaigns.people.services import add_person
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


def _signed_in(
    api: Api, clients: list[TestClient], role: Role, language: str = "en"
) -> TestClient:
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
        data={"csrf_token": csrf, "text": "base", "text_twitter": CJK_281,
              "accounts": [str(plan["twitter"])]},
    )
    assert checked.status_code == 200, checked.text
    assert ">281/280<" in checked.text.replace("Text ", ">").replace("正文 ", ">")
    assert over in checked.text
    fixed = editor.post(
        "/posts/check",
        data={"csrf_token": csrf, "text": "base", "text_twitter": CJK_281[:-1],
              "accounts": [str(plan["twitter"])]},
    )
    assert "280/280" in fixed.text
    assert fits in fixed.text
    without_token = editor.post("/posts/check", data={"text": "x"})
    assert without_token.status_code == 403
