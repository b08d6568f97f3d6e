"""Time as a dependency, so logic never reads the wall clock directly and tests can steer it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


class FileClock:
    """Virtual time read from a file that one steering process writes (ISO 8601, with offset).

    The demo replays April to December in about a minute: it moves the simulators' clocks
    and this file together, step by step, so the worker publishes and measures on the same
    virtual timeline as the platforms. The file is replaced atomically by its writer.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def now(self) -> datetime:
        text = self._path.read_text(encoding="utf-8").strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"clock file {self._path.name}: {text!r} is not an ISO time") from exc
        if moment.tzinfo is None:
            raise ValueError(f"clock file {self._path.name}: {text!r} has no UTC offset")
        return moment.astimezone(UTC)

    @staticmethod
    def write(path: Path, moment: datetime) -> None:
        """Set the time every reader of ``path`` sees (atomically: write, then rename)."""
        if moment.tzinfo is None:
            raise ValueError("FileClock needs an aware datetime")
        staging = path.with_name(path.name + ".next")
        staging.write_text(moment.astimezone(UTC).isoformat(), encoding="utf-8")
        staging.replace(path)


system_clock = SystemClock()


def configured_clock(clock_file: Path | None) -> Clock:
    """The wall clock, or the virtual one a demo steers through ``clock_file``."""
    return FileClock(clock_file) if clock_file is not None else system_clock
