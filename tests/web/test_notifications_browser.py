"""The notification pages in a real browser: an admin adds a chat channel (shown redacted)
and a webhook (a private address refused until allowed; its secret shown once) and reads
the delivery log; a person chooses events and a digest with the keyboard, in Chinese; an
editor is refused the admin page. No page scrolls sideways at 390 px; every control is
labelled.

Screenshots go to a temporary folder; ``PUBLICIST_UPDATE_DOCS_SCREENSHOT=1`` also copies
them into ``docs/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from campaigns.events.channels import add_channel
from campaigns.events.fanout import record_webhook_attempt
from campaigns.events.kinds import EventKind
from campaigns.events.models import Subscription, WebhookDelivery
from campaigns.events.services import record_event
from campaigns.events.webhooks import add_webhook
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from publicist.core.clock import system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import reset_settings
from tests.conftest import TEST_SECRET
from tests.web.browsing import REPO, stop_process, wait_for_url
from tests.web.test_workspace_browser import UNLABELLED

PASSWORD = "correct horse battery"
ADMIN = "li.na@example.org"
EDITOR = "wang.wei@example.org"
SMTP_PASSWORD = "Smtp-Pa55word"
CHAT_TOKEN = "b0t7oKen1234567890abcdef"


@dataclass
class Site:
    url: str
    shots: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("notify")
    url = f"sqlite:///{workdir / 'publicist.db'}"
    now = system_clock.now()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBLICIST_DATABASE_URL", url)
        patch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
        reset_settings()
        dispose_engines()
        upgrade(url)
        with session_scope() as session:
            for email, name, role in (
                (ADMIN, "李娜 Li Na", Role.ADMIN),
                (EDITOR, "王伟 Wang Wei", Role.EDITOR),
            ):
                add_person(session, name=name, email=email, role=role, password=PASSWORD, now=now)
            add_channel(
                session,
                name="办公室邮件 Office mail",
                url=f"mailtos://publicist:{SMTP_PASSWORD}@smtp.example.org?from=publicist@example.org",
                secret=TEST_SECRET,
                now=now,
            )
            add_webhook(
                session,
                url="https://93.184.216.34/publicist/events",
                kinds=[],
                allow_private=False,
                secret=TEST_SECRET,
                now=now,
            )
            record_event(session, kind=EventKind.DELIVERY_FAILED, reason="refused", now=now)
            session.add(
                WebhookDelivery(
                    event_id=1,
                    target_id=1,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            session.flush()
            record_webhook_attempt(
                session, delivery_id=1, status_code=500, error="answered HTTP 500", now=now
            )
            record_webhook_attempt(session, delivery_id=1, status_code=200, error=None, now=now)
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
            yield Site(address, shots)
            written = log.read_text()
            assert SMTP_PASSWORD not in written
            assert CHAT_TOKEN not in written
        finally:
            stop_process(process)
            dispose_engines()
    reset_settings()


def _sign_in(page: Page, site: Site, email: str, target: str) -> None:
    page.goto(f"{site.url}/signin?next={target}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(f"{site.url}{target}")


def _check_and_shoot(page: Page, site: Site, name: str) -> None:
    """Every control labelled, no sideways scroll at 1280 and 390 px, a screenshot of each."""
    assert page.evaluate(UNLABELLED) == [], page.url
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert sizes[0] <= sizes[1], f"{page.url} scrolls sideways at {width} px: {sizes}"
        shot = site.shots / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("PUBLICIST_UPDATE_DOCS_SCREENSHOT") == "1":
            shutil.copy(shot, REPO / "docs" / shot.name)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_an_admin_adds_a_channel_and_a_webhook_and_reads_the_log(
    site: Site, browser: Browser, locale: str
) -> None:
    chinese = locale == "zh-CN"
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, site, ADMIN, "/admin/notifications")
    suffix = "zh" if chinese else "en"

    page.locator("#channel-name").fill(f"Team chat {suffix}")
    page.locator("#channel-url").fill(f"slack://T1JJ3T3L2/A1BRTD4JD/{CHAT_TOKEN}/#general")
    page.locator("#channel-url").press("Enter")
    page.wait_for_url(f"{site.url}/admin/notifications")
    channels = page.locator("[data-k=channels]").inner_text()
    assert f"Team chat {suffix}" in channels
    assert CHAT_TOKEN not in page.content()
    assert SMTP_PASSWORD not in page.content()

    page.locator("#webhook-url").fill(f"http://10.20.30.40/{suffix}")
    page.get_by_role("button", name="添加 Webhook" if chinese else "Add webhook").click()
    error = page.locator("[data-k=error]").inner_text()
    assert "10.20.30.40" in error
    assert "private" in error
    page.locator("#allow-private").check()
    page.get_by_role("button", name="添加 Webhook" if chinese else "Add webhook").click()
    secret = page.locator("[data-k=new-secret]").input_value()
    assert secret.startswith("whsec_")
    assert f"http://10.20.30.40/{suffix}" in page.locator("[data-k=webhooks]").inner_text()
    log = page.locator("[data-k=log]").inner_text()
    assert "500" in log
    assert "200" in log
    assert ("发布失败" if chinese else "Delivery failed") in log
    _check_and_shoot(page, site, f"notifications-admin-{suffix}")

    page.goto(f"{site.url}/admin/notifications")
    assert secret not in page.content()  # shown once
    context.close()


def test_a_person_chooses_events_and_a_digest_with_the_keyboard_in_chinese(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, site, EDITOR, "/settings/notifications")
    assert page.locator("h1").inner_text() == "通知"
    mail = page.locator("form.subscription").first
    mail.get_by_label("发布失败").focus()
    page.keyboard.press("Space")
    mail.get_by_label("结果未知").focus()
    page.keyboard.press("Space")
    digest = mail.get_by_label("汇总间隔（分钟）")
    digest.fill("15")
    digest.press("Enter")
    page.wait_for_url(f"{site.url}/settings/notifications?saved=1")
    assert page.locator("[data-k=notice]").inner_text() == "已保存。"
    assert page.locator("form.subscription").first.get_by_label("发布失败").is_checked()
    _check_and_shoot(page, site, "notifications-settings-zh")
    with session_scope() as session:
        (subscription,) = session.scalars(select(Subscription)).all()
        assert sorted(subscription.kinds) == ["delivery_failed", "outcome_unknown"]
        assert subscription.digest_minutes == 15

    # The browser stops a digest over a day (max=1440); the server refuses it too.
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    refused = httpx.post(
        f"{site.url}/settings/notifications",
        data={"csrf_token": token or "", "channel_id": "1", "digest": "99999"},
        cookies=cookies,
    )
    assert refused.status_code == 422
    assert "digest_minutes" in refused.text

    page.goto(f"{site.url}/admin/notifications")
    assert page.locator("[data-k=problem]").inner_text() == "只有管理员可以管理通知渠道和 Webhook。"
    context.close()


def test_the_english_settings_page_and_a_form_without_its_token(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, site, EDITOR, "/settings/notifications")
    assert page.locator("h1").inner_text() == "Notifications"
    _check_and_shoot(page, site, "notifications-settings-en")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    refused = httpx.post(
        f"{site.url}/settings/notifications",
        data={"channel_id": "1", "kind-delivery_failed": "on", "digest": "0"},
        cookies=cookies,
    )
    assert refused.status_code == 403
    context.close()
