"""Acceptance: the April–December period report of @IPRinCN, from the real pipeline.

The reference scenario's 80 X articles (the account launch, IP Publicity Week in late
April, GI Stories in the autumn) are scheduled on 1 April 2021 and published on their days
by the real dispatcher and X connector over HTTP, the simulator's clock following along;
in January the collector measures every post. The period report must then equal the
campaign and account reports and the simulator's own counters in every format, and its
summary must read like the annual report's sentence.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from campaigns.accounts import create_account
from campaigns.models import Account, Campaign, Delivery
from campaigns.publishing import Claim
from campaigns.schemas import PostInput
from campaigns.services import add_post
from campaigns.states import DeliveryState
from connectors.base import Credentials
from metrics.reports import account_report, campaign_report
from publicist.cli.main import main
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from publicist.scenario import TWITTER, reference_campaigns
from scheduler.collecting import run_collect
from scheduler.publishing import run_dispatch, run_publish
from scheduler.ratelimit import LocalRateLimiter
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2021, 4, 1, 9, 0, tzinfo=SHANGHAI)
MEASURED = datetime(2022, 1, 10, 9, 0, tzinfo=SHANGHAI)
PERIOD = ["--from", "2021-04-01", "--to", "2021-12-31", "--account", TWITTER]
Run = Callable[..., tuple[int, bytes, str]]


def _schedule() -> list[tuple[str, str, datetime]]:
    """(campaign, text, local time) of every X article: the launch every four days from
    2 April, the Publicity Week on 20–24 April, GI Stories every other Friday from September."""
    items: list[tuple[str, str, datetime]] = []
    for campaign in reference_campaigns():
        if TWITTER not in campaign.accounts:
            continue
        for n, post in enumerate(campaign.posts):
            if campaign.accounts == [TWITTER] and campaign.name.startswith("@"):
                day = datetime(2021, 4, 2, 10, tzinfo=SHANGHAI) + timedelta(days=n * 3.9)
            elif campaign.name.startswith("2021"):
                day = datetime(2021, 4, 20, 15, tzinfo=SHANGHAI) + timedelta(days=n)
            else:
                day = datetime(2021, 9, 3, 18, tzinfo=SHANGHAI) + timedelta(days=14 * n)
            items.append((campaign.name, post.text, day.replace(second=0, microsecond=0)))
    return sorted(items, key=lambda item: item[2])


@pytest.fixture
def x_simulator() -> Iterator[tuple[SimulatorServer, SimulatorControl]]:
    with SimulatorServer(["twitter"], seed=2021) as server:
        control = SimulatorControl(server.base_url("twitter"))
        yield server, control
        control.close()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]) -> Run:
    def invoke(*args: str) -> tuple[int, bytes, str]:
        monkeypatch.setattr("sys.argv", ["publicist", *args])
        capsysbinary.readouterr()
        with pytest.raises(SystemExit) as caught:
            main()
        captured = capsysbinary.readouterr()
        code = caught.value.code
        return (code if isinstance(code, int) else 0), captured.out, captured.err.decode()

    return invoke


def _publish_the_year(
    settings: Settings, clock: FrozenClock, control: SimulatorControl, server: SimulatorServer
) -> int:
    control.clock(set_to=START.astimezone(UTC))
    clock.set(START.astimezone(UTC))
    provisioned = control.add_account("@IPRinCN", followers=10_000)
    plan = _schedule()
    with session_scope() as session:
        create_account(
            session,
            platform="twitter",
            handle="@IPRinCN",
            credentials=Credentials.from_dict(provisioned),
            secret=settings.encryption_key(),
            now=clock.now(),
            api_base_url=server.base_url("twitter"),
        )
        for campaign in reference_campaigns():
            factories.campaign(session, name=campaign.name, now=clock.now())
        for name, text, at in plan:
            add_post(
                session,
                data=PostInput(campaign=name, text=text, accounts=[TWITTER], at=at.isoformat()),
                now=clock.now(),
                approve=True,
            )
    queued: list[tuple[int, int]] = []

    def enqueue(claims: list[Claim]) -> None:
        queued.extend((c.delivery_id, c.ticket) for c in claims)

    for index, (_, _, at) in enumerate(plan):
        moment = at.astimezone(UTC)
        limiter = LocalRateLimiter()  # days pass between posts: a fresh quota each time
        # The access token (two hours) has expired since the last post: the first attempt
        # refreshes it and the delivery is retried a little later.
        for _ in range(10):
            control.clock(set_to=moment)
            clock.set(moment)
            queued.clear()
            run_dispatch(settings=settings, clock=clock, enqueue=enqueue)
            for delivery_id, ticket in queued:
                run_publish(
                    delivery_id=delivery_id,
                    ticket=ticket,
                    settings=settings,
                    clock=clock,
                    limiter=limiter,
                )
            if _published() == index + 1:
                break
            moment += timedelta(minutes=2)
    return _published()


def _published() -> int:
    with session_scope() as session:
        return len(
            session.scalars(
                select(Delivery.id).where(Delivery.state == DeliveryState.PUBLISHED)
            ).all()
        )


def test_the_april_to_december_report_equals_the_platform_in_every_format(
    configured_db: Settings,
    x_simulator: tuple[SimulatorServer, SimulatorControl],
    run: Run,
    tmp_path: Path,
) -> None:
    server, control = x_simulator
    clock = FrozenClock(START.astimezone(UTC))
    assert _publish_the_year(configured_db, clock, control, server) == 80

    control.clock(set_to=MEASURED.astimezone(UTC))
    control.freeze(now=True)
    clock.set(MEASURED.astimezone(UTC))
    assert run_collect(settings=configured_db, clock=clock) == 80
    truth = control.truth()
    counters = dict(truth["totals"])
    views = counters.pop("views")
    interactions = sum(counters.values())
    assert truth["posts"] == 80

    with session_scope() as session:
        account = session.scalars(select(Account)).one()
        whole = account_report(session, account=account)
        campaigns = {
            c.name: campaign_report(session, campaign=c) for c in session.scalars(select(Campaign))
        }
    assert (whole.published, whole.views, whole.interactions) == (80, views, interactions)

    # JSON: totals, campaigns and months against the other reports and the platform.
    code, out, err = run("report", *PERIOD, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    totals = data["totals"]
    assert (totals["published"], totals["views"], totals["interactions"]) == (
        80,
        views,
        interactions,
    )
    assert totals["views_coverage"] == "1 of 1 platform"
    for item in data["campaigns"]:
        expected = campaigns[item["key"]]
        assert (item["totals"]["published"], item["totals"]["views"]) == (
            expected.published,
            expected.views,
        )
        assert item["totals"]["interactions"] == expected.interactions
    months = {m["key"]: m["totals"] for m in data["months"]}
    assert list(months) == [f"2021-{m:02d}" for m in range(4, 13)]
    assert sum(m["published"] for m in months.values()) == 80
    assert sum(m["views"] or 0 for m in months.values()) == views
    assert sum(m["interactions"] for m in months.values()) == interactions
    assert months["2021-04"]["published"] == 8 + 5  # the launch's first posts and the Week
    assert re.fullmatch(
        r"From April to December, @IPRinCN published 80 articles, which drew more than "
        r"\d(\.\d)? million views and \d\d,000 interactions\.",
        data["summary"],
    ), data["summary"]

    # CSV, parsed back.
    code, out, err = run("report", *PERIOD, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    total = next(r for r in rows if r["table"] == "total" and r["platform"] == "all")
    assert (total["published"], total["views"], total["interactions"]) == (
        "80",
        str(views),
        str(interactions),
    )
    month_rows = [r for r in rows if r["table"] == "month" and r["platform"] == "all"]
    assert sum(int(r["views"] or 0) for r in month_rows) == views

    # XLSX, parsed back with openpyxl: numbers as numbers.
    target = tmp_path / "2021.xlsx"
    code, _, err = run("report", *PERIOD, "--format", "xlsx", "--output", str(target))
    assert code == 0, err
    book = load_workbook(target)
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row}
    assert (summary["Posts published"], summary["Views"], summary["Interactions"]) == (
        80,
        views,
        interactions,
    )
    assert summary["Summary"] == data["summary"]
    platform_total = list(book["Per platform"].iter_rows(values_only=True))[-1]
    assert platform_total[2:4] == (80, views)

    # HTML and PDF, in Chinese: the same figures and the summary in the seed's form.
    code, out, err = run("report", *PERIOD, "--format", "html", "--language", "zh_CN")
    assert code == 0, err
    page = out.decode()
    assert f"{views:,}" in page
    assert f"{interactions:,}" in page
    zh = re.search(
        r"4月至12月，@IPRinCN共发布80篇文章，获得超过\d+万次浏览和\d(\.\d)?万次互动。", page
    )
    assert zh is not None
    target = tmp_path / "2021.pdf"
    code, _, err = run(
        "report", *PERIOD, "--format", "pdf", "--language", "zh_CN", "--output", str(target)
    )
    assert code == 0, err
    reader = PdfReader(target)
    assert 2 <= len(reader.pages) <= 8
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert f"{views:,}" in text
    assert f"{interactions:,}" in text
    assert "期间报告" in text
