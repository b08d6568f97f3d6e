"""Real ``publicist worker`` and ``publicist beat`` processes, and the exactly-once verdict.

Every wait is bounded; a process that dies on its own, or a wait that runs out, fails the
test with the tails of the logs so the cause is visible in the report.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from campaigns.models import Delivery
from campaigns.states import DeliveryState
from publicist.core.database import session_scope
from simulators.control import SimulatorControl

TERMINAL = frozenset({DeliveryState.PUBLISHED, DeliveryState.FAILED, DeliveryState.UNKNOWN})
_RECONCILED = re.compile(r"delivery (\d+) reconciled after its worker vanished: (\w+)")


def _start(
    args: list[str], *, env: Mapping[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "publicist", *args],
            env=dict(env),
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill takes all of it
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        os.killpg(process.pid, signal.SIGCONT)  # a frozen worker must wake to hear it
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


class Stack:
    """One beat and one publish worker; the worker can be killed and started again."""

    def __init__(self, root: Path, env: Mapping[str, str], *, concurrency: int = 4) -> None:
        self.root = root
        self.env = dict(env)
        self.concurrency = concurrency
        self.worker: subprocess.Popen[bytes] | None = None
        self.beat: subprocess.Popen[bytes] | None = None
        self.helpers: list[subprocess.Popen[bytes]] = []
        """More publish workers, started by :meth:`start_helper` and never killed."""
        self.logs: list[Path] = []
        self.kills = 0

    def _log(self, name: str) -> Path:
        path = self.root / f"{name}-{len(self.logs) + 1}.log"
        self.logs.append(path)
        return path

    def start_worker(self) -> None:
        args = ["worker", "--queues", "publish", "--concurrency", str(self.concurrency)]
        self.worker = _start(args, env=self.env, cwd=self.root, log=self._log("worker"))

    def start_helper(self) -> None:
        """A second publish worker, e.g. to reconcile while the first one is frozen."""
        args = ["worker", "--queues", "publish", "--concurrency", str(self.concurrency)]
        self.helpers.append(_start(args, env=self.env, cwd=self.root, log=self._log("helper")))

    def start_beat(self) -> None:
        self.beat = _start(["beat"], env=self.env, cwd=self.root, log=self._log("beat"))

    def start(self) -> Stack:
        self.start_worker()
        self.start_beat()
        return self

    def freeze_worker(self) -> None:
        """SIGSTOP the worker: it keeps its sockets but reads nothing until it is killed."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGSTOP)

    def thaw_worker(self) -> None:
        """SIGCONT a frozen worker: it carries on where it stopped."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGCONT)

    def kill_worker(self) -> None:
        """SIGKILL the worker's whole process group: no cleanup, no acks, no goodbyes."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=20)
        self.worker = None
        self.kills += 1

    def check_alive(self) -> None:
        for process in (self.worker, self.beat, *self.helpers):
            if process is not None and process.poll() is not None:
                pytest.fail(
                    f"a process exited by itself (code {process.returncode})\n{self.tails()}"
                )

    def tails(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-chars:]}" for log in self.logs
        )

    def stop(self) -> None:
        for process in (self.worker, self.beat, *self.helpers):
            if process is not None:
                _stop(process)
        self.worker = self.beat = None
        self.helpers = []


def reconciled_after_lease(stack: Stack) -> dict[str, set[int]]:
    """Delivery ids the reconciler settled after their lease ran out, by resulting state."""
    outcomes: dict[str, set[int]] = {}
    for log in stack.logs:
        for delivery, state in _RECONCILED.findall(log.read_text(errors="replace")):
            outcomes.setdefault(state, set()).add(int(delivery))
    return outcomes


def wait_for(
    condition: Callable[[], bool], *, what: str, timeout: float, stack: Stack, poll: float = 0.5
) -> None:
    """Poll ``condition`` until true; a database that is down counts as 'not yet'."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except DBAPIError:
            pass
        stack.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{stack.tails()}")
        time.sleep(poll)


def delivery_states(engine: Engine) -> Counter[str]:
    with session_scope(engine) as session:
        return Counter(state.value for state in session.scalars(select(Delivery.state)))


def all_settled(engine: Engine) -> bool:
    states = delivery_states(engine)
    return sum(states.values()) > 0 and set(states) <= {s.value for s in TERMINAL}


@dataclass(frozen=True)
class Verdict:
    states: Counter[str]
    attempts: int
    """Attempts over every delivery: above the delivery count means faults were met."""

    @property
    def published(self) -> int:
        return self.states[DeliveryState.PUBLISHED.value]


def check_exactly_once(
    engine: Engine, control: SimulatorControl, *, remote_account: Mapping[int, str]
) -> Verdict:
    """Compare every delivery with what the simulator holds; fail on any loss or double.

    ``remote_account`` maps a Publicist account id to its account id on the simulator. Each
    delivery's text is unique, so the posts carrying it are exactly that delivery's posts.
    """
    posts = control.posts()
    by_account: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        by_account.setdefault(str(post["account_id"]), []).append(post)
    problems: list[str] = []
    doubled = {key: n for key, n in control.counts().items() if n > 1}
    if doubled:
        problems.append(f"posted more than once (account:fingerprint -> count): {doubled}")
    claimed: set[str] = set()
    states: Counter[str] = Counter()
    attempts = 0
    with session_scope(engine) as session:
        for delivery in session.scalars(select(Delivery).order_by(Delivery.id)):
            state = delivery.state
            states[state.value] += 1
            attempts += delivery.attempts
            text = delivery.post.text
            remote = remote_account[delivery.account_id]
            mine = [p for p in by_account.get(remote, []) if text in str(p["text"])]
            claimed.update(str(p["remote_id"]) for p in mine)
            label = f"delivery {delivery.id} ({state.value}, {delivery.attempts} attempts)"
            if state not in TERMINAL:
                problems.append(f"{label} never settled: lost")
            elif state is DeliveryState.PUBLISHED:
                if len(mine) != 1:
                    problems.append(f"{label} is on the platform {len(mine)} times")
                elif mine[0]["remote_id"] != delivery.remote_id:
                    problems.append(
                        f"{label} records remote id {delivery.remote_id}, "
                        f"the platform holds {mine[0]['remote_id']}"
                    )
            elif not delivery.last_error:
                problems.append(f"{label} carries no reason")
            elif state is DeliveryState.FAILED and mine:
                problems.append(
                    f"{label} is on the platform {len(mine)} times: {delivery.last_error}"
                )
            elif len(mine) > 1:
                problems.append(f"{label} is on the platform {len(mine)} times")
    strays = [p["remote_id"] for p in posts if str(p["remote_id"]) not in claimed]
    if strays:
        problems.append(f"posts on the platform that match no delivery: {strays}")
    if problems:
        pytest.fail("exactly-once violated:\n" + "\n".join(problems))
    return Verdict(states=states, attempts=attempts)
