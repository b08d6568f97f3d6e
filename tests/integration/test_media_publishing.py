"""Publishing media end to end: the worker's path, the real X connector, the X simulator.

A library image reaches X; a legacy row naming a local file fails without the file ever being
opened; a URL on an internal address fails without being fetched.
"""

from __future__ import annotations

import builtins
import functools
import http.server
import io
import threading
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
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings, get_settings, reset_settings
from scheduler.publishing import run_dispatch, run_publish
from scheduler.ratelimit import LocalRateLimiter
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer

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
def fetch_allow() -> str:
    """PUBLICIST_MEDIA_FETCH_ALLOW; a test parametrizes it to allow its own file server."""
    return ""


@pytest.fixture
def world(
    configured_db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fetch_allow: str
) -> Iterator[World]:
    monkeypatch.setenv("PUBLICIST_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("PUBLICIST_MEDIA_FETCH_ALLOW", fetch_allow)
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


@pytest.fixture
def files(tmp_path: Path) -> Iterator[str]:
    """A plain file server on 127.0.0.1 serving ``tmp_path / "files"``."""
    (tmp_path / "files").mkdir()
    handler = functools.partial(Quiet, directory=str(tmp_path / "files"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.mark.parametrize("fetch_allow", ["127.0.0.1/32"])
def test_the_allow_list_setting_lets_the_worker_fetch_from_a_local_server(
    world: World, files: str
) -> None:
    (world.workdir / "files" / "poster.png").write_bytes(PNG)
    schedule([{"kind": "image", "url": f"{files}/poster.png"}])
    delivery = publish(world)
    assert delivery.state is DeliveryState.PUBLISHED, delivery.last_error
    (uploaded,) = world.server.sims["twitter"].posts[str(delivery.remote_id)].extra["media_ids"]
    assert world.server.sims["twitter"].objects[f"media:{uploaded}"]["total_bytes"] == len(PNG)
