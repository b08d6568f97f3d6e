"""Media loading, in one place for every connector: library files and public URLs only.

A post's media is either an item of Publicist's media library (a file the library stored
under a name it chose, read from the directory the caller gives the loader) or an http(s)
URL, fetched here: the host is resolved and every address checked public at fetch time,
the request goes to the checked address (so DNS cannot switch it afterwards), redirects are
followed by hand and each hop is checked, and the body is size-capped while it streams. The
type is read from the bytes, never from a name. Errors name the media entry and the rule,
never a local path and never whether one exists.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NoReturn
from urllib.parse import urljoin

import httpx

from connectors.base import LEGACY_MEDIA_RULE, Media, MediaKind
from connectors.errors import ContentRejected, TransientError, ValidationFailed, Violation
from connectors.http import shared_ssl_context

MIB = 1024 * 1024
MEDIA_LIMITS: Mapping[MediaKind, int] = {
    MediaKind.IMAGE: 5 * MIB,
    MediaKind.GIF: 15 * MIB,
    MediaKind.VIDEO: 512 * MIB,
}
"""The largest file of each kind Publicist stores or fetches (X's limits, the strictest)."""

EXTENSIONS: Mapping[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
}
"""Every content type Publicist accepts, with the extension its library files get."""

SNIFF_BYTES = 16
"""How many leading bytes :func:`sniff` needs."""

LIBRARY_NAME = re.compile(r"[0-9a-f]{64}\.(?:jpg|png|webp|gif|mp4|mov)")
"""The only file names the library writes (sha256 and extension); anything else is refused."""

CGNAT = ipaddress.ip_network("100.64.0.0/10")
MAX_REDIRECTS = 5
FETCH_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
FETCH_TOTAL_SECONDS = 300.0
"""A whole download, redirects included, however steadily a slow server trickles bytes."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[IPAddress]]


def sniff(head: bytes) -> tuple[MediaKind, str] | None:
    """The kind and content type the leading bytes show; ``None`` for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaKind.IMAGE, "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaKind.IMAGE, "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaKind.IMAGE, "image/webp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaKind.GIF, "image/gif"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return MediaKind.VIDEO, "video/quicktime" if brand == b"qt  " else "video/mp4"
    return None


ACCEPTED = "JPEG, PNG or WebP images, GIFs, MP4 or MOV videos"


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def refusal(address: IPAddress, allow: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``address`` may not be fetched from; ``None`` for a public (or allowed) one."""
    if any(address in network for network in allow):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        # IPv4-mapped, 6to4 and Teredo addresses reach the IPv4 address they embed.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return refusal(embedded, allow)
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_unspecified, "unspecified"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in CGNAT, "shared (CGNAT)"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "non-public"),
    )
    return next((name for failed, name in checks if failed), None)


@dataclass(frozen=True)
class FetchPolicy:
    """Where media URLs may be fetched from; ``allow`` names networks accepted even though
    they are not public (tests and the demo serve media on 127.0.0.1)."""

    allow: tuple[IPNetwork, ...] = ()
    resolve: Resolver = field(default=resolve_host)
    max_redirects: int = MAX_REDIRECTS
    timeout: httpx.Timeout = field(default_factory=lambda: FETCH_TIMEOUT)
    total_seconds: float = FETCH_TOTAL_SECONDS


@dataclass(frozen=True)
class LoadedMedia:
    """A media entry's bytes, their type (read from the bytes) and a neutral file name."""

    data: bytes
    kind: MediaKind
    content_type: str
    name: str


def describe(index: int, item: Media) -> tuple[str, str]:
    """The field and value that name a media entry in errors: never a local path."""
    field_name = f"media[{index}]"
    if item.media_id is not None or item.library_file is not None:
        return field_name, f"{item.kind.value} library item {item.media_id}"
    if item.url is not None:
        host = httpx.URL(item.url).host if _is_http(item.url) else "?"
        return field_name, f"{item.kind.value} from {host or '?'}"
    return field_name, f"{item.kind.value} with a local file path"


def _is_http(url: str) -> bool:
    try:
        return httpx.URL(url).scheme in ("http", "https")
    except (httpx.InvalidURL, ValueError):
        return False


class MediaLoader:
    """Reads library files from ``library_dir`` and fetches URLs under ``policy``.

    Built by the caller (``campaigns.accounts.open_connector``) from settings and handed to
    the connector; a connector given none can fetch public URLs and read no library.
    """

    def __init__(
        self,
        *,
        library_dir: Path | None = None,
        policy: FetchPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.library_dir = library_dir
        self.policy = policy or FetchPolicy()
        self._transport = transport

    # -- public -----------------------------------------------------------------------------
    def load(self, index: int, item: Media, *, platform: str = "") -> LoadedMedia:
        """The bytes of ``item``, its type checked against its kind and its size capped."""
        if item.library_file is not None:
            with self.open_library(index, item, platform=platform) as (handle, _):
                data = handle.read(MEDIA_LIMITS[item.kind] + 1)
        elif item.url is not None:
            data = self._fetch(index, item, platform=platform)
        else:
            self._refuse(index, item, platform, LEGACY_MEDIA_RULE)
        return self._checked(index, item, data, platform=platform)

    @contextmanager
    def open_library(
        self, index: int, item: Media, *, platform: str = ""
    ) -> Iterator[tuple[BinaryIO, int]]:
        """A library file opened for reading, with its size (for chunked uploads)."""
        name = item.library_file
        if name is None or not LIBRARY_NAME.fullmatch(name):
            self._refuse(index, item, platform, "is not an item of the media library")
        if self.library_dir is None:
            self._refuse(index, item, platform, "cannot be read: no media library was configured")
        try:
            # Never through a symbolic link: the library writes plain files only.
            handle = os.fdopen(os.open(self.library_dir / name, os.O_RDONLY | os.O_NOFOLLOW), "rb")
        except OSError:
            self._refuse(index, item, platform, "is missing from the media library")
        with handle:
            size = _size(handle)
            if size > MEDIA_LIMITS[item.kind]:
                self._too_big(index, item, platform)
            head = handle.read(SNIFF_BYTES)
            self._check_type(index, item, head, platform)
            handle.seek(0)
            yield handle, size

    # -- checks -----------------------------------------------------------------------------
    def _checked(self, index: int, item: Media, data: bytes, *, platform: str) -> LoadedMedia:
        if len(data) > MEDIA_LIMITS[item.kind]:
            self._too_big(index, item, platform)
        content_type = self._check_type(index, item, data[:SNIFF_BYTES], platform)
        return LoadedMedia(
            data=data,
            kind=item.kind,
            content_type=content_type,
            name=f"media{index}.{EXTENSIONS[content_type]}",
        )

    def _check_type(self, index: int, item: Media, head: bytes, platform: str) -> str:
        found = sniff(head)
        if found is None:
            self._refuse(index, item, platform, f"is not a file Publicist accepts ({ACCEPTED})")
        kind, content_type = found
        if kind is not item.kind:
            self._refuse(index, item, platform, f"holds a {kind.value}, not a {item.kind.value}")
        return content_type

    def _too_big(self, index: int, item: Media, platform: str) -> NoReturn:
        limit = MEDIA_LIMITS[item.kind] // MIB
        self._refuse(index, item, platform, f"exceeds the {limit} MiB limit for a {item.kind}")

    @staticmethod
    def _refuse(index: int, item: Media, platform: str, rule: str) -> NoReturn:
        field_name, value = describe(index, item)
        raise ValidationFailed([Violation(field_name, value, rule)], platform=platform)

    # -- fetching ---------------------------------------------------------------------------
    def _fetch(self, index: int, item: Media, *, platform: str) -> bytes:
        deadline = time.monotonic() + self.policy.total_seconds
        url = item.url or ""
        with httpx.Client(
            timeout=self.policy.timeout,
            follow_redirects=False,
            trust_env=False,  # a proxy would connect to addresses we never checked
            transport=self._transport or httpx.HTTPTransport(verify=shared_ssl_context()),
        ) as client:
            for _hop in range(self.policy.max_redirects + 1):
                target, headers, extensions = self._pinned(index, item, url, platform)
                try:
                    with client.stream(
                        "GET", target, headers=headers, extensions=extensions
                    ) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        return self._body(index, item, response, deadline, platform)
                except httpx.TransportError as exc:
                    field_name, value = describe(index, item)
                    raise TransientError(
                        f"{field_name}: {value} could not be fetched ({type(exc).__name__})",
                        platform=platform,
                    ) from exc
        self._refuse(
            index, item, platform, f"redirects more than {self.policy.max_redirects} times"
        )

    def _pinned(
        self, index: int, item: Media, url: str, platform: str
    ) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """The request for ``url`` addressed to an IP checked just now, with its Host and SNI."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError):
            self._refuse(index, item, platform, "is not a valid http(s) URL")
        if parsed.scheme not in ("http", "https") or not parsed.host:
            self._refuse(index, item, platform, "must be an http or https URL")
        if parsed.userinfo:
            self._refuse(index, item, platform, "must not carry a user name or password")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = list(self.policy.resolve(parsed.host, port))
        except (OSError, UnicodeError) as exc:
            field_name, value = describe(index, item)
            raise TransientError(
                f"{field_name}: the host of {value.split(' from ')[-1]} could not be resolved",
                platform=platform,
            ) from exc
        if not addresses:
            self._refuse(index, item, platform, "names a host with no address")
        for address in addresses:
            reason = refusal(address, self.policy.allow)
            if reason is not None:
                host = parsed.host
                self._refuse(
                    index,
                    item,
                    platform,
                    f"is refused: {host} resolves to a {reason} address, and media are "
                    "fetched only from public addresses",
                )
        target = parsed.copy_with(host=str(addresses[0]))
        headers = {"Host": parsed.netloc.decode("ascii")}
        extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
        return target, headers, extensions

    def _body(
        self,
        index: int,
        item: Media,
        response: httpx.Response,
        deadline: float,
        platform: str,
    ) -> bytes:
        status = response.status_code
        field_name, value = describe(index, item)
        if status >= 500 or status == 429:
            raise TransientError(
                f"{field_name}: {value} answered HTTP {status}", platform=platform, code=str(status)
            )
        if status >= 300:
            raise ContentRejected(
                f"{field_name}: {value} could not be fetched (HTTP {status})",
                platform=platform,
                code=str(status),
            )
        limit = MEDIA_LIMITS[item.kind]
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            self._too_big(index, item, platform)
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > limit:
                self._too_big(index, item, platform)
            if time.monotonic() > deadline:
                raise TransientError(
                    f"{field_name}: {value} took longer than "
                    f"{self.policy.total_seconds:.0f} s to download",
                    platform=platform,
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _size(handle: BinaryIO) -> int:
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    return size
