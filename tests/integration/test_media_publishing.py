"""Publishing media end to end: the worker's path, the real X connector, the X simulator.

A library image reaches X; a legacy row naming a local file fails without the file ever being
opened; a URL on an internal address fails without being fetched.
"""

from __future__ import annotations

import builtins
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from campaigns.accounts import create_account
from campaigns.media import add_media_file
from campaigns.models import Delivery, Post
from campaigns.schemas import CampaignInput, PostInput
from campaigns.services import add_post, create_campaign
from campaigns.states import DeliveryState
from connectors.base import Credentials
from connectors.simulators.control import SimulatorControl
from connectors.simulators.server import SimulatorServer
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings, get_settings, reset_settings
from scheduler.ratelimit import LocalRateLimiter
from scheduler.work import run_dispatch, run_publish

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000


@dataclass
class World:
    settings: Settings
    server: SimulatorServer
    control: SimulatorControl
    clock: FrozenClock
    workdir: Path


@pytest.fixture
def world(
    configured_db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv("PUBLICIST_MEDIA_DIR", str(tmp_path / "media"))
    reset_settings()
    settings = get_settings()
    with SimulatorServer(["twitter"]) as server:
        control = SimulatorControl(server.base_url("twitter"))
        provisioned = control.add_account("@IPRinCN")
        with session_scope() as session:
            create_account(
                session,
                platform="twitter",
                handle="@IPRinCN",
                credentials=Credentials.from_dict(provisioned),
                secret=settings.encryption_key(),
                now=NOW,
                api_base_url=server.base_url("twitter"),
            )
            create_campaign(
                session,
                data=CampaignInput(name="IP Week"),
                default_timezone="Asia/Shanghai",
                now=NOW,
            )
        try:
            yield World(settings, server, control, FrozenClock(NOW), tmp_path)
        finally:
            control.close()


def schedule(media: list[dict[str, Any]]) -> int:
    with session_scope() as session:
        post = add_post(
            session,
            data=PostInput(
                campaign="IP Week",
                text="IP Week opens today",
                accounts=["twitter:@IPRinCN"],
                at=(NOW + timedelta(seconds=1)).isoformat(),
                media=media,
            ),
            now=NOW,
            approve=True,
        )
        return post.id


def publish(world: World) -> Delivery:
    world.clock.advance(timedelta(seconds=2))
    queued: list[tuple[int, int]] = []
    run_dispatch(
        settings=world.settings,
        clock=world.clock,
        enqueue=lambda claims: queued.extend((c.delivery_id, c.ticket) for c in claims),
    )
    (delivery_id, ticket), *_ = queued
    run_publish(
        delivery_id=delivery_id,
        ticket=ticket,
        settings=world.settings,
        clock=world.clock,
        limiter=LocalRateLimiter(),
    )
    with session_scope() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        session.expunge(delivery)
        return delivery


def uploads(world: World) -> list[str]:
    return [c["path"] for c in world.control.calls(limit=1000) if "/media/" in c["path"]]


def test_a_library_image_is_published_to_x(world: World) -> None:
    poster = world.workdir / "poster.png"
    poster.write_bytes(PNG)
    with session_scope() as session:
        media_id = add_media_file(
            session, path=poster, media_dir=world.settings.media_dir, name=None, now=NOW
        ).id
    schedule([{"kind": "image", "media_id": media_id, "alt_text": "The IP Week poster"}])
    delivery = publish(world)
    assert delivery.state is DeliveryState.PUBLISHED, delivery.last_error
    sim = world.server.sims["twitter"]
    (uploaded,) = sim.posts[str(delivery.remote_id)].extra["media_ids"]
    stored = sim.objects[f"media:{uploaded}"]
    assert (stored["media_type"], stored["total_bytes"]) == ("image/png", len(PNG))
    assert stored["alt_text"] == "The IP Week poster"


def test_a_legacy_row_naming_a_local_file_fails_without_opening_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = world.workdir / "publicist.key"
    key.write_text("the encryption key")
    post_id = schedule([{"kind": "image", "url": "https://cdn.example.com/poster.png"}])
    with session_scope() as session:
        post = session.get(Post, post_id)
        assert post is not None
        post.media = [{"kind": "image", "source": str(key)}]  # as stored before the library
    opened: list[str] = []
    real_open = io.open

    def watching(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watching)
    monkeypatch.setattr(io, "open", watching)
    delivery = publish(world)
    monkeypatch.undo()
    assert delivery.state is DeliveryState.FAILED
    assert "is no longer accepted" in (delivery.last_error or "")
    assert str(key) not in (delivery.last_error or "")
    assert str(key) not in opened
    assert uploads(world) == []
    assert world.control.posts() == []


def test_a_url_on_an_internal_address_fails_without_being_fetched(world: World) -> None:
    internal = world.server.base_url("twitter") + "/__sim/posts"
    schedule([{"kind": "image", "url": internal}])
    delivery = publish(world)
    assert delivery.state is DeliveryState.FAILED
    assert "resolves to a loopback address" in (delivery.last_error or "")
    assert "fetched only from public addresses" in (delivery.last_error or "")
    assert uploads(world) == []
    assert world.control.posts() == []
    with session_scope() as session:
        assert session.scalars(select(Post)).one().media == [{"kind": "image", "url": internal}]
