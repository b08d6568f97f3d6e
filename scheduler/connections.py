"""Connectors for the worker's tasks, with what is costly to build made once per process.

A new ``httpx.Client`` loads the CA bundle into a fresh SSL context: about 22 ms of CPU, more
than the rest of a publish together; and looking a connector up in the registry scans the
installed entry points. A publish worker did both for every task (profiled in
``benchmarks/timeliness.py``, see docs/benchmarks.md). Here the SSL context (thread-safe,
read-only once built) and the connector classes are kept for the process, while each task
still gets its own client and connections, closed when it is done, as
:func:`campaigns.accounts.open_connector` gives them.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache

import httpx

from campaigns.accounts import read_credentials
from campaigns.models import Account
from connectors import registry
from connectors.base import Connector
from connectors.http import make_client
from publicist.core.clock import Clock, system_clock

MAX_CONNECTIONS = 20
KEEPALIVE_CONNECTIONS = 10


@cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


@lru_cache(maxsize=64)
def connector_class(platform: str) -> type[Connector]:
    """The installed connector for ``platform``, looked up once per process."""
    return registry.load(platform)


@contextmanager
def open_connector(
    account: Account, *, secret: str, clock: Clock = system_clock
) -> Iterator[Connector]:
    """A connector for ``account`` with its own HTTP client, closed on exit."""
    connector_class_ = connector_class(account.platform)
    base_url = account.api_base_url or connector_class_.default_base_url
    transport = httpx.HTTPTransport(
        verify=_ssl_context(),
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=KEEPALIVE_CONNECTIONS
        ),
    )
    with make_client(base_url, transport=transport) as http:
        factory = connector_class_  # the Protocol has no constructor; built-ins take these
        yield factory(
            read_credentials(account, secret=secret),
            http=http,  # type: ignore[call-arg]
            clock=clock,
        )
