"""End-to-end benchmark: N synthetic German articles in F feeds served on 127.0.0.1, one full build.

    python benchmarks/e2e.py                       # N = 100, 1,000 and 5,000, a table
    python benchmarks/e2e.py --articles 1000 --json

Feeds are served by real HTTP servers (one per outlet, up to 50, on 127.0.0.2 and up) with added
latency per request and ETags; a third of the feeds carry only a teaser, so their article pages
are fetched and extracted too. Every build runs `digest build`
in a child process (a cold state in a temporary folder), then once more with nothing new (warm).
Wall time, CPU time and peak memory come from the operating system's accounting of that child; the
per-stage seconds from the build's own stage log lines. A third build (warm again) runs under
`python -X importtime`: the sum of its top-level imports is the build's import overhead. The
edition line (sections, stories, key points and a hash of their titles, points and sources) shows
whether two versions of the code build the same edition from the same feeds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOSTS = 50
STAGE_LINE = re.compile(r"stage (\S+) took ([0-9.]+) s")

# Building blocks for synthetic but plausible news prose; combined at random per article.
ACTORS = [
    "Die Bundesregierung",
    "Das Verteidigungsministerium",
    "Die NATO",
    "Die Europäische Union",
    "Der Generalinspekteur",
    "Die Bundeswehr",
    "Das Auswärtige Amt",
    "Die ukrainische Armee",
    "Der Bundesnachrichtendienst",
    "Die Bundespolizei",
    "Das Cyberabwehrzentrum",
    "Die Marine",
]
VERBS = [
    "kündigte am Vormittag an",
    "bestätigte nach einer Sitzung",
    "warnte in einem Bericht",
    "teilte in Berlin mit",
    "erklärte vor Journalisten",
    "legte einen Plan vor",
]
TOPICS = [
    "die Luftverteidigung an der Ostflanke zu stärken",
    "neue Munition im Wert von {n} Millionen Euro zu bestellen",
    "die Zahl der Cyberangriffe auf Behörden sei um {p} Prozent gestiegen",
    "ein Bataillon mit {k} Soldaten nach Litauen zu verlegen",
    "die Sanktionen gegen Russland zu verschärfen",
    "Drohnen über {k} Kasernen seien gesichtet worden",
    "die Ausbildung ukrainischer Soldaten fortzusetzen",
    "ein Abkommen zur Rüstungskontrolle neu zu verhandeln",
    "die Marine im Indo-Pazifik zu verstärken",
]
DETAILS = [
    "Nach Angaben von {person} dauert die Umsetzung in {place} mindestens {k} Monate.",
    "Kritiker bemängeln, dass die Finanzierung des Vorhabens {thing} bis {y} nicht gesichert sei.",
    "Im Haushaltsausschuss soll {thing} in der kommenden Woche beraten werden.",
    "{person} forderte eine Sondersitzung zu {thing}.",
    "Beteiligt sind nach Informationen aus Sicherheitskreisen {k} Staaten und die Region {place}.",
    "Ein Sprecher wollte sich zu Einzelheiten über {thing} nicht äußern.",
    "Die Kosten für {thing} werden auf rund {n} Millionen Euro geschätzt.",
    "Bereits im Frühjahr hatte es ähnliche Vorfälle in {place} gegeben.",
    "Experten verweisen auf die angespannte Lage in {place}, sagte {person}.",
    "In {place} seien seit {k} Tagen zusätzliche Kräfte im Einsatz.",
    "Der Zeitplan für {thing} sieht eine erste Bilanz im Jahr {y} vor.",
]
# Invented names, so that every story has details of its own, as real events do.
SYLLABLES = "ka ver sund bra mel tor wi nes dal gor rin hau sel mar lo fen bur ost tal ru".split()
SURNAMES = "Brammer Keller Osterhold Wendt Lindqvist Haberland Saric Novak Demir Falk".split()
ROLES = "Ministerin Minister Generalin General Staatssekretärin Botschafter Sprecherin".split()
THINGS = "Projekt Programm Abkommen Vorhaben Paket Mandat Manöver Abwehrsystem".split()


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime


def invented_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def sentence(rng: random.Random, pattern: str, story: dict[str, str]) -> str:
    return pattern.format(
        n=rng.randint(20, 900),
        p=rng.randint(5, 60),
        k=rng.randint(2, 40),
        y=rng.randint(2027, 2032),
        **story,
    )


def make_story(rng: random.Random, number: int) -> tuple[str, list[str]]:
    story = {
        "place": invented_name(rng),
        "person": f"{rng.choice(ROLES)} {rng.choice(SURNAMES)}-{invented_name(rng)}",
        "thing": f"{rng.choice(THINGS)} {invented_name(rng)}",
    }
    actor, topic = rng.choice(ACTORS), sentence(rng, rng.choice(TOPICS), story)
    title = f"{story['thing']}: {actor.split(' ', 1)[1]} in {story['place']} (Nr. {number})"
    lead = f"{actor} {rng.choice(VERBS)}, {topic}."
    details = [sentence(rng, rng.choice(DETAILS), story) for _ in range(rng.randint(8, 40))]
    return title, [lead, *details]


def generate(articles: int, feeds: int, seed: int = 7) -> list[list[Article]]:
    """Articles spread over feeds; about a quarter of them retell a story another feed carries."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    per_feed: list[list[Article]] = [[] for _ in range(feeds)]
    stories: list[tuple[str, list[str]]] = []
    for index in range(articles):
        if stories and rng.random() < 0.25:
            title, sentences = rng.choice(stories)
            sentences = sentences[:1] + rng.sample(sentences[1:], k=max(1, len(sentences) // 2))
        else:
            title, sentences = make_story(rng, index)
            stories.append((title, sentences))
        paragraphs = tuple(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))
        published = now - timedelta(minutes=rng.randint(5, 20 * 60))
        per_feed[index % feeds].append(Article(f"a{index}", title, paragraphs, published))
    return per_feed


def feed_xml(feed: int, items: list[Article], base: str, teaser_only: bool) -> bytes:
    entries = []
    for article in items:
        link = f"{base}/artikel/{feed}/{article.slug}.html"
        body = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
        teaser = escape(article.paragraphs[0])
        content = "" if teaser_only else f"<content:encoded><![CDATA[{body}]]></content:encoded>"
        entries.append(
            f"<item><title>{escape(article.title)}</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>{format_datetime(article.published)}</pubDate>"
            f"<description>{teaser}</description>{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Feed {feed}</title><link>{base}/</link>{''.join(entries)}</channel></rss>"
    ).encode()


def page_html(article: Article) -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    return (
        "<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'>"
        f"<title>{escape(article.title)}</title></head><body>"
        "<nav><a href='/'>Startseite</a> <a href='/politik'>Politik</a></nav>"
        f"<main><article><h1>{escape(article.title)}</h1>{body}</article></main>"
        "<footer>Impressum · Datenschutz</footer></body></html>"
    ).encode()


def serve(routes: dict[str, bytes], latency: float, host: str) -> ThreadingHTTPServer:
    """A server on one loopback address; the latency is added to every answer, 304s included."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(latency)
            body = routes.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            etag = f'"{zlib.crc32(body):08x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html"
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer((host, 0), Handler)
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", re.MULTILINE)


def import_seconds(log: str) -> float:
    """The sum of the cumulative times of top-level imports in a `-X importtime` log."""
    return sum(int(micros) for micros, name in IMPORT_LINE.findall(log) if name[0] != " ") / 1e6


def edition_summary(out: Path) -> dict[str, object]:
    """What the edition shows, without times, ports or anchors (which differ between runs)."""
    (edition,) = sorted(out.glob("*/digest.json"))
    data = json.loads(edition.read_text(encoding="utf-8"))
    shown = [
        [section["title"]]
        + [
            [story["title"], story["key_points"], [s["title"] for s in story["sources"]]]
            for story in section["stories"]
        ]
        for section in data["sections"]
    ]
    stories = [story for section in data["sections"] for story in section["stories"]]
    text = json.dumps([shown, data["omitted"], len(data["termine"])], ensure_ascii=False)
    return {
        "sections": len(data["sections"]),
        "stories": len(stories),
        "key_points": sum(len(story["key_points"]) for story in stories),
        "omitted": data["omitted"],
        "hash": hashlib.sha256(text.encode()).hexdigest()[:12],
    }


def run_build(workdir: Path, config: Path, importtime: bool = False) -> dict[str, object]:
    """One `digest build` in a child process, measured by the kernel's accounting of that child."""
    flags = ["-X", "importtime"] if importtime else []
    command = [sys.executable, *flags, "-m", "digest", "-v", "build", "--config", str(config)]
    log = workdir / "build.log"
    started = time.perf_counter()
    with log.open("wb") as sink:
        child = subprocess.Popen(command, cwd=workdir, stdout=sink, stderr=sink)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    output = log.read_text(encoding="utf-8", errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed:\n{output[-3000:]}")
    stages: dict[str, float] = {}
    for name, seconds in STAGE_LINE.findall(output):
        stages[name] = stages.get(name, 0.0) + float(seconds)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "stages": {k: round(v, 2) for k, v in stages.items()},
        "import_s": round(import_seconds(output), 2),
    }


def measure(articles: int, feeds: int, latency: float) -> dict[str, object]:
    per_feed = generate(articles, feeds)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        routes: dict[str, bytes] = {}
        # Outlets are different hosts (the fetcher limits requests per host): one server per
        # outlet on its own loopback address, 127.0.0.2 and up.
        servers = [serve(routes, latency, f"127.0.0.{2 + h}") for h in range(min(feeds, HOSTS))]
        lines = []
        for number, items in enumerate(per_feed):
            server = servers[number % len(servers)]
            base = f"http://{server.server_address[0]}:{server.server_address[1]}"
            teaser_only = number % 3 == 0
            routes[f"/feed/{number}.xml"] = feed_xml(number, items, base, teaser_only)
            for article in items:
                routes[f"/artikel/{number}/{article.slug}.html"] = page_html(article)
            lines.append(f'[[feeds]]\nname = "Feed {number}"\nurl = "{base}/feed/{number}.xml"\n')
        (work / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")
        config = work / "digest.toml"
        config.write_text(
            '[digest]\nfeeds = "feeds.toml"\nout_dir = "out"\n[extract]\nallow_private = true\n',
            encoding="utf-8",
        )
        cold = run_build(work, config)
        edition = edition_summary(work / "out")
        warm = run_build(work, config)
        imports = run_build(work, config, importtime=True)
        for server in servers:
            server.shutdown()
    return {
        "articles": articles,
        "feeds": feeds,
        "latency_ms": round(latency * 1000),
        "wall_s": cold["wall_s"],
        "cpu_s": cold["cpu_s"],
        "peak_mb": cold["peak_mb"],
        "stages": cold["stages"],
        "warm_wall_s": warm["wall_s"],
        "warm_cpu_s": warm["cpu_s"],
        "warm_stages": warm["stages"],
        "import_s": imports["import_s"],
        "edition": edition,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, action="append")
    parser.add_argument("--feeds", type=int, default=0, help="default: one feed per 10 articles")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = args.articles or [100, 1000, 5000]
    results = []
    for size in sizes:
        feeds = args.feeds or max(1, size // 10)
        results.append(measure(size, feeds, args.latency_ms / 1000))
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        return
    stage_names = sorted({name for r in results for name in r["stages"]})
    print(
        f"{'articles':>8} {'feeds':>5} {'wall s':>7} {'cpu s':>6} {'peak MB':>8} {'warm s':>7}"
        f" {'import s':>8}  " + " ".join(f"{n:>10}" for n in stage_names)
    )
    for r in results:
        print(
            f"{r['articles']:>8} {r['feeds']:>5} {r['wall_s']:>7} {r['cpu_s']:>6} {r['peak_mb']:>8}"
            f" {r['warm_wall_s']:>7} {r['import_s']:>8}  "
            + " ".join(f"{r['stages'].get(n, 0):>10}" for n in stage_names)
        )
    for r in results:
        e = r["edition"]
        print(
            f"edition of {r['articles']} articles: {e['sections']} sections,"
            f" {e['stories']} stories, {e['key_points']} key points, {e['omitted']} omitted,"
            f" hash {e['hash']}"
        )
    by_size = {r["articles"]: r for r in results}
    if 1000 in by_size and 5000 in by_size:
        ratio = by_size[5000]["wall_s"] / by_size[1000]["wall_s"]
        print(f"wall time 5,000 / 1,000 articles: {ratio:.2f} (linear growth would be 5.00)")


if __name__ == "__main__":
    main()
