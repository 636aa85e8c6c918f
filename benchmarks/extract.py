"""Word-level precision/recall/F1 of main-text extraction against the shared corpus ground truth.

Run: .venv/bin/python benchmarks/extract.py [--show PAGE]

Fundus pages: the ground truth is the article body = summary (lead) + section headlines +
paragraphs. Sub-headlines count because they are part of the article as a reader sees it and
both extractors emit them; the page title does not count (it is a separate field). Scores are
bag-of-words (multiset) overlap of lower-cased word tokens. The baseline is trafilatura.extract
with default settings; "ours" is digest.extract.extract_page(...).text.
Also prints the trafilatura evaldata subset (share of "with" snippets found and "without"
snippets avoided) and scrapinghub articleBody F1 when those files are present.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.errors import ExtractError
from digest.extract import extract_page

PAGES = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "pages"
_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True, slots=True)
class GoldPage:
    name: str
    html: bytes
    body: str


def word_bag(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text))


def score(ours: str, gold: str) -> Score:
    ours_bag, gold_bag = word_bag(ours), word_bag(gold)
    overlap = sum((ours_bag & gold_bag).values())
    precision = overlap / max(1, sum(ours_bag.values()))
    recall = overlap / max(1, sum(gold_bag.values()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def _normalise(text: str) -> str:
    return " ".join(html.unescape(text).split())


def _gold_body(entry: dict) -> str:
    body = entry["body"]
    parts = list(body.get("summary", []))
    for section in body.get("sections", []):
        parts += section.get("headline", []) + section.get("paragraphs", [])
    return "\n".join(parts)


def _file_date(path: Path) -> datetime:
    year, month, day = path.name.removesuffix(".html.gz").rsplit("_", 3)[1:]
    return datetime(int(year), int(month), int(day))


def _match_entry(page_html: str, versions: dict, day: datetime) -> dict | None:
    """The ground-truth version whose title is on the page; ties go to the closest date."""
    text = _normalise(page_html)
    candidates = [v for v in versions.values() if v.get("title") and _normalise(v["title"]) in text]
    if not candidates:
        return None

    def distance(entry: dict) -> float:
        published = datetime.fromisoformat(entry["publishing_date"]).replace(tzinfo=None)
        return abs((published - day).total_seconds())

    return min(candidates, key=distance)


def fundus_pages() -> list[GoldPage]:
    pages = []
    for path in sorted(PAGES.glob("fundus__de_*.html.gz")):
        outlet = path.name.removeprefix("fundus__de_").rsplit("_", 3)[0]
        versions = json.loads((PAGES / f"fundus__de_{outlet}.json").read_text(encoding="utf-8"))
        raw = gzip.decompress(path.read_bytes())
        entry = _match_entry(raw.decode("utf-8", "replace"), versions, _file_date(path))
        if entry is None:
            print(f"no ground truth matched for {path.name}", file=sys.stderr)
            continue
        pages.append(GoldPage(path.name.removeprefix("fundus__de_"), raw, _gold_body(entry)))
    return pages


def baseline_text(page_html: bytes) -> str:
    return trafilatura.extract(page_html) or ""


def our_text(page_html: bytes) -> str:
    try:
        return extract_page(page_html).text
    except ExtractError:
        return ""


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def fundus_table(pages: list[GoldPage]) -> None:
    print("Fundus ground truth (summary + headlines + paragraphs), word-level bag-of-words")
    columns = ("P", "R", "F1")
    header = f"{'page':34} " + " ".join(f"{'base ' + c:>7}" for c in columns)
    header += " | " + " ".join(f"{'ours ' + c:>7}" for c in columns)
    print(header)
    print("-" * len(header))
    base_scores, our_scores = [], []
    for page in pages:
        base = score(baseline_text(page.html), page.body)
        ours = score(our_text(page.html), page.body)
        base_scores.append(base)
        our_scores.append(ours)
        print(
            f"{page.name:34} {base.precision:7.3f} {base.recall:7.3f} {base.f1:7.3f} |"
            f" {ours.precision:7.3f} {ours.recall:7.3f} {ours.f1:7.3f}"
        )
    print("-" * len(header))
    for label, pick in (("mean", _mean), ("min", min)):
        b = [pick([getattr(s, f) for s in base_scores]) for f in ("precision", "recall", "f1")]
        o = [pick([getattr(s, f) for s in our_scores]) for f in ("precision", "recall", "f1")]
        print(
            f"{label:34} {b[0]:7.3f} {b[1]:7.3f} {b[2]:7.3f} | {o[0]:7.3f} {o[1]:7.3f} {o[2]:7.3f}"
        )


def _snippet_rates(extract: Callable[[bytes], str]) -> tuple[float, float, int]:
    subset = json.loads(
        (PAGES / "trafilatura__evaldata_dev_subset.json").read_text(encoding="utf-8")
    )
    found = avoided = total_with = total_without = 0
    for entry in subset.values():
        text = _normalise(extract((PAGES / f"trafilatura__{entry['file']}").read_bytes()))
        for snippet in entry.get("with", []):
            total_with += 1
            found += _normalise(snippet) in text
        for snippet in entry.get("without", []):
            total_without += 1
            avoided += _normalise(snippet) not in text
    return found / max(1, total_with), avoided / max(1, total_without), len(subset)


def snippet_table() -> None:
    if not (PAGES / "trafilatura__evaldata_dev_subset.json").exists():
        return
    print(
        "\ntrafilatura evaldata subset: share of 'with' snippets kept / 'without' snippets avoided"
    )
    for label, extract in (("baseline", baseline_text), ("ours", our_text)):
        kept, avoided, pages = _snippet_rates(extract)
        print(f"{label:10} kept {kept:.3f}  avoided {avoided:.3f}  ({pages} pages)")


def scrapinghub_table() -> None:
    truth_path = PAGES / "scrapinghub__ground-truth_dev_subset.json"
    if not truth_path.exists():
        return
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    print("\nscrapinghub articleBody, word-level F1 (baseline / ours)")
    for key, entry in truth.items():
        path = PAGES / f"scrapinghub__{key}.html.gz"
        if not path.exists():
            continue
        raw = gzip.decompress(path.read_bytes())
        base = score(baseline_text(raw), entry["articleBody"])
        ours = score(our_text(raw), entry["articleBody"])
        print(f"{key[:16]:18} {base.f1:.3f} / {ours.f1:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--show", help="print our text for the fundus page whose name contains this"
    )
    args = parser.parse_args()
    if not PAGES.is_dir():
        print("shared corpus not found; nothing to benchmark")
        return 0
    pages = fundus_pages()
    if args.show:
        for page in pages:
            if args.show in page.name:
                print(our_text(page.html))
        return 0
    fundus_table(pages)
    snippet_table()
    scrapinghub_table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
