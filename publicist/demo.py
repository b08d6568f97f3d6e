"""``publicist demo``: the reference scenario end to end on a throwaway embedded install."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from campaigns.accounts import create_account
from campaigns.models import Delivery
from campaigns.schemas import CampaignInput, PostInput
from campaigns.services import add_post, create_campaign
from campaigns.states import DeliveryState
from connectors.base import Credentials
from connectors.mock import MockPlatform
from metrics.models import DeliveryMetrics
from metrics.reports import campaign_report
from publicist.cli.common import console, err_console
from publicist.cli.reports import render_table
from publicist.core.clock import system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.errors import PublicistError
from publicist.core.migrate import upgrade
from publicist.core.settings import get_settings, reset_settings
from publicist.scenario import reference_campaigns

SPREAD_SECONDS = 60.0
START_DELAY_SECONDS = 8.0
TIMEOUT_SECONDS = 150.0


def _environment(workdir: Path, speed: float) -> dict[str, str]:
    return {
        "PUBLICIST_DATABASE_URL": f"sqlite:///{workdir / 'publicist.db'}",
        "PUBLICIST_BROKER_URL": f"sqla+sqlite:///{workdir / 'broker.db'}",
        "PUBLICIST_SECRET_KEY": secrets.token_urlsafe(32),
        "PUBLICIST_COLLECT_TICK_SECONDS": "1",
        "PUBLICIST_COLLECTION_SPEED": str(speed),
        "PUBLICIST_DISPATCH_TICK_SECONDS": "1",
    }


def _seed(store: str, speed: float) -> int:
    """Accounts, campaigns and posts spread over the next minute; returns the delivery count."""
    settings = get_settings()
    now = system_clock.now()
    campaigns = reference_campaigns()
    handles = sorted({handle for c in campaigns for handle in c.accounts})
    total = sum(len(c.posts) for c in campaigns)
    step = SPREAD_SECONDS / max(1, total - 1)
    with session_scope() as session:
        for handle in handles:
            create_account(
                session,
                platform="mock",
                handle=handle,
                credentials=Credentials(
                    access_token=secrets.token_hex(16),
                    user_id=handle,
                    extra={"store": store, "speed": str(speed)},
                ),
                secret=settings.encryption_key(),
                now=now,
            )
        index = 0
        for item in campaigns:
            create_campaign(
                session,
                data=CampaignInput(name=item.name, theme=item.theme),
                default_timezone=settings.default_timezone,
                now=now,
            )
            for text in item.posts:
                at = now + timedelta(seconds=START_DELAY_SECONDS + index * step)
                add_post(
                    session,
                    data=PostInput(
                        campaign=item.name,
                        text=text,
                        accounts=[f"mock:{h}" for h in item.accounts],
                        at=at.isoformat(),
                    ),
                    now=now,
                    approve=True,
                )
                index += 1
        return int(session.scalar(select(func.count()).select_from(Delivery)) or 0)


def _count(state: DeliveryState) -> int:
    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.state == state)
            )
            or 0
        )


def _all_collected_since(moment: datetime) -> bool:
    """Every published delivery has been measured after ``moment``."""
    with session_scope() as session:
        stale = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .outerjoin(DeliveryMetrics, DeliveryMetrics.delivery_id == Delivery.id)
            .where(Delivery.state == DeliveryState.PUBLISHED)
            .where(DeliveryMetrics.delivery_id.is_(None) | (DeliveryMetrics.collected_at <= moment))
        )
        return not stale


def run_demo(*, speed: float, keep: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="publicist-demo-"))
    env = _environment(workdir, speed)
    os.environ.update(env)
    reset_settings()
    dispose_engines()
    store = str(workdir / "mock-platform.sqlite")
    worker: subprocess.Popen[bytes] | None = None
    try:
        upgrade(env["PUBLICIST_DATABASE_URL"])
        deliveries = _seed(store, speed)
        console.print(
            f"[bold]Publicist demo[/] in {workdir}: {deliveries} deliveries due "
            f"over the next {SPREAD_SECONDS:.0f} s; engagement runs {speed:g}× "
            "faster than real time"
        )
        with (workdir / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "publicist", "run"],
                cwd=workdir,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + TIMEOUT_SECONDS
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("publishing", total=deliveries)
            while (done := _count(DeliveryState.PUBLISHED)) < deliveries:
                progress.update(task, completed=done)
                failed = _count(DeliveryState.FAILED)
                if failed or worker.poll() is not None or time.monotonic() > deadline:
                    raise PublicistError(
                        f"demo stopped: {done} published, {failed} failed; "
                        f"worker log: {workdir / 'worker.log'}"
                    )
                time.sleep(0.5)
            progress.update(task, completed=deliveries, description="published")
            freeze = system_clock.now() + timedelta(seconds=1)
            with MockPlatform.open(store) as platform:
                platform.freeze(freeze)
            collect = progress.add_task("collecting final metrics", total=None)
            while not _all_collected_since(freeze):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise PublicistError(
                        "demo stopped while collecting metrics; "
                        f"worker log: {workdir / 'worker.log'}"
                    )
                time.sleep(0.5)
            progress.update(collect, description="metrics collected", total=1, completed=1)
        _stop(worker)
        worker = None
        _print_reports(store)
    finally:
        if worker is not None:
            _stop(worker)
        dispose_engines()
        if keep:
            console.print(f"demo files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _print_reports(store: str) -> None:
    from campaigns.models import Campaign

    with session_scope() as session:
        reports = [
            campaign_report(session, campaign=c)
            for c in session.scalars(select(Campaign).order_by(Campaign.id))
        ]
    for report in reports:
        render_table(report)
    with MockPlatform.open(store) as platform:
        truth = platform.totals(system_clock.now())
        posts = len(platform.posts())
    views = sum(r.views or 0 for r in reports)
    interactions = sum(r.interactions for r in reports)
    published = sum(r.published for r in reports)
    console.print(
        f"\n[bold]All campaigns:[/] {published} published, {views:,} views, "
        f"{interactions:,} interactions"
    )
    console.print(
        f"[bold]Mock platform holds:[/] {posts} posts, {truth.views:,} views, "
        f"{truth.interactions:,} interactions"
    )
    if (published, views, interactions) != (posts, truth.views, truth.interactions):
        err_console.print("[bold red]mismatch between the reports and the platform[/]")
        raise SystemExit(1)
    console.print("[green]reports match the platform exactly[/]")


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
