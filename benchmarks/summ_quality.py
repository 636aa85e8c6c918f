"""ROUGE of our key points vs lead, random, sumy's summarizers and the greedy oracle (dev set).

Run (about 75 s, sumy's KL is the slow one):
    .venv/bin/python -m benchmarks.summ_quality [--dev PATH] [--sentences 3]
While working on the summarizer, `--quick` scores ours, the lead and random rows only (a few
seconds), and `--points N --budget W` run ours with other limits than the defaults, e.g. to see
what filling the 80-word budget does: `--quick --points 4 --budget 80`.
The references are read only to score; no system sees them, except the oracle (the ceiling).
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

from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.reduction import ReductionSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._rouge import rouge_tokens, score
from digest import nlp
from digest.summarize import build_document, key_points

DEV_SET = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "summ" / "dev.jsonl"
RANDOM_SEED = 20240501


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
    return [str(s) for s in build_document(article.text).sentences]


System = Callable[[DevArticle], list[str]]


def lead(count: int) -> System:
    return lambda article: sentences_of(article)[:count]


def lead_matching(system: System) -> System:
    """Lead sentences up to the length of `system`'s summary of the same article: a fair lead."""

    def pick(article: DevArticle) -> list[str]:
        budget = len(rouge_tokens(" ".join(system(article)), stem=False))
        chosen: list[str] = []
        used = 0
        for sentence in sentences_of(article):
            size = len(rouge_tokens(sentence, stem=False))
            if chosen and used + size > budget:
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


def sumy_system(summarizer: object, count: int) -> System:
    def pick(article: DevArticle) -> list[str]:
        document = build_document(article.text, title=article.title)
        return [str(s) for s in summarizer(document, count)]  # type: ignore[operator]

    return pick


def _with_stop_words(summarizer: object, stop_words: frozenset[str]) -> object:
    summarizer.stop_words = stop_words  # type: ignore[attr-defined]
    return summarizer


def sumy_baselines(count: int) -> dict[str, System]:
    stem = nlp.stemmer("german").stem
    stop_words = frozenset(get_stop_words("german"))
    # Title and location methods only: the cue and key methods need hand-made word lists.
    edmundson = EdmundsonSummarizer(
        stem, cue_weight=0.0, key_weight=0.0, title_weight=1.0, location_weight=1.0
    )
    edmundson.null_words = stop_words
    summarizers = {
        "LexRank": _with_stop_words(LexRankSummarizer(stem), stop_words),
        "TextRank": _with_stop_words(TextRankSummarizer(stem), stop_words),
        "LSA": _with_stop_words(LsaSummarizer(stem), stop_words),
        "Luhn": _with_stop_words(LuhnSummarizer(stem), stop_words),
        "KL": _with_stop_words(KLSummarizer(stem), stop_words),
        "SumBasic": _with_stop_words(SumBasicSummarizer(stem), stop_words),
        "Reduction": _with_stop_words(ReductionSummarizer(stem), stop_words),
        "Edmundson": edmundson,
    }
    return {f"{name}-{count}": sumy_system(s, count) for name, s in summarizers.items()}


def greedy_oracle(article: DevArticle) -> list[str]:
    """Add the sentence that most raises stemmed R-1 + R-2 F1 while one does."""
    sentences = sentences_of(article)
    chosen: list[int] = []
    best = 0.0
    while True:
        gains = []
        for i in range(len(sentences)):
            if i in chosen:
                continue
            text = " ".join(sentences[j] for j in sorted([*chosen, i]))
            result = score(text, article.reference, stem=True)
            gains.append((result.rouge1 + result.rouge2, -i, i))
        if not gains:
            break
        value, _, i = max(gains)
        if value <= best:
            break
        best = value
        chosen.append(i)
    return [sentences[i] for i in sorted(chosen)]


def ours(max_points: int | None, word_budget: int | None) -> System:
    """Our key points, with the library defaults unless a limit is given."""
    limits = {
        name: value
        for name, value in (("max_points", max_points), ("word_budget", word_budget))
        if value is not None
    }
    return lambda article: key_points(article.text, title=article.title, **limits)


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    stemmed: tuple[float, float, float]
    plain: tuple[float, float, float]
    words: float


def evaluate(name: str, system: System, articles: Sequence[DevArticle]) -> Row:
    totals = {True: [0.0, 0.0, 0.0], False: [0.0, 0.0, 0.0]}
    word_total = 0
    for article in articles:
        summary = " ".join(system(article))
        word_total += len(rouge_tokens(summary, stem=False))
        for stem in (True, False):
            result = score(summary, article.reference, stem=stem)
            for k, value in enumerate((result.rouge1, result.rouge2, result.rougeL)):
                totals[stem][k] += value
    n = len(articles)

    def mean(stem: bool) -> tuple[float, float, float]:
        a, b, c = (100 * v / n for v in totals[stem])
        return (a, b, c)

    return Row(name, mean(True), mean(False), word_total / n)


def print_table(rows: Sequence[Row], count: int) -> None:
    print(
        f"{'system':<16} {'R-1':>6} {'R-2':>6} {'R-L':>6} | "
        f"{'R-1':>6} {'R-2':>6} {'R-L':>6} | {'words':>6}"
    )
    print(f"{'':<16} {'stemmed':^20} | {'no stemming':^20} |")
    print("-" * 70)
    for row in rows:
        s, p = row.stemmed, row.plain
        print(
            f"{row.name:<16} {s[0]:6.1f} {s[1]:6.1f} {s[2]:6.1f} | "
            f"{p[0]:6.1f} {p[1]:6.1f} {p[2]:6.1f} | {row.words:6.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV_SET, help="the dev set (JSON lines)")
    parser.add_argument("--sentences", type=int, default=3, help="sentences per baseline summary")
    parser.add_argument("--points", type=int, help="max key points for ours (default: library's)")
    parser.add_argument("--budget", type=int, help="word budget for ours (default: library's)")
    parser.add_argument(
        "--quick", action="store_true", help="skip sumy's summarizers and the oracle"
    )
    args = parser.parse_args(argv)
    if not args.dev.exists():
        print(f"skipped: no dev set at {args.dev}")
        return 0
    articles = load_dev(args.dev)
    count = args.sentences
    our_system = ours(args.points, args.budget)
    systems: dict[str, System] = {
        "ours": our_system,
        f"lead-{count}": lead(count),
        "lead-2": lead(2),
        "lead (our len)": lead_matching(our_system),
        f"random-{count}": random_sentences(count),
    }
    if not args.quick:
        systems.update(sumy_baselines(count))
        systems["oracle (greedy)"] = greedy_oracle
    rows = []
    for name, system in systems.items():
        started = time.perf_counter()
        rows.append(evaluate(name, system, articles))
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(f"{len(articles)} articles, ROUGE F1 x 100, mean words per summary\n")
    print_table(rows, count)
    contenders = [r for r in rows if not r.name.startswith(("ours", "oracle"))]
    ours_row = rows[0]
    for k, metric in enumerate(("R-1", "R-2", "R-L")):
        best = max(contenders, key=lambda r: r.stemmed[k])
        verdict = "beats" if ours_row.stemmed[k] > best.stemmed[k] else "does NOT beat"
        print(
            f"{metric} (stemmed): ours {ours_row.stemmed[k]:.2f} {verdict} "
            f"best baseline {best.name} {best.stemmed[k]:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
