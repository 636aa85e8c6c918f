"""Our own code against the library that could replace it, on the shared corpus of feeds and pages.

    .venv/bin/python -m benchmarks.libraries

- Mojibake: every title and summary of the corpus feeds as feedparser gives them (clean text:
  a repair must leave it alone), and the same texts after a UTF-8 -> Windows-1252 or Latin-1
  misreading (a repair must give back the text). `digest.feeds.repair_mojibake` (ftfy behind a
  cheap test for the shape of such a misreading) against ftfy's `fix_encoding` on every text.
- URLs: every item link and guid of the corpus feeds. `digest.urls.canonical_url` against
  courlan's `normalize_url` and `clean_url`: how many distinct articles remain (the same article
  linked with and without campaign parameters or fragments should be one), and which query
  parameters and fragments each leaves.
- Page dates: the fundus pages, whose ground truth gives the publication time.
  `digest.extract.extract_page(...).date` (JSON-LD and meta tags, then trafilatura's date)
  against htmldate's `find_date` (original date, with time), exact to the second and to the day.

Needs ../shared/corpus next to the checkout; prints "skipped" without it.
"""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import courlan
import feedparser
import ftfy
import htmldate

from digest.extract import extract_page
from digest.feeds import repair_mojibake
from digest.urls import canonical_url

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


def feed_texts(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.iterdir()):
        parsed = feedparser.parse(path.read_bytes())
        for entry in parsed.entries:
            texts.extend(v for v in (entry.get("title"), entry.get("summary")) if v)
    return texts


def misread(texts: Iterable[str], encoding: str) -> list[tuple[str, str]]:
    """(mojibake, original) for every text with a character UTF-8 writes in several bytes."""
    pairs = []
    for text in texts:
        if text.isascii():
            continue
        try:
            pairs.append((text.encode("utf-8").decode(encoding), text))
        except UnicodeDecodeError:  # a byte Windows-1252 leaves undefined
            continue
    return pairs


def mojibake(folder: Path) -> None:
    texts = feed_texts(folder)
    cp1252, latin1 = misread(texts, "cp1252"), misread(texts, "latin-1")
    print(
        f"Mojibake: {len(texts)} feed texts; of them misread, {len(cp1252)} as Windows-1252"
        f" and {len(latin1)} as Latin-1"
    )
    print("| repair | clean texts changed | Windows-1252 restored | Latin-1 restored | ms/text |")
    print("| --- | --- | --- | --- | --- |")
    systems: list[tuple[str, Callable[[str], str]]] = [
        ("digest.feeds.repair_mojibake", repair_mojibake),
        ("ftfy.fix_encoding on every text", ftfy.fix_encoding),
    ]
    for name, repair in systems:
        started = time.perf_counter()
        changed = sum(repair(text) != text for text in texts)
        per_text = (time.perf_counter() - started) * 1000 / len(texts)
        restored = [sum(repair(bad) == good for bad, good in pairs) for pairs in (cp1252, latin1)]
        print(
            f"| {name} | {changed} | {restored[0]} of {len(cp1252)} |"
            f" {restored[1]} of {len(latin1)} | {per_text:.3f} |"
        )
    print()


def feed_links(folder: Path) -> list[str]:
    links = []
    for path in sorted(folder.iterdir()):
        for entry in feedparser.parse(path.read_bytes()).entries:
            links.extend(v for v in (entry.get("link"), entry.get("id")) if v and "://" in v)
    return links


def urls(folder: Path) -> None:
    links = feed_links(folder)
    print(f"URLs: {len(links)} item links and guids, {len(set(links))} distinct as written")
    print("| canonical form | distinct | with a fragment | query parameters left (links) |")
    print("| --- | --- | --- | --- |")
    systems: list[tuple[str, Callable[[str], str | None]]] = [
        ("digest.urls.canonical_url", canonical_url),
        ("courlan.normalize_url", courlan.normalize_url),
        ("courlan.clean_url", courlan.clean_url),
    ]
    for name, canonical in systems:
        forms = [canonical(link) or link for link in links]
        left = Counter(k for form in forms for k, _ in parse_qsl(urlsplit(form).query))
        fragments = sum(bool(urlsplit(form).fragment) for form in forms)
        shown = ", ".join(f"{k} ({n})" for k, n in left.most_common(4)) or "none"
        print(f"| {name} | {len(set(forms))} | {fragments} | {shown} |")
    print()


def gold_pages(folder: Path) -> list[tuple[str, bytes, datetime]]:
    """Each fundus page with the ground-truth publication time of the version nearest its date."""
    pages = []
    for truth in sorted(folder.glob("fundus__*.json")):
        versions = json.loads(truth.read_text("utf-8")).values()
        for page in sorted(folder.glob(f"{truth.stem}_*.html.gz")):
            day = datetime.strptime(page.name[len(truth.stem) + 1 : -8], "%Y_%m_%d")
            nearest = min(
                versions,
                key=lambda v: abs(datetime.fromisoformat(v["publishing_date"][:10]) - day),
            )
            when = datetime.fromisoformat(nearest["publishing_date"])
            pages.append((page.name, gzip.decompress(page.read_bytes()), when))
    return pages


def _ours(html: bytes) -> datetime | None:
    return extract_page(html).date


def _htmldate(html: bytes) -> datetime | None:
    found = htmldate.find_date(
        html.decode("utf-8", "replace"), original_date=True, outputformat="%Y-%m-%dT%H:%M:%S%z"
    )
    return datetime.fromisoformat(found) if found else None


def dates(folder: Path) -> None:
    pages = gold_pages(folder)
    print(f"Page dates: {len(pages)} fundus pages with a ground-truth publication time")
    print("| system | exact to the second | right day | none |")
    print("| --- | --- | --- | --- |")
    for name, find in (("digest.extract (ours)", _ours), ("htmldate.find_date", _htmldate)):
        exact = day = missing = 0
        for _, html, gold in pages:
            found = find(html)
            if found is None:
                missing += 1
                continue
            day += found.date() == gold.date()
            if gold.tzinfo is not None and found.tzinfo is not None:
                exact += abs((found - gold).total_seconds()) < 1
        print(f"| {name} | {exact} | {day} | {missing} |")
    print()


def main() -> None:
    if not CORPUS.is_dir():
        print(f"skipped: no corpus at {CORPUS}")
        return
    mojibake(CORPUS / "feeds")
    urls(CORPUS / "feeds")
    dates(CORPUS / "pages")


if __name__ == "__main__":
    main()
