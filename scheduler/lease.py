"""Keep a slow publish's lease alive, so its post is never created after it was lost.

A delivery belongs to the attempt publishing it until ``lease_until``; after that the
reconciler asks the platform and may publish again. An attempt that runs long (media still
uploading, a slow platform) has its lease renewed by one thread per process, and the post
may be created only while the lease is held with one creation margin (the longest request)
to spare: the attempt's :class:`~connectors.http.CreationWindow` moves on with each renewal
and closes when a renewal finds the lease over or the delivery taken over (its ticket
raised). Renewal stops after ``MAX_ATTEMPT_SECONDS``: an
attempt stuck that long is left to the reconciler.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.http import CreationWindow, creation_window
from publicist.core.clock import Clock

log = logging.getLogger("publicist.scheduler")

MAX_ATTEMPT_SECONDS = 600.0

Renew = Callable[[int, int, int, datetime, datetime], bool]
"""(delivery id, attempt, ticket, lease until, now) → whether the attempt still holds the
delivery."""


def creation_budget(lease_seconds: float, margin_seconds: float) -> float:
    """How long after its lease was (re)taken an attempt may still create its post.

    The creating request must end before the lease does, or the reconciler could publish
    again meanwhile; so it must start one margin (the longest request) before. The settings
    keep the lease at least twice the margin.
    """
    return lease_seconds - margin_seconds


@dataclass
class _Hold:
    delivery_id: int
    attempt: int
    ticket: int
    lease_seconds: float
    margin_seconds: float
    clock: Clock
    window: CreationWindow
    began: float
    renewed: float


class LeaseKeeper:
    def __init__(self, renew: Renew) -> None:
        self._renew = renew
        self._lock = threading.Lock()
        self._holds: dict[int, _Hold] = {}
        self._thread_pid: int | None = None

    @contextmanager
    def hold(
        self,
        *,
        delivery_id: int,
        attempt: int,
        ticket: int,
        lease_seconds: float,
        margin_seconds: float,
        clock: Clock,
        taken_at: float,
    ) -> Iterator[CreationWindow]:
        """Renew this attempt's lease while the block runs; yields its creation window,
        which is the one every request in the block checks.

        ``taken_at``: ``time.monotonic()`` when the lease was taken; ``ticket``: the one the
        attempt began with, which every renewal presents.
        """
        with (
            self.keep(
                delivery_id=delivery_id,
                attempt=attempt,
                ticket=ticket,
                lease_seconds=lease_seconds,
                margin_seconds=margin_seconds,
                clock=clock,
                taken_at=taken_at,
            ) as window,
            creation_window(window),
        ):
            yield window

    @contextmanager
    def keep(
        self,
        *,
        delivery_id: int,
        attempt: int,
        ticket: int,
        lease_seconds: float,
        margin_seconds: float,
        clock: Clock,
        taken_at: float,
    ) -> Iterator[CreationWindow]:
        """Renew this attempt's lease while the block runs; yields its creation window
        without making it the current one.

        For a batch: every attempt it began holds its lease from the start, while the
        deliveries wait their turn, and each platform call runs inside its own window
        (:func:`connectors.http.creation_window`).
        """
        window = CreationWindow(taken_at + creation_budget(lease_seconds, margin_seconds))
        entry = _Hold(
            delivery_id,
            attempt,
            ticket,
            lease_seconds,
            margin_seconds,
            clock,
            window,
            taken_at,
            taken_at,
        )
        with self._lock:
            self._holds[id(entry)] = entry
            self._start_thread()
        try:
            yield window
        finally:
            with self._lock:
                self._holds.pop(id(entry), None)

    def renew_due(self) -> None:
        """Renew every lease a third of the way through; one pass (the thread calls it)."""
        now = time.monotonic()
        with self._lock:
            due = [h for h in self._holds.values() if now - h.renewed >= h.lease_seconds / 3]
        for entry in due:
            if now - entry.began > MAX_ATTEMPT_SECONDS:
                continue  # stuck: let the lease run out and the reconciler decide
            wall = entry.clock.now()
            until = wall + timedelta(seconds=entry.lease_seconds)
            try:
                held = self._renew(entry.delivery_id, entry.attempt, entry.ticket, until, wall)
            except Exception as error:  # the database is away: the lease runs out meanwhile
                log.warning("lease of delivery %s not renewed: %s", entry.delivery_id, error)
                continue
            if not held:
                with self._lock:
                    running = id(entry) in self._holds
                if not running:
                    continue  # it finished meanwhile and recorded its own outcome
                entry.window.close()
                log.warning(
                    "delivery %s: attempt %s lost its lease (run out or taken over); "
                    "it will not create the post",
                    entry.delivery_id,
                    entry.attempt,
                )
                continue
            entry.renewed = now
            entry.window.deadline = now + creation_budget(entry.lease_seconds, entry.margin_seconds)

    def _start_thread(self) -> None:
        if self._thread_pid == os.getpid():
            return
        self._thread_pid = os.getpid()  # a forked child starts its own
        threading.Thread(target=self._run, name="lease-keeper", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                shortest = min((h.lease_seconds for h in self._holds.values()), default=30.0)
            time.sleep(min(5.0, shortest / 6))
            try:
                self.renew_due()
            except Exception:  # never let the keeper die: log and go on
                log.exception("lease keeper pass failed")
