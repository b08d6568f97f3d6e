"""The shared media loader: library files by Publicist's names only, URLs on public addresses."""

from __future__ import annotations

import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from connectors.base import Media, MediaKind
from connectors.errors import TransientError, ValidationFailed
from connectors.media import (
    MEDIA_LIMITS,
    FetchPolicy,
    IPAddress,
    MediaLoader,
    refusal,
    resolve_host,
    sniff,
)
from tests.connectors.library import LOOPBACK, Library

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@dataclass
class Served:
    """What the test server answers per path, and every request it received."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)


def _handler_for(served: Served) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # a body without Content-Length ends with the connection

        def do_GET(self) -> None:
            served.seen.append((self.path, self.headers.get("Host", "")))
            status, headers, body = served.routes.get(self.path, (404, {}, b"no"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    served = Served()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(served))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield str(httpd.server_address[1]), served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def names(mapping: dict[str, str]) -> FetchPolicy:
    """A resolver that knows some public-looking names (all served on 127.0.0.1 here)."""

    def resolve(host: str, port: int) -> Sequence[IPAddress]:
        if host in mapping:
            return [ipaddress.ip_address(mapping[host])]
        return resolve_host(host, port)

    return FetchPolicy(allow=LOOPBACK, resolve=resolve)


def image(url: str) -> Media:
    return Media(MediaKind.IMAGE, url)


def refused(loader: MediaLoader, item: Media) -> str:
    with pytest.raises(ValidationFailed) as caught:
        loader.load(0, item, platform="twitter")
    (violation,) = caught.value.violations
    assert violation.field == "media[0]"
    return f"{violation.value} {violation.rule}"


# -- addresses ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
        ("::", "unspecified"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("2002:a9fe:a9fe::", "link-local"),  # 6to4 around 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo client 127.0.0.1
    ],
)
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


def test_public_addresses_and_allowed_networks_pass() -> None:
    assert refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert refusal(ipaddress.ip_address("2606:4700::6810:85e5")) is None
    assert refusal(ipaddress.ip_address("127.0.0.1"), LOOPBACK) is None
    assert refusal(ipaddress.ip_address("127.0.0.2"), LOOPBACK) == "loopback"


# -- URLs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/poster.png",
        "http://10.0.0.7:{port}/poster.png",
        "http://[::1]:{port}/poster.png",
        "http://localhost:{port}/poster.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{port}/poster.png",
    ],
)
def test_a_url_on_an_internal_address_is_refused_before_any_request(
    server: tuple[str, Served], url: str
) -> None:
    port, served = server
    served.routes["/poster.png"] = (200, {}, PNG)
    message = refused(MediaLoader(), image(url.format(port=port)))
    assert "media are fetched only from public addresses" in message
    assert served.seen == []


def test_an_allowed_server_is_fetched_at_the_checked_address_with_its_host(
    server: tuple[str, Served],
) -> None:
    port, served = server
    served.routes["/poster.png"] = (200, {"Content-Type": "image/png"}, PNG)
    # "cdn.test" resolves nowhere but in the policy, and only once: a second answer (a DNS
    # rebinding to 10.0.0.7) is never asked for, so the checked address is the one used.
    answers = iter(["127.0.0.1", "10.0.0.7"])

    def rebinding(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(next(answers))]

    loader = MediaLoader(policy=FetchPolicy(allow=LOOPBACK, resolve=rebinding))
    loaded = loader.load(0, image(f"http://cdn.test:{port}/poster.png"))
    assert next(answers) == "10.0.0.7"
    assert (loaded.data, loaded.content_type, loaded.name) == (PNG, "image/png", "media0.png")
    assert served.seen == [("/poster.png", f"cdn.test:{port}")]


@pytest.mark.parametrize(
    "location",
    [
        "http://[::1]:{port}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/secret",
        "http://127.0.0.2:{port}/secret",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_an_internal_address_is_refused(
    server: tuple[str, Served], location: str
) -> None:
    port, served = server
    served.routes["/poster.png"] = (302, {"Location": location.format(port=port)}, b"")
    served.routes["/secret"] = (200, {}, PNG)
    loader = MediaLoader(policy=names({"cdn.test": "127.0.0.1"}))
    message = refused(loader, image(f"http://cdn.test:{port}/poster.png"))
    assert "public addresses" in message or "must be an http or https URL" in message
    assert [path for path, _ in served.seen] == ["/poster.png"]


def test_redirects_are_followed_and_counted(server: tuple[str, Served]) -> None:
    port, served = server
    for hop in range(7):
        served.routes[f"/{hop}"] = (302, {"Location": f"/{hop + 1}"}, b"")
    served.routes["/7"] = (200, {}, PNG)
    loader = MediaLoader(policy=FetchPolicy(allow=LOOPBACK))
    served.routes["/2"] = (302, {"Location": "/7"}, b"")
    assert loader.load(0, image(f"http://127.0.0.1:{port}/0")).data == PNG  # 0 → 1 → 2 → 7
    served.routes["/2"] = (302, {"Location": "/3"}, b"")
    assert "redirects more than 5 times" in refused(loader, image(f"http://127.0.0.1:{port}/0"))


def test_the_size_cap_holds_while_streaming(server: tuple[str, Served]) -> None:
    port, served = server
    limit = MEDIA_LIMITS[MediaKind.IMAGE]
    body = PNG + b"\x00" * limit  # no Content-Length: only counting the stream catches it
    served.routes["/big.png"] = (200, {}, body)
    served.routes["/declared.png"] = (200, {"Content-Length": str(limit + 1)}, PNG)
    loader = MediaLoader(policy=FetchPolicy(allow=LOOPBACK))
    for path in ("/big.png", "/declared.png"):
        assert "exceeds the 5 MiB limit" in refused(loader, image(f"http://127.0.0.1:{port}{path}"))


def test_the_type_is_read_from_the_bytes_never_the_name(server: tuple[str, Served]) -> None:
    port, served = server
    served.routes["/poster.jpg"] = (200, {"Content-Type": "image/jpeg"}, b"SECRET_KEY=abc\n")
    served.routes["/clip.jpg"] = (200, {}, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32)
    loader = MediaLoader(policy=FetchPolicy(allow=LOOPBACK))
    assert "is not a file Publicist accepts" in refused(
        loader, image(f"http://127.0.0.1:{port}/poster.jpg")
    )
    assert "holds a video, not a image" in refused(
        loader, image(f"http://127.0.0.1:{port}/clip.jpg")
    )


@pytest.mark.parametrize("url", ["ftp://cdn.example.com/a.png", "file:///etc/passwd"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    assert "must be an http or https URL" in refused(MediaLoader(), image(url))


# -- library files ----------------------------------------------------------------------------
def test_library_files_are_read_by_publicists_names_only(tmp_path: Path) -> None:
    library = Library(tmp_path / "library")
    secret = tmp_path / "publicist.key"
    secret.write_text("the encryption key")
    item = library.add(MediaKind.IMAGE, JPEG)
    assert library.loader.load(0, item).data == JPEG
    for name in ("../publicist.key", str(secret), f"{'a' * 64}.key", ""):
        sneaky = Media(MediaKind.IMAGE, media_id=3, library_file=name)
        message = refused(library.loader, sneaky)
        assert message == "image library item 3 is not an item of the media library"
    assert "missing from the media library" in refused(
        library.loader, library.missing(MediaKind.IMAGE)
    )
    linked = f"{'b' * 64}.jpg"
    (library.root / linked).symlink_to(secret)
    message = refused(library.loader, Media(MediaKind.IMAGE, media_id=4, library_file=linked))
    assert message == "image library item 4 is missing from the media library"
    assert "no media library was configured" in refused(MediaLoader(), item)


def test_a_text_file_stored_as_jpg_is_refused(tmp_path: Path) -> None:
    library = Library(tmp_path / "library")
    fake = library.add(MediaKind.IMAGE, b"-----BEGIN PRIVATE KEY-----\n")
    assert str(fake.library_file).endswith(".jpg")
    assert "is not a file Publicist accepts" in refused(library.loader, fake)


def test_a_legacy_local_path_is_refused_and_never_named(tmp_path: Path) -> None:
    message = refused(MediaLoader(library_dir=tmp_path), Media(MediaKind.IMAGE))
    assert message.startswith("image with a local file path is no longer accepted")
    assert str(tmp_path) not in message


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (JPEG, (MediaKind.IMAGE, "image/jpeg")),
        (PNG, (MediaKind.IMAGE, "image/png")),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", (MediaKind.IMAGE, "image/webp")),
        (b"GIF89a\x01\x00", (MediaKind.GIF, "image/gif")),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00", (MediaKind.VIDEO, "video/mp4")),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00", (MediaKind.VIDEO, "video/quicktime")),
        (b"BM\x00\x00", None),
        (b"<svg xmlns=", None),
        (b"", None),
    ],
)
def test_sniffing(head: bytes, expected: tuple[MediaKind, str] | None) -> None:
    assert sniff(head[:16]) == expected


# -- https: the checked address is dialled, the certificate is checked for the host's name ----
def _certificates(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate it signed for ``cdn.test``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    start = datetime.now(UTC) - timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("cdn.test"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("cdn.test")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = (tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def test_https_dials_the_checked_address_and_verifies_the_hosts_certificate(
    tmp_path: Path,
) -> None:
    ca, cert, key = _certificates(tmp_path)
    served = Served()
    served.routes["/poster.png"] = (200, {}, PNG)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(served))
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        secure = httpd.server_address[1]
        trusted = httpx.HTTPTransport(verify=ssl.create_default_context(cafile=str(ca)))
        loader = MediaLoader(policy=names({"cdn.test": "127.0.0.1"}), transport=trusted)
        loaded = loader.load(0, image(f"https://cdn.test:{secure}/poster.png"))
        assert loaded.data == PNG
        assert served.seen[-1] == ("/poster.png", f"cdn.test:{secure}")
        wrong = MediaLoader(policy=names({"other.test": "127.0.0.1"}), transport=trusted)
        with pytest.raises(TransientError):  # the certificate does not name other.test
            wrong.load(0, image(f"https://other.test:{secure}/poster.png"))
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
