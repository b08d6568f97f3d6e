"""Screenshots of the workspace on the demo's nine months, for the README (docs/).

Replays the reference scenario (as ``make demo``), serves the workspace on it, and has
Debian's chromium (through Playwright) photograph the dashboard and the Reports page at
1280 and 390 px in English and Chinese; the April–December PDF is saved beside them.
Usage: ``.venv/bin/python scripts/workspace_screenshots.py OUT_DIR [--docs]``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from campaigns.models import Account, Campaign
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from publicist.core.clock import system_clock
from publicist.core.database import session_scope
from publicist.demo import replayed

REPO = Path(__file__).resolve().parent.parent
EMAIL = "viewer@demo.publicist.example"
DOCS = {
    "dashboard-en-1280.png": "workspace-dashboard.png",
    "dashboard-zh-390.png": "workspace-dashboard-phone.png",
    "reports-en-1280.png": "workspace-reports.png",
    "reports-zh-390.png": "workspace-reports-phone.png",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sign_in(page: Page, url: str, password: str) -> None:
    page.goto(f"{url}/signin")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(password)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(f"{url}/dashboard")


def main(out: Path, *, docs: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with replayed() as replay:
        password = secrets.token_urlsafe(12)
        with session_scope() as session:
            add_person(
                session,
                name="Viewer Demo",
                email=EMAIL,
                role=Role.VIEWER,
                password=password,
                now=system_clock.now(),
            )
            launch = session.scalars(
                select(Campaign).where(Campaign.name == "@IPRinCN account launch")
            ).one()
            x_account = session.scalars(select(Account).where(Account.handle == "@IPRinCN")).one()
            launch_id, account_id = launch.id, x_account.id
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        api = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [sys.executable, "-m", "publicist", "api", "--host", "127.0.0.1", "--port", str(port)],
            cwd=replay.workdir,
            env={**os.environ},
        )
        try:
            for _ in range(100):
                try:
                    httpx.get(f"{url}/signin", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
                )
                for language, locale in (("en", "en-US"), ("zh", "zh-CN")):
                    context = browser.new_context(locale=locale, accept_downloads=True)
                    page = context.new_page()
                    page.set_viewport_size({"width": 1280, "height": 900})
                    _sign_in(page, url, password)
                    code = "zh_CN" if language == "zh" else "en"
                    pages = {
                        "dashboard": f"{url}/dashboard?campaign={launch_id}",
                        "reports": (
                            f"{url}/reports?from=2021-04-01&to=2021-12-31&account={account_id}"
                            f"&language={code}&format=pdf"
                        ),
                    }
                    for name, address in pages.items():
                        for width in (1280, 390):
                            page.set_viewport_size({"width": width, "height": 900})
                            page.goto(address)
                            sideways = page.evaluate(
                                "() => document.documentElement.scrollWidth > window.innerWidth"
                            )
                            if sideways:
                                print(f"{name} {language} {width}: scrolls sideways")
                            page.screenshot(
                                path=out / f"{name}-{language}-{width}.png", full_page=True
                            )
                    with page.expect_download() as download:
                        page.locator("[data-k=download]").click()
                    download.value.save_as(out / f"report-{language}.pdf")
                    context.close()
                browser.close()
        finally:
            api.terminate()
            api.wait(timeout=15)
    if docs:
        for name, target in DOCS.items():
            shutil.copyfile(out / name, REPO / "docs" / target)


if __name__ == "__main__":
    main(Path(sys.argv[1]), docs="--docs" in sys.argv[2:])
