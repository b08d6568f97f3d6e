"""The API's memory housekeeping: start-up objects frozen out of full collections, and pages
that leave nothing to the cyclic garbage collector (publicist.web.heap, templating)."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator

import pytest

from publicist.web.heap import YOUNG_THRESHOLD
from publicist.web.templating import _render, environment


class Row:
    name = "row"


@pytest.fixture
def no_cyclic_collection() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# A macro with translated text, as the workspace's pages have: the translation functions
# bound to the render context make the cycle.
TEMPLATE = "{% macro shown(r) %}<b>{{ r.name }} {{ _('today') }}</b>{% endmacro %}{{ shown(row) }}"


def test_a_rendered_page_is_freed_without_the_cyclic_collector(no_cyclic_collection: None) -> None:
    template = environment("en").from_string(TEMPLATE)
    row = Row()
    alive = weakref.ref(row)
    assert _render(template, {"row": row}) == "<b>row today</b>"
    del row
    assert alive() is None


def test_jinjas_own_render_leaves_the_page_to_the_cyclic_collector(
    no_cyclic_collection: None,
) -> None:
    """What _render avoids (the cycle through the macro): if this stops holding, the
    workaround can go."""
    template = environment("en").from_string(TEMPLATE)
    row = Row()
    alive = weakref.ref(row)
    template.render(row=row)
    del row
    assert alive() is not None
    gc.collect()
    assert alive() is None


def test_settling_freezes_the_start_up_objects_and_collects_the_young_less_often() -> None:
    script = (
        "import gc; from publicist.web import heap; heap.settle(); heap.settle(); "
        "print(gc.get_freeze_count(), gc.get_threshold()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    frozen, young = (int(part) for part in done.stdout.split())
    assert frozen > 10_000
    assert young == YOUNG_THRESHOLD
