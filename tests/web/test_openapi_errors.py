"""The OpenAPI document lists the error answers the API gives, in the shape it sends."""

from __future__ import annotations

from typing import Any

import pytest

from publicist.web.app import create_app
from tests.web.conftest import app_settings

DOCUMENT = create_app(app_settings()).openapi()
OPERATIONS = [
    (method, path, operation)
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
]
ERROR = {"$ref": "#/components/schemas/ErrorOut"}


def _error_schema(operation: dict[str, Any], status: str) -> Any:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_fastapis_validation_shape_is_gone() -> None:
    assert "HTTPValidationError" not in str(DOCUMENT)
    assert DOCUMENT["components"]["schemas"]["ErrorOut"]["required"] == ["error"]


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=lambda v: str(v)[:40])
def test_every_error_status_is_documented_as_the_json_error(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    responses = operation["responses"]
    if operation.get("security"):
        assert _error_schema(operation, "401") == ERROR
        assert _error_schema(operation, "403") == ERROR
    if "{" in path:
        assert _error_schema(operation, "404") == ERROR
    if "requestBody" in operation:
        for status in ("400", "413", "422"):
            assert _error_schema(operation, status) == ERROR
    if method in ("post", "delete"):
        assert _error_schema(operation, "409") == ERROR
    for status, response in responses.items():
        if status.startswith("4"):
            assert _error_schema(operation, status) == ERROR, (status, response)
