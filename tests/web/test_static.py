"""Static files: our stylesheet and the vendored htmx, served by Publicist and checked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from publicist.web.templating import HTMX_PATH
from tests.web.conftest import Api

VENDOR = Path(__file__).resolve().parents[2] / "publicist" / "web" / "static" / "vendor"


def _directories() -> list[Path]:
    return sorted(p for p in VENDOR.iterdir() if p.is_dir())


@pytest.mark.parametrize("directory", _directories(), ids=lambda p: p.name)
def test_each_vendored_file_matches_its_recorded_checksum(directory: Path) -> None:
    sums = (directory / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    present = {p.name for p in directory.iterdir() if p.name != "SHA256SUMS"}
    assert set(listed) == present, "every file is listed, and only those"
    assert any(name.upper().startswith(("LICENSE", "LICENCE")) for name in present)
    for name, digest in listed.items():
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == digest, name
    package, _, version = directory.name.rpartition("-")
    readme = (VENDOR / "README.md").read_text()
    assert f"| {package} | {version} |" in readme


def test_htmx_and_the_stylesheet_are_served(api: Api) -> None:
    script = api.client.get(f"/static/{HTMX_PATH}")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.content == (VENDOR.parent / HTMX_PATH).read_bytes()
    style = api.client.get("/static/workspace.css")
    assert style.status_code == 200
    assert ":focus-visible" in style.text
    assert api.client.get("/static/../app.py").status_code == 404
