"""Time key points for 1,000 articles of about 600 words in one process, per sumy method.

Run: .venv/bin/python -m benchmarks.summ_speed [--articles 1000] [--words 600] [--methods ...]
The goal for ours (keypoints): at most 5 ms per article.
Articles are put together at run time from the dev set's sentences when it is present, otherwise
from German sentences built from the templates below.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest import nlp
from digest.summarize import DEFAULT_METHOD, key_points

DEV_SET = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "summ" / "dev.jsonl"
SEED = 7

_SUBJECTS = (
    "Die Bundesregierung",
    "Der Verteidigungsminister",
    "Die NATO",
    "Das Auswärtige Amt",
    "Die Europäische Union",
    "Der Bundestag",
    "Die Außenministerin",
    "Ein Sprecher der Bundeswehr",
    "Die Vereinten Nationen",
    "Der französische Präsident",
    "Die Opposition",
    "Das Kanzleramt",
)
_VERBS = (
    "kündigte am Dienstag",
    "beschloss nach langen Verhandlungen",
    "forderte in Brüssel",
    "kritisierte am Rande des Gipfels",
    "bestätigte in einer Erklärung",
    "prüft derzeit",
)
_OBJECTS = (
    "neue Sanktionen gegen Russland",
    "weitere Waffenlieferungen an die Ukraine",
    "eine Reform der Wehrpflicht",
    "mehr Geld für die Luftverteidigung",
    "eine engere Zusammenarbeit bei der Cyberabwehr",
    "den Ausbau der Ostflanke",
    "ein Abkommen über Rüstungsexporte",
    "strengere Kontrollen an den Außengrenzen",
)
_TAILS = (
    "an.",
    "an, wie aus Regierungskreisen verlautete.",
    "an, nachdem sich die Lage verschärft hatte.",
    "an und verwies auf die angespannte Sicherheitslage in Osteuropa.",
    "an; Details sollen folgen.",
)


def template_sentences(rng: random.Random, count: int) -> list[str]:
    return [
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}"
        for _ in range(count)
    ]


def sentence_pool(rng: random.Random) -> list[str]:
    if DEV_SET.exists():
        with DEV_SET.open(encoding="utf-8") as lines:
            texts = [json.loads(line)["text"] for line in lines if line.strip()]
        return [s.strip() for text in texts for s in nlp.split_sentences(text) if s.strip()]
    return template_sentences(rng, 2000)


def synthesise_articles(count: int, words: int) -> list[tuple[str | None, str]]:
    """`count` (title, text) articles of about `words` words each, paragraphs of 3 sentences."""
    rng = random.Random(SEED)
    pool = sentence_pool(rng)
    articles = []
    for _ in range(count):
        sentences: list[str] = []
        total = 0
        while total < words:
            sentence = rng.choice(pool)
            sentences.append(sentence)
            total += len(sentence.split())
        paragraphs = ["\n".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
        title = " ".join(sentences[0].split()[:8])
        articles.append((title, "\n\n".join(paragraphs)))
    return articles


def timed(method: str, articles: Sequence[tuple[str | None, str]]) -> float:
    """Milliseconds per article for the pipeline's call with `method`, after one warm-up."""
    key_points(articles[0][1], title=articles[0][0], method=method)
    started = time.perf_counter()
    for title, text in articles:
        key_points(text, title=title, method=method)
    return 1000 * (time.perf_counter() - started) / len(articles)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--methods", nargs="*", default=[DEFAULT_METHOD, "lexrank"])
    args = parser.parse_args(argv)
    articles = synthesise_articles(args.articles, args.words)
    mean_words = sum(nlp.word_count(text) for _, text in articles) / len(articles)
    print(f"{len(articles)} articles, {mean_words:.0f} words on average, one process")
    for method in args.methods:
        per_article = timed(method, articles)
        print(f"{method:<12} {per_article:6.2f} ms per article")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
