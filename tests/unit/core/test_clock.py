"""The file clock the demo steers: every reader sees the time its writer set, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from publicist.core.clock import FileClock, configured_clock, system_clock

SHANGHAI = timezone(timedelta(hours=8))


def test_readers_see_the_time_the_writer_set(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    FileClock.write(path, datetime(2021, 4, 6, 10, 0, tzinfo=SHANGHAI))
    clock = configured_clock(path)
    assert clock.now() == datetime(2021, 4, 6, 2, 0, tzinfo=UTC)
    assert clock.now().tzinfo == UTC
    FileClock.write(path, datetime(2021, 12, 31, 20, 0, tzinfo=SHANGHAI))
    assert clock.now() == datetime(2021, 12, 31, 12, 0, tzinfo=UTC)
    assert not (tmp_path / "clock.next").exists()  # written aside, then renamed


def test_without_a_file_it_is_the_system_clock() -> None:
    assert configured_clock(None) is system_clock


def test_a_naive_or_garbled_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    with pytest.raises(ValueError, match="aware"):
        FileClock.write(path, datetime(2021, 4, 6, 10, 0))  # noqa: DTZ001 - the point
    path.write_text("2021-04-06T10:00:00", encoding="utf-8")
    with pytest.raises(ValueError, match="no UTC offset"):
        FileClock(path).now()
    path.write_text("next Tuesday", encoding="utf-8")
    with pytest.raises(ValueError, match="not an ISO time"):
        FileClock(path).now()
