"""A read in one trip to the thread pool: the token check, the read and the session's end.

A synchronous route with the token dependency and the per-request session
(``publicist.web.deps.DbSession``) goes from the event loop to the thread pool and back
three times: for the token, for the route, for the commit. For a read of a millisecond or
two they cost as much as the read. A route that takes a :class:`Reader` is ``async`` and
hands one function to the thread pool, where the session is opened, the token checked, the
read done and the session closed.

On PostgreSQL a read's session runs without a transaction (``AUTOCOMMIT``): that saves the
``BEGIN`` and ``COMMIT`` round trips and loses nothing, since under the isolation Publicist
runs with (PostgreSQL's default, read committed) every statement sees its own snapshot
anyway. The one write a read may make, the token's ``last_used_at``, is a single statement.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from publicist.web.auth import Credentials, authorize
from publicist.web.deps import Now
from publicist.web.tokens import Role

T = TypeVar("T")


def read_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions for reads: like ``sessions``, on PostgreSQL without a transaction."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
        return sessions  # SQLite, or sessions bound to a connection (a test's transaction)
    return sessionmaker(
        bind=engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


class Reader:
    """``await reader(lambda session: ...)``: a read for a caller allowed ``needed``.

    Errors raised by the read (a 404, a refused input) reach the API's error handlers as
    from any route; the session is closed whatever happens.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        credentials: HTTPAuthorizationCredentials | None,
        needed: Role,
        now: datetime,
    ) -> None:
        self._sessions = sessions
        self._credentials = credentials
        self._needed = needed
        self.now = now
        """The request's time, from the application's clock."""

    async def __call__(self, read: Callable[[Session], T]) -> T:
        return await anyio.to_thread.run_sync(self._run, read)

    def _run(self, read: Callable[[Session], T]) -> T:
        with self._sessions() as session:
            authorize(session, self._credentials, self._needed, now=self.now)
            result = read(session)
            session.commit()
            return result


def reader(
    needed: Role,
) -> Callable[
    [Request, HTTPAuthorizationCredentials | None, datetime], Coroutine[Any, Any, Reader]
]:
    """The dependency giving a route a :class:`Reader` for tokens allowed ``needed``.

    ``async`` so that FastAPI calls it on the event loop: it only gathers what the read
    needs, and the token is checked in the read's own trip to the thread pool.
    """

    async def dependency(request: Request, credentials: Credentials, now: Now) -> Reader:
        return Reader(request.app.state.read_sessions, credentials, needed, now)

    return dependency


ViewerRead = Annotated[Reader, Depends(reader(Role.VIEWER))]
