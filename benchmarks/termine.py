"""Termine: precision and recall of "a future event within 7 days, with the right day".

Run: .venv/bin/python -m benchmarks.termine [--corpus DIR]

The labelled set (benchmarks/data/termine_labels.jsonl, written for this project) names sentences
of the shared corpus by file, item link (feeds) and sentence index, with a hash of the sentence so
that a changed splitter is noticed; the texts themselves stay in ../shared. Each label is the day
of the event the sentence announces when that event lies from the publication day to seven days
after it, else null (past events, undated or vague ones, "heute" for "nowadays", events further
ahead, datelines, version numbers). A sentence counts as a true positive when the system names
the labelled day, a false positive when it names a day for a null label or the wrong day, and a
false negative when it names no day (or the wrong one) for a labelled event.

Both systems are scored on two folds split by file (a hash of the file name), so a rule written
while looking at one outlet's style is also seen on others; the rules were written after reading
the whole set while labelling it, so the figures are optimistic for outlets not in the corpus.
Baseline: dateparser's search_dates (German, relative to the publication time, future preferred),
taking its first date in the window; it is measured when installed (pip install dateparser).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest import extract, termine
from digest.feeds import parse_feed
from digest.models import FeedSource
from digest.nlp import split_sentences

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "benchmarks" / "data" / "termine_labels.jsonl"
CORPUS = ROOT / ".." / "shared" / "corpus"
HORIZON_DAYS = 7
PARSE_NOW = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Case:
    file: str
    sentence: str
    published: datetime
    label: date | None
    fold: int


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


def _texts(corpus: Path, file: str) -> dict[str, tuple[datetime, str]]:
    """Item link (or "" for a page) -> (publication time, text) as the digest would read it."""
    path = corpus / file
    if file.startswith("feeds/"):
        source = FeedSource(name=path.name, url=str(path))
        parsed = parse_feed(path.read_bytes(), source=source, now=PARSE_NOW)
        found = {}
        for entry in parsed.entries:
            if entry.published is not None:
                text = entry.content if len(entry.content) > len(entry.summary) else entry.summary
                found.setdefault(entry.url, (entry.published, text))
        return found
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    page = extract.extract_page(raw)
    if page.date is None:
        return {}
    return {"": (page.date, page.text)}


def load_cases(corpus: Path) -> list[Case]:
    cases = []
    cache: dict[str, dict[str, tuple[datetime, str]]] = {}
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        file = label["file"]
        if file not in cache:
            cache[file] = _texts(corpus, file)
        published, text = cache[file][label["item"]]
        sentence = split_sentences(text)[label["sentence"]]
        if hashlib.sha1(sentence.encode()).hexdigest()[:12] != label["sha1"]:
            raise SystemExit(f"{file} #{label['sentence']}: the sentence changed; relabel it")
        day = date.fromisoformat(label["event_day"]) if label["event_day"] else None
        fold = hashlib.sha1(file.encode()).digest()[0] % 2
        cases.append(Case(file, sentence, published, day, fold))
    return cases


System = Callable[[str, datetime], date | None]


def ours(sentence: str, published: datetime) -> date | None:
    return termine.event_day(sentence, published.date(), HORIZON_DAYS)


def dateparser_system() -> System | None:
    try:
        from dateparser.search import search_dates
    except ImportError:
        return None

    def find(sentence: str, published: datetime) -> date | None:
        settings = {
            "RELATIVE_BASE": published.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
        }
        found = search_dates(sentence, languages=["de"], settings=settings) or []  # type: ignore[arg-type]
        first = published.date()
        for _, moment in found:
            if first <= moment.date() <= first + timedelta(days=HORIZON_DAYS):
                return moment.date()
        return None

    return find


def score(system: System, cases: list[Case]) -> Score:
    result = Score()
    started = time.perf_counter()
    for case in cases:
        predicted = system(case.sentence, case.published)
        if predicted is not None and predicted == case.label:
            result.true_positives += 1
            continue
        if predicted is not None:
            result.false_positives += 1
        if case.label is not None:
            result.false_negatives += 1
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--errors", action="store_true", help="print our wrong answers")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"skipped: no corpus at {args.corpus}")
        return
    cases = load_cases(args.corpus)
    positives = sum(1 for c in cases if c.label is not None)
    print(
        f"{len(cases)} labelled sentences with a date expression, {positives} name an event"
        f" within {HORIZON_DAYS} days, {len(cases) - positives} past, undated or further ahead"
    )
    systems: list[tuple[str, System]] = [("digest.termine (ours)", ours)]
    baseline = dateparser_system()
    if baseline is not None:
        systems.append(("dateparser search_dates", baseline))
    else:
        print("dateparser is not installed: baseline skipped")
    print("| system | fold | sentences | P | R | TP | FP | FN | ms/sentence |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, system in systems:
        for fold_name, part in (
            ("0", [c for c in cases if c.fold == 0]),
            ("1", [c for c in cases if c.fold == 1]),
            ("all", cases),
        ):
            s = score(system, part)
            print(
                f"| {name} | {fold_name} | {len(part)} | {s.precision:.2f} | {s.recall:.2f} |"
                f" {s.true_positives} | {s.false_positives} | {s.false_negatives} |"
                f" {1000 * s.seconds / max(1, len(part)):.2f} |"
            )
    if args.errors:
        for case in cases:
            predicted = ours(case.sentence, case.published)
            if predicted != case.label:
                print(f"{case.file}: said {predicted}, label {case.label}: {case.sentence[:120]}")


if __name__ == "__main__":
    main()
