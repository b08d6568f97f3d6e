"""The one place where HTTP failures become typed connector errors.

Platform modules send every request through :func:`send` with a ``classify`` function that
recognises the platform's own error envelope (X problem JSON, Weibo ``error_code``, WeChat
``errcode`` on HTTP 200, TikTok ``error.code``). Transport failures are mapped here, once.
"""

from __future__ import annotations

import email.utils
import functools
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.errors import ConnectorError, OutcomeUnknown, RateLimited, TransientError
from publicist import __version__

USER_AGENT = f"Publicist/{__version__} (+https://github.com/publicist)"
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)

Classifier = Callable[[httpx.Response], ConnectorError | None]

# One request under DEFAULT_TIMEOUT when each phase nearly times out: pool wait, connect,
# one write stall, one read stall. A large body written slowly but steadily can take longer.
LONGEST_REQUEST_SECONDS = 70.0


class CreationWindow:
    """Until when (``time.monotonic()``) a request that creates a post may start.

    Mutable: whoever keeps the attempt's lease alive moves ``deadline`` on, or closes the
    window when the lease is lost.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def close(self) -> None:
        self.deadline = float("-inf")


_creation_window: ContextVar[CreationWindow | None] = ContextVar("creation_window", default=None)


@contextmanager
def creation_window(window: CreationWindow) -> Iterator[CreationWindow]:
    """Within this block, a request that creates a post must start before ``window`` closes.

    A publishing worker owns its delivery only for a lease; once the lease ends, the
    reconciler may look for the post, not find it, and publish again. A connector that is
    still uploading media then must not go on to create the post: past the deadline,
    :func:`send` refuses creating requests before anything reaches the platform, so the
    attempt ends as a transient error that is safe to retry. Per thread and task, through a
    context variable, so no connector needs to know about leases.
    """
    token = _creation_window.set(window)
    try:
        yield window
    finally:
        _creation_window.reset(token)


@contextmanager
def creation_deadline(seconds: float) -> Iterator[CreationWindow]:
    """A :func:`creation_window` that closes ``seconds`` from now."""
    with creation_window(CreationWindow(time.monotonic() + seconds)) as window:
        yield window


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One SSL context per process: loading the CA bundle costs ~22 ms of CPU per client,
    more than the rest of a publish (profiled, docs/benchmarks.md); a built context is
    read-only and safe to share between threads and clients."""
    return httpx.create_ssl_context()


def make_client(
    base_url: str,
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    max_connections: int = 20,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A pooled client for one connector instance; ``base_url`` selects real API or simulator."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=10)
    return httpx.Client(
        base_url=base_url,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        transport=transport or httpx.HTTPTransport(verify=shared_ssl_context(), limits=limits),
    )


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    platform: str,
    classify: Classifier,
    creates: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request and return a successful response, or raise a typed error.

    ``creates`` marks a request that creates something on the platform: if its response is
    lost after the request went out, the outcome is unknown and must be reconciled; and it is
    not sent at all once the attempt's :func:`creation_window` has closed.
    """
    if creates:
        window = _creation_window.get()
        if window is not None and time.monotonic() > window.deadline:
            raise TransientError(
                "the attempt ran out of its time before the post was created; nothing was sent",
                platform=platform,
            )
    try:
        response = client.request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransientError(
            f"cannot reach the platform ({type(exc).__name__})", platform=platform
        ) from exc
    except httpx.TransportError as exc:
        # The request may have been received and acted on before the connection broke.
        error_type = OutcomeUnknown if creates else TransientError
        raise error_type(f"response lost ({type(exc).__name__})", platform=platform) from exc
    problem = classify(response)
    if problem is not None:
        raise problem
    if response.status_code == 429:
        raise RateLimited(
            "HTTP 429 Too Many Requests",
            platform=platform,
            code="429",
            retry_at=retry_after(response),
        )
    if response.status_code in (502, 504) and creates:
        raise OutcomeUnknown(
            f"HTTP {response.status_code} from a gateway",
            platform=platform,
            code=str(response.status_code),
        )
    if response.status_code >= 500:
        raise TransientError(
            f"HTTP {response.status_code}", platform=platform, code=str(response.status_code)
        )
    if response.status_code >= 400:
        raise ConnectorError(
            f"unexpected HTTP {response.status_code}: {_excerpt(response)}",
            platform=platform,
            code=str(response.status_code),
        )
    return response


def retry_after(response: httpx.Response, *, now: datetime | None = None) -> datetime | None:
    """The moment a throttled request may be retried, from ``Retry-After`` if present."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    moment = now or datetime.now(UTC)
    if value.strip().isdigit():
        return moment + timedelta(seconds=int(value.strip()))
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or ``None`` when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def data_object(response: httpx.Response, *, path: str, platform: str) -> dict[str, Any]:
    """The ``data`` object of a JSON envelope (TikTok, Douyin); a missing one is an error."""
    envelope = json_body(response)
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if not isinstance(data, dict):
        raise ConnectorError(
            f"{path} answered HTTP {response.status_code} without a data object",
            platform=platform,
            code=str(response.status_code),
        )
    return data


def _excerpt(response: httpx.Response) -> str:
    text = response.text
    return text if len(text) <= 200 else text[:197] + "..."
