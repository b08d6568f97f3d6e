"""Anything a client can send gets a 4xx naming the field and the rule, never a 500.

The client raises on any server error (``raise_server_exceptions``), so each of these tests
also proves the request did not crash the handler.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from publicist.web.app import MAX_BODY_BYTES, create_app
from tests.web.conftest import Api, app_settings

GOOD_POST = {
    "campaign": "IP Creates a Better Life",
    "text": "How a patent reaches your home",
    "accounts": ["mock:@IPRinCN"],
}


@pytest.fixture
def seeded(api: Api) -> Api:
    account = {"platform": "mock", "handle": "@IPRinCN", "access_token": "secret-access-abc"}
    assert api.client.post("/api/accounts", json=account, headers=api.admin).status_code == 201
    campaign = {"name": "IP Creates a Better Life", "timezone": "Asia/Shanghai"}
    assert api.client.post("/api/campaigns", json=campaign, headers=api.editor).status_code == 201
    return api


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]
    return error


def _post(api: Api, body: Any) -> Any:
    return api.client.post("/api/posts", json=body, headers=api.editor)


def test_malformed_json_is_400(seeded: Api) -> None:
    response = seeded.client.post(
        "/api/posts",
        content=b'{"campaign": "x", "text": ',
        headers={**seeded.editor, "Content-Type": "application/json"},
    )
    error = _error(response, 400)
    assert error["type"] == "malformed"
    assert error["field"] == "body"
    assert "JSON" in error["rule"]


def test_json_sent_as_plain_text_is_refused(seeded: Api) -> None:
    response = seeded.client.post(
        "/api/posts",
        content=json.dumps(GOOD_POST).encode(),
        headers={**seeded.editor, "Content-Type": "text/plain"},
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_a_body_that_is_not_an_object_is_422(seeded: Api, body: Any) -> None:
    _error(_post(seeded, body), 422)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": 123}, "text"),
        ({"accounts": "mock:@IPRinCN"}, "accounts"),
        ({"accounts": [1, 2]}, "accounts.0"),
        ({"approve": "maybe"}, "approve"),
        ({"at": 1_700_000_000}, "at"),
        ({"media": [{"kind": "image", "media_id": 0}]}, "media.0.media_id"),
        ({"variants": {"mock": {"text": ["a"]}}}, "variants.mock.text"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_wrong_types_and_unknown_fields_name_the_field(
    seeded: Api, change: dict[str, Any], field: str
) -> None:
    error = _error(_post(seeded, {**GOOD_POST, **change}), 422)
    assert error["field"] == field
    assert error["rule"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"campaign": "No such campaign"}, "campaign"),
        ({"accounts": ["mock:@nobody"]}, "accounts"),
        ({"accounts": []}, "accounts"),
        ({"text": "   "}, "text"),
        ({"media": [{"kind": "hologram", "url": "https://cdn.example.com/x"}]}, "media[0].kind"),
        ({"media": [{"kind": "image"}]}, "media[0]"),
        ({"media": [{"kind": "image", "source": "/etc/publicist.key"}]}, "media[0].source"),
        ({"media": [{"kind": "image", "media_id": 999}]}, "media[0].media_id"),
        ({"media": [{"kind": "image", "url": "file:///etc/publicist.key"}]}, "media[0].url"),
        ({"variants": {"weibo": {"text": "微博"}}}, "variant"),
    ],
)
def test_service_rules_name_the_field_value_and_rule(
    seeded: Api, change: dict[str, Any], field: str
) -> None:
    error = _error(_post(seeded, {**GOOD_POST, **change}), 422)
    assert error["field"] == field
    assert error["type"] == "invalid_input"
    assert error["rule"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/posts/999",
        "/api/campaigns/999",
        "/api/campaigns/999/posts",
        "/api/accounts/999",
        "/api/reports/campaigns/999",
        "/api/reports/campaigns/999/series",
        "/api/reports/campaigns/999/platforms",
        "/api/reports/campaigns/999/top-posts",
        "/api/reports/campaigns/999/failures",
        "/api/reports/campaigns/999/chart.svg",
        "/api/reports/accounts/999",
    ],
)
def test_unknown_ids_are_404(seeded: Api, path: str) -> None:
    error = _error(seeded.client.get(path, headers=seeded.admin), 404)
    assert error["type"] == "not_found"


@pytest.mark.parametrize("action", ["submit", "approve", "schedule", "cancel", "retry"])
def test_actions_on_unknown_posts_are_404(seeded: Api, action: str) -> None:
    _error(seeded.client.post(f"/api/posts/999/{action}", headers=seeded.approver), 404)


def test_revoking_an_unknown_token_is_404(seeded: Api) -> None:
    _error(seeded.client.delete("/api/tokens/999", headers=seeded.admin), 404)


@pytest.mark.parametrize("post_id", ["0", "-1", "2147483648", "1" + "0" * 30, "abc", "1.5"])
def test_ids_out_of_range_or_not_numbers_are_422(seeded: Api, post_id: str) -> None:
    error = _error(seeded.client.get(f"/api/posts/{post_id}", headers=seeded.editor), 422)
    assert error["field"] == "post_id"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/posts?limit=1000000000", "limit"),
        ("/api/posts?limit=abc", "limit"),
        ("/api/posts?state=bogus", "state"),
        ("/api/posts?offset=-1", "offset"),
        ("/api/posts?campaign=" + "x" * 300, "campaign"),
        ("/api/reports/campaigns/1?top=99999999999999999999", "top"),
        ("/dashboard?campaign=abc", "campaign"),
    ],
)
def test_bad_query_parameters_are_422(seeded: Api, path: str, field: str) -> None:
    error = _error(seeded.client.get(path, headers=seeded.admin), 422)
    assert error["field"] == field


def test_huge_values_are_refused(seeded: Api) -> None:
    too_long = _error(_post(seeded, {**GOOD_POST, "text": "x" * 100_001}), 422)
    assert too_long["field"] == "text"
    assert "100000" in too_long["rule"]
    over_platform = _error(_post(seeded, {**GOOD_POST, "text": "x" * 5000}), 422)
    assert over_platform["field"] == "text[mock]"
    assert "280" in over_platform["rule"]
    long_name = seeded.client.post(
        "/api/campaigns", json={"name": "n" * 201}, headers=seeded.editor
    )
    assert _error(long_name, 422)["field"] == "name"
    account = {"platform": "mock", "handle": "@big", "access_token": "t"}
    for change, field in (
        ({"rate_limit_requests": 10**20, "rate_limit_per_seconds": 60}, "rate_limit_requests"),
        ({"rate_limit_requests": 10, "rate_limit_per_seconds": 1e308}, "rate_limit_per_seconds"),
        ({"rate_limit_requests": 10, "rate_limit_per_seconds": -1}, "rate_limit_per_seconds"),
    ):
        response = seeded.client.post(
            "/api/accounts", json={**account, **change}, headers=seeded.admin
        )
        assert _error(response, 422)["field"] == field


def test_infinity_and_nan_are_refused(seeded: Api) -> None:
    for literal in (b"Infinity", b"NaN", b"1e400"):
        body = (
            b'{"platform": "mock", "handle": "@big", "access_token": "t", '
            b'"rate_limit_requests": 10, "rate_limit_per_seconds": ' + literal + b"}"
        )
        response = seeded.client.post(
            "/api/accounts",
            content=body,
            headers={**seeded.admin, "Content-Type": "application/json"},
        )
        assert 400 <= response.status_code < 500, response.text


def test_a_body_over_the_limit_is_413(seeded: Api) -> None:
    body = b'{"text": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    response = seeded.client.post(
        "/api/posts", content=body, headers={**seeded.editor, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_deep_nesting_is_refused(seeded: Api) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = seeded.client.post(
        "/api/posts", content=body, headers={**seeded.editor, "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500


def test_nul_characters_are_refused_on_every_engine(seeded: Api) -> None:
    error = _error(_post(seeded, {**GOOD_POST, "text": "bad\x00text"}), 422)
    assert "NUL" in error["rule"]
    assert "text" in error["rule"]
    campaign = seeded.client.post(
        "/api/campaigns", json={"name": "IP\x00Week"}, headers=seeded.editor
    )
    _error(campaign, 422)


@pytest.mark.parametrize("zone", ["Mars/Base", "../../etc/passwd", "Asia/Shanghai\n", "+08:00"])
def test_bad_time_zones_name_the_field(seeded: Api, zone: str) -> None:
    response = seeded.client.post(
        "/api/campaigns", json={"name": "IP Week", "timezone": zone}, headers=seeded.editor
    )
    error = _error(response, 422)
    assert error["field"] == "timezone"
    assert "IANA" in error["rule"]


@pytest.mark.parametrize(
    "at",
    [
        "tomorrow",
        "2026-02-30 10:00",
        "2026-04-21T09:30+25:00",
        "2026-04-21 25:00",
        "",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:00-12:00",
    ],
)
def test_unreadable_times_name_the_field(seeded: Api, at: str) -> None:
    error = _error(_post(seeded, {**GOOD_POST, "at": at}), 422)
    assert error["field"] == "at"


def test_a_naive_time_is_read_in_the_campaign_zone_and_refused_when_past(seeded: Api) -> None:
    # The clock says 2026-04-20 01:00 UTC = 09:00 in Shanghai.
    past = _error(_post(seeded, {**GOOD_POST, "at": "2026-04-20 08:59"}), 422)
    assert past["field"] == "at"
    assert "past" in past["rule"]
    future = _post(seeded, {**GOOD_POST, "at": "2026-04-20 09:01"})
    assert future.status_code == 201
    assert future.json()["publish_at"] == "2026-04-20T01:01:00Z"
    aware = _post(seeded, {**GOOD_POST, "at": "2026-04-20T01:01:00Z", "text": "again"})
    assert aware.json()["publish_at"] == future.json()["publish_at"]


def test_dates_that_are_not_dates_are_422(seeded: Api) -> None:
    response = seeded.client.post(
        "/api/campaigns",
        json={"name": "IP Week", "starts_on": "next week"},
        headers=seeded.editor,
    )
    assert _error(response, 422)["field"] == "starts_on"
    backwards = seeded.client.post(
        "/api/campaigns",
        json={"name": "IP Week", "starts_on": "2026-05-02", "ends_on": "2026-04-26"},
        headers=seeded.editor,
    )
    assert _error(backwards, 422)["field"] == "ends_on"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe\x00bad",
        b"campaign,at,accounts,text\nIP,2026-04-21,a,b\x00c\n",
        b"campaign,at\nIP,2026-04-21\n",
        b"campaign,at,accounts,text\n",
        b'campaign,at,accounts,text\n"' + b"x" * 200_000 + b'",2026-04-21,a,b\n',
        b"campaign,at,accounts,text\nIP Creates a Better Life,2026-04-21 10:00,a,b,c,d\n",
        b"campaign,at,accounts,text\n"
        b"IP Creates a Better Life,0001-01-01T00:00+14:00,mock:@IPRinCN,b\n",
    ],
    ids=[
        "empty",
        "not-utf8",
        "nul",
        "columns",
        "no-rows",
        "huge-field",
        "extra-fields",
        "year-one",
    ],
)
def test_bad_csv_files_are_422(seeded: Api, data: bytes) -> None:
    response = seeded.client.post(
        "/api/imports", content=data, headers={**seeded.approver, "Content-Type": "text/csv"}
    )
    error = _error(response, 422)
    assert error.get("field") in ("file", "at", "line 1", "line 2")


def test_unknown_routes_and_methods_answer_json(seeded: Api) -> None:
    assert _error(seeded.client.get("/api/nothing-here"), 404)["type"] == "not_found"
    assert _error(seeded.client.put("/api/campaigns"), 405)["type"] == "method_not_allowed"


JUNK: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"x"',
    b"{",
    b"\xff\xfe",
    b'{"at": {"$gt": 1}, "name": [], "role": null}',
    b'{"campaign": "1", "text": "t", "accounts": ["1"], "at": "9999-12-31 23:59"}',
    b'{"campaign": "1", "text": "t", "accounts": ["1"], "at": "0001-01-01T00:00:00+14:00"}',
    b'{"name": "x", "role": "admin", "extra": 1}',
]


def _writes() -> list[tuple[str, str]]:
    """Every write the API documents, plus the page's own forms."""
    paths = create_app(app_settings()).openapi()["paths"]
    routes = [
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    ]
    assert len(routes) >= 10
    return [*routes, ("POST", "/dashboard/login"), ("POST", "/dashboard/logout")]


@pytest.mark.parametrize(("method", "path"), _writes())
def test_no_junk_body_makes_any_write_fail_with_a_500(seeded: Api, method: str, path: str) -> None:
    for post_id in ("1", "99999"):
        target = path.replace("{post_id}", post_id).replace("{token_id}", post_id)
        for junk in JUNK:
            for content_type in ("application/json", "text/csv"):
                response = seeded.client.request(
                    method,
                    target,
                    content=junk,
                    headers={**seeded.admin, "Content-Type": content_type},
                )
                assert response.status_code < 500, (target, junk, response.text)
