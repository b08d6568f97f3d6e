"""Staff actions on one post sent at the same moment, each on its own connection.

Every pair of actions (approve, cancel, reschedule, retry, edit) is raced from two threads,
each with its own connection, released together by a barrier, from several starting states.
After each round: every call succeeded or raised ``Conflict``; the post and its deliveries
are exactly what one of the two serial orders gives (each run on a twin post); and a
cancelled post has nothing the dispatcher can claim or a waiting publish task can start.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import Delivery, Post
from campaigns.publishing import begin_attempt, claim_due
from campaigns.schemas import PostChanges, PostInput
from campaigns.services import (
    add_post,
    approve_post,
    cancel_post,
    edit_post,
    reschedule_post,
    retry_post,
    submit_post,
)
from campaigns.states import DeliveryState, PostState
from publicist.core.clock import FrozenClock
from publicist.core.database import make_engine, session_scope
from publicist.core.errors import Conflict
from publicist.core.migrate import upgrade
from publicist.web.app import create_app
from publicist.web.tokens import Role
from tests import factories
from tests.conftest import drop_postgres_database, postgres_database
from tests.counts import assert_counts_exact
from tests.web.conftest import app_settings, issue_tokens

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
LATER = "2026-06-01 12:00"  # where reschedule moves a post: after every starting time
_rounds = itertools.count()


def _next_time() -> str:
    """Each round's posts are due a minute before the previous round's, so claiming what is
    due by a round's time touches that round's posts alone."""
    return (NOW + timedelta(days=30) - timedelta(minutes=next(_rounds))).isoformat()


ROUNDS_PER_PAIR = 20
LEASE = timedelta(minutes=2)

Action = Callable[[Session, int], object]

ACTIONS: dict[str, Action] = {
    "approve": lambda s, post_id: approve_post(s, post_id=post_id, now=NOW, from_draft=True),
    "cancel": lambda s, post_id: cancel_post(s, post_id=post_id, now=NOW),
    "reschedule": lambda s, post_id: reschedule_post(s, post_id=post_id, at=LATER, now=NOW),
    "retry": lambda s, post_id: retry_post(s, post_id=post_id, now=NOW),
    "edit": lambda s, post_id: edit_post(
        s, post_id=post_id, changes=PostChanges(text="Edited at the last minute"), now=NOW
    ),
}


def _seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        factories.account(session, handle="a", now=NOW)
        factories.account(session, handle="b", now=NOW)
        factories.campaign(session, now=NOW)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Engine]:
    """A fresh PostgreSQL database whose writes are committed, shared by the module."""
    url, admin = postgres_database("publicist_races")
    try:
        with admin.connect() as connection:
            # Commits need not wait for the disk here: a throwaway database, many commits.
            name = url.rsplit("/", 1)[1]
            connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        upgrade(url)
        engine = make_engine(url)
        _seed(engine)
        yield engine
        engine.dispose()
    finally:
        drop_postgres_database(url, admin)


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The embedded database, as the CLI and the API open it (each write transaction
    begins IMMEDIATE)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('races') / 'publicist.db'}"
    upgrade(url)
    engine = make_engine(url)
    _seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    chosen: Engine = request.getfixturevalue(request.param)
    yield chosen
    # After each race, the delivery counts kept by the triggers are still exact.
    assert_counts_exact(chosen)


# Starting states: each makes a post due at the given time and returns its id.


def _new_post(session: Session, *, at: str | None, approve: bool = False) -> Post:
    data = PostInput(
        campaign="IP Creates a Better Life",
        text="How a patent reaches your home",
        accounts=["mock:a", "mock:b"],
        at=at,
    )
    return add_post(session, data=data, now=NOW, approve=approve)


def _draft(session: Session, at: str) -> int:
    return _new_post(session, at=at).id


def _in_review(session: Session, at: str) -> int:
    post = _new_post(session, at=at)
    submit_post(session, post_id=post.id, now=NOW)
    return post.id


def _approved(session: Session, at: str) -> int:
    """Approved without a time: it waits for one (``at`` is not used)."""
    post = _new_post(session, at=None)
    approve_post(session, post_id=post.id, now=NOW, from_draft=True)
    return post.id


def _scheduled(session: Session, at: str) -> int:
    return _new_post(session, at=at, approve=True).id


def _queued(session: Session, at: str) -> int:
    """Scheduled and claimed: its publish tasks wait for their time (as ``claim_due`` does)."""
    post = _new_post(session, at=at, approve=True)
    session.execute(
        update(Delivery)
        .where(Delivery.post_id == post.id)
        .values(state=DeliveryState.QUEUED, ticket=Delivery.ticket + 1, queued_at=NOW)
    )
    return post.id


def _one_failed(session: Session, at: str) -> int:
    """One delivery failed after an attempt, the other still scheduled."""
    post = _new_post(session, at=at, approve=True)
    first = min(d.id for d in post.deliveries)
    session.execute(
        update(Delivery)
        .where(Delivery.id == first)
        .values(state=DeliveryState.FAILED, started_at=NOW, attempts=1, last_error="rejected")
    )
    return post.id


Start = Callable[[Session, str], int]
STARTS: list[Start] = [_draft, _approved, _scheduled, _queued, _one_failed]


def _start(engine: Engine, build: Start, at: str) -> int:
    with session_scope(engine) as session:
        return build(session, at)


def _act(engine: Engine, name: str, post_id: int, barrier: threading.Barrier | None) -> str:
    """Run one action in its own transaction; 'ok', 'conflict', or the unexpected error."""
    if barrier is not None:
        barrier.wait(timeout=30)
    try:
        with session_scope(engine) as session:
            ACTIONS[name](session, post_id)
    except Conflict:
        return "conflict"
    except Exception as error:  # anything else is a failure of the test, shown by name
        return f"{type(error).__name__}: {error}"
    return "ok"


@dataclass(frozen=True)
class Outcome:
    calls: tuple[str, str]
    post: tuple[object, ...]
    deliveries: tuple[tuple[object, ...], ...]


def _outcome(
    engine: Engine, post_id: int, calls: tuple[str, str], at: str | None = None
) -> Outcome:
    """The calls' results and the post afterwards; the round's own time reads ``"at"``."""
    moment = None if at is None else datetime.fromisoformat(at)

    def when(value: datetime | None) -> object:
        return "at" if value is not None and value == moment else value

    with session_scope(engine) as session:
        post = session.get_one(Post, post_id)
        deliveries = session.scalars(
            select(Delivery).where(Delivery.post_id == post_id).order_by(Delivery.account_id)
        )
        return Outcome(
            calls=calls,
            post=(post.state, post.text, when(post.publish_at), post.approved_at),
            deliveries=tuple(
                (d.account_id, d.state, when(d.due_at), when(d.next_attempt_at), d.attempts)
                for d in deliveries
            ),
        )


_serial_outcomes: dict[tuple[str, str, str, str], Outcome] = {}


def _serial(engine: Engine, build: Start, at: str, first: str, second: str) -> Outcome:
    """``first`` then ``second`` on a twin of the raced post; the same for every round."""
    key = (engine.url.drivername, build.__name__, first, second)
    if key not in _serial_outcomes:
        post_id = _start(engine, build, at)
        calls = (_act(engine, first, post_id, None), _act(engine, second, post_id, None))
        _serial_outcomes[key] = _outcome(engine, post_id, calls, at)
    return _serial_outcomes[key]


def _tickets(session: Session, post_id: int) -> dict[int, int]:
    """The queued deliveries of a post and the ticket their publish task carries."""
    rows = session.execute(
        select(Delivery.id, Delivery.ticket).where(
            Delivery.post_id == post_id, Delivery.state == DeliveryState.QUEUED
        )
    )
    return {delivery_id: ticket for delivery_id, ticket in rows}


def _nothing_to_publish(engine: Engine, post_id: int, tickets: dict[int, int], at: str) -> None:
    """What a dispatcher or a waiting publish task would do with the post, rolled back."""
    with engine.connect() as connection, Session(bind=connection) as session:
        due = datetime.fromisoformat(at) - NOW
        claimed = claim_due(session, now=NOW, lookahead=due)
        ours = set(session.scalars(select(Delivery.id).where(Delivery.post_id == post_id)))
        assert not ours & {claim.delivery_id for claim in claimed}
        for delivery_id, ticket in tickets.items():
            started = begin_attempt(
                session, delivery_id=delivery_id, ticket=ticket, now=NOW, lease=LEASE
            )
            assert started is None, f"delivery {delivery_id} of post {post_id} could still start"
        session.rollback()


PAIRS = list(itertools.combinations_with_replacement(ACTIONS, 2))


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=["-".join(p) for p in PAIRS])
def test_two_actions_at_once_end_as_if_one_came_after_the_other(
    engine: Engine, first: str, second: str
) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        for round_ in range(ROUNDS_PER_PAIR):
            build, at = STARTS[round_ % len(STARTS)], _next_time()
            post_id = _start(engine, build, at)
            with session_scope(engine) as session:
                tickets = _tickets(session, post_id)
            barrier = threading.Barrier(2)
            calls = (
                pool.submit(_act, engine, first, post_id, barrier),
                pool.submit(_act, engine, second, post_id, barrier),
            )
            raced = _outcome(engine, post_id, (calls[0].result(), calls[1].result()), at)
            where = f"{first} and {second} from {build.__name__}, round {round_}"
            assert set(raced.calls) <= {"ok", "conflict"}, f"{where}: {raced.calls}"
            serial = _serial(engine, build, at, first, second)
            backwards = _serial(engine, build, at, second, first)
            reverse = Outcome(
                (backwards.calls[1], backwards.calls[0]), backwards.post, backwards.deliveries
            )
            assert raced in (serial, reverse), f"{where}: {raced} is no serial order"
            if raced.post[0] is PostState.CANCELLED:
                assert all(
                    d[1] not in (DeliveryState.SCHEDULED, DeliveryState.QUEUED)
                    for d in raced.deliveries
                ), where
                _nothing_to_publish(engine, post_id, tickets, at)
            elif raced.post[0] is not PostState.SCHEDULED:
                _nothing_to_publish(engine, post_id, tickets, at)


def _start_attempts(engine: Engine, tickets: dict[int, int], barrier: threading.Barrier) -> str:
    barrier.wait(timeout=30)
    started = []
    for delivery_id, ticket in tickets.items():
        with session_scope(engine) as session:
            if begin_attempt(session, delivery_id=delivery_id, ticket=ticket, now=NOW, lease=LEASE):
                started.append(delivery_id)
    return "started" if started else "nothing"


def test_a_cancel_racing_the_start_of_a_queued_delivery_never_lets_both_win(
    engine: Engine,
) -> None:
    """A worker starting a queued delivery while staff cancel the post: one of them wins."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        for round_ in range(ROUNDS_PER_PAIR):
            post_id = _start(engine, _queued, _next_time())
            with session_scope(engine) as session:
                tickets = _tickets(session, post_id)
            barrier = threading.Barrier(2)
            cancelled = pool.submit(_act, engine, "cancel", post_id, barrier)
            started = pool.submit(_start_attempts, engine, tickets, barrier)
            outcome = _outcome(engine, post_id, (cancelled.result(), started.result()))
            states = {d[1] for d in outcome.deliveries}
            if outcome.calls[0] == "ok":
                assert outcome.calls[1] == "nothing", f"round {round_}: {outcome}"
                assert states == {DeliveryState.CANCELLED}, f"round {round_}: {outcome}"
            else:
                assert outcome.calls == ("conflict", "started"), f"round {round_}: {outcome}"
                assert outcome.post[0] is PostState.SCHEDULED
                assert DeliveryState.PUBLISHING in states


def _backend_waits_for_a_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as connection:
        wait = connection.execute(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()
    return wait == "Lock"


@pytest.mark.postgres
def test_an_action_waits_for_the_other_and_then_sees_what_it_did(postgres: Engine) -> None:
    """Cancel holds the post; an approval that read the post before must wait, then refuse."""
    engine = postgres
    post_id = _start(engine, _draft, _next_time())
    cancelling = Session(bind=engine, expire_on_commit=False)
    approving = Session(bind=engine, expire_on_commit=False)
    try:
        assert approving.get_one(Post, post_id).state is PostState.DRAFT  # read before
        approver_pid = (
            approving.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        )
        cancel_post(cancelling, post_id=post_id, now=NOW)  # not committed yet
        with ThreadPoolExecutor(max_workers=1) as pool:
            approval = pool.submit(approve_post, approving, post_id=post_id, now=NOW)
            while not approval.done() and not _backend_waits_for_a_lock(engine, approver_pid):
                threading.Event().wait(0.01)
            assert not approval.done(), "the approval did not wait for the cancel"
            cancelling.commit()
            with pytest.raises(Conflict, match="is cancelled; it cannot become approved"):
                approval.result(timeout=30)
        approving.rollback()
    finally:
        cancelling.close()
        approving.close()
    outcome = _outcome(engine, post_id, ("ok", "conflict"))
    assert outcome.post[0] is PostState.CANCELLED
    assert outcome.deliveries == ()


def test_two_conflicting_requests_get_one_200_and_one_409(engine: Engine) -> None:
    clock = FrozenClock(NOW)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    app = create_app(app_settings(), clock=clock, sessions=sessions)
    headers = {"Authorization": f"Bearer {issue_tokens(sessions, clock)[Role.APPROVER]}"}
    with TestClient(app, raise_server_exceptions=True) as client, ThreadPoolExecutor(2) as pool:

        def send(path: str, barrier: threading.Barrier) -> int:
            barrier.wait(timeout=30)
            return client.post(path, headers=headers).status_code

        for round_ in range(ROUNDS_PER_PAIR):
            # Each pair conflicts in either order: the second finds the post moved on.
            action = "cancel" if round_ % 2 else "approve"
            post_id = _start(engine, _scheduled if action == "cancel" else _in_review, _next_time())
            barrier = threading.Barrier(2)
            path = f"/api/posts/{post_id}/{action}"
            codes = sorted(f.result() for f in [pool.submit(send, path, barrier) for _ in "ab"])
            assert codes == [200, 409], f"{action}, round {round_}: {codes}"
