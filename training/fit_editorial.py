"""Fit the editorial model (relevance, series, Ressort) on labelled feed items and write its JSON.

Run from the project folder:  .venv/bin/python -m training.fit_editorial [--out PATH]

Training data: the hand-labelled dev items of ../shared/eval/selection/ (read from there, never
copied) and our own labelled items in training/labels/. Every choice that is not a weight is
fitted too: each decision threshold is the one that does best on predictions for outlets the
model was not fitted to (grouped folds by publisher inside the training data). Fitting is
deterministic, so running this again on the same data gives the same file (tests/test_editorial.py
checks it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from digest import cluster, editorial
from digest.models import Article
from digest.relevance import Topics, load_topics
from training import corpus

SECTIONS = (
    "Russland & Ukraine",
    "NATO & Europa",
    "Bundeswehr & Rüstung",
    "Naher & Mittlerer Osten",
    "China & Indo-Pazifik",
    "Cyber & hybride Bedrohungen",
    "Terrorismus & innere Sicherheit",
    "Rüstungskontrolle & Nukleares",
    "Weitere Meldungen",
)
FALLBACK = "Weitere Meldungen"

# Regularisation (inverse strength) of each logistic regression.
RELEVANCE_C = 1.0
SERIES_C = 1.0
SECTION_C = 2.0
STORY_C = 1.0
COMMON_TITLE_STORIES = 10
STORY_THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)  # pair probabilities tried (fit_story)
# ... and most of whose titles are of different stories: the name of a big event recurs in the
# titles of its many reports (Magdeburg: 38 titles, 10 stories), an everyday word does not.
COMMON_TITLE_SPREAD = 0.6
GRADES = ("off", "edge", "core")
EDGE_WEIGHT = 0.5  # edge items count half: a briefing may take them or leave them
# Our own items weigh less than real feeds' in the relevance model: they widen what it knows
# (0.77 -> 0.84 for the lesser of precision and core recall, cross-validated by feed, before
# the naive-Bayes scaling), but they are cleaner than real feeds: at full weight they cost
# 0.01-0.02 of that (0.15: 0.881, 0.3: 0.883, 0.6: 0.885, 1: 0.872 with the scaling).
OWN_WEIGHT = 0.3
MIN_DOCUMENT_FREQUENCY = 3  # features seen in fewer training items are dropped
INNER_FOLDS = 4
MAX_ITER = 3000
DIGITS = 4  # weights are stored rounded, so the file is the same on every machine
# Weights smaller than this are left out: they move no decision, and a smaller file loads
# faster (a build reads it once).
SMALLEST_WEIGHT = 0.01


def featurise(items: Sequence[corpus.Labelled], topics: Topics) -> list[dict[str, float]]:
    """Features of each item's article, each feed read as one batch (as a build reads it)."""
    found: list[dict[str, float]] = [{} for _ in items]
    by_feed: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if item.article is not None:
            by_feed.setdefault(item.feed, []).append(index)
    for indices in by_feed.values():
        articles = [items[i].article for i in indices]
        for index, features in zip(
            indices, editorial.feature_sets([a for a in articles if a], topics), strict=True
        ):
            found[index] = features
    return found


def fit(items: Sequence[corpus.Labelled], topics: Topics | None = None) -> dict[str, Any]:
    """The model data (as written to JSON) fitted on `items`."""
    topics = topics or load_topics()
    usable = [item for item in items if item.article is not None]
    features = featurise(usable, topics)
    groups = np.array([item.outlet for item in usable])
    vectorizer = _vectorizer(features)
    matrix = vectorizer.transform(features)
    names = vectorizer.get_feature_names_out()

    on_topic = np.array([item.on_topic for item in usable], dtype=int)
    core = np.array([item.relevance == "core" for item in usable])
    grades = np.array([GRADES.index(item.relevance) for item in usable])
    # Thresholds are judged on the real feeds' items only: our own items train the weights
    # but are cleaner than real feeds, so a threshold fitted to them would be too lenient.
    real = np.array([not item.own for item in usable])
    if not real.any():
        real[:] = True
    weights = np.array([OWN_WEIGHT if item.own else 1.0 for item in usable])

    def relevance_model() -> GradedRelevance:
        return GradedRelevance(C=RELEVANCE_C)

    relevance = relevance_model().fit(matrix, grades, sample_weight=weights)
    scores = _out_of_fold(relevance_model, matrix, grades, groups, weights)
    relevance_threshold = _best_threshold(
        scores[real],
        lambda chosen: min(_precision(chosen, on_topic[real]), _recall(chosen, core[real])),
    )

    series_labels = np.array([item.series for item in usable], dtype=int)

    def series_model() -> NaiveBayesLogistic:
        return NaiveBayesLogistic(C=SERIES_C)

    series = series_model().fit(matrix, series_labels)
    series_scores = _out_of_fold(series_model, matrix, series_labels, groups)
    # F2: a service item shown is what the briefing must never do, so recall weighs double.
    series_threshold = _best_threshold(
        series_scores[real], lambda chosen: _f_beta(chosen, series_labels[real].astype(bool), 2.0)
    )

    sectioned = [i for i, item in enumerate(usable) if item.on_topic and item.section]
    section_labels = np.array([SECTIONS.index(usable[i].section) for i in sectioned])
    section_matrix = matrix[sectioned]

    def section_model() -> LogisticRegression:
        return LogisticRegression(C=SECTION_C, max_iter=MAX_ITER)

    section = section_model().fit(section_matrix, section_labels)
    probabilities = _out_of_fold_classes(
        section_model, section_matrix, section_labels, groups[sectioned], len(SECTIONS)
    )
    real_sectioned = real[sectioned]
    min_probability = _best_fallback(probabilities[real_sectioned], section_labels[real_sectioned])

    story = fit_story(usable, topics)
    return {
        "format": editorial.MODEL_FORMAT,
        "trained_on": {
            "items": len(usable),
            "feeds": len({item.feed for item in usable}),
            "on_topic": int(on_topic.sum()),
            "series": int(series_labels.sum()),
        },
        "relevance": _binary(relevance, names, relevance_threshold),
        "series": _binary(series, names, series_threshold),
        "section": {
            "classes": [SECTIONS[k] for k in section.classes_],
            "bias": [round(float(b), DIGITS) for b in section.intercept_],
            "weights": {
                name: [round(float(w), DIGITS) for w in column]
                for name, column in zip(names, section.coef_.T, strict=True)
                if np.abs(column).max() >= SMALLEST_WEIGHT
            },
            "min_probability": min_probability,
            "fallback": FALLBACK,
        },
        "story": story,
    }


@dataclass(frozen=True, slots=True)
class StoryBatch:
    """The labelled on-topic articles of one edition, their gold stories and measured pairs."""

    gold: tuple[str, ...]
    pairs: cluster.Pairs
    real: bool  # a real feed's items, not our own


def common_title_words(items: Sequence[corpus.Labelled], topics: Topics) -> list[str]:
    """Stems of capitalised title words found in the titles of at least COMMON_TITLE_STORIES
    different stories (an item without a story counts as one of its own), in titles mostly of
    different stories (COMMON_TITLE_SPREAD): everyday words ("Gespräche", "Regierung") that
    name no event, unlike "Magdeburg"."""
    lexicon = topics.relevance.get("de")
    stories: dict[str, set[str]] = {}
    titles: Counter[str] = Counter()
    for item in items:
        if item.article is None:
            continue
        key = item.story or f"{item.feed}:{item.n}"
        for word in cluster.title_names(item.article.title, item.article.language, lexicon):
            stories.setdefault(word, set()).add(key)
            titles[word] += 1
    return sorted(
        word
        for word, keys in stories.items()
        if len(keys) >= COMMON_TITLE_STORIES and len(keys) >= COMMON_TITLE_SPREAD * titles[word]
    )


def story_batches(
    items: Sequence[corpus.Labelled], topics: Topics, common: frozenset[str]
) -> list[StoryBatch]:
    """One batch per edition a build would see (the news day's outlets together, every other
    feed or own file alone), of the articles labelled on topic; each feed's boilerplate read
    from all its items. Every article keeps its date, as a build reads it: read as one day,
    our own files had each event meet the alike events of its topic from other years, and the
    pair model learnt that alike teasers are mostly different events."""
    editions: dict[str, dict[str, tuple[Article, str]]] = {}
    everything: dict[str, dict[str, Article]] = {}  # on topic or not: a build reads all of them
    own: set[str] = set()
    for item in items:
        if item.article is None:
            continue
        key = "news day" if item.feed in corpus.NEWS_DAY_FEEDS else item.feed.split("#")[0]
        everything.setdefault(key, {}).setdefault(item.article.url, item.article)
        if not item.on_topic or not item.story:
            continue
        if item.own:
            own.add(key)
        editions.setdefault(key, {}).setdefault(item.article.url, (item.article, item.story))
    batches = []
    for key in sorted(editions):
        members = list(editions[key].values())
        articles = [article for article, _ in members]
        tickers = frozenset(i for i, a in enumerate(articles) if editorial.is_ticker(a))
        batches.append(
            StoryBatch(
                gold=tuple(story for _, story in members),
                pairs=cluster.measure(
                    articles,
                    topics,
                    title_only=tickers,
                    common=common,
                    boilerplate=cluster.feed_boilerplate(list(everything[key].values())),
                ),
                real=key not in own,
            )
        )
    return batches


def fit_story(items: Sequence[corpus.Labelled], topics: Topics) -> dict[str, Any]:
    """The pair model (same event or not) and the linkage level that groups best."""
    common = common_title_words(items, topics)
    batches = story_batches(items, topics, frozenset(common))
    names = list(cluster.PAIR_FEATURES)
    rows, labels, groups, weights = [], [], [], []
    for number, batch in enumerate(batches):
        size = Counter(batch.gold)
        for (i, j), found in zip(batch.pairs.pairs, batch.pairs.features, strict=True):
            rows.append([found[name] for name in names])
            same = batch.gold[i] == batch.gold[j]
            labels.append(int(same))
            groups.append(number)
            # A story of k reports gives up to k(k-1)/2 pairs of itself: weighed 1/(k-1) each,
            # every story counts by its reports, and one big event (the Magdeburg attack:
            # 300 pairs) does not decide what all stories look like. Our own items weigh
            # OWN_WEIGHT, as in the relevance fit: written to tell events apart, they are
            # cleaner than a real feed.
            weight = 1.0 / (size[batch.gold[i]] - 1) if same else 1.0
            weights.append(weight * (1.0 if batch.real else OWN_WEIGHT))
    matrix, truth, batch_of = np.array(rows), np.array(labels), np.array(groups)
    pair_weight = np.array(weights)

    def story_model() -> LogisticRegression:
        return LogisticRegression(C=STORY_C, max_iter=MAX_ITER)

    model = story_model().fit(matrix, truth, sample_weight=pair_weight)
    scores = _out_of_fold(story_model, matrix, truth, batch_of, pair_weight)
    threshold, link = _best_grouping(batches, scores, batch_of)
    return {
        "bias": round(float(model.intercept_[0]), DIGITS),
        "weights": {
            name: round(float(w), DIGITS) for name, w in zip(names, model.coef_[0], strict=True)
        },
        "threshold": threshold,
        "link": link,
        "common_title_words": common,
    }


def _best_grouping(
    batches: Sequence[StoryBatch], scores: np.ndarray, batch_of: np.ndarray
) -> tuple[float, float]:
    """The pair threshold and centroid level (see cluster.cluster) that group best: B-cubed F1,
    item-weighted, over the real feeds' batches, with pair probabilities from models fitted
    without the batch's edition. The two are chosen together: a low threshold lets the
    centroid check decide, a high one decides alone. As for the thresholds above, our own items
    train the pair model but do not choose the levels: written to tell events apart, they are
    no sample of a news day."""
    real = [number for number, b in enumerate(batches) if b.real] or list(range(len(batches)))
    grid = [
        (threshold, link)
        for threshold in STORY_THRESHOLDS
        for link in (round(t, 2) for t in np.arange(0.05, 0.61, 0.05))
    ]
    if not real:
        return max(grid)
    sizes = np.array([len(batches[number].gold) for number in real], dtype=float)
    probabilities = {
        number: dict(zip(batches[number].pairs.pairs, scores[batch_of == number], strict=True))
        for number in real
    }
    quality, error = [], []
    for threshold, link in grid:
        f1 = np.array(
            [
                _bcubed_f1(
                    cluster.link_stories(
                        batches[number].pairs, probabilities[number], threshold, link
                    ).groups,
                    batches[number].gold,
                )
                for number in real
            ]
        )
        mean = float(np.average(f1, weights=sizes))
        quality.append(mean)
        error.append(float(np.sqrt(np.sum((sizes * (f1 - mean)) ** 2)) / sizes.sum()))
    best = int(np.argmax(quality))
    # The one-standard-error rule: of the levels that group within one standard error of the
    # best (over the batches), the most cautious, the highest threshold and level. The
    # quality is flat over much of the grid, and what tops it by less is one day's chance.
    return max(
        levels
        for levels, q in zip(grid, quality, strict=True)
        if q >= quality[best] - error[best] - 1e-9
    )


def _bcubed_f1(groups: Sequence[Sequence[int]], gold: Sequence[str]) -> float:
    predicted = {i: tuple(g) for g in groups for i in g}
    precision = recall = 0.0
    for i in range(len(gold)):
        same_gold = [k for k in range(len(gold)) if gold[k] == gold[i]]
        both = sum(1 for k in predicted[i] if gold[k] == gold[i])
        precision += both / len(predicted[i])
        recall += both / len(same_gold)
    precision, recall = precision / len(gold), recall / len(gold)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


class NaiveBayesLogistic:
    """A logistic regression on features scaled by their naive-Bayes log-count ratio (NBSVM,
    Wang and Manning 2012): words that tell the classes apart count more before the
    regression weighs them. Still linear in the features, so its weights (ratio x coefficient)
    are stored as those of any logistic regression. Cross-validated by feed on dev this raised
    the lesser of precision and core recall from 0.84 to 0.88."""

    def __init__(self, C: float) -> None:
        self.model = LogisticRegression(C=C, class_weight="balanced", max_iter=MAX_ITER)
        self.ratios = np.zeros(0)

    def fit(
        self, matrix: Any, labels: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> NaiveBayesLogistic:
        weights = np.ones(len(labels)) if sample_weight is None else sample_weight
        positive = _weighted_column_sums(matrix[labels == 1], weights[labels == 1]) + 1.0
        negative = _weighted_column_sums(matrix[labels == 0], weights[labels == 0]) + 1.0
        self.ratios = np.log((positive / positive.sum()) / (negative / negative.sum()))
        self.model.fit(matrix @ sparse.diags(self.ratios), labels, sample_weight=weights)
        return self

    def predict_proba(self, matrix: Any) -> np.ndarray:
        return self.model.predict_proba(matrix @ sparse.diags(self.ratios))

    @property
    def intercept_(self) -> np.ndarray:
        return self.model.intercept_

    @property
    def coef_(self) -> np.ndarray:
        return self.model.coef_ * self.ratios


class GradedRelevance:
    """Relevance from the three grades: the mean log-odds of two naive-Bayes logistic
    regressions, on topic (core and edge, at EDGE_WEIGHT, against off) and core (against edge
    and off). An item must look on topic and like the heart of the beat: cross-validated by
    feed on the tuning feeds, the lesser of precision and core recall rose from 0.941 to 0.957
    (out-of-fold scores, best threshold each). The mean of two linear models is linear, so it
    is stored as one."""

    def __init__(self, C: float) -> None:
        self.on_topic = NaiveBayesLogistic(C=C)
        self.core = NaiveBayesLogistic(C=C)

    def fit(
        self, matrix: Any, grades: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> GradedRelevance:
        weights = np.ones(len(grades)) if sample_weight is None else sample_weight
        on_topic = (grades >= GRADES.index("edge")).astype(int)
        edge = grades == GRADES.index("edge")
        self.on_topic.fit(
            matrix, on_topic, sample_weight=np.where(edge, EDGE_WEIGHT, 1.0) * weights
        )
        self.core.fit(matrix, (grades == GRADES.index("core")).astype(int), sample_weight=weights)
        return self

    def predict_proba(self, matrix: Any) -> np.ndarray:
        probability = expit(matrix @ self.coef_[0] + self.intercept_[0])
        return np.column_stack([1.0 - probability, probability])

    @property
    def intercept_(self) -> np.ndarray:
        return (self.on_topic.intercept_ + self.core.intercept_) / 2.0

    @property
    def coef_(self) -> np.ndarray:
        return (self.on_topic.coef_ + self.core.coef_) / 2.0


def _weighted_column_sums(matrix: Any, weights: np.ndarray) -> np.ndarray:
    return np.asarray(matrix.multiply(weights[:, None]).sum(axis=0)).ravel()


def _vectorizer(features: Sequence[dict[str, float]]) -> DictVectorizer:
    counts: dict[str, int] = {}
    for found in features:
        for name in found:
            counts[name] = counts.get(name, 0) + 1
    kept = [{k: v for k, v in f.items() if counts[k] >= MIN_DOCUMENT_FREQUENCY} for f in features]
    return DictVectorizer(sort=True).fit(kept)


def _binary(
    model: LogisticRegression | NaiveBayesLogistic | GradedRelevance,
    names: Sequence[str],
    threshold: float,
) -> dict[str, Any]:
    return {
        "bias": round(float(model.intercept_[0]), DIGITS),
        "threshold": threshold,
        "weights": {
            name: round(float(w), DIGITS)
            for name, w in zip(names, model.coef_[0], strict=True)
            if abs(w) >= SMALLEST_WEIGHT
        },
    }


def _folds(groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    splits = min(INNER_FOLDS, len(set(groups)))
    return list(GroupKFold(n_splits=splits).split(groups, groups=groups))


def _out_of_fold(
    make: Callable[[], LogisticRegression | NaiveBayesLogistic | GradedRelevance],
    matrix: Any,
    labels: np.ndarray,
    groups: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Each item's probability from a model fitted without its outlet (its group)."""
    scores = np.zeros(len(labels))
    for train, test in _folds(groups):
        if len(set(labels[train])) < 2:
            # One class only (a tiny training set): the held-out items score the share of
            # positives (for grades: on topic), never a grade read as a probability.
            scores[test] = float(np.mean(labels[train] > 0))
            continue
        model = make().fit(
            matrix[train], labels[train], sample_weight=None if weights is None else weights[train]
        )
        scores[test] = model.predict_proba(matrix[test])[:, 1]
    return scores


def _out_of_fold_classes(
    make: Callable[[], LogisticRegression],
    matrix: Any,
    labels: np.ndarray,
    groups: np.ndarray,
    classes: int,
) -> np.ndarray:
    probabilities = np.zeros((len(labels), classes))
    for train, test in _folds(groups):
        model = make().fit(matrix[train], labels[train])
        probabilities[np.ix_(test, model.classes_)] = model.predict_proba(matrix[test])
    return probabilities


def _best_threshold(scores: np.ndarray, quality: Callable[[np.ndarray], float]) -> float:
    """The threshold (on a grid of 0.01) whose choices score best; the middle of a tie."""
    grid = [round(t, 2) for t in np.arange(0.05, 0.96, 0.01)]
    values = [quality(scores >= t) for t in grid]
    best = max(values)
    tied = [t for t, v in zip(grid, values, strict=True) if v >= best - 1e-9]
    return tied[len(tied) // 2]


def _best_fallback(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The probability below which sending a story to the fallback section is right more often
    than the model's own choice."""
    fallback = SECTIONS.index(FALLBACK)
    chosen = probabilities.argmax(axis=1)
    top = probabilities.max(axis=1)
    grid = [round(t, 2) for t in np.arange(0.0, 0.81, 0.01)]
    accuracy = [float(np.mean(np.where(top < t, fallback, chosen) == labels)) for t in grid]
    best = max(accuracy)
    return next(t for t, a in zip(grid, accuracy, strict=True) if a >= best - 1e-9)


def _precision(chosen: np.ndarray, truth: np.ndarray) -> float:
    return float(truth[chosen].mean()) if chosen.any() else 0.0


def _recall(chosen: np.ndarray, truth: np.ndarray) -> float:
    return float(chosen[truth].mean()) if truth.any() else 0.0


def _f1(chosen: np.ndarray, truth: np.ndarray) -> float:
    precision, recall = _precision(chosen, truth), _recall(chosen, truth)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _f_beta(chosen: np.ndarray, truth: np.ndarray, beta: float) -> float:
    precision, recall = _precision(chosen, truth), _recall(chosen, truth)
    both = beta**2 * precision + recall
    return (1 + beta**2) * precision * recall / both if both else 0.0


def training_items() -> list[corpus.Labelled]:
    return corpus.dev_items() + corpus.own_items()


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=0) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=editorial.DEFAULT_MODEL)
    args = parser.parse_args(argv)
    if not corpus.available():
        print(
            "the dev labels and corpus are not next to this checkout (../shared)", file=sys.stderr
        )
        return 2
    data = fit(training_items())
    args.out.write_text(dump(data), encoding="utf-8")
    print(f"wrote {args.out} ({data['trained_on']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
