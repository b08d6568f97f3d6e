"""Per-request dependencies: the unit of work, the clock, the settings and what they imply."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session, sessionmaker

from campaigns.queries import Windows
from publicist.core.clock import Clock
from publicist.core.settings import Settings
from publicist.web.schemas import MAX_ID, IdText


def _session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the handler returns, rolled back on any error.

    The dependency is function-scoped (below), so the commit happens before the response is
    sent and a failed commit becomes an error response instead of a lost write.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
