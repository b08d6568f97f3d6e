"""A JSON string may escape a lone UTF-16 surrogate ("\\ud800"); it is bad input, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from publicist.web.errors import error_response
from publicist.web.schemas import ErrorDetail
from tests.web.conftest import Api

LONE = ["\\ud800", "\\udfff", "x\\udc80y"]


@pytest.fixture
def seeded(api: Api) -> Api:
    account = {"platform": "mock", "handle": "@IPRinCN", "access_token": "secret-access-abc"}
    assert api.client.post("/api/accounts", json=account, headers=api.admin).status_code == 201
    campaign = {"name": "IP Creates a Better Life", "timezone": "Asia/Shanghai"}
    assert api.client.post("/api/campaigns", json=campaign, headers=api.editor).status_code == 201
    return api


def _send(api: Api, path: str, body: str, role: str = "editor") -> Any:
    headers = {**getattr(api, role), "Content-Type": "application/json"}
    return api.client.post(path, content=body.encode(), headers=headers)


CASES = [
    ("/api/posts", '{{"campaign": "{s}", "text": "t", "accounts": ["mock:@IPRinCN"]}}', "editor"),
    ("/api/posts", '{{"campaign": "1", "text": "{s}", "accounts": ["mock:@IPRinCN"]}}', "editor"),
    ("/api/posts", '{{"campaign": "1", "text": "t", "accounts": ["{s}"]}}', "editor"),
    ("/api/posts", '{{"campaign": "1", "text": 5, "accounts": ["{s}"], "{s}": 1}}', "editor"),
    ("/api/campaigns", '{{"name": "{s}"}}', "editor"),
    ("/api/campaigns", '{{"name": "ok", "timezone": "{s}"}}', "editor"),
    ("/api/campaigns", '{{"name": "ok", "hashtags": ["{s}"]}}', "editor"),
    ("/api/accounts", '{{"platform": "{s}", "handle": "h", "access_token": "t"}}', "admin"),
    ("/api/accounts", '{{"platform": "mock", "handle": "{s}", "access_token": "t"}}', "admin"),
    ("/api/accounts", '{{"platform": "mock", "handle": "h", "access_token": "{s}"}}', "admin"),
    ("/api/tokens", '{{"name": "{s}", "role": "viewer"}}', "admin"),
    ("/api/tokens", '{{"name": "n", "role": "{s}"}}', "admin"),
]


@pytest.mark.parametrize("lone", LONE)
@pytest.mark.parametrize(("path", "template", "role"), CASES)
def test_a_lone_surrogate_is_a_4xx_naming_the_field(
    seeded: Api, path: str, template: str, role: str, lone: str
) -> None:
    response = _send(seeded, path, template.format(s=lone), role)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"]
    assert "surrogate" in response.text or error["rule"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/posts?campaign=%ED%A0%80",
        "/api/posts/%ED%A0%80",
        "/api/posts?campaign=%ff%fe",
        "/dashboard?campaign=%ED%A0%80",
    ],
)
def test_undecodable_bytes_in_paths_and_queries_are_4xx(seeded: Api, path: str) -> None:
    response = seeded.client.get(path, headers=seeded.editor)
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()


def test_a_lone_surrogate_in_a_field_name_is_refused_in_utf8(seeded: Api) -> None:
    response = _send(seeded, "/api/campaigns", '{"name": "ok", "\\ud800": 1, "x\\udfff": "secret"}')
    assert response.status_code == 422
    assert "surrogate" in response.content.decode("utf-8")
    assert "secret" not in response.text


def test_error_bodies_escape_what_utf8_cannot_carry() -> None:
    detail = ErrorDetail(type="invalid_input", message="x\ud800", field="\udfff", value="\ud800")
    response = error_response(422, detail)
    body = json.loads(bytes(response.body).decode("utf-8"))
    assert body["error"]["value"] == "\\ud800"
    assert body["error"]["field"] == "\\udfff"
