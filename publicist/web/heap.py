"""Settle the server's long-lived objects before its first request, so that Python's cyclic
garbage collector stops walking them again and again.

A full collection (the oldest generation) visits every object the collector tracks. In the
API process most of those are made once at start-up and live as long as the process:
SQLAlchemy's mappers, pydantic's validators, FastAPI's routes, the compiled templates. Each
full collection walked them all inside whichever request happened to trigger it, and those
pauses were the calendar page's slowest requests in ``benchmarks/reports.py``.
:func:`gc.freeze` moves what exists at that moment into a permanent generation that the
collector skips; what requests make is still collected as before.

The youngest generation is also collected less often (:data:`YOUNG_THRESHOLD` new objects
instead of Python's 700). A page makes tens of thousands of objects; every young collection
in the middle of one moved what the page still held into the older generations, and those
objects then counted towards the next full collection although reference counting freed
them a moment later. Most of what a request makes is freed by reference counting alone.
"""

from __future__ import annotations

import gc
import threading

from campaigns.people.services import LANGUAGES
from publicist.web.templating import environment

YOUNG_THRESHOLD = 10_000
"""New objects between two collections of the youngest generation (Python's default: 700)."""

_settled = False
_lock = threading.Lock()


def compile_templates() -> None:
    """Compile every page template in every language now, not on its first request."""
    for language in LANGUAGES:
        env = environment(language)
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)


def settle() -> None:
    """Compile the templates, collect once, freeze what is left and collect the young less
    often; once per process (a second app in the same process, as in tests, changes
    nothing)."""
    global _settled
    with _lock:
        if _settled:
            return
        compile_templates()
        gc.collect()
        gc.freeze()
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
        _settled = True
