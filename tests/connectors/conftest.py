"""The simulator each connector test module runs against, named by its ``SIMULATED`` constant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulators.server import SimulatorServer


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[SimulatorServer]:
    """One simulator server per test module, on a free port of 127.0.0.1."""
    platform: str = request.module.SIMULATED
    with SimulatorServer([platform]) as running:
        yield running
