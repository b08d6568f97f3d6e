"""What every signed-in page's header shows besides the person: the inbox's count and the
banner when nothing is publishing. Read lazily, only by pages that show them."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from campaigns.heartbeat import WorkersHealth, workers_health
from campaigns.queries import Windows, inbox_count


class WorkspaceStatus:
    """Two cheap reads, made at most once per request and only when a template asks."""

    def __init__(self, session: Session, *, now: datetime, windows: Windows, zone: str) -> None:
        self._session = session
        self._now = now
        self._windows = windows
        self.zone = zone
        """The zone the banner's times are shown in: the person's, else the default."""

    @cached_property
    def inbox_count(self) -> int:
        return inbox_count(self._session, now=self._now, windows=self._windows)

    @cached_property
    def workers(self) -> WorkersHealth:
        return workers_health(self._session, now=self._now)
