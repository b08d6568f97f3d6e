"""The Weibo simulator on 127.0.0.1 and connectors pointed at it, shared by the Weibo tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.base import Content, Credentials
from connectors.http import make_client
from connectors.media import MediaLoader
from connectors.weibo import WeiboConnector
from simulators.control import SimulatorControl
from simulators.harness import Simulation
from simulators.server import SimulatorServer

LINK = "https://example.com/ip-week"


@dataclass
class WeiboEnv:
    server: SimulatorServer
    control: SimulatorControl
    urls: list[str] = field(default_factory=list)
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def sim(self) -> Simulation:
        return self.server.sims["weibo"]

    @property
    def base_url(self) -> str:
        return self.server.base_url("weibo")

    def account(self, handle: str = "cnipa", **settings: Any) -> dict[str, Any]:
        return self.control.add_account(handle, **settings)

    def connector(
        self,
        credentials: dict[str, Any] | Credentials,
        connector_class: type[WeiboConnector] = WeiboConnector,
        *,
        media: MediaLoader | None = None,
    ) -> WeiboConnector:
        if isinstance(credentials, dict):
            credentials = Credentials.from_dict(credentials)
        client = make_client(self.base_url)
        client.event_hooks["request"].append(lambda request: self.urls.append(str(request.url)))
        self._clients.append(client)
        return connector_class(credentials, http=client, clock=self.sim.clock, media=media)

    def paths(self) -> list[str]:
        return [call["path"] for call in self.control.calls()]

    def knobs(self, **values: Any) -> dict[str, Any]:
        response = httpx.post(self.base_url + "/__sim/weibo", json=values, timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def close(self) -> None:
        for client in self._clients:
            client.close()


def content(text: str, *, marker: str = "pub-1", **kwargs: Any) -> Content:
    return Content(text=text, marker=marker, **kwargs)


@contextmanager
def weibo_env(server: SimulatorServer) -> Iterator[WeiboEnv]:
    """A freshly reset simulator; connectors made through it are closed afterwards."""
    control = SimulatorControl(server.base_url("weibo"))
    control.reset()
    state = WeiboEnv(server, control)
    try:
        yield state
    finally:
        state.close()
        control.close()
