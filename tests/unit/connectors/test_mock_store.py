"""The mock platform's file store is opened at once by many worker threads and processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from connectors.mock import MockPlatform

OPENERS = 8


def _open_store(store: str, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    with MockPlatform.open(store, speed=60.0) as platform:
        assert platform.speed == 60.0


def test_many_processes_open_a_new_store_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for round_ in range(10):
        store = str(tmp_path / f"platform-{round_}.sqlite")
        start = context.Barrier(OPENERS)
        openers = [context.Process(target=_open_store, args=(store, start)) for _ in range(OPENERS)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=60)
        assert [opener.exitcode for opener in openers] == [0] * OPENERS
        with MockPlatform.open(store) as platform:
            assert platform.count_by_marker() == {}
