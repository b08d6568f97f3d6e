"""The calendar in a real browser: an approver reads it in Chinese and in English, moves a post
with the panel's form (keyboard only) and another by drag and drop, and the page never
scrolls sideways at 360 px.

Playwright drives Debian's chromium (``executable_path``; no browser download). The server
runs on the real clock, so the plan is made in the coming weeks. Screenshots go to a
temporary folder; ``PUBLICIST_UPDATE_DOCS_SCREENSHOT=1`` also copies them into ``docs/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from campaigns.accounts import create_account
from campaigns.models import Post
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import CampaignInput, PostInput, VariantInput
from campaigns.services import add_post, cancel_post, create_campaign
from connectors.base import Credentials
from publicist.core.clock import system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import reset_settings
from tests.conftest import TEST_SECRET
from tests.web.browsing import REPO, stop_process, wait_for_url
from tests.web.test_workspace_browser import UNLABELLED

PASSWORD = "correct horse battery"
EDITOR = "zhang.min@example.org"
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass
class Plan:
    url: str
    campaign_id: int
    monday: date
    """A Monday at least a day ahead: the week every post of the plan is in."""
    form_post: int
    drag_post: int
    shots: Path
    secrets: list[str]
    """Feed secrets handed out during the tests: none may reach the server's log."""

    def post_day(self, post_id: int) -> date:
        with session_scope() as session:
            post = session.get(Post, post_id)
            assert post is not None
            assert post.publish_at is not None
            return post.publish_at.astimezone(ZONE).date()


def _account(session: object, platform: str, handle: str, now: datetime) -> None:
    create_account(
        session,  # type: ignore[arg-type]
        platform=platform,
        handle=handle,
        credentials=Credentials(access_token="token-abc", extra={"store": "memory"}),
        secret=TEST_SECRET,
        now=now,
    )


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plan]:
    workdir = tmp_path_factory.mktemp("calendar")
    url = f"sqlite:///{workdir / 'publicist.db'}"
    now = system_clock.now()
    today = now.astimezone(ZONE).date()
    monday = today + timedelta(days=7 - today.weekday())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBLICIST_DATABASE_URL", url)
        patch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
        reset_settings()
        dispose_engines()
        upgrade(url)
        with session_scope() as session:
            _account(session, "mock", "@IPRinCN", now)
            _account(session, "mock", "cnipa", now)
            campaign = create_campaign(
                session,
                data=CampaignInput(name="IP Creates a Better Life", timezone="Asia/Shanghai"),
                default_timezone="Asia/Shanghai",
                now=now,
            )
            add_person(
                session,
                name="张敏 Zhang Min",
                email=EDITOR,
                role=Role.APPROVER,
                password=PASSWORD,
                now=now,
            )

            def post(day: int, at: str, text: str, accounts: list[str], **extra: object) -> int:
                return add_post(
                    session,
                    data=PostInput(
                        campaign="IP Creates a Better Life",
                        text=text,
                        accounts=accounts,
                        at=f"{monday + timedelta(days=day)} {at}",
                        **extra,  # type: ignore[arg-type]
                    ),
                    now=now,
                    approve=True,
                ).id

            both = ["mock:@IPRinCN", "mock:cnipa"]
            form_post = post(
                0,
                "09:30",
                "How a patent reaches your home",
                both,
                variants={"mock": VariantInput(text="专利如何走进千家万户：一项发明的旅程")},
            )
            drag_post = post(1, "14:00", "地理标志产品走上餐桌", ["mock:cnipa"])
            post(2, "10:00", "World IP Day: live from the exhibition", ["mock:@IPRinCN"])
            gone = post(3, "16:30", "知识产权宣传周开幕式直播（已取消）", ["mock:cnipa"])
            cancel_post(session, post_id=gone, now=now)
            post(4, "08:00", "创新改变生活：十个小发明", both)
            campaign_id = campaign.id
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
            secrets: list[str] = []
            yield Plan(address, campaign_id, monday, form_post, drag_post, shots, secrets)
            written = log.read_text()
            assert PASSWORD not in written
            assert secrets
            assert "GET /calendar/feeds/[redacted].ics" in written
            for secret in secrets:
                assert secret not in written
        finally:
            stop_process(process)
            dispose_engines()
    reset_settings()


def _sign_in(page: Page, plan: Plan, target: str) -> None:
    page.goto(f"{plan.url}/signin?next={target}")
    page.locator("#email").fill(EDITOR)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(f"{plan.url}{target.replace('%26', '&')}")


def _no_sideways_scroll(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"{page.url} scrolls sideways at {width} px: {sizes}"


def test_an_approver_moves_posts_by_keyboard_and_by_drag_and_drop_in_chinese(
    plan: Plan, browser: Browser
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        target = f"/calendar?campaign={plan.campaign_id}%26start={plan.monday}"
        _sign_in(page, plan, target)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        expect(page.get_by_role("heading", name="日历", exact=True)).to_be_visible()
        page.screenshot(path=plan.shots / "calendar-zh.png", full_page=True)

        # Keyboard: open the post's panel from its entry, type a new day and time, submit.
        entry = page.locator(f"li.entry[data-post='{plan.form_post}'] a").first
        entry.focus()
        page.keyboard.press("Enter")
        expect(page.locator("[data-k=panel-title]")).to_contain_text(f"内容 {plan.form_post}")
        new_day = plan.monday + timedelta(days=2)
        page.get_by_label("日期").fill(new_day.isoformat())
        page.get_by_label("时间", exact=True).fill("11:15")
        page.get_by_label("时间", exact=True).press("Enter")
        expect(page.locator("[data-k=notice]")).to_contain_text("已改期到")
        expect(
            page.locator(f"li.day[data-date='{new_day}'] li.entry[data-post='{plan.form_post}']")
        ).to_have_count(2)
        assert plan.post_day(plan.form_post) == new_day

        # A time the clocks never skip in Shanghai, but one already past, is refused in Chinese.
        page.get_by_label("日期").fill((plan.monday - timedelta(days=30)).isoformat())
        page.get_by_label("时间", exact=True).fill("09:00")
        page.get_by_role("button", name="改期", exact=True).click()
        expect(page.locator("[data-k=notice]")).to_contain_text("已经过去")
        assert plan.post_day(plan.form_post) == new_day

        # Drag and drop: the other post to the Friday of the same week.
        friday = plan.monday + timedelta(days=4)
        page.locator(f"li.entry[data-post='{plan.drag_post}']").drag_to(
            page.locator(f"li.day[data-date='{friday}']")
        )
        expect(page.locator("[data-k=notice]")).to_contain_text("已改期到")
        expect(
            page.locator(f"li.day[data-date='{friday}'] li.entry[data-post='{plan.drag_post}']")
        ).to_have_count(1)
        assert plan.post_day(plan.drag_post) == friday

        page.locator(f"li.entry[data-post='{plan.drag_post}'] a").click()
        expect(page.locator("[data-k=panel-title]")).to_be_visible()
        page.screenshot(path=plan.shots / "calendar-zh-panel.png", full_page=True)
        for width in (360, 390):
            _no_sideways_scroll(page, width)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=plan.shots / "calendar-zh-phone.png", full_page=True)
    finally:
        context.close()


def test_the_calendar_in_english_on_a_desktop_and_a_phone(plan: Plan, browser: Browser) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        target = f"/calendar?campaign={plan.campaign_id}%26start={plan.monday}"
        _sign_in(page, plan, target)
        assert page.locator("html").get_attribute("lang") == "en"
        expect(page.get_by_role("heading", name="Calendar", exact=True)).to_be_visible()
        expect(page.locator("li.entry.state-cancelled .badge").first).to_have_text("cancelled")
        # The filter form applies in place (htmx): only the cancelled post is left.
        page.get_by_label("state").select_option("cancelled")
        expect(page.locator("li.entry")).to_have_count(1)
        page.get_by_label("state").select_option("")
        expect(page.locator("li.entry.state-scheduled").first).to_be_visible()
        page.get_by_label("View").select_option("month")
        expect(page.locator("[data-k=period]")).to_have_text(f"{plan.monday:%Y-%m}")
        page.get_by_label("View").select_option("week")
        expect(page.locator("[data-k=period]")).to_contain_text(str(plan.monday))
        page.locator("li.entry.state-scheduled a").first.click()
        expect(page.locator("[data-k=panel-title]")).to_be_visible()
        assert page.evaluate(UNLABELLED) == []  # every control has a label or its own text
        page.screenshot(path=plan.shots / "calendar-en.png", full_page=False)

        # The feed: made on the page, read by a calendar client without signing in.
        page.get_by_role("button", name="Make a feed address").click()
        address = page.get_by_label("New feed address (copy it now, it is not shown again)")
        feed_url = address.input_value()
        plan.secrets.append(feed_url.rsplit("/", 1)[1].removesuffix(".ics"))
        feed = httpx.get(feed_url, timeout=30)
        assert feed.status_code == 200
        assert feed.text.count("BEGIN:VEVENT") == 7  # one per delivery of the week
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
        assert httpx.get(feed_url, timeout=30).status_code == 404
        for width in (360, 390):
            _no_sideways_scroll(page, width)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=plan.shots / "calendar-en-phone.png", full_page=True)
        _copy_to_docs(plan.shots)
    finally:
        context.close()


DOCS = {"calendar-en.png": "calendar.png", "calendar-zh-phone.png": "calendar-phone.png"}
"""The README shows the desktop page in English and the phone page in Chinese."""


def _copy_to_docs(shots: Path) -> None:
    if os.environ.get("PUBLICIST_UPDATE_DOCS_SCREENSHOT") != "1":
        return
    for name, target in DOCS.items():
        if (shots / name).exists():
            shutil.copyfile(shots / name, REPO / "docs" / target)
    print(f"screenshots in {shots}")
