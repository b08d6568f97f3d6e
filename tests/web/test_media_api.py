"""``/api/media``: editors upload raw bodies (checked by content); every role lists and previews."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from publicist.core.clock import FrozenClock
from publicist.core.settings import Settings
from publicist.web.app import create_app
from tests.conftest import TEST_SECRET
from tests.web.conftest import Api, issue_tokens

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
GIF = b"GIF89a" + b"\x00" * 200


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def api(
    rolled_back_sessions: sessionmaker[Session], clock: FrozenClock, media_dir: Path
) -> Iterator[Api]:
    settings = Settings(secret_key=TEST_SECRET, media_dir=media_dir)
    app = create_app(settings, clock=clock, sessions=rolled_back_sessions)
    tokens = issue_tokens(rolled_back_sessions, clock)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Api(client=client, sessions=rolled_back_sessions, clock=clock, tokens=tokens)


def _upload(api: Api, body: bytes, *, name: str = "poster.png", **headers: str) -> dict[str, Any]:
    response = api.client.post(
        "/api/media",
        params={"name": name},
        content=body,
        headers={**api.editor, "Content-Type": "application/octet-stream", **headers},
    )
    return {"status": response.status_code, **response.json()}


def test_an_editor_uploads_and_every_role_reads(api: Api, media_dir: Path) -> None:
    created = _upload(api, PNG)
    assert created["status"] == 201
    assert (created["kind"], created["content_type"], created["size_bytes"]) == (
        "image",
        "image/png",
        len(PNG),
    )
    assert created["name"] == "poster.png"
    assert _upload(api, PNG, name="again")["id"] == created["id"]
    listed = api.client.get("/api/media", headers=api.viewer).json()
    assert [item["id"] for item in listed] == [created["id"]]
    one = api.client.get(f"/api/media/{created['id']}", headers=api.viewer).json()
    assert one["sha256"] == created["sha256"]
    preview = api.client.get(f"/api/media/{created['id']}/content", headers=api.viewer)
    assert preview.status_code == 200
    assert preview.content == PNG
    assert preview.headers["content-type"] == "image/png"
    assert preview.headers["x-content-type-options"] == "nosniff"
    assert sorted(p.name for p in media_dir.iterdir()) == [f"{created['sha256']}.png"]


def test_a_viewer_may_not_upload(api: Api) -> None:
    response = api.client.post("/api/media", content=PNG, headers=api.viewer)
    assert response.status_code == 403


def test_content_is_checked_by_its_bytes_not_its_name_or_type(api: Api, media_dir: Path) -> None:
    refused = _upload(
        api, b"PUBLICIST_SECRET_KEY=abc\n", name="poster.jpg", **{"Content-Type": "image/jpeg"}
    )
    assert refused["status"] == 422
    assert refused["error"]["field"] == "file"
    assert "checked by content" in refused["error"]["rule"]
    assert [p for p in media_dir.iterdir()] == []


def test_bad_uploads_get_clear_errors(api: Api, media_dir: Path) -> None:
    empty = _upload(api, b"")
    assert (empty["status"], empty["error"]["field"]) == (422, "body")
    form = _upload(api, PNG, **{"Content-Type": "multipart/form-data; boundary=x"})
    assert (form["status"], form["error"]["field"]) == (422, "Content-Type")
    big = _upload(api, PNG + b"\x00" * (5 * 1024 * 1024))
    assert big["status"] == 422
    assert "5 MiB limit for a image" in big["error"]["rule"]
    assert api.client.get("/api/media/999", headers=api.viewer).status_code == 404
    assert api.client.get("/api/media/999/content", headers=api.viewer).status_code == 404
    assert [p for p in media_dir.iterdir()] == []


def test_uploads_have_their_own_cap_above_the_6_mib_of_other_bodies(api: Api) -> None:
    seven_mib = GIF + b"\x00" * (7 * 1024 * 1024)
    created = _upload(api, seven_mib, name="loop.gif")
    assert created["status"] == 201
    assert (created["kind"], created["size_bytes"]) == ("gif", len(seven_mib))
    other = api.client.post(
        "/api/campaigns", content=b"{" + b" " * (7 * 1024 * 1024) + b"}", headers=api.editor
    )
    assert other.status_code == 413


def test_posts_refer_to_uploaded_items(api: Api) -> None:
    api.client.post(
        "/api/accounts",
        json={"platform": "mock", "handle": "@IPRinCN", "access_token": "t"},
        headers=api.admin,
    ).raise_for_status()
    api.client.post(
        "/api/campaigns", json={"name": "IP Week"}, headers=api.editor
    ).raise_for_status()
    item = _upload(api, PNG)
    post = {"campaign": "IP Week", "text": "Poster", "accounts": ["mock:@IPRinCN"]}
    made = api.client.post(
        "/api/posts",
        json={**post, "media": [{"kind": "image", "media_id": item["id"]}]},
        headers=api.editor,
    )
    assert made.status_code == 201, made.text
    assert made.json()["media"] == [{"kind": "image", "media_id": item["id"]}]
    path = api.client.post(
        "/api/posts",
        json={**post, "media": [{"kind": "image", "source": "/etc/publicist.key"}]},
        headers=api.editor,
    )
    assert path.status_code == 422
    assert path.json()["error"]["field"] == "media[0].source"
    assert "media_id" in path.json()["error"]["rule"]
    assert "/etc/publicist.key" not in path.text
