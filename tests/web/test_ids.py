"""Ids written in anything but ASCII digits, or too large for the database, are a clear 422.

Before the one id parser, "²" passed ``str.isdigit`` and crashed ``int`` (a 500), and "١"
(Arabic-Indic one) silently named campaign or account 1.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Api

GOOD_POST = {
    "campaign": "IP Creates a Better Life",
    "text": "How a patent reaches your home",
    "accounts": ["mock:@IPRinCN"],
}
NOT_IDS = ["²", "١", "１", "1_0", "+1"]
TOO_LARGE = ["2147483648", "99999999999", "1" + "0" * 30]


@pytest.fixture
def seeded(api: Api) -> Api:
    account = {"platform": "mock", "handle": "@IPRinCN", "access_token": "secret-access-abc"}
    assert api.client.post("/api/accounts", json=account, headers=api.admin).status_code == 201
    campaign = {"name": "IP Creates a Better Life", "timezone": "Asia/Shanghai"}
    assert api.client.post("/api/campaigns", json=campaign, headers=api.editor).status_code == 201
    return api


def _error(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _posts(api: Api) -> list[Any]:
    response = api.client.get("/api/posts", headers=api.editor)
    assert response.status_code == 200
    return list(response.json())


@pytest.mark.parametrize("reference", NOT_IDS + TOO_LARGE)
def test_a_campaign_reference_that_is_not_an_id_or_name_is_422(seeded: Api, reference: str) -> None:
    response = seeded.client.post(
        "/api/posts", json={**GOOD_POST, "campaign": reference}, headers=seeded.editor
    )
    error = _error(response)
    assert error["field"] == "campaign"
    if len(reference) <= 80:  # longer values are shown shortened
        assert error["value"] == reference
    assert _posts(seeded) == []


@pytest.mark.parametrize("reference", NOT_IDS + TOO_LARGE)
def test_an_account_reference_that_is_not_an_id_or_handle_is_422(
    seeded: Api, reference: str
) -> None:
    response = seeded.client.post(
        "/api/posts", json={**GOOD_POST, "accounts": [reference]}, headers=seeded.editor
    )
    assert _error(response)["field"] == "accounts"
    assert _posts(seeded) == []


@pytest.mark.parametrize("reference", NOT_IDS + TOO_LARGE)
def test_a_campaign_filter_that_is_not_an_id_or_name_is_422(seeded: Api, reference: str) -> None:
    response = seeded.client.get(
        "/api/posts", params={"campaign": reference}, headers=seeded.editor
    )
    assert _error(response)["field"] == "campaign"


def test_a_campaign_is_still_found_by_its_ascii_id(seeded: Api) -> None:
    campaign_id = seeded.client.get("/api/campaigns", headers=seeded.editor).json()[0]["id"]
    response = seeded.client.post(
        "/api/posts", json={**GOOD_POST, "campaign": str(campaign_id)}, headers=seeded.editor
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("post_id", [*NOT_IDS, " 1", "1 ", "01x"])
def test_path_ids_are_ascii_digits_only(seeded: Api, post_id: str) -> None:
    for path in (f"/api/posts/{post_id}", f"/api/reports/campaigns/{post_id}"):
        error = _error(seeded.client.get(path, headers=seeded.editor))
        assert error["field"] in ("post_id", "campaign_id")
        assert "ASCII digits" in error["rule"]


def test_the_dashboard_campaign_query_is_read_the_same_way(seeded: Api) -> None:
    error = _error(seeded.client.get("/dashboard", params={"campaign": "١"}))
    assert error["field"] == "campaign"
