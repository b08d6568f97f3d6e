"""The OpenAPI document, with the error responses the API really sends, in their real shape.

FastAPI documents only a 422 in its own validation shape; every refusal here is
``{"error": {...}}`` (``publicist.web.errors``) and comes with one of the statuses below.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from publicist.web.schemas import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
WRITES = ("post", "put", "patch", "delete")

WHY = {
    "400": "Malformed request (a body that is not JSON or not UTF-8).",
    "401": "No API token, or an unknown or revoked one.",
    "403": "The token's role is too low for this operation.",
    "404": "No such id.",
    "409": "The current state refuses the action, or the write conflicts with existing data.",
    "413": "The request body is over the size limit.",
    "422": "A value breaks a rule; the error names the field, the value and the rule.",
}


def _statuses(method: str, operation: dict[str, Any]) -> list[str]:
    """Which error statuses ``operation`` can answer, from how it is declared."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    statuses = []
    if has_body or method in WRITES:
        statuses += ["400", "413"]
    if operation.get("security"):
        statuses += ["401", "403"]
    if any(p.get("in") == "path" for p in parameters):
        statuses.append("404")
    if method in WRITES:
        statuses.append("409")
    if parameters or has_body or method in WRITES:
        statuses.append("422")
    return statuses


def _document_errors(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components.update(
        {
            name: definition
            for name, definition in ErrorOut.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            .get("$defs", {})
            .items()
        }
    )
    plain = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    plain.pop("$defs", None)
    components["ErrorOut"] = plain
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses(method, operation):
                responses[status] = {
                    "description": WHY[status],
                    "content": {"application/json": {"schema": ERROR_REF}},
                }


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with one that documents the real error responses (cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _document_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
