"""The delivery counts' consistency check, for tests that end with real commits."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.queries import count_mismatches
from metrics.consistency import account_total_mismatches, total_mismatches


def assert_counts_exact(engine: Engine) -> None:
    """The counts and totals kept by the triggers equal a GROUP BY over the deliveries, the
    daily rollups and the latest values."""
    with Session(engine) as session:
        assert count_mismatches(session) == []
        assert total_mismatches(session) == []
        assert account_total_mismatches(session) == []
