"""The simulator each connector test module runs against, named by its ``SIMULATED`` constant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.server import SimulatorServer
from tests.connectors.library import Library


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[SimulatorServer]:
    """One simulator server per test module, on a free port of 127.0.0.1."""
    platform: str = request.module.SIMULATED
    with SimulatorServer([platform]) as running:
        yield running


@pytest.fixture
def library(tmp_path: Path) -> Library:
    """A media library folder of this test's own, and the loader connectors read it with."""
    return Library(tmp_path / "library")
