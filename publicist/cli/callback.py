"""A one-shot HTTP listener on 127.0.0.1 that catches the platform's redirect back (the
browser login of other CLIs): it answers the first ``GET /callback`` and hands over its
parameters."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

PAGE = (
    b"<!doctype html><html><meta charset='utf-8'><title>Publicist</title>"
    b"<p>Publicist received the platform's answer. You can close this window and return to "
    b"the terminal.</p><p lang='zh-CN'>Publicist \xe5\xb7\xb2\xe6\x94\xb6\xe5\x88\xb0"
    b"\xe5\xb9\xb3\xe5\x8f\xb0\xe7\x9a\x84\xe7\xad\x94\xe5\xa4\x8d\xe3\x80\x82</p></html>"
)


class CallbackListener:
    """``with CallbackListener(port) as listener: ... listener.wait(timeout)``."""

    def __init__(self, port: int = 0) -> None:
        self._answer: dict[str, str] | None = None
        self._arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/callback" or outer._arrived.is_set():
                    self.send_error(404)
                    return
                query = parse_qs(parts.query, keep_blank_values=True)
                outer._answer = {k: v[0] for k, v in query.items()}
                outer._arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            def log_message(self, format: str, *args: object) -> None:
                """Silent: the query carries the one-use code."""

        self._server = HTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/callback"

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The callback's parameters, or ``None`` if none came within ``timeout`` seconds."""
        return self._answer if self._arrived.wait(timeout) else None

    def __enter__(self) -> CallbackListener:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
