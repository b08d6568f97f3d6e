"""Vendored front-end files are exactly upstream's: checksums, licence and a README row each."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from publicist.web.app import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"
README = VENDOR / "README.md"


def _directories() -> list[Path]:
    found = sorted(p for p in VENDOR.iterdir() if p.is_dir())
    assert found, "no vendored package"
    return found


def _readme_rows() -> dict[str, list[str]]:
    """First cell (the directory, in backticks or not) -> the row's cells."""
    rows: dict[str, list[str]] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not cells or set(cells[0]) <= {"-", " ", ":"} or cells[0] == "directory":
            continue
        rows[cells[0].strip("`")] = cells
    return rows


@pytest.mark.parametrize("directory", _directories(), ids=lambda p: p.name)
def test_every_file_matches_its_checksum_and_every_file_is_listed(directory: Path) -> None:
    sums = directory / "SHA256SUMS"
    assert sums.is_file(), f"{directory.name} has no SHA256SUMS"
    listed: dict[str, str] = {}
    for line in sums.read_text(encoding="ascii").splitlines():
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        assert match, f"{directory.name}/SHA256SUMS: not sha256sum format: {line!r}"
        listed[match.group(2)] = match.group(1)
    present = {
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    }
    assert present == set(listed), f"{directory.name}: files and SHA256SUMS differ"
    for name, digest in listed.items():
        actual = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        assert actual == digest, f"{directory.name}/{name} was changed"


@pytest.mark.parametrize("directory", _directories(), ids=lambda p: p.name)
def test_every_package_has_its_licence_and_a_readme_row(directory: Path) -> None:
    licences = [p for p in directory.iterdir() if p.name.upper().startswith(("LICENSE", "LICENCE"))]
    assert licences, f"{directory.name} has no LICENSE"
    row = _readme_rows().get(directory.name)
    assert row is not None, f"{directory.name} has no row in {README.name}"
    assert all(row), f"{directory.name}: empty cell in its README row"


def test_every_readme_row_names_a_vendored_directory() -> None:
    names = {p.name for p in _directories()}
    assert set(_readme_rows()) <= names
