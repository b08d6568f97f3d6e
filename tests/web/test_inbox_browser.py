"""The inbox and the workers banner in a real browser: a failed delivery shown with its reason
in plain words and retried from its row, an unknown one confirmed live at a URL (a non-web
address refused), rows replaced in place without reloading, and the banner shown while no
dispatch has happened for over a minute and gone after one.

Playwright drives Debian's chromium (``executable_path``; no browser download). The server
runs on the real clock. Screenshots at 1280 and 390 px in English and Chinese go to a
temporary folder; ``PUBLICIST_UPDATE_DOCS_SCREENSHOT=1`` also copies two into ``docs/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from campaigns.accounts import create_account
from campaigns.heartbeat import record_tick
from campaigns.models import Delivery, Post
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import CampaignInput, PostInput
from campaigns.series import SeriesInput, create_series
from campaigns.services import add_post, create_campaign, submit_post
from campaigns.states import DeliveryState
from connectors.base import Credentials
from publicist.core.clock import system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import get_settings, reset_settings
from scheduler.publishing import run_dispatch
from tests.conftest import TEST_SECRET
from tests.web.browsing import REPO, stop_process, wait_for_url
from tests.web.inbox_data import DUPLICATE, end_as
from tests.web.test_workspace_browser import UNLABELLED

PASSWORD = "correct horse battery"
APPROVER = "li.na@example.org"
LIVE_URL = "https://x.com/IPRinCN/status/1850000000000000001"


@dataclass
class Inbox:
    url: str
    failed: int
    unknown: int
    series: int
    shots: Path

    def state(self, delivery_id: int) -> tuple[DeliveryState, str | None]:
        with session_scope() as session:
            delivery = session.get_one(Delivery, delivery_id)
            return delivery.state, delivery.url


def _account(session: object, handle: str) -> None:
    create_account(
        session,  # type: ignore[arg-type]
        platform="mock",
        handle=handle,
        credentials=Credentials(access_token="token-abc", extra={"store": "memory"}),
        secret=TEST_SECRET,
        now=system_clock.now(),
    )


def _seed() -> tuple[int, int, int]:
    now = system_clock.now()
    with session_scope() as session:
        for handle in ("@IPRinCN", "cnipa", "ipweibo"):
            _account(session, handle)
        create_campaign(
            session,
            data=CampaignInput(name="IP Creates a Better Life", timezone="Asia/Shanghai"),
            default_timezone="Asia/Shanghai",
            now=now,
        )
        add_person(
            session, name="Li Na", email=APPROVER, role=Role.APPROVER, password=PASSWORD, now=now
        )
        post = add_post(
            session,
            data=PostInput(
                campaign="IP Creates a Better Life",
                text="专利如何走进千家万户：一项发明从实验室到你家的旅程",
                accounts=["mock:@IPRinCN", "mock:cnipa", "mock:ipweibo"],
                at=(now + timedelta(hours=3)).isoformat(),
            ),
            now=now,
            approve=True,
        )
        failed, unknown, limited = sorted(post.deliveries, key=lambda d: d.id)
        end_as(failed, DeliveryState.FAILED, now=now, error=DUPLICATE, code="187", kind="duplicate")
        end_as(
            unknown,
            DeliveryState.UNKNOWN,
            now=now,
            error="the response was lost after 30 s; the platform could not be asked",
            kind="outcome_unknown",
        )
        end_as(
            limited,
            DeliveryState.SCHEDULED,
            now=now,
            error="mock: Too Many Requests",
            code="429",
            kind="rate_limited",
            retry_at=now + timedelta(hours=3, minutes=15),
        )
        late = add_post(
            session,
            data=PostInput(
                campaign="IP Creates a Better Life",
                text="World IP Day: live from the exhibition (waiting for approval)",
                accounts=["mock:cnipa"],
                at=(now + timedelta(hours=1)).isoformat(),
            ),
            now=now,
        )
        submit_post(session, post_id=late.id, now=now)
        # Its time has passed while it was in review: it expired.
        session.execute(
            update(Post).where(Post.id == late.id).values(publish_at=now - timedelta(minutes=5))
        )
        today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
        series = create_series(
            session,
            data=SeriesInput(
                post=PostInput(
                    campaign="IP Creates a Better Life",
                    text="每日一问：什么是地理标志？",
                    accounts=["mock:cnipa"],
                ),
                rule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                starts=f"{today + timedelta(days=1)} 09:30",
                until=today + timedelta(days=14),
                approve=True,
            ),
            now=now,
        )
        # The last dispatch was two minutes ago: the beat has stopped.
        record_tick(session, now=now - timedelta(minutes=2))
        return failed.id, unknown.id, series.id


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Inbox]:
    workdir = tmp_path_factory.mktemp("inbox")
    url = f"sqlite:///{workdir / 'publicist.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBLICIST_DATABASE_URL", url)
        patch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
        reset_settings()
        dispose_engines()
        upgrade(url)
        failed, unknown, series = _seed()
        dispose_engines()
        env = {**os.environ, "PUBLICIST_DATABASE_URL": url, "PUBLICIST_SECRET_KEY": TEST_SECRET}
        log = workdir / "api.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "publicist", "api", "--host", "127.0.0.1", "--port", "0"],
                env=env,
                cwd=workdir,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            address = wait_for_url(process, log)
            shots = workdir / "screenshots"
            shots.mkdir()
            yield Inbox(address, failed, unknown, series, shots)
            assert PASSWORD not in log.read_text()
        finally:
            stop_process(process)
            dispose_engines()
    reset_settings()


def _sign_in(page: Page, inbox: Inbox) -> None:
    page.goto(f"{inbox.url}/signin?next=/inbox")
    page.locator("#email").fill(APPROVER)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(f"{inbox.url}/inbox")


def _no_sideways_scroll(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"{page.url} scrolls sideways at {width} px: {sizes}"


def _look(page: Page, inbox: Inbox, name: str) -> None:
    """Screenshots at both widths; every control labelled; no sideways scroll."""
    assert page.evaluate(UNLABELLED) == []
    for width in (360, 390):
        _no_sideways_scroll(page, width)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=inbox.shots / f"{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=inbox.shots / f"{name}.png", full_page=True)


def test_the_inbox_shows_reasons_acts_in_place_and_the_banner_follows_the_dispatcher(
    inbox: Inbox, browser: Browser
) -> None:
    chinese = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        page = chinese.new_page()
        _sign_in(page, inbox)
        expect(page.get_by_role("heading", name="收件箱", exact=True)).to_be_visible()
        expect(page.locator("[data-k=workers-banner]")).to_contain_text("没有任何内容在发布")
        expect(page.locator(f"#item-deliveries-{inbox.failed} [data-k=reason]")).to_have_text(
            "平台拒绝了这条内容，因为它与最近的一条重复。"
        )
        _look(page, inbox, "inbox-zh")
        page.goto(f"{inbox.url}/series/{inbox.series}")
        expect(page.locator("[data-k=occurrence]")).to_have_count(10)
        _look(page, inbox, "series-zh")
    finally:
        chinese.close()

    english = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = english.new_page()
        _sign_in(page, inbox)
        banner = page.locator("[data-k=workers-banner]")
        expect(banner).to_contain_text("The scheduler last ran at")
        expect(banner).to_contain_text("publicist run")
        failed = page.locator(f"#item-deliveries-{inbox.failed}")
        expect(failed.locator("[data-k=reason]")).to_have_text(
            "The platform refused the post because it repeats a recent post."
        )
        failed.get_by_text("What the platform said").click()
        expect(failed.locator("[data-k=detail]")).to_contain_text(DUPLICATE)
        expect(page.locator("[data-k=inbox-count]")).to_contain_text("4")
        _look(page, inbox, "inbox-en")

        # Acting replaces the row in place: the page is not reloaded.
        page.evaluate("() => { window.notReloaded = true; }")
        failed.get_by_role("button", name="Retry now").click()
        done = page.locator(f"#item-deliveries-{inbox.failed}[data-k=inbox-done]")
        expect(done).to_contain_text("Scheduled again")
        expect(page.locator("[data-k=inbox-count]")).to_contain_text("3")
        assert inbox.state(inbox.failed)[0] is DeliveryState.SCHEDULED

        unknown = page.locator(f"#item-deliveries-{inbox.unknown}")
        expect(unknown.locator("[data-k=reason]")).to_contain_text("may or may not be live")
        unknown.get_by_label("I checked: it is live at").fill("ftp://x.com/IPRinCN/1")
        unknown.get_by_role("button", name="Confirm live").click()
        expect(page.locator(f"#item-deliveries-{inbox.unknown} [data-k=notice]")).to_contain_text(
            "is not a web address"
        )
        assert inbox.state(inbox.unknown) == (DeliveryState.UNKNOWN, None)
        unknown = page.locator(f"#item-deliveries-{inbox.unknown}")
        unknown.get_by_label("I checked: it is live at").fill(LIVE_URL)
        unknown.get_by_label("I checked: it is live at").press("Enter")
        expect(
            page.locator(f"#item-deliveries-{inbox.unknown}[data-k=inbox-done]")
        ).to_contain_text("Recorded as published")
        assert inbox.state(inbox.unknown) == (DeliveryState.PUBLISHED, LIVE_URL)
        assert page.evaluate("() => window.notReloaded") is True
        _copy_to_docs(inbox.shots)

        # A dispatch happens (what the beat does every second): the banner goes away.
        run_dispatch(settings=get_settings(), clock=system_clock, enqueue=lambda claims: None)
        dispose_engines()
        page.reload()
        expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
        expect(page.locator("[data-k=workers-banner]")).to_have_count(0)
        page.goto(f"{inbox.url}/series/{inbox.series}")
        page.locator("[data-k=occurrence]").first.click()
        expect(page.locator("[data-k=post-title]")).to_be_visible()  # its own page
        page.goto(f"{inbox.url}/series/{inbox.series}")
        _look(page, inbox, "series-en")
    finally:
        english.close()


DOCS = {"inbox-en.png": "workspace-inbox.png", "inbox-zh-phone.png": "workspace-inbox-phone.png"}
"""The README shows the desktop page in English and the phone page in Chinese."""


def _copy_to_docs(shots: Path) -> None:
    if os.environ.get("PUBLICIST_UPDATE_DOCS_SCREENSHOT") != "1":
        return
    for name, target in DOCS.items():
        shutil.copyfile(shots / name, REPO / "docs" / target)
    print(f"screenshots in {shots}")
