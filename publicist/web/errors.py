"""Every failure as JSON naming the field and the rule; client mistakes are always 4xx.

Shape: ``{"error": {"type", "message", "field", "value", "rule", "errors": [...]}}``.
Values are echoed only when short, never for secret fields (tokens, credentials) nor for
unknown fields (a misspelt secret field is still a secret).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from campaigns.importing import ImportFailed
from connectors.registry import UnknownPlatform
from publicist.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PublicistError
from publicist.web.auth import AuthError
from publicist.web.schemas import ErrorDetail, ErrorOut, FieldError

log = logging.getLogger(__name__)

SECRET_HINTS = ("token", "secret", "password", "extra", "credential")
LOCATIONS = ("body", "query", "path", "header", "cookie")


def _shown(value: Any) -> str | None:
    if value is None or not isinstance(value, str | int | float | bool):
        return None
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _secret(field: str) -> bool:
    lowered = field.lower()
    return any(hint in lowered for hint in SECRET_HINTS)


def _encodable(value: Any) -> Any:
    """``value`` with every string made UTF-8-safe: a JSON body may escape a lone surrogate
    ("\\ud800"), which Python keeps in a str but cannot encode; it is shown escaped."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    return value


def error_response(
    status: int, detail: ErrorDetail, headers: Mapping[str, str] | None = None
) -> Any:
    body = _encodable(ErrorOut(error=detail).model_dump(exclude_none=True))
    return JSONResponse(body, status_code=status, headers=headers)


def too_large(max_bytes: int | None) -> ErrorDetail:
    limit = f"{max_bytes} bytes" if max_bytes is not None else "the size limit"
    return ErrorDetail(
        type="too_large",
        message=f"the request body is larger than {limit}",
        field="body",
        rule=f"must be at most {limit}",
    )


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_detail(exc: RequestValidationError) -> tuple[int, ErrorDetail]:
    problems: list[FieldError] = []
    malformed = False
    for error in exc.errors():
        field = _field(tuple(error.get("loc", ())))
        if error.get("type") == "json_invalid":
            malformed = True
            reason = (error.get("ctx") or {}).get("error", "")
            rule = f"is not valid JSON ({reason})" if reason else "is not valid JSON"
            problems.append(FieldError(field="body", rule=rule))
            continue
        # An unknown field may be a misspelt secret ("acess_token"): never echo its value.
        hidden = _secret(field) or error.get("type") == "extra_forbidden"
        value = None if hidden else _shown(error.get("input"))
        rule = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        problems.append(FieldError(field=field, rule=rule, value=value))
    first = problems[0] if problems else FieldError(field="body", rule="is invalid")
    message = "; ".join(f"{p.field}: {p.rule}" for p in problems[:5])
    detail = ErrorDetail(
        type="malformed" if malformed else "invalid_input",
        message=message,
        field=first.field,
        value=first.value,
        rule=first.rule,
        errors=problems,
    )
    return (400 if malformed else 422), detail


def publicist_detail(exc: PublicistError) -> tuple[int, ErrorDetail]:
    message = str(exc)
    if isinstance(exc, InvalidInput):
        secret = _secret(exc.field)
        value = None if secret else _shown(exc.value)
        return 422, ErrorDetail(
            type="invalid_input",
            message=f"{exc.field} {exc.rule}" if secret else message,
            field=exc.field,
            value=value,
            rule=exc.rule,
        )
    if isinstance(exc, ImportFailed):
        rows = [FieldError(field=f"line {e.line}", rule=e.message) for e in exc.errors]
        return 422, ErrorDetail(
            type="import_failed",
            message=f"schedule not imported, {len(rows)} bad row(s); nothing was written",
            field=rows[0].field if rows else None,
            rule=rows[0].rule if rows else None,
            errors=rows,
        )
    if isinstance(exc, UnknownPlatform):
        return 422, ErrorDetail(
            type="invalid_input",
            message=message,
            field="platform",
            value=_shown(exc.slug),
            rule="is not an installed connector",
        )
    if isinstance(exc, NotFound):
        return 404, ErrorDetail(type="not_found", message=message, value=_shown(exc.key))
    if isinstance(exc, Conflict):
        return 409, ErrorDetail(type="conflict", message=message)
    if isinstance(exc, Forbidden):
        return 403, ErrorDetail(type="forbidden", message=message)
    return 400, ErrorDetail(type="bad_request", message=message)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every expected failure into the JSON shape above."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Any:
        status, detail = validation_detail(exc)
        return error_response(status, detail)

    @app.exception_handler(PublicistError)
    async def _publicist(_: Request, exc: PublicistError) -> Any:
        status, detail = publicist_detail(exc)
        return error_response(status, detail)

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> Any:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, ErrorDetail(type=exc.kind, message=str(exc)), headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Any:
        if exc.status_code == 413:  # a streamed body passed the limit while being read
            limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
            return error_response(413, too_large(limit), exc.headers)
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(
            exc.status_code, ErrorDetail(type=kind, message=str(exc.detail)), exc.headers
        )

    # Defence in depth: the schemas bound every value, but should the database still refuse
    # one (a length or character PostgreSQL will not store), it is the client's value.
    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> Any:
        log.warning("database refused a value: %s", type(exc.orig).__name__)
        return error_response(
            422,
            ErrorDetail(
                type="invalid_input",
                message="the database refused a value (too long, out of range or a forbidden "
                "character)",
                rule="must fit the stored column",
            ),
        )

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> Any:
        log.warning("a value out of range reached a handler: %s", exc)
        return error_response(
            422,
            ErrorDetail(
                type="invalid_input",
                message="a value is out of range (a date or number too large or too small)",
                rule="must be within the supported range",
            ),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> Any:
        log.warning("database constraint refused a write: %s", type(exc.orig).__name__)
        return error_response(
            409, ErrorDetail(type="conflict", message="the write conflicts with existing data")
        )
