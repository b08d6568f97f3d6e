"""Serve the simulators on 127.0.0.1: one port, one path prefix per platform.

``SimulatorServer`` runs uvicorn in a background thread (tests, the demo, benchmarks);
``publicist simulate`` runs the same app in the foreground. A platform's base URL is
``http://127.0.0.1:<port>/<platform>``; its control plane is that URL plus ``/__sim``.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Protocol, cast

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

import simulators
from simulators.harness import ConnectionDropped, Simulation


def _platform_packages() -> dict[str, str]:
    """Every platform package under ``simulators/``: adding one needs no table entry here."""
    return {
        found.name: f"simulators.{found.name}"
        for found in pkgutil.iter_modules(simulators.__path__)
        if found.ispkg
    }


PLATFORM_MODULES: dict[str, str] = _platform_packages()


class PlatformModule(Protocol):
    def new_simulation(self, *, seed: int = 1) -> Simulation: ...

    def create_app(self, sim: Simulation) -> ASGIApp: ...


class _QuietDrops(logging.Filter):
    """Cutting a connection on purpose is the point of a fault; do not log it as a crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def build_app(
    platforms: Iterable[str] = PLATFORM_MODULES,
    *,
    seed: int = 1,
    modules: Mapping[str, str] = PLATFORM_MODULES,
) -> tuple[Starlette, dict[str, Simulation]]:
    """The combined ASGI app and each platform's simulation state."""
    sims: dict[str, Simulation] = {}
    mounts: list[Mount | Route] = []
    for name in platforms:
        if name not in modules:
            known = ", ".join(sorted(modules))
            raise ValueError(f"platform: {name!r} has no simulator (simulated: {known})")
        module = cast(PlatformModule, importlib.import_module(modules[name]))
        sim = module.new_simulation(seed=seed)
        sims[name] = sim
        mounts.append(Mount(f"/{name}", app=module.create_app(sim)))

    async def index(_: Request) -> JSONResponse:
        return JSONResponse({"simulators": sorted(sims), "control": "/<platform>/__sim"})

    mounts.insert(0, Route("/", index))
    return Starlette(routes=mounts), sims


class SimulatorServer:
    """The simulators on a free port of 127.0.0.1, in a daemon thread; use as a context manager."""

    def __init__(
        self,
        platforms: Iterable[str] = PLATFORM_MODULES,
        *,
        seed: int = 1,
        port: int = 0,
        modules: Mapping[str, str] = PLATFORM_MODULES,
    ) -> None:
        self.app, self.sims = build_app(platforms, seed=seed, modules=modules)
        # IPPROTO_TCP explicitly: asyncio only disables Nagle on sockets whose proto says TCP,
        # and without it every response body waits ~40 ms for a delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        logging.getLogger("uvicorn.error").addFilter(_QuietDrops())

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, platform: str) -> str:
        return f"{self.root_url}/{platform}"

    def start(self) -> SimulatorServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    platforms: Iterable[str], *, host: str = "127.0.0.1", port: int = 8900, seed: int = 1
) -> None:
    """Run the simulators in the foreground until interrupted (``publicist simulate``)."""
    app, _ = build_app(platforms, seed=seed)
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info"}
    uvicorn.run(app, **options)
