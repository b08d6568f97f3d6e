"""Third-party connectors arrive through the ``publicist.connectors`` entry-point group."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from connectors import registry
from connectors.base import Content

PLUGIN = """
from typing import ClassVar

from connectors.base import BaseConnector, Capabilities, MediaKind


class MastodonConnector(BaseConnector):
    capabilities: ClassVar[Capabilities] = Capabilities(
        platform="mastodon",
        display_name="Mastodon",
        max_text_length=500,
        text_length_rule="characters",
        media_kinds=frozenset({MediaKind.IMAGE}),
        max_media=4,
        metrics_batch_size=40,
        publishes_async=False,
        interaction_counters=("likes", "shares", "comments"),
    )
    default_base_url: ClassVar[str] = "https://mastodon.example"
"""


def _install(site: Path, name: str, module_source: str, entry: str) -> None:
    """What ``pip install`` leaves behind: the module and a dist-info with entry points."""
    (site / f"{name}.py").write_text(textwrap.dedent(module_source), encoding="utf-8")
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[publicist.connectors]\n{entry}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("publicist_mastodon", "publicist_broken"):
        sys.modules.pop(name, None)
    registry.load.cache_clear()  # forget the uninstalled plugin


def test_an_installed_plugin_is_discovered_loaded_and_validates(site: Path) -> None:
    _install(site, "publicist_mastodon", PLUGIN, "mastodon = publicist_mastodon:MastodonConnector")
    assert "mastodon" in registry.available()
    connector = registry.load("mastodon")
    assert connector.capabilities.display_name == "Mastodon"
    problems = connector.validate(Content(text="x" * 10))
    assert problems == []
    assert [v.field for v in connector.validate(Content(text=" "))] == ["text"]


def test_a_broken_plugin_is_reported_without_hiding_the_others(site: Path) -> None:
    _install(site, "publicist_mastodon", PLUGIN, "mastodon = publicist_mastodon:MastodonConnector")
    _install(site, "publicist_broken", "raise ImportError('needs a missing SDK')\n",
             "broken = publicist_broken:Nothing")  # fmt: skip
    loaded, broken = registry.load_all()
    assert {"mastodon", "twitter", "weibo", "wechat", "tiktok", "mock"} <= set(loaded)
    assert "needs a missing SDK" in broken["broken"]
    with pytest.raises(registry.ConnectorLoadError, match="broken"):
        registry.load("broken")


def test_an_unknown_platform_gets_a_did_you_mean(site: Path) -> None:
    with pytest.raises(registry.UnknownPlatform, match="did you mean 'twitter'"):
        registry.load("twiter")


def test_publicist_connectors_lists_the_plugin_with_its_limits(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from publicist.cli.runtime import connectors

    _install(site, "publicist_mastodon", PLUGIN, "mastodon = publicist_mastodon:MastodonConnector")
    connectors()
    out = capsys.readouterr().out
    assert "mastodon" in out
    assert "500" in out


def test_every_built_in_connector_is_declared_by_its_entry_point_only() -> None:
    assert not hasattr(registry, "BUILTIN")
    declared = {e.name for e in entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert {"mock", "twitter", "weibo", "wechat", "tiktok", "douyin"} <= declared


def test_the_lookup_scans_entry_points_once_per_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.load.cache_clear()
    scans: list[str] = []
    real = registry._declared

    def counting() -> dict[str, str]:
        scans.append("scan")
        return real()

    monkeypatch.setattr(registry, "_declared", counting)
    first = registry.load("twitter")
    assert registry.load("twitter") is first
    assert scans == ["scan"]
    registry.load.cache_clear()
