"""What the Celery configuration promises, read from settings."""

from __future__ import annotations

import pytest

from publicist.core.settings import Settings
from scheduler.app import celery_config


def test_a_killed_worker_gives_its_message_back() -> None:
    settings = Settings(broker_url="redis://127.0.0.1:6379/0")
    config = celery_config(settings)
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    assert config["worker_prefetch_multiplier"] == 1
    # An ETA message is held unacknowledged until its time: far inside the visibility timeout.
    timeout = config["broker_transport_options"]["visibility_timeout"]
    assert timeout > 10 * settings.dispatch_lookahead_seconds


def test_task_events_are_off_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLICIST_TASK_EVENTS", raising=False)
    quiet = celery_config(Settings())
    assert quiet["worker_send_task_events"] is False
    assert quiet["task_send_sent_event"] is False

    monkeypatch.setenv("PUBLICIST_TASK_EVENTS", "true")
    monitored = celery_config(Settings())
    assert monitored["worker_send_task_events"] is True
    assert monitored["task_send_sent_event"] is True
