"""EDGE: `digest preview`: the edition files of out/ over HTTP on 127.0.0.1, and nothing else.

Only what an edition publishes is served: out/index.html, out/feed.xml and the .html, .txt and
.json files of the edition folders (out/YYYY-MM-DD/). Every other path is 404, whatever its
spelling: hidden files, mail copies, "..", percent-encoded characters, query strings. A request
whose Host is not 127.0.0.1 or localhost is refused (403), so that a web page in the browser
cannot reach the server under a name of its own (DNS rebinding).
"""

from __future__ import annotations

import logging
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Paths as they must be spelled, byte for byte: nothing to decode, nothing to normalise.
_SERVED = re.compile(
    r"/(?:index\.html|feed\.xml|\d{4}-\d{2}-\d{2}/[a-z][a-z0-9_-]*\.(?:html|txt|json))"
)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/atom+xml",
}
_HOSTS = frozenset({"127.0.0.1", "localhost"})


def served_file(out_dir: Path, path: str) -> Path | None:
    """The file under `out_dir` that the request path `path` names, or None (404)."""
    if path == "/":
        path = "/index.html"
    if not _SERVED.fullmatch(path):
        return None
    root = out_dir.resolve()
    target = (root / path.lstrip("/")).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


def allowed_host(header: str | None) -> bool:
    """True for a Host header naming 127.0.0.1 or localhost (any port)."""
    if not header:
        return False
    host = header.strip().lower()
    name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
    return name in _HOSTS and (port == "" or port.isdigit())


class _EditionHandler(BaseHTTPRequestHandler):
    out_dir: Path

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        if not allowed_host(self.headers.get("Host")):
            self._plain(403, "Forbidden: only http://127.0.0.1 or http://localhost", body)
            return
        target = served_file(self.out_dir, self.path)
        if target is None:
            self._plain(404, "Not found", body)
            return
        content = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", _TYPES[target.suffix])
        self.send_header("Content-Length", str(len(content)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(content)

    def _plain(self, status: int, text: str, body: bool) -> None:
        content = (text + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if body:
            self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("preview: " + format, *args)


def preview_server(out_dir: Path, port: int = 8000) -> ThreadingHTTPServer:
    """An HTTP server for the edition files of `out_dir` on 127.0.0.1 only (port 0: any)."""
    handler = type("EditionHandler", (_EditionHandler,), {"out_dir": out_dir})
    return ThreadingHTTPServer(("127.0.0.1", port), handler)
