"""Rows of plain columns, read without the ORM's loading step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Result
from sqlalchemy.orm import Session


def column_rows(
    session: Session, statement: Executable, parameters: dict[str, Any] | None = None
) -> Result[*tuple[Any, ...]]:
    """The rows of a select of columns (not of mapped objects), run on the session's
    connection.

    ``Session.execute`` takes even a select of plain columns through the ORM's loading step
    (an ORM context, a row processor and a loading pass over every row); for a report's few
    hundred rows that step cost more than PostgreSQL did. The rows are the same. Changes
    still pending in the session are flushed first, as ``Session.execute`` would.
    """
    session.flush()
    return session.connection().execute(statement, parameters or {})
