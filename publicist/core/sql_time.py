"""Time arithmetic in SQL that PostgreSQL and SQLite spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

MAX_MS = 2**31 - 1


class MillisecondsLate(FunctionElement[int]):
    """``milliseconds_late(at, due)``: whole milliseconds from ``due`` to ``at``, 0 if ``at``
    is not later, rounded half away from zero, at most ``MAX_MS`` (24.8 days: an INTEGER
    column's limit; a start that late is a backlog, not a measure of timeliness).

    Lets one ``UPDATE`` store a delivery's lateness from the row's own due time, so that
    starting an attempt is one statement instead of a read and a write.
    """

    type = Integer()
    name = "milliseconds_late"
    inherit_cache = True


def _operands(element: MillisecondsLate, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    at, due = list(element.clauses)
    return compiler.process(at, **kw), compiler.process(due, **kw)


@compiles(MillisecondsLate, "postgresql")
def _postgresql(element: MillisecondsLate, compiler: SQLCompiler, **kw: Any) -> str:
    at, due = _operands(element, compiler, **kw)
    late = f"ROUND(EXTRACT(EPOCH FROM ({at} - {due})) * 1000)"
    return f"CAST(LEAST(GREATEST(0, {late}), {MAX_MS}) AS INTEGER)"


@compiles(MillisecondsLate, "sqlite")
def _sqlite(element: MillisecondsLate, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday() reads SQLite's stored datetimes to the millisecond.
    at, due = _operands(element, compiler, **kw)
    late = f"ROUND((julianday({at}) - julianday({due})) * 86400000)"
    return f"CAST(MIN(MAX(0, {late}), {MAX_MS}) AS INTEGER)"
