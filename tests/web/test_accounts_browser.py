"""The accounts page in a real browser: an admin clicks "Connect X", presses Allow on the X
simulator's consent page and finds the account listed as connected; disabling an account
shows the deliveries it cancels first; both languages, desktop and phone widths.

Playwright drives Debian's chromium (``executable_path``; no browser download); the X and
Weibo simulators run on 127.0.0.1 beside ``publicist api``. Screenshots go to a temporary
folder; ``PUBLICIST_UPDATE_DOCS_SCREENSHOT=1`` also copies them into ``docs/``.
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

import pytest
from playwright.sync_api import Browser, Page, expect

from campaigns.accounts import create_account
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import CampaignInput, PostInput
from campaigns.services import add_post, create_campaign
from connectors.base import Credentials
from publicist.core.clock import system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import reset_settings
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests.conftest import TEST_SECRET
from tests.web.browsing import REPO, stop_process, wait_for_url
from tests.web.test_workspace_browser import UNLABELLED

PASSWORD = "correct horse battery"
ADMIN = "li.na@example.org"
DOCS = {
    "accounts-en.png": "workspace-accounts.png",
    "accounts-en-phone.png": "workspace-accounts-phone.png",
    "accounts-zh.png": "workspace-accounts-zh.png",
    "accounts-zh-phone.png": "workspace-accounts-zh-phone.png",
}


WIDEST = """() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 3).map((e) => e.outerHTML.slice(0, 160))"""


@dataclass
class Site:
    url: str
    shots: Path
    log: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("accounts")
    url = f"sqlite:///{workdir / 'publicist.db'}"
    now = system_clock.now()
    with SimulatorServer(["twitter"]) as simulators:
        x_base = simulators.base_url("twitter")
        control = SimulatorControl(x_base)
        try:
            app = control.add_account("@IPRinCN")
        finally:
            control.close()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PUBLICIST_DATABASE_URL", url)
            patch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
            reset_settings()
            dispose_engines()
            upgrade(url)
            with session_scope() as session:
                create_account(
                    session,
                    platform="mock",
                    handle="cnipa",
                    credentials=Credentials(access_token="token-abc", extra={"store": "memory"}),
                    secret=TEST_SECRET,
                    now=now,
                )
                create_account(
                    session,
                    platform="weibo",
                    handle="国家知识产权局",
                    credentials=Credentials(
                        access_token="2.00abc", expires_at=now + timedelta(days=4), user_id="1"
                    ),
                    secret=TEST_SECRET,
                    now=now,
                )
                create_campaign(
                    session,
                    data=CampaignInput(name="IP Creates a Better Life", timezone="Asia/Shanghai"),
                    default_timezone="Asia/Shanghai",
                    now=now,
                )
                for hours, text in (
                    (30, "知识产权宣传周开幕"),
                    (54, "How a patent reaches your home"),
                ):
                    add_post(
                        session,
                        data=PostInput(
                            campaign="IP Creates a Better Life",
                            text=text,
                            accounts=["mock:cnipa"],
                            at=(now + timedelta(hours=hours)).isoformat(),
                        ),
                        now=now,
                        approve=True,
                    )
                add_person(
                    session,
                    name="李娜 Li Na",
                    email=ADMIN,
                    role=Role.ADMIN,
                    password=PASSWORD,
                    now=now,
                )
            dispose_engines()
        env = {
            **os.environ,
            "PUBLICIST_DATABASE_URL": url,
            "PUBLICIST_SECRET_KEY": TEST_SECRET,
            "PUBLICIST_X_CLIENT_ID": str(app["client_id"]),
            "PUBLICIST_X_CLIENT_SECRET": str(app["client_secret"]),
            "PUBLICIST_X_API_BASE": x_base,
            "PUBLICIST_X_AUTH_BASE": x_base,
        }
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
            yield Site(address, shots, log)
            written = log.read_text()
            assert PASSWORD not in written
            assert str(app["client_secret"]) not in written
            assert "/accounts/callback/twitter?state=[redacted]&code=[redacted]" in written
        finally:
            stop_process(process)
            dispose_engines()
            reset_settings()


def _sign_in(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/signin?next=/accounts")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(f"{site.url}/accounts")


def _check_layout(page: Page) -> None:
    assert page.evaluate(UNLABELLED) == [], page.url
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        wide = page.evaluate(WIDEST)
        assert sizes[0] <= sizes[1], f"{page.url} scrolls sideways at {width} px: {sizes} {wide}"


def _shoot(page: Page, site: Site, name: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=site.shots / f"{name}.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=site.shots / f"{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_admin_connects_x_by_clicking_allow(site: Site, browser: Browser) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, site)
        expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
        expect(page.locator("[data-k=lapsing]")).to_contain_text("国家知识产权局")
        page.get_by_role("button", name="Connect X", exact=True).click()
        expect(page.get_by_role("button", name="Allow")).to_be_visible()  # the simulator's page
        expect(page.locator("#handle")).to_have_text("@IPRinCN")
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"{site.url}/accounts?connected=*")
        expect(page.locator("[data-k=connected]")).to_contain_text("twitter:IPRinCN")
        row = page.locator("tr", has=page.locator("td.handle", has_text="IPRinCN"))
        expect(row.locator("[data-k=health]")).to_have_text("Connected")
        expect(row).to_contain_text("refreshes automatically")
        weibo = page.locator("tr", has=page.locator("td.handle", has_text="国家知识产权局"))
        expect(weibo).to_contain_text("cannot be refreshed: reconnect before then")
        _check_layout(page)
        _shoot(page, site, "accounts-en")

        page.get_by_role("link", name="Connect WeChat 微信公众号").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Connect a WeChat Official Account"
        )
        expect(page.locator("section.wechat")).to_contain_text("IP allow-list")
        expect(page.get_by_label("AppSecret (开发者密码)")).to_have_attribute("type", "password")
        _check_layout(page)
        _shoot(page, site, "accounts-wechat-en")
    finally:
        context.close()


def test_disabling_lists_the_deliveries_it_cancels_in_chinese(site: Site, browser: Browser) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, site)
        page.locator("form.language select").select_option("zh_CN")
        page.locator("form.language button").click()
        expect(page.get_by_role("heading", name="账号", exact=True)).to_be_visible()
        row = page.locator("tr", has=page.locator("td.handle", has_text="cnipa"))
        row.get_by_role("link", name="停用 cnipa").click()
        deliveries = page.locator("[data-k=deliveries] tbody tr")
        expect(deliveries).to_have_count(2)
        expect(deliveries.first).to_contain_text("知识产权宣传周开幕")
        _check_layout(page)
        page.screenshot(path=site.shots / "accounts-zh-confirm.png", full_page=True)
        page.get_by_role("button", name="停用并取消这些发布").click()
        page.wait_for_url(f"{site.url}/accounts?done=disable")
        expect(page.locator("[data-k=done]")).to_be_visible()
        expect(row.locator("[data-k=health]")).to_have_text("已停用")
        _check_layout(page)
        _shoot(page, site, "accounts-zh")
    finally:
        context.close()
        _copy_to_docs(site.shots)


def _copy_to_docs(shots: Path) -> None:
    if os.environ.get("PUBLICIST_UPDATE_DOCS_SCREENSHOT") != "1":
        return
    for name, target in DOCS.items():
        if (shots / name).exists():
            shutil.copyfile(shots / name, REPO / "docs" / target)
    print(f"screenshots in {shots}")
