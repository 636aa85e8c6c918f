"""Benchmark: judging and selecting 5,000 synthetic articles (target: under 10 s).

Run: .venv/bin/python benchmarks/selection.py [--articles 5000] [--seed 7]
Synthetic events each have their own rare words and numbers; every event is reported by one to
four outlets, as agency copies with small edits or as own texts built from the event's words.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# standard library's `select` module (imported by socket via datasketch): drop that folder.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]

import argparse  # noqa: E402
import itertools  # noqa: E402
import random  # noqa: E402
import string  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from digest.cluster import cluster  # noqa: E402
from digest.config import SelectConfig  # noqa: E402
from digest.editorial import judge, load_model  # noqa: E402
from digest.models import Article  # noqa: E402
from digest.relevance import load_topics  # noqa: E402
from digest.select import select  # noqa: E402

COMMON = [
    "der",
    "die",
    "das",
    "und",
    "in",
    "zu",
    "den",
    "von",
    "mit",
    "sich",
    "des",
    "auf",
    "für",
    "ist",
    "im",
    "dem",
    "nicht",
    "ein",
    "eine",
    "als",
    "auch",
    "es",
    "an",
    "werden",
    "aus",
    "er",
    "hat",
    "dass",
    "sie",
    "nach",
    "wird",
    "bei",
    "einer",
    "um",
    "am",
    "sind",
    "noch",
    "wie",
    "einem",
    "über",
    "einen",
    "so",
    "zum",
    "Regierung",
    "Minister",
    "Angaben",
    "Montag",
    "Dienstag",
    "Land",
    "Stadt",
    "Menschen",
    "Jahr",
    "Prozent",
    "Bericht",
    "sagte",
    "Armee",
    "Soldaten",
    "Angriff",
    "NATO",
    "Ukraine",
    "Russland",
    "Sicherheit",
    "Polizei",
    "Bundeswehr",
    "Krieg",
    "Drohnen",
]
NOW = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 11))).capitalize()


def _sentence(rng: random.Random, own: list[str]) -> str:
    words = [rng.choice(own) if rng.random() < 0.35 else rng.choice(COMMON) for _ in range(12)]
    return " ".join(words) + "."


def synthetic_articles(count: int, seed: int) -> list[Article]:
    rng = random.Random(seed)
    articles: list[Article] = []
    for event in itertools.count():
        own = [_pseudo_word(rng) for _ in range(25)] + [
            str(rng.randint(10, 9999)) for _ in range(3)
        ]
        base = " ".join(_sentence(rng, own) for _ in range(rng.randint(6, 16)))
        title = " ".join(rng.choice(own) for _ in range(4))
        published = NOW - timedelta(hours=rng.uniform(0, 30))
        for outlet in range(rng.randint(1, 4)):
            if outlet > 0 and rng.random() < 0.5:
                words = base.split()
                for _ in range(5):
                    words[rng.randrange(len(words))] = rng.choice(COMMON)
                text = " ".join(words)
            else:
                text = " ".join(_sentence(rng, own) for _ in range(rng.randint(3, 12)))
            articles.append(
                Article(
                    url=f"https://outlet{outlet}.example/{event}/{outlet}",
                    title=title,
                    source=f"Outlet {outlet}",
                    published=published + timedelta(minutes=10 * outlet),
                    text=text,
                )
            )
            if len(articles) == count:
                return articles
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    articles = synthetic_articles(args.articles, args.seed)
    started = time.perf_counter()
    model = load_model()
    topics = load_topics()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    judgements = judge(articles, model, topics)
    judged = time.perf_counter() - started
    started = time.perf_counter()
    groups = cluster(articles, model.story, model.story_link, topics).groups
    clustered = time.perf_counter() - started
    truth = {a.url: a.url.split("/")[3] for a in articles}
    predicted = {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}
    events: dict[str, list[int]] = {}
    for index, article in enumerate(articles):
        events.setdefault(truth[article.url], []).append(index)
    expected = {frozenset(p) for g in events.values() for p in itertools.combinations(g, 2)}
    hits = len(predicted & expected)
    # The worst case for the selection: every article on topic, so every one is clustered.
    everything = [replace(j, on_topic=True, series=False) for j in judgements]
    started = time.perf_counter()
    selection = select(articles, everything, model, topics, SelectConfig(), now=NOW)
    selected = time.perf_counter() - started
    print(f"articles: {len(articles)}, events: {len(events)}, groups found: {len(groups)}")
    print(f"loading the editorial model and topics: {loaded:.2f} s")
    print(f"judging (features, relevance, series, Ressort): {judged:.2f} s")
    print(f"clustering all of them: {clustered:.2f} s")
    print(
        f"pairwise precision {hits / max(len(predicted), 1):.3f}, "
        f"recall {hits / max(len(expected), 1):.3f}"
    )
    shown = sum(len(s.stories) for s in selection.sections)
    print(
        f"selection with every article on topic (clustering, Ressorts, ranking): {selected:.2f} s,"
        f" {shown} shown"
    )
    print(f"judging + selection: {judged + selected:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
