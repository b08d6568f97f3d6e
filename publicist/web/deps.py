"""Per-request dependencies: the unit of work, the clock, the settings and what they imply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session, sessionmaker

from campaigns.queries import Windows
from publicist.core.clock import Clock
from publicist.core.settings import Settings
from publicist.web.schemas import MAX_ID, IdText


def _finish(session: Session, failed: bool) -> None:
    try:
        if failed:
            session.rollback()
        else:
            session.commit()
    finally:
        session.close()


async def _session(request: Request) -> AsyncIterator[Session]:
    """One session per request: committed when the handler returns, rolled back on any error.

    The dependency is function-scoped (below), so the commit happens before the response is
    sent and a failed commit becomes an error response instead of a lost write.

    ``async`` so that making the session (no I/O: the connection is taken at its first
    statement) needs no hop to the thread pool; the commit or rollback and the close run in
    one, shielded from cancellation and outside the pool's capacity limit, as FastAPI runs a
    synchronous dependency's exit (a connection is never left checked out).
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    failed = False
    try:
        yield session
    except BaseException:
        failed = True
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(
                _finish, session, failed, limiter=anyio.CapacityLimiter(1)
            )


# The small dependencies below are ``async`` only so that FastAPI calls them directly
# instead of handing each to the thread pool; they never block.


async def _now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _windows(request: Request) -> Windows:
    return Windows.from_settings(request.app.state.settings)


DbSession = Annotated[Session, Depends(_session, scope="function")]
Now = Annotated[datetime, Depends(_now)]
AppSettings = Annotated[Settings, Depends(_settings)]
Waits = Annotated[Windows, Depends(_windows)]
"""How long each waiting state of a delivery normally lasts (what "stuck" means)."""
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id."), IdText]
