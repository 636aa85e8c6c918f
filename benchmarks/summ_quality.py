"""ROUGE of our key points vs the lead, random picks, sumy's summarizers and the greedy oracle.

Run (about two minutes, sumy's KL is the slow one):
    .venv/bin/python -m benchmarks.summ_quality [--dev PATH] [--quick] [--points N --budget W]
Every summarizer row comes from the call the pipeline makes (`digest.summarize.key_points` with
`method=`), so the sumy rows keep the same limits and sentence rules as ours. `--quick` scores
ours and the baselines only; `--points` and `--budget` try other limits. The references are
read only to score; no system sees them, except the oracle (the ceiling). Ours was fitted on
folds 1-4 of this set (benchmarks/summ_fit.py), so the all-dev figures are partly in-sample:
the "held aside" lines score fold 0 alone, which no fit or tuning has seen.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._rouge import greedy_oracle, score
from digest import nlp
from digest.summarize import STOCK_METHODS, key_points
from digest.summary_document import build_document
from digest.summary_rules import DEFAULT_MAX_POINTS, DEFAULT_WORD_BUDGET

DEV_SET = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "summ" / "dev.jsonl"
RANDOM_SEED = 20240501
BOOTSTRAP_SAMPLES = 10_000


@dataclass(frozen=True, slots=True)
class DevArticle:
    id: str
    title: str
    text: str
    reference: str


def load_dev(path: Path) -> list[DevArticle]:
    with path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    return [DevArticle(r["id"], r["title"], r["text"], r["summary"]) for r in records]


def sentences_of(article: DevArticle) -> list[str]:
    return [str(s) for s in build_document([(article.title, article.text)]).sentences]


System = Callable[[DevArticle], list[str]]


def lead(count: int) -> System:
    return lambda article: sentences_of(article)[:count]


def lead_within(words: int) -> System:
    """Lead sentences while they fit in `words` words (at least one): a lead held to our limit."""

    def pick(article: DevArticle) -> list[str]:
        chosen: list[str] = []
        used = 0
        for sentence in sentences_of(article):
            size = nlp.word_count(sentence)
            if chosen and used + size > words:
                break
            chosen.append(sentence)
            used += size
        return chosen

    return pick


def random_sentences(count: int) -> System:
    rng = random.Random(RANDOM_SEED)

    def pick(article: DevArticle) -> list[str]:
        sentences = sentences_of(article)
        chosen = sorted(rng.sample(range(len(sentences)), min(count, len(sentences))))
        return [sentences[i] for i in chosen]

    return pick


def oracle(article: DevArticle) -> list[str]:
    sentences = sentences_of(article)
    return [sentences[i] for i in greedy_oracle(sentences, article.reference)]


def pipeline_call(method: str, max_points: int, word_budget: int) -> System:
    """The key points the pipeline would give the article with this method and these limits."""
    return lambda article: key_points(
        article.text,
        title=article.title,
        method=method,
        max_points=max_points,
        word_budget=word_budget,
    )


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    stemmed: tuple[float, float, float]
    plain: tuple[float, float, float]
    words: float
    leaning: float  # share of points opening with a word that points back
    per_article: tuple[float, ...]  # stemmed R-1 of each article


def evaluate(name: str, system: System, articles: Sequence[DevArticle]) -> Row:
    totals = {True: [0.0, 0.0, 0.0], False: [0.0, 0.0, 0.0]}
    word_total = 0
    points = leaning = 0
    per_article = []
    for article in articles:
        chosen = system(article)
        summary = " ".join(chosen)
        word_total += nlp.word_count(summary)
        points += len(chosen)
        leaning += sum(nlp.opens_with_back_reference(p) for p in chosen)
        for stem in (True, False):
            result = score(summary, article.reference, stem=stem)
            for k, value in enumerate((result.rouge1, result.rouge2, result.rougeL)):
                totals[stem][k] += value
            if stem:
                per_article.append(100 * result.rouge1)
    n = len(articles)

    def mean(stem: bool) -> tuple[float, float, float]:
        a, b, c = (100 * v / n for v in totals[stem])
        return (a, b, c)

    return Row(
        name,
        mean(True),
        mean(False),
        word_total / n,
        100 * leaning / max(1, points),
        tuple(per_article),
    )


def paired_bootstrap(gains: Sequence[float]) -> tuple[float, float]:
    """95 % interval of the mean of per-article gains, resampling articles."""
    rng = random.Random(RANDOM_SEED)
    n = len(gains)
    means = sorted(
        sum(gains[rng.randrange(n)] for _ in range(n)) / n for _ in range(BOOTSTRAP_SAMPLES)
    )
    return means[int(0.025 * BOOTSTRAP_SAMPLES)], means[int(0.975 * BOOTSTRAP_SAMPLES) - 1]


def print_table(rows: Sequence[Row]) -> None:
    print(
        f"{'system':<20} {'R-1':>6} {'R-2':>6} {'R-L':>6} | "
        f"{'R-1':>6} {'R-2':>6} {'R-L':>6} | {'words':>6} {'lean %':>7}"
    )
    print(f"{'':<20} {'stemmed':^20} | {'no stemming':^20} |")
    print("-" * 84)
    for row in rows:
        s, p = row.stemmed, row.plain
        print(
            f"{row.name:<20} {s[0]:6.1f} {s[1]:6.1f} {s[2]:6.1f} | "
            f"{p[0]:6.1f} {p[1]:6.1f} {p[2]:6.1f} | {row.words:6.1f} {row.leaning:7.1f}"
        )


def held_aside(articles: Sequence[DevArticle]) -> list[DevArticle]:
    from benchmarks.summ_fit import HELD_ASIDE_FOLD, fold_of

    return [a for a in articles if fold_of(a.id) == HELD_ASIDE_FOLD]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV_SET, help="the dev set (JSON lines)")
    parser.add_argument("--points", type=int, default=DEFAULT_MAX_POINTS, help="max key points")
    parser.add_argument("--budget", type=int, default=DEFAULT_WORD_BUDGET, help="word limit")
    parser.add_argument("--quick", action="store_true", help="skip sumy's methods and the oracle")
    args = parser.parse_args(argv)
    if not args.dev.exists():
        print(f"skipped: no dev set at {args.dev}")
        return 0
    articles = load_dev(args.dev)
    ours = pipeline_call("keypoints", args.points, args.budget)
    systems: dict[str, System] = {
        "ours (keypoints)": ours,
        "lead-3": lead(3),
        "lead-2": lead(2),
        f"lead, {args.budget} words": lead_within(args.budget),
        "random-3": random_sentences(3),
    }
    if not args.quick:
        for method in STOCK_METHODS:
            systems[f"sumy {method}"] = pipeline_call(method, args.points, args.budget)
        systems["oracle (greedy)"] = oracle
    rows = []
    for name, system in systems.items():
        started = time.perf_counter()
        rows.append(evaluate(name, system, articles))
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(f"{len(articles)} articles, ROUGE F1 x 100, mean words per summary, % of points")
    print("opening with a word that points back (lean %)\n")
    print_table(rows)
    ours_row, lead_row = rows[0], rows[1]
    gains = [a - b for a, b in zip(ours_row.per_article, lead_row.per_article, strict=True)]
    low, high = paired_bootstrap(gains)
    print(
        f"\nR-1 gain over lead-3: {sum(gains) / len(gains):+.2f} "
        f"(paired bootstrap 95 % interval [{low:+.2f}, {high:+.2f}])"
    )
    for k, metric in enumerate(("R-1", "R-2", "R-L")):
        verdict = ">=" if ours_row.stemmed[k] >= lead_row.stemmed[k] else "<"
        print(
            f"{metric}: ours {ours_row.stemmed[k]:.2f} {verdict} lead-3 {lead_row.stemmed[k]:.2f}"
        )
    aside = held_aside(articles)
    aside_rows = [evaluate(name, systems[name], aside) for name in ("ours (keypoints)", "lead-3")]
    print(f"\nheld aside (fold 0, {len(aside)} articles never fitted or tuned on):")
    print_table(aside_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
