"""``/docs`` is served from Publicist itself: same-origin files only, no inline script, no CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.web.conftest import Api


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.urls.append(found["src"] or "")
            else:
                self.inline_scripts += 1
        if tag == "link" and found.get("href"):
            self.urls.append(found["href"] or "")


def test_the_docs_page_loads_only_its_own_files(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assets = _Assets()
    assets.feed(page.text)
    assert assets.inline_scripts == 0
    assert len(assets.urls) == 3
    for url in assets.urls:
        assert url.startswith("/static/"), url
        served = api.client.get(url)
        assert served.status_code == 200, url
        assert served.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
    assert "//" not in page.text.replace("<!doctype html>", "")


def test_the_docs_page_policy_names_no_other_origin(api: Api) -> None:
    policy = api.client.get("/docs").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    for sources in directives.values():
        for source in sources.split():
            assert re.fullmatch(r"'(self|none|unsafe-inline)'|data:", source), source


def test_the_schema_is_still_served_and_redoc_is_gone(api: Api) -> None:
    assert api.client.get("/openapi.json").json()["info"]["title"] == "Publicist"
    assert api.client.get("/redoc").status_code == 404
    assert api.client.get("/static/vendor/README.md").status_code == 200
