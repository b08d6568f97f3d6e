"""A starting worker loads what a launch's first publish would otherwise load mid-burst."""

from __future__ import annotations

import subprocess
import sys


def test_a_ready_worker_has_its_connectors_http_stack_and_mappers_loaded() -> None:
    # A fresh interpreter: this test process has long imported all of it.
    probe = (
        "import sys\n"
        "from celery.signals import worker_ready\n"
        "import scheduler.tasks\n"
        "from connectors.http import shared_ssl_context\n"
        "from sqlalchemy import inspect\n"
        "from campaigns.models import Delivery\n"
        "assert 'connectors.twitter' not in sys.modules\n"
        "worker_ready.send(sender=None)\n"
        "assert {'connectors.twitter', 'connectors.weibo', 'httpcore'} <= set(sys.modules)\n"
        "assert shared_ssl_context.cache_info().currsize == 1\n"
        "assert inspect(Delivery).configured\n"
        "print('warm')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "warm"
