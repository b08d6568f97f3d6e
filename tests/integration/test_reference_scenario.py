"""Acceptance: @IPRinCN's 80 articles over nine months, through the X connector and simulator.

The annual report's figures (more than 2 million views, 88,000 interactions) are replayed:
80 posts are dispatched and published by the real publishing path over HTTP, the simulator's
clock then runs a month on (tokens expire and are refreshed on the way), the collector
measures every post, and the same totals must appear in the CLI, the API and the page, equal
to the simulator's own counters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.accounts import create_account
from campaigns.models import Account, Campaign
from connectors.base import Credentials
from metrics.reports import account_report, campaign_report
from publicist.cli.main import main
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from publicist.web.app import create_app
from publicist.web.tokens import Role, create_token
from scheduler.collecting import run_collect
from scheduler.publishing import run_dispatch, run_publish
from scheduler.ratelimit import LocalRateLimiter
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests import factories

CAMPAIGN = "@IPRinCN account launch"
ARTICLES = 80
A_MONTH = 30 * 86_400


@pytest.fixture
def x_simulator() -> Iterator[tuple[SimulatorServer, SimulatorControl]]:
    with SimulatorServer(["twitter"], seed=2021) as server:
        control = SimulatorControl(server.base_url("twitter"))
        yield server, control
        control.close()


def _publish_everything(settings: Settings, clock: FrozenClock) -> None:
    queued: list[tuple[int, int]] = []
    run_dispatch(
        settings=settings,
        clock=clock,
        enqueue=lambda claims: queued.extend((c.delivery_id, c.ticket) for c in claims),
    )
    limiter = LocalRateLimiter()
    outcomes = [
        run_publish(delivery_id=d, ticket=t, settings=settings, clock=clock, limiter=limiter)
        for d, t in queued
    ]
    assert outcomes == ["published"] * ARTICLES


def test_eighty_articles_report_the_same_totals_in_cli_api_and_page(
    configured_db: Settings,
    x_simulator: tuple[SimulatorServer, SimulatorControl],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, control = x_simulator
    clock = FrozenClock(control.now())
    provisioned = control.add_account("@IPRinCN", followers=10_000)
    with session_scope() as session:
        create_account(
            session,
            platform="twitter",
            handle="@IPRinCN",
            credentials=Credentials.from_dict(provisioned),
            secret=configured_db.encryption_key(),
            now=clock.now(),
            api_base_url=server.base_url("twitter"),
        )
        factories.campaign(session, name=CAMPAIGN, now=clock.now())
        for n in range(ARTICLES):
            factories.scheduled_post(
                session,
                campaign_name=CAMPAIGN,
                accounts=["twitter:@IPRinCN"],
                now=clock.now(),
                in_seconds=5 + n,
                text=f"IP fact #{n + 1}: how China protects innovation, part {n + 1}. #IPRinCN",
            )
    clock.advance(timedelta(seconds=ARTICLES + 10))
    _publish_everything(configured_db, clock)

    # A month on, every post has reached its audience and the access token (two hours) has
    # long expired: the collector refreshes it (rotating refresh token) on the way.
    control.clock(advance_seconds=A_MONTH)
    control.freeze(now=True)
    clock.advance(timedelta(days=1))
    assert run_collect(settings=configured_db, clock=clock) == ARTICLES
    truth = control.truth()
    counters = dict(truth["totals"])
    views = counters.pop("views")
    interactions = sum(counters.values())
    assert truth["posts"] == ARTICLES
    assert 1_500_000 < views < 2_700_000  # "more than 2 million views"
    assert 65_000 < interactions < 115_000  # "88,000 interactions"

    with session_scope() as session:
        campaign = session.scalars(select(Campaign)).one()
        account = session.scalars(select(Account)).one()
        by_campaign = campaign_report(session, campaign=campaign)
        by_account = account_report(session, account=account)
        campaign_id, account_id = campaign.id, account.id
        secret = create_token(session, role=Role.VIEWER, name="dashboard", now=clock.now()).secret
    assert (by_campaign.published, by_campaign.views, by_campaign.interactions) == (
        ARTICLES,
        views,
        interactions,
    )
    assert (by_account.published, by_account.views, by_account.interactions) == (
        ARTICLES,
        views,
        interactions,
    )

    monkeypatch.setattr("sys.argv", ["publicist", "report", CAMPAIGN, "--format", "json"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code in (0, None)
    printed = json.loads(capsys.readouterr().out)
    cli = printed[0] if isinstance(printed, list) else printed
    assert (cli["published"], cli["views"], cli["interactions"]) == (
        ARTICLES,
        views,
        interactions,
    )

    app = create_app(configured_db, clock=clock)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {secret}"}
        api = client.get(f"/api/reports/campaigns/{campaign_id}", headers=headers).json()
        assert (api["published"], api["views"], api["interactions"]) == (
            ARTICLES,
            views,
            interactions,
        )
        whole = client.get(f"/api/reports/accounts/{account_id}", headers=headers).json()
        assert (whole["views"], whole["interactions"]) == (views, interactions)
        page = client.get(
            f"/dashboard?token={secret}&campaign={campaign_id}", follow_redirects=True
        )
        assert page.status_code == 200
        assert f"{views:,}" in page.text
        assert f"{interactions:,}" in page.text
