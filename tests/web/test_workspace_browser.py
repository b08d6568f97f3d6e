"""The workspace in a real browser: people sign in, in Chinese and in English, read the
dashboard on a desktop and a phone, are refused a forged form, and sign out.

Playwright drives Debian's chromium (``executable_path``; no browser download). Screenshots at
phone and desktop widths go to a temporary folder; ``PUBLICIST_UPDATE_DOCS_SCREENSHOT=1``
also copies the dashboard's into ``docs/`` for the README.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from campaigns.people.roles import Role
from campaigns.people.services import add_person
from publicist.core.database import dispose_engines, session_scope
from publicist.core.settings import Settings
from publicist.web.tokens import create_token
from tests.conftest import TEST_SECRET
from tests.web.browsing import REPO, stop_process, wait_for_url
from tests.web.seed import START, Seeded

PASSWORD = "correct horse battery"
PEOPLE = {
    Role.VIEWER: ("王伟 Wang Wei", "wang.wei@example.org"),
    Role.ADMIN: ("Li Na", "li.na@example.org"),
}


@dataclass
class Workspace:
    url: str
    token: str
    seeded: Seeded
    shots: Path

    def api(self, path: str) -> Any:
        response = httpx.get(
            self.url + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def workspace(
    seeded_db: tuple[Settings, Seeded], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    settings, seeded = seeded_db
    workdir = tmp_path_factory.mktemp("workspace")
    with session_scope() as session:
        for role, (name, email) in PEOPLE.items():
            add_person(session, name=name, email=email, role=role, password=PASSWORD, now=START)
        token = create_token(session, role=Role.VIEWER, name="api check", now=START).secret
    dispose_engines()
    log = workdir / "api.log"
    env = {
        **os.environ,
        "PUBLICIST_DATABASE_URL": settings.database_url,
        "PUBLICIST_SECRET_KEY": TEST_SECRET,
    }
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
        url = wait_for_url(process, log)
        shots = workdir / "screenshots"
        shots.mkdir()
        yield Workspace(url=url, token=token, seeded=seeded, shots=shots)
        assert PASSWORD not in log.read_text()
    finally:
        stop_process(process)


def _no_sideways_scroll(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"{page.url} scrolls sideways at {width} px: {overflow}"


UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')]
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                   && !(e.textContent || '').trim())
    .map((e) => e.outerHTML)"""


def _every_control_labelled(page: Page) -> None:
    assert page.evaluate(UNLABELLED) == [], page.url


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/signin")
    page.get_by_label(_LABELS[page.locator("html").get_attribute("lang") or "en"]).fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(f"{url}/dashboard")


_LABELS = {"en": "E-mail", "zh-CN": "电子邮箱"}
CASES = [
    pytest.param(Role.VIEWER, "zh-CN", id="viewer-chinese"),
    pytest.param(Role.ADMIN, "en-US", id="admin-english"),
]


@pytest.mark.parametrize(("role", "locale"), CASES)
def test_a_person_signs_in_reads_the_dashboard_and_signs_out(
    workspace: Workspace, browser: Browser, role: Role, locale: str
) -> None:
    name, email = PEOPLE[role]
    chinese = locale.startswith("zh")
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{workspace.url}/signin")
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if chinese else "en")
        for width in (360, 390):
            _no_sideways_scroll(page, width)
        _every_control_labelled(page)
        page.set_viewport_size({"width": 1280, "height": 900})
        _sign_in(page, workspace.url, email)
        _every_control_labelled(page)

        assert page.locator("[data-k=person-name]").inner_text() == name
        role_shown = page.locator("[data-k=person-role]").inner_text()
        assert role_shown == ({"viewer": "查看者"}[role.value] if chinese else role.value)
        heading = "宣传活动" if chinese else "Campaigns"
        assert page.get_by_role("heading", name=heading, exact=True).is_visible()
        for summary in workspace.api("/api/reports/campaigns"):
            key = f"campaign-{summary['campaign_id']}"
            for field in ("published", "views", "interactions"):
                shown = page.locator(f"[data-k={key}-{field}]").inner_text()
                assert shown == f"{summary[field]:,}", (key, field)
        assert page.evaluate("() => typeof htmx") == "object"  # our vendored copy, no CDN

        # A forged request from a script without the session's CSRF token is refused ...
        forged = page.evaluate(
            """async () => (await fetch('/account/language', {method: 'POST',
                headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                body: 'language=en&next=/dashboard'})).status"""
        )
        assert forged == 403
        # ... while htmx sends the token from the page's hx-headers by itself.
        other = "en" if chinese else "zh_CN"
        page.evaluate(
            """(language) => new Promise((done) => {
                document.body.addEventListener('htmx:afterRequest', done, {once: true});
                htmx.ajax('POST', '/account/language',
                    {values: {language: language, next: '/dashboard'}, target: '#content',
                     select: '#content', swap: 'outerHTML'});
            })""",
            other,
        )
        page.reload()
        assert page.locator("html").get_attribute("lang") == ("en" if chinese else "zh-CN")
        # And back with the header's form, by keyboard-accessible controls.
        page.get_by_label("Language" if chinese else "语言").select_option(
            "zh_CN" if chinese else "en"
        )
        page.locator("form.language button").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if chinese else "en")

        suffix = "zh" if chinese else "en"
        page.screenshot(path=workspace.shots / f"dashboard-{suffix}.png", full_page=True)
        for width in (360, 390):
            _no_sideways_scroll(page, width)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=workspace.shots / f"dashboard-{suffix}-phone.png", full_page=True)
        _copy_to_docs(workspace.shots, suffix)

        page.get_by_role("button", name="退出登录" if chinese else "Sign out").click()
        page.wait_for_url(f"{workspace.url}/signin")
        page.goto(f"{workspace.url}/dashboard")
        assert page.locator("#email").is_visible()  # asked to sign in again
    finally:
        context.close()


DOCS = {
    "dashboard-en.png": "workspace-dashboard.png",
    "dashboard-zh-phone.png": "workspace-dashboard-phone.png",
}
"""The README shows the desktop page in English and the phone page in Chinese."""


def _copy_to_docs(shots: Path, suffix: str) -> None:
    if os.environ.get("PUBLICIST_UPDATE_DOCS_SCREENSHOT") != "1":
        return
    for name, target in DOCS.items():
        source = shots / name
        if suffix in name and source.exists():
            shutil.copyfile(source, REPO / "docs" / target)


def test_a_wrong_password_is_refused_in_the_browser(workspace: Workspace, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{workspace.url}/signin")
        page.locator("#email").fill(PEOPLE[Role.ADMIN][1])
        page.locator("#password").fill("not the password")
        page.locator("form[action='/signin'] button[type=submit]").click()
        assert "do not match" in page.locator("[data-k=signin-error]").inner_text()
        assert page.url == f"{workspace.url}/signin"
    finally:
        context.close()
