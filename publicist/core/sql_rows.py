"""Many rows through one statement: an executemany, or on PostgreSQL one statement over arrays.

An executemany is one statement per row. On the hot paths (a publish batch, a collection
answer) PostgreSQL's cost per statement, with the delivery-count trigger each ``UPDATE`` of
deliveries fires, outweighed its cost per row (docs/benchmarks.md, "Launch burst" and
"Collection"). There the same rows go as one statement whose parameters are arrays, one per
column, read back into rows by ``unnest``; SQLite keeps the executemany.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable, TextClause


def execute_rows(
    session: Session,
    portable: Executable,
    as_arrays: TextClause,
    rows: Sequence[dict[str, Any]],
    *,
    shared: Collection[str] = (),
    as_json: Collection[str] = (),
) -> None:
    """``rows`` (dicts with the same keys) through ``portable`` as an executemany, or on
    PostgreSQL through ``as_arrays``, which takes each key as an array of the rows' values.

    Keys in ``shared`` hold the same value in every row and go once, as they are; values
    under ``as_json`` go as JSON text (for a ``CAST(... AS json[])``), enum members as their
    values. ``as_arrays`` must have the same effect on the same rows as ``portable``.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(portable, list(rows))
        return
    first = rows[0]
    parameters = {key: first[key] for key in shared}
    for key in first.keys() - set(shared):
        values = [row[key] for row in rows]
        if key in as_json:
            values = [json.dumps(value) for value in values]
        elif any(isinstance(value, Enum) for value in values):
            values = [value.value if isinstance(value, Enum) else value for value in values]
        parameters[key] = values
    session.execute(as_arrays, parameters)
