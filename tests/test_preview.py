"""`digest preview` serves the edition files of out/ on 127.0.0.1 and nothing else."""

from __future__ import annotations

import http.client
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest import archive, render
from digest.config import RenderConfig
from digest.models import Article, Digest, Section, Story
from digest.preview import allowed_host, preview_server

DAY = date(2026, 11, 29)
ZONE = "Europe/Berlin"


def build_out(folder: Path) -> Path:
    """An out/ with one edition and the site pages, plus what must never be served: the files
    an earlier version kept there (state, lock, log), a mail copy, a hidden temporary file, and
    next to out/ the configuration."""
    out = folder / "out"
    moment = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    lead = Article(
        url="https://lagebild.example/a", title="NATO übt", source="Q", published=moment, text="x"
    )
    digest = Digest(
        date=DAY,
        generated_at=moment,
        title="Briefing",
        sections=(Section("Bündnisse", (Story(lead=lead, key_points=("Ein Satz.",)),)),),
    )
    rendered = render.render(digest, RenderConfig(), timezone=ZONE)
    files = {
        "digest.html": rendered.html,
        "digest.txt": rendered.text,
        "digest.json": rendered.json,
    }
    archive.write_edition(out, DAY, {**files, "digest.eml": b"To: leser@example.org\n"})
    editions = archive.read_editions(out)
    archive.write_site(
        out,
        render.render_archive(editions, RenderConfig(), title="Briefing", timezone=ZONE),
        render.render_feed(editions, RenderConfig(), title="Briefing", timezone=ZONE),
    )
    with sqlite3.connect(out / "state.sqlite") as db:
        db.execute("CREATE TABLE sends(recipient TEXT)")
    (out / ".digest.lock").write_text("")
    (out / "cron.log").write_text("log")
    (out / DAY.isoformat() / ".digest.html.x.tmp").write_text("halb")
    (folder / "digest.toml").write_text('password = "geheim"\n')
    (out / "2026-11-30").mkdir()
    (out / "2026-11-30" / "digest.html").symlink_to(folder / "digest.toml")
    return out


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    server = preview_server(build_out(tmp_path), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def get(port: int, path: str, host: str | None = None) -> tuple[int, str, bytes]:
    """GET `path` exactly as written (no client-side normalisation) with the given Host."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/feed.xml", "application/atom+xml"),
        ("/2026-11-29/digest.html", "text/html; charset=utf-8"),
        ("/2026-11-29/digest.txt", "text/plain; charset=utf-8"),
        ("/2026-11-29/digest.json", "application/json"),
    ],
)
def test_edition_files_are_served(served: int, path: str, content_type: str) -> None:
    status, kind, body = get(served, path)
    assert (status, kind) == (200, content_type)
    assert body


@pytest.mark.parametrize(
    "path",
    [
        "/state.sqlite",
        "/.digest.lock",
        "/cron.log",
        "/../digest.toml",
        "/%2e%2e/digest.toml",
        "/%2E%2E%2Fdigest.toml",
        "/2026-11-29/../../digest.toml",
        "/2026-11-29/..%2f..%2fdigest.toml",
        "/2026-11-29%2Fdigest.html",
        "//etc/passwd",
        "/2026-11-29/digest.eml",
        "/2026-11-29/.digest.html.x.tmp",
        "/2026-11-29/",
        "/2026-11-30/digest.html",  # a link out of out/
        "/index.html?x=1",
        "/index.html%00.txt",
        "/2026-11-29/digest.HTML",
    ],
)
def test_everything_else_is_404(served: int, path: str) -> None:
    status, _, body = get(served, path)
    assert status == 404, path
    assert b"geheim" not in body and b"sends" not in body


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", ""])
def test_a_request_for_another_host_is_refused(served: int, host: str) -> None:
    status, _, _ = get(served, "/index.html", host=host)
    assert status == 403


def test_localhost_by_name_is_served(served: int) -> None:
    assert get(served, "/index.html", host=f"localhost:{served}")[0] == 200


def test_host_rule() -> None:
    assert (
        allowed_host("127.0.0.1:8000") and allowed_host("LOCALHOST") and allowed_host("localhost")
    )
    assert not allowed_host(None) and not allowed_host("127.0.0.2:8000")
    assert not allowed_host("localhost:80:80") and not allowed_host("localhost.:8000")
