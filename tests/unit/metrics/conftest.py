"""Metrics tests see the platforms of ``builders`` (X, Weibo, WeChat, TikTok, mock)."""

from __future__ import annotations

import pytest

from tests.unit.metrics.builders import PLATFORMS


@pytest.fixture(autouse=True)
def known_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("metrics.platforms.capabilities_of", PLATFORMS.get)
