"""JSON answers written straight from the values a read returns.

FastAPI validates what a route returns against its response model, then serialises it:
for a report (hundreds of dataclass rows) the validation is as costly as the read, and for a
synchronous route it is one more hop to the thread pool. The reads' values are typed and
already valid (mypy checks them), so a route may serialise them with the same pydantic
serialiser (:class:`pydantic.TypeAdapter` of the same type: the same JSON, byte for byte) and
name its model in ``response_model=`` for the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fastapi.responses import Response
from pydantic import TypeAdapter

T = TypeVar("T")


class JsonBody(Generic[T]):
    """``JsonBody(list[Thing])(things)``: the answer FastAPI would give for ``things``."""

    def __init__(self, kind: Any) -> None:
        self._adapter: TypeAdapter[T] = TypeAdapter(kind)

    def __call__(self, value: T) -> Response:
        return Response(self._adapter.dump_json(value), media_type="application/json")
