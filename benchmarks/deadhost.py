"""A dead host cannot stall the run: one of three page hosts accepts connections and never answers.

    python -m benchmarks.deadhost            # default timeouts; pages_deadline 90 s and 15 s
    python -m benchmarks.deadhost --json

Three teaser-only feeds of 30 synthetic German articles each; their pages live on three hosts
(127.0.0.2-4), and the third host accepts every connection and never sends a byte. The first
feed also links three poisoned pages: a 300 MB gzip bomb sent as text/html (about 300 KB on the
wire), bytes that start like gzip but are not, and a redirect to an invalid port. `digest build`
runs in a child process with the shipped timeouts (20 s read, 60 s per fetch, two retries) and
the page stage's deadline as given; the baseline has all three hosts answering. Printed: wall
time, the extract stage's time, the largest process's peak memory, the articles that kept their
teaser, and whether the build finished within the deadline plus 10 s.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from benchmarks.e2e import feed_xml, generate, page_html, run_build, serve

ARTICLES_PER_FEED = 30
DEADLINES = (90.0, 15.0)
NOW = datetime.now(UTC) - timedelta(hours=1)


def silent_host(address: str) -> socket.socket:
    """A listener on `address` that accepts every connection and never answers."""
    listener = socket.create_server((address, 0), backlog=128)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    return listener


def measure(deadline: float, *, dead: bool) -> dict[str, object]:
    per_feed = generate(3 * ARTICLES_PER_FEED, 3)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        routes: dict[str, bytes] = {}
        good = [serve(routes, 0.02, "127.0.0.2"), serve(routes, 0.02, "127.0.0.3")]
        silent = silent_host("127.0.0.4")
        page_hosts = [
            f"http://127.0.0.2:{good[0].server_address[1]}",
            f"http://127.0.0.3:{good[1].server_address[1]}",
            f"http://127.0.0.4:{silent.getsockname()[1]}"
            if dead
            else (f"http://127.0.0.3:{good[1].server_address[1]}"),
        ]
        feed_host = page_hosts[0]
        poison = {
            "/gift/bombe.html": gzip_bomb(300 << 20),
            "/gift/magie.html": b"\x1f\x8b\x08\x00 no gzip behind these bytes " * 100,
        }
        routes.update(poison)
        lines = []
        for number, items in enumerate(per_feed):
            document = feed_xml(number, items, page_hosts[number], True)
            if number == 0:
                document = with_poison(document, feed_host)
            routes[f"/feed/{number}.xml"] = document
            for article in items:
                routes[f"/artikel/{number}/{article.slug}.html"] = page_html(article)
            lines.append(
                f'[[feeds]]\nname = "Feed {number}"\nurl = "{feed_host}/feed/{number}.xml"\n'
            )
        (work / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")
        config = work / "digest.toml"
        config.write_text(
            '[digest]\nfeeds = "feeds.toml"\nout_dir = "out"\n'
            "[select]\nthreshold = 0.0\nmax_total = 200\nmax_per_section = 200\n"
            f"[fetch]\npages_deadline = {deadline}\n[extract]\nallow_private = true\n",
            encoding="utf-8",
        )
        build = run_build(work, config)
        (edition,) = (work / "out").glob("20*/digest.json")
        data = json.loads(edition.read_text(encoding="utf-8"))
        for server in good:
            server.shutdown()
        silent.close()
    wall = float(build["wall_s"])  # type: ignore[arg-type]
    return {
        "dead_host": dead,
        "pages_deadline_s": deadline,
        "wall_s": wall,
        "extract_s": build["stages"].get("extract", 0.0),  # type: ignore[union-attr]
        "peak_mb": build["peak_mb"],
        "teasers_kept": sum(1 for f in data["failures"] if f["stage"] == "page"),
        "within_deadline_plus_10_s": wall <= deadline + 10,
    }


def gzip_bomb(inflated: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"<p>" + b"A" * (1 << 20)
    parts = [packer.compress(b"<html><body>")]
    parts += [packer.compress(chunk) for _ in range(inflated // len(chunk))]
    return b"".join([*parts, packer.flush()])


def with_poison(document: bytes, host: str) -> bytes:
    """The feed with three more teaser items whose links are poisoned."""
    links = [f"{host}/gift/bombe.html", f"{host}/gift/magie.html", "http://example.org:99999/x"]
    items = "".join(
        f"<item><title>Gift {n}</title><link>{link}</link><pubDate>{format_datetime(NOW)}</pubDate>"
        "<description>Die Bundespolizei verstärkt Kontrollen an der Grenze.</description></item>"
        for n, link in enumerate(links)
    )
    return document.replace(b"</channel>", items.encode() + b"</channel>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [measure(DEADLINES[0], dead=False)]
    results += [measure(deadline, dead=True) for deadline in DEADLINES]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{'dead host':>9} {'deadline s':>10} {'wall s':>7} {'extract s':>9} {'peak MB':>8}"
        f" {'teasers kept':>12}  within deadline + 10 s"
    )
    for r in results:
        print(
            f"{'yes' if r['dead_host'] else 'no':>9} {r['pages_deadline_s']:>10g} {r['wall_s']:>7}"
            f" {r['extract_s']:>9} {r['peak_mb']:>8} {r['teasers_kept']:>12}"
            f"  {'yes' if r['within_deadline_plus_10_s'] else 'NO'}"
        )


if __name__ == "__main__":
    main()
