"""Every refusal is the API's JSON error, including those decided before any handler runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from publicist.web.app import MAX_BODY_BYTES
from tests.web.conftest import Api


@pytest.mark.parametrize(
    "path", ["/api/posts", "/api/imports", "/api/accounts", "/dashboard/login", "/api/nowhere"]
)
def test_a_declared_body_over_the_limit_is_a_json_413(api: Api, path: str) -> None:
    body = b'{"text": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = api.client.post(
        path, content=body, headers={**api.admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == "too_large"
    assert str(MAX_BODY_BYTES) in error["message"]


def test_a_streamed_body_over_the_limit_is_a_json_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // (1024 * 1024) + 1):
            yield b"x" * (1024 * 1024)

    response = api.client.post(
        "/api/imports", content=chunks(), headers={**api.editor, "Content-Type": "text/csv"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["type"] == "too_large"


def test_a_body_at_the_limit_is_read(api: Api) -> None:
    body = b"campaign,at,accounts,text\n" + b"#" * (MAX_BODY_BYTES - 100)
    response = api.client.post(
        "/api/imports", content=body, headers={**api.editor, "Content-Type": "text/csv"}
    )
    assert response.status_code == 422  # read, then refused for what it says
    assert response.json()["error"]["field"] == "file"
