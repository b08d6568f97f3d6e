"""``publicist demo``: the reference scenario end to end, through the real connectors.

A throwaway SQLite database and broker, the five platform simulators on 127.0.0.1, one
account on each, the reference campaigns scheduled over their real span (April to December
2021), and the embedded worker and beat (``publicist run``) publishing them. Time is
virtual: the demo moves the simulators' clocks and the worker's (``PUBLICIST_CLOCK_FILE``)
together, one step per publishing moment, and at each step the worker dispatches what is
due, publishes it through the connectors and measures every post. After the last step (31
December) the simulators' counters stop, the collector takes a last reading, and the reports
are printed and checked against the platforms' own counters, per platform and per month.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from campaigns.accounts import create_account
from campaigns.media import add_media_file
from campaigns.models import Account, Campaign, Delivery
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import CampaignInput, PostInput, VariantInput
from campaigns.services import add_post, create_campaign
from campaigns.states import DeliveryState
from connectors.base import Credentials
from metrics.collection import CLAIM_LEASE
from metrics.models import DeliveryMetrics
from metrics.period import PeriodReport, period_report
from metrics.reports import CampaignReport, campaign_report
from publicist.cli.common import Table, console, err_console
from publicist.cli.reports import render_table
from publicist.core.clock import FileClock, system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.errors import PublicistError
from publicist.core.migrate import upgrade
from publicist.core.settings import get_settings, reset_settings
from publicist.scenario import (
    ACCOUNTS,
    DOUYIN,
    SHANGHAI,
    SPAN_END,
    SPAN_START,
    TIKTOK,
    WECHAT,
    WEIBO,
    ScenarioPost,
    publishing_times,
    reference_campaigns,
)
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer

TIMEOUT_SECONDS = 900.0
STEP_TIMEOUT_SECONDS = 180.0
"""Generous: on a loaded machine the worker alone may take a minute to start."""
PLATFORMS = ("twitter", "weibo", "wechat", "tiktok", "douyin")
X_INTERACTION_SCALE = 0.937
"""94,000 interactions at the simulator's rates for these 80 posts, scaled to the seed's 88,000."""


@dataclass(frozen=True)
class Media:
    cover: Path
    video: Path


TOKEN_LIFETIMES: dict[str, dict[str, Any]] = {
    # Tokens issued for the whole replayed year, so the demo is about publishing and
    # reports; refresh, rotation and lapse have their own tests against the simulators.
    "twitter": {"access_lifetime": 400 * 86_400, "refresh_lifetime": 400 * 86_400},
    "weibo": {"token_lifetime": 400 * 86_400},
    "wechat": {"token_lifetime": 400 * 86_400},
    "tiktok": {"access_lifetime": 400 * 86_400, "refresh_lifetime": 400 * 86_400},
    "douyin": {"access_lifetime": 400 * 86_400, "refresh_lifetime": 400 * 86_400},
}
SETTLE_SECONDS = 60.0
"""How far the simulators' clocks run ahead within a step, so asynchronous publishes (WeChat's
publish job, TikTok's processing, Douyin's review) finish while the worker's clock stands."""


def _environment(workdir: Path) -> dict[str, str]:
    return {
        "PUBLICIST_DATABASE_URL": f"sqlite:///{workdir / 'publicist.db'}",
        "PUBLICIST_BROKER_URL": f"sqla+sqlite:///{workdir / 'broker.db'}",
        "PUBLICIST_SECRET_KEY": secrets.token_urlsafe(32),
        "PUBLICIST_MEDIA_DIR": str(workdir / "media"),
        "PUBLICIST_CLOCK_FILE": str(workdir / "clock"),
        # Every post is measured at every step (steps are a day or more apart) until the end.
        "PUBLICIST_COLLECTION_CADENCE": "400d:1d",
        "PUBLICIST_COLLECT_TICK_SECONDS": "5",
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


def _provision(server: SimulatorServer, controls: dict[str, SimulatorControl]) -> dict[str, Any]:
    """One simulator account per scenario account: its credentials and base URL."""
    accounts: dict[str, Any] = {}
    for reference in ACCOUNTS:
        platform, _, handle = reference.partition(":")
        provisioned = controls[platform].add_account(
            handle, followers=10_000, **TOKEN_LIFETIMES[platform]
        )
        accounts[reference] = (Credentials.from_dict(provisioned), server.base_url(platform))
    return accounts


def _seed(accounts: dict[str, Any], media: Media) -> list[datetime]:
    """Accounts, campaigns and posts due over April to December, as the office planned them;
    returns the distinct due times (the replay's steps)."""
    settings = get_settings()
    now = SPAN_START
    weibo_credentials: Credentials = accounts[WEIBO][0]
    domain = (weibo_credentials.extra.get("safe_domain") or "example.com").split(",")[0]
    campaigns = reference_campaigns(weibo_domain=domain)
    due: set[datetime] = set()
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
            times = publishing_times(item)
            due.update(times)
            for post, at in zip(item.posts, times, strict=True):
                targets = post.accounts or item.accounts
                add_post(
                    session,
                    data=PostInput(
                        campaign=item.name,
                        text=post.text,
                        title=post.title,
                        accounts=list(targets),
                        at=at.isoformat(),
                        variants=_variants(post, targets, library),
                    ),
                    now=now,
                    approve=True,
                )
    return sorted(due)


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


PENDING = (
    DeliveryState.SCHEDULED,
    DeliveryState.QUEUED,
    DeliveryState.PUBLISHING,
    DeliveryState.SUBMITTED,
)


def _unpublished(moment: datetime, states: tuple[DeliveryState, ...] = PENDING) -> int:
    """Deliveries due by ``moment`` still on their way (in one of ``states``)."""
    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.due_at <= moment, Delivery.state.in_(states))
            )
            or 0
        )


def _unmeasured(moment: datetime) -> int:
    """Deliveries published before ``moment`` and not yet measured at it: never planned, due,
    or claimed by a collection still running (a claim pushes the row one lease ahead)."""
    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .outerjoin(DeliveryMetrics, DeliveryMetrics.delivery_id == Delivery.id)
                .where(Delivery.state == DeliveryState.PUBLISHED, Delivery.published_at < moment)
                .where(
                    DeliveryMetrics.delivery_id.is_(None)
                    | (DeliveryMetrics.next_collect_at <= moment + CLAIM_LEASE)
                )
            )
            or 0
        )


@dataclass
class Worker:
    """The embedded worker process, and a way to hand it a task now instead of at its tick."""

    process: subprocess.Popen[bytes]
    log: Path
    send: Callable[[str], None]
    deadline: float

    def until(self, done: Callable[[], bool], *, tasks: tuple[str, ...], doing: str) -> None:
        """Send ``tasks`` (again every few seconds) until ``done()``; fail if the worker dies
        or the step or the whole replay takes too long."""
        step_deadline = min(self.deadline, time.monotonic() + STEP_TIMEOUT_SECONDS)
        sent = 0.0
        while not done():
            if self.process.poll() is not None or time.monotonic() > step_deadline:
                raise PublicistError(f"demo stopped while {doing}; worker log: {self.log}")
            if time.monotonic() - sent > 3.0:
                for task in tasks:
                    self.send(task)
                sent = time.monotonic()
            time.sleep(0.05)


def _step(
    moment: datetime, *, clock_file: Path, controls: dict[str, SimulatorControl], worker: Worker
) -> None:
    """Move every clock to ``moment``; publish what is due then; measure every earlier post.

    Both tasks go to the worker at once (a post published now is measured at the next step,
    once it has an audience), so a step costs about one poll of the embedded broker.
    """
    FileClock.write(clock_file, moment)
    for control in controls.values():
        control.clock(set_to=moment)
    if moment >= SPAN_END:
        for control in controls.values():
            control.freeze(now=True)
    day = moment.date().isoformat()
    worker.until(
        lambda: _unpublished(moment, PENDING[:3]) == 0 and _unmeasured(moment) == 0,
        tasks=("scheduler.dispatch_due", "scheduler.collect_metrics"),
        doing=f"publishing and measuring on {day}",
    )
    if _unpublished(moment):
        # Asynchronous publishes finish on the platforms' time; the worker's clock stands.
        for control in controls.values():
            control.clock(set_to=moment + timedelta(seconds=SETTLE_SECONDS))
        worker.until(
            lambda: _unpublished(moment) == 0,
            tasks=("scheduler.check_submissions",),
            doing=f"checking the asynchronous publishes of {day}",
        )


def _start_worker(env: dict[str, str], workdir: Path) -> Worker:
    from scheduler.app import create_app  # after the demo's settings are in place

    app = create_app(get_settings())
    log = workdir / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "publicist", "run"],
            cwd=workdir,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def send(task: str) -> None:
        app.send_task(task)

    return Worker(process, log, send, time.monotonic() + TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Replay:
    """A finished replay: its folder, settings and the simulators (still serving, frozen at
    31 December), for the reports, the workspace and the ground-truth tests."""

    workdir: Path
    env: dict[str, str]
    controls: dict[str, SimulatorControl]


@contextmanager
def replayed(*, keep: bool = False) -> Iterator[Replay]:
    """Replay the scenario from April to December and hand over the result; afterwards stop
    the simulators, restore the process's settings and remove the folder unless ``keep``."""
    workdir = Path(tempfile.mkdtemp(prefix="publicist-demo-"))
    env = _environment(workdir)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    reset_settings()
    dispose_engines()
    worker: Worker | None = None
    clock_file = Path(env["PUBLICIST_CLOCK_FILE"])
    FileClock.write(clock_file, SPAN_START)
    server = SimulatorServer(PLATFORMS, seed=2021).start()
    controls = {p: SimulatorControl(server.base_url(p)) for p in PLATFORMS}
    failed = True
    try:
        for control in controls.values():
            control.clock(speed=0)  # the platforms' time moves only when the demo moves it
            control.clock(set_to=SPAN_START)
        _calibrate(controls["twitter"])
        upgrade(env["PUBLICIST_DATABASE_URL"])
        steps = _seed(_provision(server, controls), _media(workdir))
        steps.append(SPAN_END)
        console.print(
            f"[bold]Publicist demo[/] in {workdir}: the reference scenario from "
            f"{SPAN_START:%d %B} to {SPAN_END:%d %B %Y} on the X, Weibo, WeChat, TikTok and "
            f"Douyin simulators at {server.root_url}, replayed in {len(steps)} steps of "
            "virtual time"
        )
        worker = _start_worker(env, workdir)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("replaying", total=len(steps))
            for moment in steps:
                progress.update(task, description=f"{moment:%Y-%m-%d}")
                _step(moment, clock_file=clock_file, controls=controls, worker=worker)
                progress.advance(task)
            progress.update(task, description="replayed April to December")
        _stop(worker.process)
        worker = None
        yield Replay(workdir=workdir, env=env, controls=controls)
        failed = False
    finally:
        if worker is not None:
            _stop(worker.process)
        for control in controls.values():
            control.close()
        server.stop()
        dispose_engines()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()
        if keep or failed:  # a failed replay keeps its worker log for reading
            console.print(f"demo files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_demo(*, keep: bool, serve_port: int | None = None) -> None:
    """Replay the scenario and print its reports against the platforms' counters; with
    ``serve_port``, then serve the workspace on its data until Ctrl-C, so a newcomer's first
    look is the dashboard full of the reference scenario."""
    with replayed(keep=keep) as replay:
        _print_reports(replay.controls)
        if serve_port is not None:
            _serve_workspace(replay.env, replay.workdir, serve_port)


def _calibrate(control: SimulatorControl) -> None:
    """The X account's interaction rates, so its 80 articles draw about the annual report's
    88,000 interactions from their 2 million views (a modelling choice, as the simulator's)."""
    rates = control.engagement()["rates"]
    control.engagement(rates={name: rate * X_INTERACTION_SCALE for name, rate in rates.items()})


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
    _print_period(controls)


def platform_truth(controls: dict[str, SimulatorControl]) -> dict[tuple[str, str], list[int]]:
    """The platforms' own counters per (platform, month a post went out, Shanghai time):
    posts, views and interactions (every counter but views), summed from the simulators."""
    truth: dict[tuple[str, str], list[int]] = {}
    for platform, control in controls.items():
        counters = control.truth()["per_post"]
        for post in control.posts():
            month = datetime.fromisoformat(post["created_at"]).astimezone(SHANGHAI)
            values = dict(counters[post["remote_id"]])
            views = values.pop("views", 0)
            row = truth.setdefault((platform, f"{month:%Y-%m}"), [0, 0, 0])
            row[0] += 1
            row[1] += views
            row[2] += sum(values.values())
    return truth


def report_by_month(report: PeriodReport) -> dict[tuple[str, str], list[int | None]]:
    """The period report's posts, views (``None``: not given) and interactions, keyed as
    :func:`platform_truth`'s."""
    ours: dict[tuple[str, str], list[int | None]] = {}
    for month in report.months:
        for row in month.totals.platforms:
            ours[(row.platform, month.key)] = [row.published, row.views, row.interactions]
    return ours


def _print_period(controls: dict[str, SimulatorControl]) -> None:
    """The April–December period report per month, against the platforms' counters."""
    start, end = SPAN_START.date(), SPAN_END.date()
    with session_scope() as session:
        english = period_report(session, start=start, end=end, language="en")
        chinese = period_report(session, start=start, end=end, language="zh_CN")
        x_account = session.scalars(select(Account).where(Account.handle == "@IPRinCN")).one()
        sentences = [
            period_report(session, start=start, end=end, account=x_account, language=language)
            for language in ("en", "zh_CN")
        ]
    truth = platform_truth(controls)
    ours = report_by_month(english)
    table = Table(
        "month", "platform", "posts", "views", "interactions", "platform's own",
        title=f"period report {start} to {end}, per month",
    )  # fmt: skip
    matched = set(truth) == {key for key, (posts, _, _) in ours.items() if posts}
    for key in sorted(truth, key=lambda k: (k[1], PLATFORMS.index(k[0]))):
        posts, views, interactions = ours.get(key, [0, 0, 0])
        real = truth[key]
        same = [posts, interactions] == [real[0], real[2]] and views in (None, real[1])
        matched &= same
        table.add_row(
            key[1],
            key[0],
            str(posts),
            "n/a" if views is None else f"{views:,}",
            f"{interactions:,}",
            "same" if same else f"differs: {real[0]} posts, {real[1]:,}, {real[2]:,}",
        )
    console.print(table)
    for report in (*sentences, english, chinese):
        console.print(report.summary)
    if not matched:
        err_console.print("[bold red]the period report does not match the platforms[/]")
        raise SystemExit(1)


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
