"""An outside package plugs in through its entry point alone, and passes the shared contract.

The example in ``examples/publicist-mastodon`` is made importable and "installed" the way
``pip install`` leaves it as far as ``importlib.metadata`` can tell: a ``.dist-info`` folder
on ``sys.path`` whose ``entry_points.txt`` is written from the example's own pyproject.toml.
Publicist's registry then finds ``mastodon`` with no line of Publicist changed, and the
shared contract suite (``tests/connectors/test_contract.py``) runs against the example's
simulator, served by the same ``SimulatorServer`` as the built-in ones.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from connectors import registry
from connectors.base import Content
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests.connectors import test_contract
from tests.connectors.contract import Case, Env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "publicist-mastodon"


def _install(site: Path) -> None:
    """Write the distribution's metadata as an installer would, from its pyproject.toml."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    lines = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    site = tmp_path_factory.mktemp("site-packages")
    _install(site)
    added = [str(site), str(EXAMPLE / "src")]
    sys.path[:0] = added
    registry.load.cache_clear()
    try:
        yield
    finally:
        for entry in added:
            sys.path.remove(entry)
        for name in [m for m in sys.modules if m.startswith("publicist_mastodon")]:
            del sys.modules[name]
        registry.load.cache_clear()


def test_without_the_package_publicist_knows_no_mastodon() -> None:
    try:
        distribution("publicist-mastodon")
    except PackageNotFoundError:
        pass
    else:
        pytest.skip("publicist-mastodon is installed in this environment")
    assert "mastodon" not in registry.available()
    with pytest.raises(registry.UnknownPlatform):
        registry.load("mastodon")


def test_the_entry_point_alone_makes_the_connector_available(installed: None) -> None:
    assert "mastodon" in registry.available()
    connector = registry.load("mastodon")
    assert connector.__module__ == "publicist_mastodon.connector"
    assert connector.capabilities.platform == "mastodon"
    loaded, broken = registry.load_all()
    assert "mastodon" in loaded
    assert broken == {}


@pytest.fixture(scope="module")
def server(installed: None) -> Iterator[SimulatorServer]:
    modules = {"mastodon": "publicist_mastodon_sim"}
    with SimulatorServer(["mastodon"], modules=modules) as running:
        yield running


@dataclass(frozen=True)
class MastodonCase(Case):
    def content(self, env: Env, n: int) -> Content:
        return Content(text=f"Contract toot {n}: IP creates a better life", marker=f"c{n}")


MASTODON = MastodonCase(
    slug="mastodon",
    handle="@cnipa",
    settings={"access_lifetime": 30 * 86_400},
    finish_seconds=0,
    duplicates_refused=False,
    same_marker_same_post=True,
    unknown_id="109999999999999999",
    unknown_submission=None,
)


@pytest.fixture
def env(server: SimulatorServer, tmp_path: Path) -> Iterator[Env]:
    control = SimulatorControl(server.base_url(MASTODON.slug))
    control.reset()
    control.clock(speed=0)
    made = Env(MASTODON, server, control, tmp_path)
    yield made
    made.close()
    control.close()


# The shared contract, collected here against the example's simulator (the built-in list
# check is the one test that is about Publicist's own connectors).
globals().update(
    {
        name: test
        for name, test in vars(test_contract).items()
        if name.startswith("test_")
        and name != "test_every_built_in_connector_is_in_the_contract_list"
    }
)
