"""The API's CSV import and times follow the same rules as the CLI: lines named, nothing written."""

from __future__ import annotations

import pytest

from tests.web.conftest import Api

HEADER = "campaign,at,accounts,text\n"
ROW = "NY Week,2099-04-21 09:30,@IPRinCN,{text}\n"


@pytest.fixture
def world(api: Api) -> Api:
    account = {"platform": "mock", "handle": "@IPRinCN", "access_token": "t"}
    assert api.client.post("/api/accounts", json=account, headers=api.admin).status_code == 201
    campaign = {"name": "NY Week", "timezone": "America/New_York"}
    assert api.client.post("/api/campaigns", json=campaign, headers=api.editor).status_code == 201
    return api


def _import(api: Api, body: bytes) -> tuple[int, dict[str, object]]:
    response = api.client.post(
        "/api/imports", content=body, headers={**api.approver, "Content-Type": "text/csv"}
    )
    return response.status_code, response.json()


def _posts(api: Api) -> int:
    response = api.client.get("/api/posts", headers=api.editor)
    assert response.status_code == 200
    return len(response.json())


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ((HEADER + ROW.format(text="专利")).encode("gbk"), "line 2", "not UTF-8"),
        ((HEADER + ROW.format(text="专利")).encode("utf-16"), "line 1", "UTF-16"),
        (
            (HEADER + ROW.format(text='"open') + ROW.format(text="more")).encode(),
            "line 2",
            "never closed",
        ),
        ((HEADER + ROW.format(text="x" * 200_000)).encode(), "line 2", "longer than"),
        ((HEADER + "NY Week,2099-03-08 02:30,@IPRinCN,Gap\n").encode(), "line 2", "01:59-05:00"),
    ],
)
def test_an_import_that_cannot_be_read_names_the_line(
    world: Api, body: bytes, line: str, words: str
) -> None:
    status, data = _import(world, body)
    assert status == 422, data
    error = data["error"]
    assert isinstance(error, dict)
    assert error["field"] == line
    assert words in str(error["rule"])
    assert _posts(world) == 0


def test_an_import_over_the_row_cap_is_refused(world: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("campaigns.importing.MAX_IMPORT_ROWS", 2)
    status, data = _import(world, (HEADER + ROW.format(text="a") * 3).encode())
    assert status == 422, data
    assert "more than 2 rows" in str(data)
    assert _posts(world) == 0


def test_an_import_returns_the_ids_it_wrote(world: Api) -> None:
    status, data = _import(world, (HEADER + ROW.format(text="a") + ROW.format(text="b")).encode())
    assert status == 201, data
    assert data["imported"] == 2
    assert data["deliveries"] == 2
    assert isinstance(data["post_ids"], list)
    assert len(data["post_ids"]) == 2
    assert _posts(world) == 2


def test_a_time_in_the_autumn_overlap_needs_its_offset(world: Api) -> None:
    post = {"campaign": "NY Week", "text": "Hi", "accounts": ["@IPRinCN"]}
    response = world.client.post(
        "/api/posts", json={**post, "at": "2099-11-01 01:30"}, headers=world.editor
    )
    assert response.status_code == 422, response.text
    rule = response.json()["error"]["rule"]
    assert "2099-11-01 01:30-04:00 (EDT) or 2099-11-01 01:30-05:00 (EST)" in rule
    response = world.client.post(
        "/api/posts", json={**post, "at": "2099-11-01 01:30-05:00"}, headers=world.editor
    )
    assert response.status_code == 201, response.text
    assert response.json()["publish_at_local"].startswith("2099-11-01T01:30:00-05:00")
