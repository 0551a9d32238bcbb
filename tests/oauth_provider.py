"""A real OAuth 2.0 provider for the tests, on 127.0.0.1: the demo's (seeds/oauth_provider.py, Authlib's
authorization server with PKCE and rotating refresh tokens) behind the standard library's HTTP server,
in a thread. `running_provider()` yields its `Provider`: its URLs and client for a connection type
(`settings()`), `approve` (the user's consent), `revoke_all`, `refreshes`, `refresh_delay`, `secrets()`."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from seeds.oauth_provider import CLIENT_ID, CLIENT_SECRET, Incoming, Provider, authorization_server, respond

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "Provider", "running_provider"]


def _handler(provider: Provider) -> type[http.server.BaseHTTPRequestHandler]:
    server = authorization_server(provider)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _respond(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            form = dict(parse_qsl(body)) if "form-urlencoded" in (self.headers.get("content-type") or "") else {}
            incoming = Incoming(
                method=self.command,
                uri=f"{provider.base_url}{self.path}",
                headers=self.headers,  # looks names up in any case, as Authlib's server expects
                args=dict(parse_qsl(urlsplit(self.path).query)),
                form=form,
            )
            status, payload, headers = respond(provider, server, incoming)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _respond

    return Handler


@contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider on 127.0.0.1 (a free port), in a thread, for the `with` block."""
    provider = Provider()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield provider
    finally:
        httpd.shutdown()
        httpd.server_close()
