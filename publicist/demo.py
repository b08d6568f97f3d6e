"""``publicist demo``: the reference scenario end to end, through the real connectors.

A throwaway SQLite database and broker, the four platform simulators on 127.0.0.1, one
account on each, the reference campaigns scheduled over the next minute, and the embedded
worker and beat (``publicist run``) publishing them. Engagement is compressed (the
simulators' time constants divided by ``speed``); at the end the simulators stop the
counters, the collector takes a last reading, and each campaign's report is printed and
checked against what the simulators hold.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from campaigns.accounts import create_account
from campaigns.media import add_media_file
from campaigns.models import Campaign, Delivery
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import CampaignInput, PostInput, VariantInput
from campaigns.services import add_post, create_campaign
from campaigns.states import DeliveryState
from connectors.base import Credentials
from metrics.models import DeliveryMetrics
from metrics.reports import CampaignReport, campaign_report
from publicist.cli.common import Table, console, err_console
from publicist.cli.reports import render_table
from publicist.core.clock import system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.errors import PublicistError
from publicist.core.migrate import upgrade
from publicist.core.settings import get_settings, reset_settings
from publicist.scenario import (
    ACCOUNTS,
    DOUYIN,
    TIKTOK,
    WECHAT,
    WEIBO,
    ScenarioPost,
    reference_campaigns,
)
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer

SPREAD_SECONDS = 60.0
START_DELAY_SECONDS = 8.0
TIMEOUT_SECONDS = 240.0
PLATFORMS = ("twitter", "weibo", "wechat", "tiktok", "douyin")
TERMINAL = (DeliveryState.PUBLISHED, DeliveryState.FAILED, DeliveryState.UNKNOWN)


@dataclass(frozen=True)
class Media:
    cover: Path
    video: Path


def _environment(workdir: Path, speed: float) -> dict[str, str]:
    return {
        "PUBLICIST_DATABASE_URL": f"sqlite:///{workdir / 'publicist.db'}",
        "PUBLICIST_BROKER_URL": f"sqla+sqlite:///{workdir / 'broker.db'}",
        "PUBLICIST_SECRET_KEY": secrets.token_urlsafe(32),
        "PUBLICIST_MEDIA_DIR": str(workdir / "media"),
        "PUBLICIST_COLLECT_TICK_SECONDS": "3",  # Weibo allows 100 metric reads an hour
        "PUBLICIST_COLLECTION_SPEED": str(speed),
        "PUBLICIST_DISPATCH_TICK_SECONDS": "1",
    }


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real single-colour PNG, so the demo needs no image files or imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _media(workdir: Path) -> Media:
    cover = workdir / "ip-week-cover.png"
    cover.write_bytes(_png(90, 50, (196, 30, 58)))
    video = workdir / "ip-story.mp4"
    # An MP4 file-type box and padding: the simulator checks size and container, not frames.
    video.write_bytes(struct.pack(">I", 24) + b"ftypmp42" + b"\x00" * 4 + b"mp42isom" + bytes(4096))
    return Media(cover=cover, video=video)


def _calibrate(control: SimulatorControl, speed: float) -> None:
    """Compress the platform's engagement curve by ``speed`` (its counters stay faithful)."""
    model = control.engagement()
    control.engagement(
        tau_seconds=model["tau_seconds"] / speed, lag_seconds=model["lag_seconds"] / speed
    )


def _provision(server: SimulatorServer, controls: dict[str, SimulatorControl]) -> dict[str, Any]:
    """One simulator account per scenario account: its credentials and base URL."""
    accounts: dict[str, Any] = {}
    for reference in ACCOUNTS:
        platform, _, handle = reference.partition(":")
        provisioned = controls[platform].add_account(handle, followers=10_000)
        accounts[reference] = (Credentials.from_dict(provisioned), server.base_url(platform))
    return accounts


def _seed(accounts: dict[str, Any], media: Media) -> int:
    """Accounts, campaigns and posts spread over the next minute; returns the delivery count."""
    settings = get_settings()
    now = system_clock.now()
    weibo_credentials: Credentials = accounts[WEIBO][0]
    domain = (weibo_credentials.extra.get("safe_domain") or "example.com").split(",")[0]
    campaigns = reference_campaigns(weibo_domain=domain)
    with session_scope() as session:
        # Posts refer to library items: the demo's files are uploaded first, as staff would.
        library = {
            "cover": add_media_file(
                session, path=media.cover, media_dir=settings.media_dir, name="cover", now=now
            ).id,
            "video": add_media_file(
                session, path=media.video, media_dir=settings.media_dir, name="story", now=now
            ).id,
        }
        for reference, (credentials, base_url) in accounts.items():
            platform, _, handle = reference.partition(":")
            create_account(
                session,
                platform=platform,
                handle=handle,
                credentials=credentials,
                secret=settings.encryption_key(),
                now=now,
                api_base_url=base_url,
            )
        for item in campaigns:
            create_campaign(
                session,
                data=CampaignInput(name=item.name, theme=item.theme, hashtags=item.hashtags),
                default_timezone=settings.default_timezone,
                now=now,
            )
            for index, post in enumerate(item.posts):
                # Each campaign's posts are spread over the whole window, as over a year.
                offset = START_DELAY_SECONDS + SPREAD_SECONDS * (index + 0.5) / len(item.posts)
                targets = post.accounts or item.accounts
                add_post(
                    session,
                    data=PostInput(
                        campaign=item.name,
                        text=post.text,
                        title=post.title,
                        accounts=list(targets),
                        at=(now + timedelta(seconds=offset)).isoformat(),
                        variants=_variants(post, targets, library),
                    ),
                    now=now,
                    approve=True,
                )
        return int(session.scalar(select(func.count()).select_from(Delivery)) or 0)


def _variants(
    post: ScenarioPost, targets: list[str], library: dict[str, int]
) -> dict[str, VariantInput]:
    """What Weibo, WeChat, TikTok and Douyin need beyond the base text."""
    variants: dict[str, VariantInput] = {}
    if WEIBO in targets:
        variants["weibo"] = VariantInput(text=post.weibo_text)
    if WECHAT in targets:
        variants["wechat"] = VariantInput(
            title=post.title,
            digest=post.text[:120],
            media=[{"kind": "image", "media_id": library["cover"]}],
        )
    if TIKTOK in targets:
        variants["tiktok"] = VariantInput(media=[{"kind": "video", "media_id": library["video"]}])
    if DOUYIN in targets:
        variants["douyin"] = VariantInput(
            text=post.douyin_text, media=[{"kind": "video", "media_id": library["video"]}]
        )
    return variants


def _count(states: tuple[DeliveryState, ...]) -> int:
    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.state.in_(states))
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


def _check_alive(worker: subprocess.Popen[bytes], deadline: float, log: Path, doing: str) -> None:
    if worker.poll() is not None or time.monotonic() > deadline:
        raise PublicistError(f"demo stopped while {doing}; worker log: {log}")


def run_demo(*, speed: float, keep: bool, serve_port: int | None = None) -> None:
    """Replay the scenario; with ``serve_port``, then serve the workspace on its data until
    Ctrl-C, so a newcomer's first look is the dashboard full of the reference scenario."""
    workdir = Path(tempfile.mkdtemp(prefix="publicist-demo-"))
    env = _environment(workdir, speed)
    os.environ.update(env)
    reset_settings()
    dispose_engines()
    worker: subprocess.Popen[bytes] | None = None
    log = workdir / "worker.log"
    server = SimulatorServer(PLATFORMS, seed=2021).start()
    controls = {p: SimulatorControl(server.base_url(p)) for p in PLATFORMS}
    try:
        for control in controls.values():
            _calibrate(control, speed)
        upgrade(env["PUBLICIST_DATABASE_URL"])
        deliveries = _seed(_provision(server, controls), _media(workdir))
        console.print(
            f"[bold]Publicist demo[/] in {workdir}: {deliveries} deliveries to X, Weibo, WeChat, "
            f"TikTok and Douyin simulators at {server.root_url}, due over the next "
            f"{SPREAD_SECONDS:.0f} s; engagement runs {speed:g}× faster than real time"
        )
        with log.open("wb") as output:
            worker = subprocess.Popen(
                [sys.executable, "-m", "publicist", "run"],
                cwd=workdir,
                env={**os.environ, **env},
                stdout=output,
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
            while (done := _count(TERMINAL)) < deliveries:
                progress.update(task, completed=done)
                _check_alive(worker, deadline, log, f"publishing ({done} of {deliveries} done)")
                time.sleep(0.5)
            progress.update(task, completed=deliveries, description="published")
            # WeChat reports an article's reads the next day (T+1): let its day pass.
            controls["wechat"].clock(advance_seconds=86_400 + 9 * 3_600)
            for control in controls.values():
                control.freeze(now=True)
            frozen = system_clock.now()
            collect = progress.add_task("collecting final metrics", total=None)
            while not _all_collected_since(frozen):
                _check_alive(worker, deadline, log, "collecting metrics")
                time.sleep(0.5)
            progress.update(collect, description="metrics collected", total=1, completed=1)
        _stop(worker)
        worker = None
        _print_reports(controls)
        if serve_port is not None:
            _serve_workspace(env, workdir, serve_port)
    finally:
        if worker is not None:
            _stop(worker)
        for control in controls.values():
            control.close()
        server.stop()
        dispose_engines()
        if keep:
            console.print(f"demo files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _platform_totals(reports: list[CampaignReport]) -> dict[str, tuple[int, int | None, int]]:
    """Published, views (``None`` where not available) and interactions per platform."""
    totals: dict[str, tuple[int, int | None, int]] = {}
    for report in reports:
        for row in report.platforms:
            published, views, interactions = totals.get(row.platform, (0, 0, 0))
            summed = None if row.views is None or views is None else views + row.views
            totals[row.platform] = (
                published + row.published,
                summed,
                interactions + row.interactions,
            )
    return totals


def _print_reports(controls: dict[str, SimulatorControl]) -> None:
    with session_scope() as session:
        reports = [
            campaign_report(session, campaign=c)
            for c in session.scalars(select(Campaign).order_by(Campaign.id))
        ]
        unsettled = session.scalars(
            select(Delivery).where(Delivery.state != DeliveryState.PUBLISHED)
        ).all()
    for report in reports:
        render_table(report)
    ours = _platform_totals(reports)
    table = Table(
        "platform", "published", "views (report)", "views (platform)", "interactions (report)",
        "interactions (platform)", title="reports against the platforms' own counters",
    )  # fmt: skip
    matched = True
    for platform, control in controls.items():
        truth = control.truth()
        counters = dict(truth["totals"])
        platform_views = counters.pop("views", 0)
        platform_interactions = sum(counters.values())
        published, views, interactions = ours.get(platform, (0, 0, 0))
        views_match = views is None or views == platform_views
        matched &= views_match and interactions == platform_interactions
        matched &= published == truth["posts"]
        table.add_row(
            platform,
            f"{published} of {truth['posts']}",
            "n/a (not given)" if views is None else f"{views:,}",
            f"{platform_views:,}" if views is not None else "hidden",
            f"{interactions:,}",
            f"{platform_interactions:,}",
        )
    console.print(table)
    views_total = sum(v for _, v, _ in ours.values() if v is not None)
    console.print(
        f"\n[bold]All campaigns:[/] {sum(p for p, _, _ in ours.values())} published, "
        f"{views_total:,} views, {sum(i for _, _, i in ours.values()):,} interactions"
    )
    for delivery in unsettled:
        err_console.print(
            f"delivery {delivery.id} ended {delivery.state.value}: {delivery.last_error}"
        )
    if not matched or unsettled:
        err_console.print("[bold red]the reports do not match the platforms[/]")
        raise SystemExit(1)
    console.print("[green]reports match the platforms exactly[/]")


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


DEMO_PEOPLE = (
    ("Admin Demo", "admin@demo.publicist.example", Role.ADMIN),
    ("Approver Demo", "approver@demo.publicist.example", Role.APPROVER),
    ("Editor Demo", "editor@demo.publicist.example", Role.EDITOR),
    ("Viewer Demo", "viewer@demo.publicist.example", Role.VIEWER),
)


def _serve_workspace(env: dict[str, str], workdir: Path, port: int) -> None:
    """One demo person per role (fresh random passwords, printed once), then the workspace
    on 127.0.0.1 until the person presses Ctrl-C."""
    table = Table("role", "e-mail", "password", title="Sign in as")
    with session_scope() as session:
        for name, email, role in DEMO_PEOPLE:
            password = secrets.token_urlsafe(9)
            add_person(
                session,
                name=name,
                email=email,
                role=role,
                password=password,
                now=system_clock.now(),
            )
            table.add_row(role.value, email, password)
    console.print(table)
    console.print(
        f"[bold]The workspace on the demo's data: http://127.0.0.1:{port}/signin[/]  "
        "(Ctrl-C stops it; `make demo` in CI skips this step)"
    )
    api = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "publicist", "api", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env={**os.environ, **env},
    )
    try:
        api.wait()
    except KeyboardInterrupt:
        console.print("stopping the workspace")
    finally:
        _stop(api)
