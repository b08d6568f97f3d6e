"""The dashboard in a real browser: ``publicist api`` serves it, headless Chromium renders it,
and every number a person would read equals the API's JSON.

Chromium is Debian's package (``apt-get install chromium``; ``.ci/run`` installs it). Without
it this test fails, so a missing browser can never pass silently. Set
``PUBLICIST_UPDATE_DOCS_SCREENSHOT=1`` to also refresh ``docs/dashboard.png`` for the README.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from publicist.core.database import dispose_engines, session_scope
from publicist.core.settings import Settings
from publicist.web.tokens import Role, create_token
from tests.conftest import TEST_SECRET
from tests.web.browsing import REPO, chromium, stop_process, wait_for_url
from tests.web.seed import START, Seeded

BROWSER_SECONDS = 90


@dataclass
class Server:
    url: str
    token: str
    seeded: Seeded
    log: Path

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def server(
    seeded_db: tuple[Settings, Seeded], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    settings, seeded = seeded_db
    workdir = tmp_path_factory.mktemp("api")
    with session_scope() as session:
        token = create_token(session, role=Role.VIEWER, name="browser", now=START).secret
    dispose_engines()  # the server process opens the SQLite file on its own
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
        yield Server(url=url, token=token, seeded=seeded, log=log)
    finally:
        stop_process(process)


def browse(url: str, profile: Path, *extra: str) -> str:
    """Run headless Chromium once on ``url`` (no downloads, no background traffic)."""
    profile.mkdir(parents=True, exist_ok=True)
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    result = subprocess.run(
        command, capture_output=True, timeout=BROWSER_SECONDS, check=False, cwd=profile
    )
    if result.returncode != 0:
        pytest.fail(f"chromium failed ({result.returncode}):\n{result.stderr.decode()[-3000:]}")
    return result.stdout.decode("utf-8")


class Shown(HTMLParser):
    """What the page shows for each ``data-k`` key (its text), plus link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "a" and self._open and self._open[-1][1]:
            self.links[self._open[-1][1] or ""] = attributes.get("href") or ""
        if tag in ("br", "img", "input", "meta", "link", "rect", "circle", "line"):
            return
        key = attributes.get("data-k")
        if key is not None:
            self.values[key] = ""
        self._open.append((tag, key if key is not None else self._current()))

    def _current(self) -> str | None:
        return self._open[-1][1] if self._open else None

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        key = self._current()
        if key is not None:
            self.values[key] += data


def number(text: str) -> int | None:
    text = text.strip()
    return None if text == "n/a" else int(text.replace(",", ""))


def rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def test_the_page_shows_the_apis_numbers(server: Server, tmp_path: Path) -> None:
    seeded = server.seeded
    page_url = f"{server.url}/dashboard?token={server.token}&campaign={seeded.campaign_id}"
    dom = browse(page_url, tmp_path / "profile", "--dump-dom")
    shown = Shown()
    shown.feed(dom)
    assert shown.scripts == 0
    assert shown.values.get("selected-campaign") == "IP Creates a Better Life", dom[:2000]

    for summary in server.api("/api/reports/campaigns"):
        key = f"campaign-{summary['campaign_id']}"
        for field in ("published", "failed", "views", "interactions"):
            assert number(shown.values[f"{key}-{field}"]) == summary[field], (key, field)
        assert shown.values[f"{key}-engagement"] == rate(summary["engagement_rate"])

    report = server.api(f"/api/reports/campaigns/{seeded.campaign_id}", top=10)
    assert number(shown.values["total-published"]) == report["published"]
    assert number(shown.values["total-views"]) == report["views"]
    assert number(shown.values["total-interactions"]) == report["interactions"]
    assert number(shown.values["total-failed"]) == report["failed"] + report["unknown"]
    assert number(shown.values["total-attention"]) == report["attention"] == 1
    assert shown.values["total-engagement"] == rate(report["engagement_rate"])
    for platform in report["platforms"]:
        key = f"platform-{platform['platform']}"
        for field in ("scheduled", "published", "failed", "views", "interactions"):
            assert number(shown.values[f"{key}-{field}"]) == platform[field], (key, field)
    assert len(report["top_posts"]) == 10
    for index, post in enumerate(report["top_posts"], start=1):
        assert number(shown.values[f"top-{index}-interactions"]) == post["interactions"]
        assert number(shown.values[f"top-{index}-views"]) == post["views"]
        assert shown.links[f"top-{index}-url"] == post["url"]

    failures = server.api(f"/api/reports/campaigns/{seeded.campaign_id}/failures")
    assert number(shown.values["failures-count"]) == len(failures) == 1
    assert shown.values[f"failure-{failures[0]['delivery_id']}-state"] == "failed"

    for account in server.api("/api/reports/accounts"):
        key = f"account-{account['account_id']}"
        for field in ("published", "views", "interactions"):
            assert number(shown.values[f"{key}-{field}"]) == account[field], (key, field)

    # The chart of views and interactions over time is drawn inline (matplotlib's SVG), one
    # line per platform and counter, in a wide and a narrow (phone) variant.
    assert 'id="series-series-views-mock"' in dom
    assert 'id="series-narrow-series-interactions-mock"' in dom

    # The token was used once, for the redirect that set the cookie; the log never shows it.
    assert server.token not in server.log.read_text()


def test_a_screenshot_of_the_dashboard(server: Server, tmp_path: Path) -> None:
    page_url = f"{server.url}/dashboard?token={server.token}&campaign={server.seeded.campaign_id}"
    picture = tmp_path / "dashboard.png"
    browse(
        page_url,
        tmp_path / "profile",
        f"--screenshot={picture}",
        "--window-size=1280,2400",
    )
    data = picture.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a rendered page, not a blank one
    if os.environ.get("PUBLICIST_UPDATE_DOCS_SCREENSHOT") == "1":
        target = REPO / "docs" / "dashboard.png"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(picture, target)


def test_the_api_docs_render_from_publicists_own_files(server: Server, tmp_path: Path) -> None:
    """/docs runs the vendored Swagger UI under a policy that allows only its own origin;
    had the policy blocked a script, no operation would be drawn."""
    dom = browse(
        f"{server.url}/docs", tmp_path / "profile", "--virtual-time-budget=15000", "--dump-dom"
    )
    assert 'data-path="/api/posts/{post_id}/approve"' in dom, dom[:2000]
    assert 'data-path="/api/reports/campaigns"' in dom
