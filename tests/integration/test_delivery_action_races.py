"""Two staff actions on one delivery at the same moment, each on its own connection: one
wins, the other gets a conflict, and the delivery is what the winner made it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from campaigns.audit.models import AuditEntry
from campaigns.delivery_actions import (
    cancel_delivery,
    confirm_delivery,
    republish_delivery,
    retry_delivery,
)
from campaigns.models import Delivery
from campaigns.schemas import PostInput
from campaigns.services import add_post
from campaigns.states import DeliveryState
from publicist.core.database import make_engine, session_scope
from publicist.core.errors import Conflict
from publicist.core.migrate import upgrade
from tests import factories
from tests.conftest import drop_postgres_database, postgres_database

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
Action = Callable[[Session, int], object]
ON_UNKNOWN: dict[str, Action] = {
    "confirm": lambda s, d: confirm_delivery(s, delivery_id=d, url="https://x.com/a/1", now=NOW),
    "republish": lambda s, d: republish_delivery(s, delivery_id=d, now=NOW),
    "cancel": lambda s, d: cancel_delivery(s, delivery_id=d, now=NOW),
}
ON_FAILED: dict[str, Action] = {
    "retry": lambda s, d: retry_delivery(s, delivery_id=d, now=NOW),
    "cancel": lambda s, d: cancel_delivery(s, delivery_id=d, now=NOW),
}


def _seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        factories.account(session, handle="a", now=NOW)
        factories.campaign(session, now=NOW)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Engine]:
    url, admin = postgres_database("publicist_inbox_races")
    try:
        with admin.connect() as connection:
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
    url = f"sqlite:///{tmp_path_factory.mktemp('inbox-races') / 'publicist.db'}"
    upgrade(url)
    engine = make_engine(url)
    _seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def _ended(engine: Engine, state: DeliveryState) -> int:
    with session_scope(engine) as session:
        post = add_post(
            session,
            data=PostInput(
                campaign="IP Creates a Better Life",
                text="How a patent reaches your home",
                accounts=["mock:a"],
                at=(NOW + timedelta(hours=1)).isoformat(),
            ),
            now=NOW,
            approve=True,
        )
        delivery = post.deliveries[0]
        delivery.state = state
        delivery.attempts = 1
        session.flush()
        return delivery.id


def _race(engine: Engine, delivery_id: int, first: Action, second: Action) -> list[str]:
    barrier = threading.Barrier(2)

    def run(action: Action) -> str:
        barrier.wait()
        try:
            with session_scope(engine) as session:
                action(session, delivery_id)
        except Conflict:
            return "conflict"
        return "ok"

    with ThreadPoolExecutor(2) as pool:
        return sorted(pool.map(run, [first, second]))


@pytest.mark.parametrize(
    ("start", "first", "second"),
    [
        (DeliveryState.UNKNOWN, "confirm", "republish"),
        (DeliveryState.UNKNOWN, "confirm", "cancel"),
        (DeliveryState.UNKNOWN, "republish", "republish"),
        (DeliveryState.FAILED, "cancel", "cancel"),
    ],
)
def test_one_of_two_concurrent_actions_wins(
    engine: Engine, start: DeliveryState, first: str, second: str
) -> None:
    actions = ON_UNKNOWN if start is DeliveryState.UNKNOWN else ON_FAILED
    for _ in range(5):
        delivery_id = _ended(engine, start)
        outcome = _race(engine, delivery_id, actions[first], actions[second])
        assert outcome == ["conflict", "ok"]
        with session_scope(engine) as session:
            delivery = session.get_one(Delivery, delivery_id)
            entries = session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.object_kind == "delivery", AuditEntry.object_id == delivery_id
                )
            ).all()
        assert len(entries) == 1  # only the winner wrote to the audit log
        winner = entries[0].removeprefix("delivery.")
        expected = {
            "confirm": DeliveryState.PUBLISHED,
            "republish": DeliveryState.SCHEDULED,
            "retry": DeliveryState.SCHEDULED,
            "cancel": DeliveryState.CANCELLED,
        }[winner]
        assert delivery.state is expected


def test_retry_and_cancel_together_end_as_one_serial_order(engine: Engine) -> None:
    """Retry then cancel both succeed (a retried delivery may be cancelled); cancel then
    retry refuses the retry. Either way the delivery ends cancelled, never scheduled."""
    for _ in range(5):
        delivery_id = _ended(engine, DeliveryState.FAILED)
        outcome = _race(engine, delivery_id, ON_FAILED["retry"], ON_FAILED["cancel"])
        assert outcome in (["ok", "ok"], ["conflict", "ok"])
        with session_scope(engine) as session:
            assert session.get_one(Delivery, delivery_id).state is DeliveryState.CANCELLED
