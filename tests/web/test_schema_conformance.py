"""Schemathesis over every operation with each role: no server error, and every answer is
documented (status code, content type, body schema) in the OpenAPI document.

Runs against the ASGI app (no network) on SQLite and PostgreSQL, bounded: a few examples per
operation, role and phase, derandomized so a run is repeatable. Set
``PUBLICIST_SCHEMATHESIS_EXAMPLES`` to search harder locally.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from publicist.web.app import create_app
from publicist.web.tokens import Role
from tests.web.conftest import Api, app_settings

EXAMPLES = int(os.environ.get("PUBLICIST_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded_api(api: Api) -> Api:
    """One account, campaign and post, so generated ids (often 1) reach real rows too."""
    account = {"platform": "mock", "handle": "@IPRinCN", "access_token": "secret-access-abc"}
    assert api.client.post("/api/accounts", json=account, headers=api.admin).status_code == 201
    campaign = {"name": "IP Week", "timezone": "Asia/Shanghai"}
    assert api.client.post("/api/campaigns", json=campaign, headers=api.editor).status_code == 201
    post = {"campaign": "IP Week", "text": "Opening", "accounts": ["mock:@IPRinCN"]}
    assert api.client.post("/api/posts", json=post, headers=api.editor).status_code == 201
    return api


# The document as the app serves it; each test calls its own app (on a rolled-back database).
schema = schemathesis.openapi.from_dict(create_app(app_settings()).openapi())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: Any, seeded_api: Api) -> None:
    # Each generated request is sent with every role's token: the viewer mostly meets 403s,
    # the editor and admin reach the handlers; every answer must be documented.
    for role in (Role.VIEWER, Role.EDITOR, Role.ADMIN):
        response = case.call_and_validate(
            app=seeded_api.client.app, headers=seeded_api.auth(role), checks=CHECKS
        )
        if response.status_code == 422:  # a rule was broken: the error names the field
            assert response.json()["error"].get("field"), response.text
