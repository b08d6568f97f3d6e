"""Every query beat runs each few seconds reads an index holding what it looks for.

PostgreSQL: 100,000 deliveries over a year centred on now (history published, the rest
scheduled) and the same work in flight as benchmarks/ticks.py, then ``ANALYZE``: the
planner decides with real statistics (no planner switches turned off), and each query's plan
must name its index, bound its range by the index's leading column, and scan no large table.
SQLite keeps no statistics, so its plans do not depend on the data: an empty database shows
them. A change that brings back a scan fails here, not in production at 10 million rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from benchmarks.ticks import LIVE, explain, grow, rolled_back, seed, tick_queries
from publicist.core.database import make_engine
from publicist.core.migrate import upgrade
from tests.conftest import drop_postgres_database, postgres_database

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
LARGE = ("deliveries", "delivery_metrics", "posts", "delivery_attempts", "metric_snapshots")

# query (as benchmarks.ticks names it) -> (index of its first statement, what bounds the read)
EXPECTED: dict[str, tuple[str, str]] = {
    "dispatch: missed-post check (mark_missed)": (
        "ix_deliveries_never_tried_due_at",
        "Index Cond: (due_at <",
    ),
    "dispatch: claim due (claim_due)": (
        "ix_deliveries_state_next_attempt_at",
        "Index Cond: (((state)::text = 'scheduled'::text) AND (next_attempt_at <=",
    ),
    "dispatch: resend lost messages (resend_lost)": (
        "ix_deliveries_state_next_attempt_at",
        "Index Cond: (((state)::text = 'queued'::text) AND (next_attempt_at <",
    ),
    "reconcile: expired leases (expired_leases)": (
        "ix_deliveries_publishing_lease_until",
        "Index Cond: (lease_until <",
    ),
    "reconcile: due but not started (count_due_unstarted)": (
        "ix_deliveries_state_next_attempt_at",
        "Index Cond: (((state)::text = 'scheduled'::text) AND (next_attempt_at <=",
    ),
    "check-submissions: submitted (submitted_deliveries)": (
        "ix_deliveries_submitted_updated_at",
        "ix_deliveries_submitted_updated_at",
    ),
    "collect: plan new (plan_new)": (
        "ix_deliveries_metrics_unplanned",
        "ix_deliveries_metrics_unplanned",
    ),
}


@pytest.fixture(scope="module")
def filled_postgres() -> Iterator[Engine]:
    url, admin = postgres_database("publicist_ticks")
    try:
        upgrade(url)
        engine = make_engine(url)
        seed(engine, now=NOW)
        grow(engine, start=0, end=100_000, now=NOW, history=0.5)
        yield engine
        engine.dispose()
    finally:
        drop_postgres_database(url, admin)


def _queries() -> dict[str, Callable[[Session], int]]:
    return tick_queries(NOW)


@pytest.mark.postgres
@pytest.mark.parametrize("query", sorted(EXPECTED))
def test_each_tick_query_is_a_bounded_read_of_its_index_on_postgres(
    filled_postgres: Engine, query: str
) -> None:
    plans = explain(filled_postgres, _queries()[query])
    index, bound = EXPECTED[query]
    assert plans, query
    assert index in plans[0], plans[0]
    assert bound in plans[0], plans[0]
    for plan in plans:
        for table in LARGE:
            assert f"Seq Scan on {table} " not in plan, plan


@pytest.mark.postgres
def test_the_collection_claim_reads_the_window_index_on_postgres(
    filled_postgres: Engine,
) -> None:
    plans = explain(filled_postgres, _queries()["collect: plan and claim (claim_collections)"])
    assert any(
        "ix_delivery_metrics_collect_due" in plan and "Index Cond: (next_collect_at <=" in plan
        for plan in plans
    ), plans
    for plan in plans:
        for table in LARGE:
            assert f"Seq Scan on {table} " not in plan, plan


@pytest.mark.postgres
def test_the_ticks_find_the_work_in_flight_and_only_it(filled_postgres: Engine) -> None:
    """The plans are of queries that do their job: each finds the seeded work, no more."""
    found = {name: rolled_back(filled_postgres, call)[1] for name, call in _queries().items()}
    assert found == {
        "dispatch: missed-post check (mark_missed)": LIVE,
        "dispatch: claim due (claim_due)": 2 * LIVE,  # due now, and the missed ones
        "dispatch: resend lost messages (resend_lost)": LIVE,
        "reconcile: expired leases (expired_leases)": LIVE,
        "reconcile: due but not started (count_due_unstarted)": 3 * LIVE,
        "check-submissions: submitted (submitted_deliveries)": LIVE,
        "collect: plan new (plan_new)": LIVE,
        # batches: the new ones, planned and due at once, each of its own account
        "collect: plan and claim (claim_collections)": LIVE,
    }


def _sqlite_plans(engine: Engine, call: Callable[[Session], int]) -> list[str]:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as connection, Session(bind=connection) as session:
            call(session)
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as connection:
        return [
            "\n".join(
                str(row[-1])
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            )
            for sql, params in statements
        ]


SQLITE_INDEXES: dict[str, tuple[str, ...]] = {
    "dispatch: missed-post check (mark_missed)": ("ix_deliveries_never_tried_due_at",),
    "dispatch: claim due (claim_due)": ("ix_deliveries_state_next_attempt_at",),
    "dispatch: resend lost messages (resend_lost)": ("ix_deliveries_state_next_attempt_at",),
    # Either index holds only the attempts in flight: both read just those.
    "reconcile: expired leases (expired_leases)": (
        "ix_deliveries_publishing_lease_until",
        "ix_deliveries_state_next_attempt_at (state=?",
    ),
    "reconcile: due but not started (count_due_unstarted)": (
        "ix_deliveries_state_next_attempt_at",
    ),
    "check-submissions: submitted (submitted_deliveries)": (
        "ix_deliveries_submitted_updated_at",
        "ix_deliveries_state_next_attempt_at (state=?",
    ),
    "collect: plan new (plan_new)": ("ix_deliveries_metrics_unplanned",),
    "collect: plan and claim (claim_collections)": ("ix_deliveries_metrics_unplanned",),
}


@pytest.mark.parametrize("query", sorted(SQLITE_INDEXES))
def test_each_tick_query_reads_its_index_on_sqlite(tmp_path: Path, query: str) -> None:
    url = f"sqlite:///{tmp_path / 'ticks.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        plans = _sqlite_plans(engine, _queries()[query])
    finally:
        engine.dispose()
    assert plans, query
    assert any(index in plans[0] for index in SQLITE_INDEXES[query]), plans[0]
    for plan in plans:
        for table in LARGE:
            # "SCAN t USING INDEX i" reads all of a partial index: only what it holds
            assert not re.search(rf"SCAN {table}\b(?! USING (COVERING )?INDEX)", plan), plan
    if query == "collect: plan and claim (claim_collections)":
        assert "ix_delivery_metrics_collect_due" in plans[1], plans[1]
