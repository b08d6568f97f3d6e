"""The whole story in a real browser, on the real stack: an editor creates a campaign and
writes a post with four platform variants (an X variant one CJK character over the limit,
then fixed) and an uploaded image; an approver approves it and moves it a few seconds ahead;
it is on the calendar; the embedded worker publishes it to the X simulator over HTTP; the
dashboard shows its views; a viewer has no composer; a forged form is refused. The key
screens again in Chinese, with screenshots at desktop and phone widths.

PostgreSQL (a throwaway database), ``publicist api`` and ``publicist run`` (worker and beat
in one process, its broker a file in a temporary folder) as subprocesses, the platform
simulators in this process; Playwright drives Debian's chromium. Set
``PUBLICIST_UPDATE_DOCS_SCREENSHOT=1`` to copy the screenshots into ``docs/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from campaigns.accounts import create_account
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from connectors.base import Credentials
from publicist import demo
from publicist.core.clock import system_clock
from publicist.core.database import make_engine, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import Settings
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests.conftest import TEST_SECRET, drop_postgres_database, postgres_database
from tests.web.browsing import REPO, stop_process, wait_for_url
from tests.web.test_workspace_browser import (
    PASSWORD,
    _every_control_labelled,
    _no_sideways_scroll,
    _sign_in,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WAIT_SECONDS = 120
SHANGHAI = ZoneInfo("Asia/Shanghai")
PLATFORMS = ["twitter", "weibo", "wechat", "tiktok"]
PEOPLE = {
    Role.EDITOR: ("张敏 Zhang Min", "zhang.min@example.org"),
    Role.APPROVER: ("Li Na", "li.na@example.org"),
    Role.VIEWER: ("王伟 Wang Wei", "wang.wei@example.org"),
}
CJK_281 = "知识产权让生活更美好" * 14 + "a"
"""140 CJK characters (2 each on X) and one letter: 281 of X's 280."""


@dataclass
class Stack:
    url: str
    workdir: Path
    shots: Path
    cover: Path
    video: Path
    weibo_domain: str
    controls: dict[str, SimulatorControl]
    processes: list[tuple[subprocess.Popen[bytes], Path]]

    def check_alive(self) -> None:
        for process, log in self.processes:
            if process.poll() is not None:
                pytest.fail(f"{log.name} exited:\n{log.read_text()[-3000:]}")


def _start(
    args: list[str], *, env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "publicist", *args],
            env=env,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("story")
    url, admin = postgres_database("publicist_story")
    engine = make_engine(url)
    server = SimulatorServer(PLATFORMS, seed=9).start()
    controls = {p: SimulatorControl(server.base_url(p)) for p in PLATFORMS}
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        upgrade(url)
        settings = Settings(database_url=url, secret_key=TEST_SECRET)
        now = system_clock.now()
        domain = ""
        with session_scope(engine) as session:
            for platform in PLATFORMS:
                handle = "@IPRinCN" if platform == "twitter" else f"cnipa-{platform}"
                provisioned = controls[platform].add_account(handle, followers=50_000)
                credentials = Credentials.from_dict(provisioned)
                if platform == "weibo":
                    domain = (credentials.extra.get("safe_domain") or "example.com").split(",")[0]
                create_account(
                    session,
                    platform=platform,
                    handle=handle,
                    credentials=credentials,
                    secret=settings.encryption_key(),
                    now=now,
                    api_base_url=server.base_url(platform),
                )
            for role, (name, email) in PEOPLE.items():
                add_person(session, name=name, email=email, role=role, password=PASSWORD, now=now)
        # Views grow an hour per second on the simulators, so one collection reads some.
        for control in controls.values():
            control.clock(speed=3600)
        env = {
            **os.environ,
            "PUBLICIST_DATABASE_URL": url,
            "PUBLICIST_SECRET_KEY": TEST_SECRET,
            "PUBLICIST_BROKER_URL": f"sqla+sqlite:///{workdir / 'broker.db'}",
            "PUBLICIST_DISPATCH_TICK_SECONDS": "0.5",
            "PUBLICIST_COLLECT_TICK_SECONDS": "1",
            "PUBLICIST_COLLECTION_SPEED": "3600",
        }
        api_log, runner_log = workdir / "api.log", workdir / "runner.log"
        api = _start(
            ["api", "--host", "127.0.0.1", "--port", "0"], env=env, cwd=workdir, log=api_log
        )
        processes.append((api, api_log))
        runner = _start(["run"], env=env, cwd=workdir, log=runner_log)
        processes.append((runner, runner_log))
        media = demo._media(workdir)
        shots = workdir / "screenshots"
        shots.mkdir()
        yield Stack(
            url=wait_for_url(api, api_log),
            workdir=workdir,
            shots=shots,
            cover=media.cover,
            video=media.video,
            weibo_domain=domain,
            controls=controls,
            processes=processes,
        )
        assert PASSWORD not in api_log.read_text()
    finally:
        for process, _ in processes:
            stop_process(process)
        for control in controls.values():
            control.close()
        server.stop()
        engine.dispose()
        drop_postgres_database(url, admin)


def _context(browser: Browser, locale: str) -> BrowserContext:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    return context


def _until(stack: Stack, page: Page, what: str, done: Callable[[], bool]) -> None:
    """Reload ``page`` until ``done``; bounded, and failing with the processes' logs."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        stack.check_alive()
        if time.monotonic() > deadline:
            tails = "\n".join(log.read_text()[-2000:] for _, log in stack.processes)
            pytest.fail(f"timed out waiting for {what}\n{tails}")
        time.sleep(1)
        page.reload()


def _shoot(stack: Stack, page: Page, name: str) -> None:
    """A screenshot at 1280 and 390 px (no sideways scrolling at either), kept in docs/ when
    asked for."""
    for width, suffix in ((1280, ""), (390, "-phone")):
        page.set_viewport_size({"width": width, "height": 900})
        _no_sideways_scroll(page, width)
        path = stack.shots / f"{name}{suffix}.png"
        page.screenshot(path=path, full_page=True)
        if os.environ.get("PUBLICIST_UPDATE_DOCS_SCREENSHOT") == "1":
            shutil.copy(path, REPO / "docs" / path.name)
    page.set_viewport_size({"width": 1280, "height": 900})


def _create_campaign(stack: Stack, page: Page, name: str, shot: str = "") -> int:
    page.goto(f"{stack.url}/campaigns")
    page.locator("[data-k=new-campaign]").click()
    if shot:
        _shoot(stack, page, shot)
    page.locator("#name").fill(name)
    page.locator("#theme").fill("IP Creates a Better Life")
    page.locator("#timezone").select_option("Asia/Shanghai")
    page.locator("#starts_on").fill("2026-04-20")
    page.locator("#ends_on").fill("2026-12-31")
    page.locator("#hashtags").fill("#IPWeek")
    _every_control_labelled(page)
    page.locator("[data-k=create-campaign]").click()
    page.wait_for_url(re.compile(r".*/campaigns/\d+\?done=created"))
    found = re.search(r"/campaigns/(\d+)", page.url)
    assert found is not None
    return int(found.group(1))


def _upload(page: Page, select: str, path: Path) -> str:
    page.locator(f'[data-k="upload-{select}"]').set_input_files(path)
    expect(page.locator("#upload-status")).to_contain_text("✓")
    value = page.locator(f"#{select}").input_value()
    assert value.isdigit()
    return value


def test_an_editor_and_an_approver_take_a_post_from_draft_to_published(
    stack: Stack, browser: Browser
) -> None:
    editor_context = _context(browser, "en-US")
    approver_context = _context(browser, "en-US")
    viewer_context = _context(browser, "en-US")
    try:
        page = editor_context.new_page()
        _sign_in(page, stack.url, PEOPLE[Role.EDITOR][1])
        campaign_id = _create_campaign(
            stack, page, "2026 National IP Publicity Week", "workspace-campaign-form"
        )

        page.locator("[data-k=write-post]").click()
        page.wait_for_url(re.compile(r".*/posts/new\?campaign=\d+"))
        page.locator("#text").fill("IP Week opens today.")
        for platform in PLATFORMS:
            handle = "@IPRinCN" if platform == "twitter" else f"cnipa-{platform}"
            page.locator(f'[data-k="account-{platform}-{handle}"]').check()
        # X: one CJK character over the limit, the counter and the message say so as one types.
        page.locator("[data-k=tab-twitter]").click()
        page.locator("#text_twitter").fill(CJK_281)
        expect(page.locator("[data-k=counter-twitter-text]")).to_contain_text("281/280")
        expect(page.locator("[data-k=messages-twitter]")).to_contain_text(
            "Too long for X: 281 of 280"
        )
        _every_control_labelled(page)
        _shoot(stack, page, "workspace-composer")
        page.locator("#text_twitter").fill(CJK_281[:-1])
        expect(page.locator("[data-k=counter-twitter-text]")).to_contain_text("280/280")
        expect(page.locator("[data-k=ok-twitter]")).to_be_visible()
        image = _upload(page, "media_twitter", stack.cover)
        expect(page.locator("#preview-twitter img[data-k=thumb]")).to_be_visible()
        # The other variants.
        page.locator("[data-k=tab-weibo]").click()
        page.locator("#text_weibo").fill("知识产权宣传周开幕")
        expect(page.locator("[data-k=messages-weibo]")).to_contain_text("Weibo needs a link")
        page.locator("#text_weibo").fill(f"知识产权宣传周开幕 https://{stack.weibo_domain}/ip-week")
        expect(page.locator("[data-k=ok-weibo]")).to_be_visible()
        page.locator("[data-k=tab-wechat]").click()
        page.locator("#title_wechat").fill("知识产权让生活更美好")
        page.locator("#digest_wechat").fill("宣传周的第一天")
        page.locator("#text_wechat").fill("宣传周今天开幕。\n欢迎参加。")
        page.locator("#media_wechat").select_option(image)
        expect(page.locator("[data-k=preview-wechat-title]")).to_have_text("知识产权让生活更美好")
        expect(page.locator("[data-k=ok-wechat]")).to_be_visible()
        page.locator("[data-k=tab-tiktok]").click()
        page.locator("#text_tiktok").fill("IP Week in 30 seconds #IPWeek")
        _upload(page, "media_tiktok", stack.video)
        expect(page.locator("[data-k=ok-tiktok]")).to_be_visible()
        # Within the day the simulated Weibo token lasts: approving refuses a post due after
        # an account's token expires ("tomorrow at 10:00" was, whenever it was before 10:00
        # in Shanghai).
        in_three_hours = datetime.now(SHANGHAI) + timedelta(hours=3)
        page.locator("#date").fill(in_three_hours.strftime("%Y-%m-%d"))
        page.locator("#time").fill(in_three_hours.strftime("%H:%M"))
        page.locator("[data-k=submit-review]").click()
        page.wait_for_url(re.compile(r".*/posts/\d+\?done=submitted"))
        found = re.search(r"/posts/(\d+)", page.url)
        assert found is not None
        post_id = int(found.group(1))
        expect(page.locator("[data-k=post-state]")).to_have_text("in review")
        expect(page.locator("[data-k=approve]")).to_have_count(0)

        # The approver, in a second browser context: approve, then a few seconds ahead.
        review = approver_context.new_page()
        _sign_in(review, stack.url, PEOPLE[Role.APPROVER][1])
        review.goto(f"{stack.url}/posts/{post_id}")
        review.locator("[data-k=approve]").click()
        review.wait_for_url(re.compile(r".*done=approve"))
        expect(review.locator("[data-k=post-state]")).to_have_text("scheduled")
        soon = datetime.now(SHANGHAI) + timedelta(seconds=20)
        review.locator("#move-date").fill(soon.strftime("%Y-%m-%d"))
        review.locator("#move-time").fill(soon.strftime("%H:%M:%S"))
        review.locator("[data-k=move]").click()
        review.wait_for_url(re.compile(r".*done=reschedule"))
        _every_control_labelled(review)
        _shoot(stack, review, "workspace-post")

        # On the calendar, and the calendar's entry opens the post.
        review.goto(f"{stack.url}/calendar?campaign={campaign_id}&view=list")
        entry = review.locator(".entry").filter(has_text="twitter:@IPRinCN")
        expect(entry).to_have_count(1)
        entry.locator("a").click()
        review.locator("[data-k=panel-open]").click()
        review.wait_for_url(f"{stack.url}/posts/{post_id}")

        # The embedded worker publishes it to the X simulator.
        row = review.locator("tr").filter(has_text="twitter:@IPRinCN")
        _until(
            stack,
            review,
            "the X delivery to be published",
            lambda: row.locator("[data-k$=-state]").inner_text() == "published",
        )
        link = row.locator("a").get_attribute("href") or ""
        posted = stack.controls["twitter"].posts()
        assert len(posted) == 1, posted
        assert posted[0]["url"] == link
        assert posted[0]["text"].startswith(CJK_281[:-1])

        # The dashboard shows its views after a collection.
        board = review
        board.goto(f"{stack.url}/dashboard")
        views = board.locator(f"[data-k=campaign-{campaign_id}-views]")
        _until(
            stack,
            board,
            "the dashboard to show views",
            lambda: (
                views.inner_text().replace(",", "").isdigit()
                and int(views.inner_text().replace(",", "")) > 0
            ),
        )

        # A viewer sees no composer; a forged form without the CSRF token is refused.
        look = viewer_context.new_page()
        _sign_in(look, stack.url, PEOPLE[Role.VIEWER][1])
        look.goto(f"{stack.url}/campaigns/{campaign_id}")
        expect(look.locator("[data-k=nav-composer]")).to_have_count(0)
        expect(look.locator("[data-k=write-post]")).to_have_count(0)
        refused = look.goto(f"{stack.url}/posts/new?campaign={campaign_id}")
        assert refused is not None
        assert refused.status == 403
        forged = page.evaluate(
            """async (id) => (await fetch('/posts/' + id + '/cancel', {method: 'POST',
                headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                body: 'comment=x'})).status""",
            post_id,
        )
        assert forged == 403
    finally:
        for context in (editor_context, approver_context, viewer_context):
            context.close()


def test_the_key_screens_in_chinese(stack: Stack, browser: Browser) -> None:
    context = _context(browser, "zh-CN")
    try:
        page = context.new_page()
        _sign_in(page, stack.url, PEOPLE[Role.EDITOR][1])
        page.goto(f"{stack.url}/campaigns/new")
        expect(page.get_by_role("heading", name="新建宣传活动")).to_be_visible()
        _shoot(stack, page, "workspace-campaign-form-zh")
        campaign_id = _create_campaign(stack, page, "地理标志故事")
        page.goto(f"{stack.url}/posts/new?campaign={campaign_id}")
        page.locator('[data-k="account-twitter-@IPRinCN"]').check()
        page.locator("#text").fill("地理标志产品走上餐桌")
        page.locator("[data-k=tab-twitter]").click()
        page.locator("#text_twitter").fill(CJK_281)
        expect(page.locator("[data-k=messages-twitter]")).to_contain_text("X 超出长度：281/280")
        _every_control_labelled(page)
        _shoot(stack, page, "workspace-composer-zh")
        page.locator("#text_twitter").fill(CJK_281[:-1])
        expect(page.locator("[data-k=ok-twitter]")).to_contain_text("可以发布到 X")
        later = datetime.now(SHANGHAI) + timedelta(days=2)
        page.locator("#date").fill(later.strftime("%Y-%m-%d"))
        page.locator("#time").fill("09:30")
        page.locator("[data-k=save-draft]").click()
        page.wait_for_url(re.compile(r".*/posts/\d+\?done=saved"))
        expect(page.locator("[data-k=notice]")).to_contain_text("已保存为草稿")
        expect(page.locator("[data-k=post-state]")).to_have_text("草稿")
        _shoot(stack, page, "workspace-post-zh")
    finally:
        context.close()
