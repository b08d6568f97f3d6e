"""Counting what a chart module draws, for the tests of its kept drawings."""

from __future__ import annotations

import pytest

from metrics import plotting


def count_drawings(monkeypatch: pytest.MonkeyPatch, module: str) -> list[int]:
    """A list that grows by one each time ``module`` turns a figure into SVG (it still does)."""
    drawn: list[int] = []

    def counted(*args: object, **kwargs: object) -> str:
        drawn.append(1)
        return plotting.to_svg(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(f"{module}.to_svg", counted)
    return drawn
