"""A slow attempt outlives its lease while the database is away, and is taken over.

X answers every request in 10 s, so a post with an image needs three upload requests
(30 s) before the one that creates it. PostgreSQL stops just after the attempt starts and
comes back only after the attempt's lease has ended: the worker cannot renew meanwhile.
The worker is frozen across the database's return, so that a second worker's reconciler
surely takes the delivery over before the old attempt's lease keeper tries again (in
production either may come first), and thawed as soon as it has. The old attempt, still
uploading, must then never create the post (its renewals and results are refused), and the
reconciler must not ask the platform while the old attempt could still be sending: the
delivery is published once.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from campaigns.accounts import create_account
from campaigns.media import add_media_file
from campaigns.models import Delivery
from campaigns.schemas import PostInput
from campaigns.services import add_post
from campaigns.states import DeliveryState
from connectors.base import Credentials
from publicist.core.database import session_scope
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests import factories
from tests.faults.rig import Stack, all_settled, check_exactly_once, wait_for
from tests.faults.scenario import CAMPAIGN
from tests.faults.services import PrivatePostgres

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

LATENCY_SECONDS = 10.0
LEASE_SECONDS = 22.0
MARGIN_SECONDS = 11.0
"""Longer than any request of this run (one simulator latency); the lease holds it twice."""
# A 1x1 PNG: X takes it in one upload chunk (initialize, append, finalize: three requests).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _one_post_with_an_image(
    engine: Engine, control: SimulatorControl, *, base_url: str, image: Path, media_dir: Path
) -> dict[int, str]:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        factories.campaign(session, name=CAMPAIGN, now=now)
        poster = add_media_file(session, path=image, media_dir=media_dir, name=None, now=now)
        # No duplicate check: X would refuse a second copy of the text, and hide the double
        # (other platforms, and a text that differs by a link, have none).
        granted = control.add_account("@cnipa_slow", duplicate_window_seconds=0)
        account = create_account(
            session,
            platform="twitter",
            handle="@cnipa_slow",
            credentials=Credentials.from_dict(granted),
            secret=factories.SECRET,
            now=now,
            api_base_url=base_url,
        )
        add_post(
            session,
            data=PostInput(
                campaign=CAMPAIGN,
                text=f"IP Week poster (run {uuid.uuid4().hex[:8]})",
                accounts=["twitter:@cnipa_slow"],
                at=(now + timedelta(seconds=4)).isoformat(),
                media=[{"kind": "image", "media_id": poster.id}],
            ),
            now=now,
            approve=True,
        )
        return {account.id: str(granted["account_id"])}


def _lease_if_publishing(engine: Engine) -> datetime | None:
    """The delivery's lease while it is ``publishing``; a take-over moves it on."""
    with session_scope(engine) as session:
        state, lease = session.execute(select(Delivery.state, Delivery.lease_until)).one()
        return lease if state is DeliveryState.PUBLISHING else None


def test_a_taken_over_attempt_never_posts_after_a_database_outage(
    stack: Stack,
    database: tuple[str, Engine],
    private_postgres: PrivatePostgres,
    simulator: SimulatorServer,
    control: SimulatorControl,
    tmp_path: Path,
) -> None:
    _, engine = database
    image = tmp_path / "poster.png"
    image.write_bytes(PNG)
    media_dir = tmp_path / "media"
    remote = _one_post_with_an_image(
        engine,
        control,
        base_url=simulator.base_url("twitter"),
        image=image,
        media_dir=media_dir,
    )
    stack.env |= {
        "PUBLICIST_MEDIA_DIR": str(media_dir),
        "PUBLICIST_PUBLISH_LEASE_SECONDS": str(LEASE_SECONDS),
        "PUBLICIST_PUBLISH_CREATION_MARGIN_SECONDS": str(MARGIN_SECONDS),
    }
    control.faults(latency_ms=LATENCY_SECONDS * 1000)
    stack.start()
    wait_for(
        lambda: _lease_if_publishing(engine) is not None,
        what="the attempt to start",
        timeout=60,
        stack=stack,
        poll=0.1,
    )
    began = time.monotonic()
    lease = _lease_if_publishing(engine)
    stack.start_helper()  # the first worker holds the attempt; this one will reconcile
    time.sleep(1.5)
    private_postgres.stop()
    # Back just after the lease has ended, with the old attempt still uploading its image.
    time.sleep(max(0.0, began + LEASE_SECONDS + 1 - time.monotonic()))
    stack.freeze_worker()
    private_postgres.start()
    wait_for(
        lambda: _lease_if_publishing(engine) != lease,
        what="the reconciler to take the delivery over",
        timeout=60,
        stack=stack,
        poll=0.2,
    )
    stack.thaw_worker()
    wait_for(lambda: all_settled(engine), what="the delivery to settle", timeout=240, stack=stack)
    # The old attempt's create request, had it been sent, would have landed by now.
    time.sleep(LATENCY_SECONDS + 2)
    stack.stop()
    verdict = check_exactly_once(engine, control, remote_account=remote)
    assert verdict.published == 1, verdict.states
