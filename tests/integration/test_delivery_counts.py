"""Delivery counts kept by the database's triggers (revision 0018): exact after inserts,
single and multi-row transitions and deletes, on SQLite and PostgreSQL; the reports,
attention counts and failures list built on them equal a plain GROUP BY over deliveries;
concurrent transitions on PostgreSQL neither deadlock nor lose a count; the revision
backfills existing deliveries."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
import sqlalchemy as sa
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery, Post
from campaigns.queries import (
    Windows,
    _Cut,
    attention_counts,
    count_mismatches,
    deliveries_needing_attention,
)
from campaigns.states import ENDED_BADLY, DeliveryState, PostState
from metrics.consistency import account_total_mismatches, total_mismatches
from metrics.models import AccountMetricTotal, DailyRollup, DeliveryMetrics
from metrics.reports import (
    account_report,
    account_reports,
    campaign_report,
    campaign_summaries,
    campaign_totals,
)
from publicist.core.migrate import upgrade
from tests.conftest import drop_postgres_database, postgres_database

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
WINDOWS = Windows(late_start=timedelta(seconds=60), publishing=timedelta(seconds=90))
PLATFORMS = ("twitter", "weibo", "wechat")


def _build(session: Session, rng: random.Random, *, deliveries: int) -> list[Delivery]:
    campaigns = [
        Campaign(name=f"Week {n}", timezone="Asia/Shanghai", hashtags=[], created_at=NOW)
        for n in range(3)
    ]
    accounts = [
        Account(
            platform=PLATFORMS[n % len(PLATFORMS)],
            handle=f"office-{n}",
            credentials_encrypted=b"\x00",
            created_at=NOW,
        )
        for n in range(5)
    ]
    session.add_all([*campaigns, *accounts])
    session.flush()
    made: list[Delivery] = []
    for n in range(deliveries // len(accounts) + 1):
        post = Post(
            campaign_id=rng.choice(campaigns).id,
            text=f"post {n}",
            media=[],
            state=PostState.SCHEDULED,
            created_at=NOW,
        )
        session.add(post)
        session.flush()
        for account in rng.sample(accounts, rng.randint(1, len(accounts))):
            due = NOW + timedelta(minutes=rng.randint(-600, 600))
            made.append(
                Delivery(
                    post_id=post.id,
                    account_id=account.id,
                    state=rng.choice(list(DeliveryState)),
                    due_at=due,
                    next_attempt_at=due,
                    updated_at=NOW - timedelta(minutes=rng.randint(0, 60)),
                )
            )
    session.add_all(made)
    session.flush()
    return made


def _straight_states(session: Session) -> dict[tuple[int, str], Counter[str]]:
    """Deliveries per (campaign, platform) and state, grouped the plain way."""
    found: dict[tuple[int, str], Counter[str]] = {}
    for campaign_id, platform, state, n in session.execute(
        select(Post.campaign_id, Account.platform, Delivery.state, func.count())
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .group_by(Post.campaign_id, Account.platform, Delivery.state)
    ):
        found.setdefault((campaign_id, platform), Counter())[DeliveryState(state).value] = n
    return found


def _straight_attention(session: Session) -> list[int]:
    """Ids needing attention, most recently due first: the one-query form of the rule."""
    cut = _Cut.of(session)
    return list(
        session.scalars(
            select(Delivery.id)
            .join(Post, Post.id == Delivery.post_id)
            .join(Account, Account.id == Delivery.account_id)
            .where(sa.or_(Delivery.state.in_(ENDED_BADLY), cut.stuck))
            .order_by(Delivery.due_at.desc(), Delivery.id.desc()),
            cut.values(NOW, WINDOWS),
        )
    )


def _assert_reads_equal_group_by(session: Session) -> None:
    assert count_mismatches(session) == []
    straight = _straight_states(session)
    for campaign in session.scalars(select(Campaign)):
        report = campaign_report(session, campaign=campaign, top=0, now=NOW, windows=WINDOWS)
        for platform in report.platforms:
            states = straight.get((campaign.id, platform.platform), Counter())
            assert platform.published == states["published"]
            assert platform.failed == states["failed"]
            assert platform.unknown == states["unknown"]
            assert platform.scheduled == sum(states.values()) - states["cancelled"]
        assert {p.platform for p in report.platforms} == {
            platform for (c, platform), states in straight.items() if c == campaign.id
        }
    summaries = {s.campaign_id: s for s in campaign_summaries(session, now=NOW, windows=WINDOWS)}
    for campaign in session.scalars(select(Campaign)):
        one = campaign_report(session, campaign=campaign, top=0, now=NOW, windows=WINDOWS)
        listed = summaries[campaign.id]
        assert (listed.scheduled, listed.published, listed.failed, listed.unknown) == (
            one.scheduled,
            one.published,
            one.failed,
            one.unknown,
        )
        assert listed.attention == one.attention
    every = list(session.scalars(select(Account).order_by(Account.id)))
    assert account_reports(session, accounts=every, now=NOW, windows=WINDOWS) == [
        account_report(session, account=account, top=0, now=NOW, windows=WINDOWS)
        for account in every
    ]
    for account in every:
        mine = account_report(session, account=account, top=0, now=NOW, windows=WINDOWS)
        rows = session.scalars(select(Delivery).where(Delivery.account_id == account.id)).all()
        states = Counter(d.state.value for d in rows)
        assert (mine.published, mine.failed, mine.unknown) == (
            states["published"],
            states["failed"],
            states["unknown"],
        )
    ids = _straight_attention(session)
    listed_ids = [
        a.delivery_id
        for a in deliveries_needing_attention(session, now=NOW, windows=WINDOWS, limit=10_000)
    ]
    assert listed_ids == ids
    first = deliveries_needing_attention(session, now=NOW, windows=WINDOWS, limit=7)
    assert [a.delivery_id for a in first] == ids[:7]
    per_campaign = Counter(
        session.get_one(Post, session.get_one(Delivery, i).post_id).campaign_id for i in ids
    )
    assert attention_counts(session, now=NOW, windows=WINDOWS, by="campaign") == dict(per_campaign)
    per_account = Counter(session.get_one(Delivery, i).account_id for i in ids)
    assert attention_counts(session, now=NOW, windows=WINDOWS, by="account") == dict(per_account)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_follow_inserts_transitions_and_deletes(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    made = _build(session, rng, deliveries=60)
    _assert_reads_equal_group_by(session)

    for delivery in rng.sample(made, 20):  # one row at a time, as the publish path does
        delivery.state = rng.choice(list(DeliveryState))
        session.flush()
    _assert_reads_equal_group_by(session)

    moved = [d.id for d in rng.sample(made, 25)]  # several rows in one statement
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(moved), Delivery.state != DeliveryState.PUBLISHED)
        .values(state=DeliveryState.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    session.execute(  # a statement that changes no state moves no count
        update(Delivery)
        .where(Delivery.id.in_(moved))
        .values(updated_at=NOW)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    _assert_reads_equal_group_by(session)

    gone = [d.id for d in rng.sample(made, 10)]
    session.execute(
        delete(Delivery).where(Delivery.id.in_(gone)).execution_options(synchronize_session=False)
    )
    session.expire_all()
    _assert_reads_equal_group_by(session)


def test_a_campaign_without_deliveries_left_lists_no_platform(session: Session) -> None:
    made = _build(session, random.Random(9), deliveries=10)
    session.execute(delete(Delivery).execution_options(synchronize_session=False))
    session.expire_all()
    assert made
    for summary in campaign_summaries(session):
        assert (summary.scheduled, summary.platforms) == (0, [])


# -- on committed data: concurrency and the revision's backfill --------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    url, admin = postgres_database("publicist_counts")
    try:
        upgrade(url)
        yield url
    finally:
        drop_postgres_database(url, admin)


def _seed(engine: sa.Engine, *, accounts: int, per_account: int) -> list[tuple[int, int]]:
    """(delivery id, account id) of ``per_account`` scheduled deliveries per account."""
    with Session(engine) as session:
        campaign = Campaign(name="Launch", timezone="Asia/Shanghai", hashtags=[], created_at=NOW)
        owners = [
            Account(platform="twitter", handle=f"p{n}", credentials_encrypted=b"", created_at=NOW)
            for n in range(accounts)
        ]
        session.add_all([campaign, *owners])
        session.flush()
        posts = [
            Post(campaign_id=campaign.id, text="launch", media=[], state=PostState.SCHEDULED,
                 created_at=NOW)
            for _ in range(per_account)
        ]  # fmt: skip
        session.add_all(posts)
        session.flush()
        rows = [
            Delivery(post_id=post.id, account_id=owner.id, state=DeliveryState.SCHEDULED,
                     due_at=NOW, next_attempt_at=NOW, updated_at=NOW)
            for post in posts
            for owner in owners
        ]  # fmt: skip
        session.add_all(rows)
        session.commit()
        return [(d.id, d.account_id) for d in rows]


@pytest.mark.postgres
def test_concurrent_transitions_neither_deadlock_nor_lose_counts(postgres_url: str) -> None:
    """Eight writers move the same accounts' deliveries at once: batches of many accounts
    in opposite orders in one statement each (the dispatcher's claim, a batch's start), and
    one delivery per transaction (a publish task's compare-and-set)."""
    engine = sa.create_engine(postgres_url, pool_size=10)
    try:
        rows = _seed(engine, accounts=20, per_account=40)
        ids = [i for i, _ in rows]
        chunks = [ids[n::8] for n in range(8)]
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def writer(n: int) -> None:
            mine = chunks[n]
            rng = random.Random(n)
            try:
                start.wait()
                for step in ("queued", "publishing"):
                    for batch in range(0, len(mine), 25):
                        part = mine[batch : batch + 25]
                        if n % 2:
                            part = list(reversed(part))
                        with engine.begin() as connection:
                            # Row order of the statement follows the list, one way or the other.
                            connection.execute(
                                sa.text(
                                    "UPDATE deliveries SET state = :state FROM unnest("
                                    "CAST(:ids AS int[])) WITH ORDINALITY AS o(id, k) "
                                    "WHERE deliveries.id = o.id"
                                ),
                                {"state": step, "ids": part},
                            )
                for delivery_id in rng.sample(mine, len(mine)):
                    with engine.begin() as connection:
                        connection.execute(
                            sa.text(
                                "UPDATE deliveries SET state = :new WHERE id = :id "
                                "AND state = 'publishing'"
                            ),
                            {
                                "new": rng.choice(["published", "failed", "unknown"]),
                                "id": delivery_id,
                            },
                        )
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with Session(engine) as session:
            assert count_mismatches(session) == []
            total = session.execute(
                sa.text("SELECT sum(n) FROM delivery_counts WHERE state = 'publishing'")
            ).scalar_one()
        assert total == 0
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'counts.db'}"
        return
    address, admin = postgres_database("publicist_counts_up")
    try:
        yield address
    finally:
        drop_postgres_database(address, admin)


def test_the_revision_backfills_counts_and_reverses(bare_url: str) -> None:
    upgrade(bare_url, "0020")
    engine = sa.create_engine(bare_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO campaigns (id, name, timezone, hashtags, late_policy, "
                    "created_at, self_approval) VALUES (1, 'Week', 'UTC', '[]', 'publish', "
                    "'2026-04-20 00:00:00+00:00', false)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO accounts (id, platform, handle, credentials_encrypted, "
                    "created_at) VALUES (1, 'x', 'a', :b, '2026-04-20 00:00:00+00:00'), "
                    "(2, 'x', 'b', :b, '2026-04-20 00:00:00+00:00')"
                ),
                {"b": b""},
            )
            for n, state in enumerate(["published", "published", "failed"], start=1):
                connection.execute(
                    sa.text(
                        "INSERT INTO posts (id, campaign_id, text, media, state, created_at) "
                        "VALUES (:n, 1, 't', '[]', 'scheduled', '2026-04-20 00:00:00+00:00')"
                    ),
                    {"n": n},
                )
                connection.execute(
                    sa.text(
                        "INSERT INTO deliveries (post_id, account_id, state, due_at, "
                        "next_attempt_at, ticket, attempts, updated_at) VALUES (:n, :a, :s, "
                        "'2026-04-20 00:00:00+00:00', '2026-04-20 00:00:00+00:00', 0, 0, "
                        "'2026-04-20 00:00:00+00:00')"
                    ),
                    {"n": n, "a": 1 if n < 3 else 2, "s": state},
                )
            connection.execute(
                sa.text(
                    "INSERT INTO metric_daily_rollups (campaign_id, platform, day, views, likes, "
                    "comments, shares, interactions, updated_at) VALUES "
                    "(1, 'x', '2026-04-20', 100, 5, NULL, 1, 6, '2026-04-20 00:00:00+00:00'), "
                    "(1, 'x', '2026-04-21', 50, 2, NULL, 0, 2, '2026-04-21 00:00:00+00:00')"
                )
            )
        upgrade(bare_url, "0018")
        with engine.connect() as connection:
            totals = connection.execute(
                sa.text(
                    "SELECT views, interactions, views_days, comments_days FROM "
                    "campaign_platform_totals"
                )
            ).all()
            assert [tuple(t) for t in totals] == [(150, 8, 2, 0)]
            rows = connection.execute(
                sa.text("SELECT account_id, state, n FROM delivery_counts ORDER BY 1, 2")
            ).all()
        assert [tuple(r) for r in rows] == [(1, "published", 2), (2, "failed", 1)]
        with Session(engine) as session:
            assert count_mismatches(session) == []
            assert total_mismatches(session) == []
        from alembic import command

        from publicist.core.migrate import alembic_config

        command.downgrade(alembic_config(bare_url), "0020")
        assert "delivery_counts" not in sa.inspect(engine).get_table_names()
        with engine.begin() as connection:  # the triggers went with the table
            connection.execute(sa.text("UPDATE deliveries SET state = 'cancelled'"))
    finally:
        engine.dispose()


def test_campaign_totals_follow_every_rollup_change(session: Session) -> None:
    """Rollup rows inserted, grown (a counter reported for the first time too) and deleted:
    the kept totals stay the sums of the days, and the reports read them."""
    rng = random.Random(5)
    _build(session, rng, deliveries=5)
    campaign_ids = list(session.scalars(select(Campaign.id)))
    days = [NOW.date() - timedelta(days=n) for n in range(6)]
    keys = [(c, p, d) for c in campaign_ids for p in PLATFORMS for d in days]
    chosen = rng.sample(keys, 30)
    for campaign_id, platform, day in chosen:
        session.add(
            DailyRollup(
                campaign_id=campaign_id,
                platform=platform,
                day=day,
                views=None if platform == "weibo" else rng.randint(0, 500),
                likes=rng.randint(0, 50),
                comments=None,
                shares=rng.randint(0, 9),
                interactions=rng.randint(0, 80),
                updated_at=NOW + timedelta(minutes=rng.randint(0, 90)),
            )
        )
    session.flush()
    assert total_mismatches(session) == []
    for row in rng.sample(list(session.scalars(select(DailyRollup))), 12):
        row.comments = (row.comments or 0) + rng.randint(1, 5)
        row.interactions += 3
        row.updated_at = NOW + timedelta(hours=3)
    session.flush()
    assert total_mismatches(session) == []
    for row in rng.sample(list(session.scalars(select(DailyRollup))), 5):
        session.delete(row)
    session.flush()
    assert total_mismatches(session) == []
    for campaign_id in campaign_ids:
        fast = campaign_totals(session, campaign_id=campaign_id)
        rows = session.scalars(
            select(DailyRollup).where(DailyRollup.campaign_id == campaign_id)
        ).all()
        assert fast.interactions == sum(r.interactions for r in rows)
        stamps = [r.updated_at for r in rows]
        assert fast.last_updated == (max(stamps) if stamps else None)


def test_revision_0021_keeps_counts_without_the_post_join_and_reverses(bare_url: str) -> None:
    """The join-free count functions of 0021 count a move of every kind, and 0021 reverses
    to 0018 (its indexes back) and comes again."""
    from alembic import command

    from publicist.core.migrate import alembic_config

    upgrade(bare_url)
    engine = sa.create_engine(bare_url)
    try:
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("deliveries")}
        assert "ix_deliveries_post_id" not in indexes
        with Session(engine) as session:
            rng = random.Random(21)
            _build(session, rng, deliveries=40)
            session.execute(sa.text("UPDATE deliveries SET state = 'published' WHERE id % 3 = 0"))
            session.execute(sa.text("UPDATE deliveries SET attempts = attempts + 1"))
            session.execute(sa.text("DELETE FROM deliveries WHERE id % 7 = 0"))
            session.commit()
            assert count_mismatches(session) == []
        command.downgrade(alembic_config(bare_url), "0018")
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("deliveries")}
        assert "ix_deliveries_post_id" in indexes
        upgrade(bare_url)
        with Session(engine) as session:
            session.execute(sa.text("UPDATE deliveries SET state = 'cancelled' WHERE id % 2 = 0"))
            session.commit()
            assert count_mismatches(session) == []
    finally:
        engine.dispose()


def _latest_values(session: Session, deliveries: list[Delivery], rng: random.Random) -> None:
    """A row of latest values for each delivery, as the collection plan writes them (nothing
    measured yet), in one multi-row statement."""
    platform = {a: p for a, p in session.execute(select(Account.id, Account.platform))}
    campaign = {p: c for p, c in session.execute(select(Post.id, Post.campaign_id))}
    session.execute(
        sa.insert(DeliveryMetrics),
        [
            {
                "delivery_id": d.id,
                "campaign_id": campaign[d.post_id],
                "account_id": d.account_id,
                "platform": platform[d.account_id],
                "collected_at": NOW,
                "interactions": 0,
                "extras": {},
                "next_collect_at": NOW + timedelta(minutes=rng.randint(0, 60)),
                "collections": 0,
            }
            for d in deliveries
        ],
    )


def test_account_totals_follow_every_latest_value_change(session: Session) -> None:
    """Latest values inserted, measured (several rows per statement and one at a time, a
    counter reported for the first time, one never), planned again, taken back in time,
    moved to another account, deleted: the kept account totals stay the sums of the latest
    values, and the account reports read them."""
    rng = random.Random(24)
    made = _build(session, rng, deliveries=40)
    _latest_values(session, made, rng)
    assert account_total_mismatches(session) == []
    latest = cast(sa.Table, DeliveryMetrics.__table__)
    key = latest.c.delivery_id
    for round_ in range(3):  # the collector's recording: one statement, many rows
        chosen = [d.id for d in rng.sample(made, 25)]
        session.execute(
            sa.update(latest)
            .where(key.in_(chosen))
            .values(
                views=sa.case((key % 3 == round_, None), else_=key * (round_ + 10)),
                likes=key % (round_ + 7),
                shares=None if round_ == 0 else key % 5,
                interactions=latest.c.interactions + key % 11,
                collections=latest.c.collections + 1,
                collected_at=NOW + timedelta(hours=round_ + 1),
            )
        )
        assert account_total_mismatches(session) == []
    for delivery in rng.sample(made, 5):  # one row at a time
        session.execute(
            sa.update(latest)
            .where(key == delivery.id)
            .values(comments=rng.randint(0, 9), collections=latest.c.collections + 1)
        )
    assert account_total_mismatches(session) == []
    session.execute(  # the plan alone changes: nothing counted changes
        sa.update(latest).values(next_collect_at=NOW + timedelta(days=1))
    )
    assert account_total_mismatches(session) == []
    ids = [d.id for d in rng.sample(made, 6)]
    session.execute(  # measured times taken back, one row cleared: those keys recounted
        sa.update(latest).where(key.in_(ids[:3])).values(collected_at=NOW - timedelta(days=1))
    )
    session.execute(sa.update(latest).where(key == ids[3]).values(collections=0, views=None))
    assert account_total_mismatches(session) == []
    other = session.scalars(select(Account.id).order_by(Account.id.desc())).first()
    session.execute(  # moved to another account (never done by the collector)
        sa.update(latest).where(key == ids[4]).values(account_id=other)
    )
    assert account_total_mismatches(session) == []
    session.execute(sa.delete(latest).where(key.in_(ids[4:])))
    session.execute(sa.delete(latest).where(key % 5 == 0))
    assert account_total_mismatches(session) == []
    every = list(session.scalars(select(Account).order_by(Account.id)))
    for account, report in zip(every, account_reports(session, accounts=every), strict=True):
        rows = session.execute(
            select(latest.c.views, latest.c.interactions).where(latest.c.account_id == account.id)
        ).all()
        assert report.interactions == sum(row.interactions for row in rows)
        views = [row.views for row in rows if row.views is not None]
        if account.platform != "weibo":  # Weibo gives no views: "not available" whatever
            assert report.views == (sum(views) if views else None)


def test_revision_0024_backfills_account_totals_and_reverses(bare_url: str) -> None:
    """Latest values written before the revision are summed by its backfill; going down
    removes the table and its triggers (writes still work), coming back sums again."""
    from alembic import command

    from publicist.core.migrate import alembic_config

    upgrade(bare_url, "0023")
    engine = sa.create_engine(bare_url)
    try:
        with Session(engine) as session:
            rng = random.Random(240)
            made = _build(session, rng, deliveries=30)
            _latest_values(session, made, rng)
            session.execute(
                sa.text(
                    "UPDATE delivery_metrics SET views = delivery_id * 10, interactions = 7, "
                    "collections = 1 WHERE delivery_id % 2 = 0"
                )
            )
            session.commit()
        upgrade(bare_url)
        with Session(engine) as session:
            assert session.scalar(select(sa.func.count()).select_from(AccountMetricTotal))
            assert account_total_mismatches(session) == []
        command.downgrade(alembic_config(bare_url), "0023")
        assert "account_metric_totals" not in sa.inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE delivery_metrics SET interactions = 9"))
            connection.execute(sa.text("DELETE FROM delivery_metrics WHERE delivery_id % 3 = 0"))
        upgrade(bare_url)
        with Session(engine) as session:
            assert account_total_mismatches(session) == []
    finally:
        engine.dispose()
