"""Statement shapes that let PostgreSQL keep one plan for a statement run many times.

psycopg prepares a statement on its sixth run, and PostgreSQL then weighs one generic plan
(for any parameter values) against planning every call anew. A value the plan depends on
(a state a partial index holds, a page size) is therefore written into the statement's
text instead of sent as a parameter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, literal_column


def literal_limit(count: int) -> ColumnElement[Any]:
    """A ``LIMIT`` written into the statement's text instead of sent as a parameter.

    With the limit a parameter, the generic plan cannot know that only a few rows are
    wanted: it costs the whole ordered result, loses, and the statement is planned again on
    every call (for the four-table top-posts read, planning is most of the work). With the
    number in the text, the generic plan is the index walk that stops after ``count`` rows.
    Each distinct count is its own statement (and its own entry in SQLAlchemy's cache of
    compiled statements), so use it for the few fixed page sizes.
    """
    return literal_column(str(int(count)))


def text_literal(value: str) -> ColumnElement[str]:
    """A string written into the statement's text (quotes doubled), for a value the plan
    must see: a partial index on states is usable only when the planner knows the state,
    which a parameter hides from a generic plan. For the program's own constants (states,
    kinds), never for input."""
    return literal_column("'" + value.replace("'", "''") + "'")
