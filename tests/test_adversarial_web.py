"""Acceptance: nothing on the web stops, stalls or spoils the morning run.

Each case is a real `digest build` (a child process, the shipped timeouts) of a feed whose
teasers link pages on 127.0.0.1: good pages and one kind of poison. Every build exits 0 within
150 s with the process tree under 1.5 GB, the good articles get their full text, the poisoned
ones keep their teasers, feed.xml parses, and the next day's build works too (the poisoned pages
are remembered as failed, not fetched again).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Reply, Server, keep_everything_model

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).parent / "data" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}
MAX_SECONDS = 150
MAX_TREE_BYTES = 1_500_000_000
StartServer = Callable[..., Server]

GOOD = {
    "/politik/manoever": (
        "Bundeswehr übt Luftverteidigung",
        "Mehr als 2000 Soldatinnen und Soldaten proben an der Ostsee die Abwehr von Drohnen.",
        "nachrichten_article.html",
    ),
    "/inland/leitstellen": (
        "Cyberangriff auf Leitstellen",
        "Nach einem Cyberangriff waren zwei Notrufleitstellen stundenlang eingeschränkt.",
        "rundfunk_article.html",
    ),
}
NEXT_DAY = (
    "/nato/ostflanke",
    "Nato ordnet Ostflanke neu",
    "Die Nato ordnet ihre Ostflanke neu; für die Bundeswehr heißt das: eine Brigade in Litauen.",
    "paywalled_article.html",
)
POISON_TEASER = "Die Bundespolizei verstärkt Kontrollen an der Grenze zu Polen, heißt es."


def gzip_bomb(inflated: int = 300 << 20) -> bytes:
    """About 300 KB on the wire that inflate to `inflated` bytes of HTML."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"<p>" + b"A" * (1 << 20)
    parts = [packer.compress(b"<html><body>")]
    parts += [packer.compress(chunk) for _ in range(inflated // len(chunk))]
    return b"".join([*parts, packer.flush()])


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb()


def rss(items: list[tuple[str, str, str]], published: datetime) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{escape(link)}</link>"
        f"<description>{escape(text)}</description>"
        f"<pubDate>{format_datetime(published)}</pubDate></item>"
        for title, link, text in items
    )
    channel = f"<channel><title>Netz</title>{entries}</channel>"
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'


def poison(case: str, server: Server, silent: str, bomb: bytes) -> tuple[list, dict[str, Reply]]:
    """The poisoned feed items (title, link, teaser) of a case and the server's replies."""
    if case == "gzip-magic":
        body = b"\x1f\x8b\x08\x00 no gzip behind these bytes " * 100
        return [("Grenzkontrollen", server.url("/magie"), POISON_TEASER)], {
            "/magie": Reply(body=body, headers=HTML)
        }
    if case == "gzip-bomb":
        return [("Grenzkontrollen", server.url("/bombe"), POISON_TEASER)], {
            "/bombe": Reply(body=bomb, headers=HTML)
        }
    if case == "invalid-port":
        moved = Reply(status=302, headers={"Location": "http://example.org:99999/b"})
        return [
            ("Grenzkontrollen", "http://example.org:99999/a", POISON_TEASER),
            ("Umleitung", server.url("/umleitung"), POISON_TEASER + " Umleitung."),
        ], {"/umleitung": moved}
    if case == "silent-host":
        return [
            (f"Stumm {n}", f"{silent}/stumm/{n}", f"{POISON_TEASER} Nummer {n}.") for n in range(4)
        ], {}
    if case == "control-character":  # in the feed itself: raw, and as a character reference
        return [
            ("Steuer\x01zeichen im Titel", server.url("/politik/steuer"), POISON_TEASER),
            ("Verweis&#1; im Titel", server.url("/politik/verweis"), POISON_TEASER + " Zwei."),
        ], {}
    raise AssertionError(case)


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (the fork server and its workers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for member in tree:
        try:
            pages = int(Path(f"/proc/{member}/statm").read_text().split()[1])
        except (OSError, IndexError):
            continue
        total += pages * os.sysconf("SC_PAGE_SIZE")
    return total


def run_build(config: Path, day: str) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """`digest build` in a child process: its result, wall time and the tree's peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "build", "--config", str(config), "--date", day],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=MAX_SECONDS + 30)
    finally:
        if process.poll() is None:
            process.kill()
    sampler.join(timeout=5)
    elapsed = time.perf_counter() - started
    completed = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return completed, elapsed, peak[0]


def write_config(folder: Path, feed: Path) -> Path:
    (folder / "feeds.toml").write_text(
        f'[[feeds]]\nname = "Netz"\nurl = "{feed.as_posix()}"\nlanguage = "de"\n', "utf-8"
    )
    config = folder / "digest.toml"
    config.write_text(
        '[digest]\nfeeds = "feeds.toml"\nout_dir = "out"\n'
        "[select]\nmax_total = 100\nmax_per_section = 100\n"
        f'model = "{keep_everything_model(folder).as_posix()}"\n'
        "[extract]\nallow_private = true\n",  # the pages are on 127.0.0.1; timeouts as shipped
        encoding="utf-8",
    )
    return config


def stories(out: Path, day: str) -> dict[str, dict]:
    data = json.loads((out / day / "digest.json").read_text("utf-8"))
    return {
        source["url"]: story
        for section in data["sections"]
        for story in section["stories"]
        for source in story["sources"]
    }


def failures(out: Path, day: str) -> list[str]:
    data = json.loads((out / day / "digest.json").read_text("utf-8"))
    return [f["message"] for f in data["failures"] if f["stage"] == "page"]


@pytest.mark.parametrize(
    "case", ["gzip-magic", "gzip-bomb", "invalid-port", "silent-host", "control-character"]
)
def test_a_poisoned_page_costs_its_own_full_text_only(
    case: str, tmp_path: Path, http_server: StartServer, silent_server: str, bomb: bytes
) -> None:
    routes: dict[str, Reply] = {}
    server = http_server(routes)
    for path, (_, _, page) in GOOD.items():
        routes[path] = Reply(body=(PAGES / page).read_bytes(), headers=HTML)
    poisoned, replies = poison(case, server, silent_server, bomb)
    routes.update(replies)
    good = [(title, server.url(path), teaser) for path, (title, teaser, _) in GOOD.items()]
    now = datetime.now(UTC)
    feed = tmp_path / "netz.xml"
    feed.write_text(rss(good + poisoned, now - timedelta(hours=2)), encoding="utf-8")
    config = write_config(tmp_path, feed)
    today = now.astimezone(ZoneInfo("Europe/Berlin")).date()
    day = today.isoformat()

    built, elapsed, peak = run_build(config, day)
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr
    assert elapsed < MAX_SECONDS and peak < MAX_TREE_BYTES, (elapsed, peak)
    out = tmp_path / "out"
    shown = stories(out, day)
    for path in GOOD:
        assert "nur Anriss" not in shown[server.url(path)]["markers"], path
    if case == "control-character":
        titles = {s["title"] for story in shown.values() for s in story["sources"]}
        assert {"Steuerzeichen im Titel", "Verweis im Titel"} <= titles
    else:
        assert failures(out, day), "each poisoned page is a failure record"
        for story in shown.values():
            if story["url"] not in {server.url(path) for path in GOOD}:
                assert "nur Anriss" in story["markers"]
    ET.parse(out / "feed.xml")

    path, title, teaser, page = NEXT_DAY
    routes[path] = Reply(body=(PAGES / page).read_bytes(), headers=HTML)
    later = [(title, server.url(path), teaser)]
    feed.write_text(rss(good + poisoned + later, datetime.now(UTC)), encoding="utf-8")
    hits = {r.path: server.hits(r.path) for r in server.requests}
    tomorrow = (today + timedelta(days=1)).isoformat()
    again, elapsed, peak = run_build(config, tomorrow)
    assert again.returncode == 0, again.stderr
    assert elapsed < MAX_SECONDS and peak < MAX_TREE_BYTES, (elapsed, peak)
    assert set(stories(out, tomorrow)) == {server.url(path)}
    for seen, count in hits.items():  # nothing of the first day is fetched again
        assert server.hits(seen) == count, seen
    ET.parse(out / "feed.xml")
