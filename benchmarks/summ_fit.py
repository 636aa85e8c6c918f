"""Fit our key-point model on the dev set, judged by cross-validation and a fold kept aside.

Run (about a minute): .venv/bin/python -m benchmarks.summ_fit [--dev PATH] [--write]

The 104 dev articles fall into five folds by a hash of their id (`fold_of`). Fold 0 was set
aside before any tuning and is never fitted or tuned on: it only checks each change. Folds 1-4
are the tuning set. For every setting in the grid (training target, L2 strength, near-duplicate
threshold, how much weaker a point beyond the second may be, whether a leaning sentence may
stand in for its antecedent) a logistic regression over the sentence features of
`digest.summary_scorer` is fitted on three tuning folds and scored (ROUGE of the key points the
pipeline would give) on the fourth; the setting with the best cross-validated mean of R-1, R-2
and R-L wins. The model shipped in digest/data/keypoints.toml is that setting fitted on all
four tuning folds; `--write` writes it. The script prints the CV figures, the held-aside fold's
figures, and what separates the oracle's sentences from ours.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._rouge import greedy_oracle, rouge_tokens, score
from benchmarks.summ_quality import DEV_SET, DevArticle, load_dev
from digest import nlp
from digest.summary_document import build_document
from digest.summary_rules import DEFAULT_MAX_POINTS, DEFAULT_WORD_BUDGET, Budget
from digest.summary_scorer import (
    FEATURES,
    MODEL_FILE,
    KeyPointSummarizer,
    Model,
    Scored,
    sentence_features,
)

FOLDS = 5
HELD_ASIDE_FOLD = 0
NEWTON_ROUNDS = 30
TARGETS = ("oracle", "soft", "precision")
L2_GRID = (0.1, 0.3, 1.0, 3.0)
NEAR_DUPLICATE_GRID = (0.2, 0.3, 0.5)
MIN_ODDS_GRID = (0.0, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.6, 0.7, 0.85, 1.0)  # [0, 1]: all of it
REPLACE_GRID = (False, True)


def fold_of(article_id: str) -> int:
    return int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % FOLDS


@dataclass(frozen=True, slots=True)
class Prepared:
    """One dev article as the summarizer sees it, with the oracle's labels of its candidates."""

    article: DevArticle
    budget: Budget
    scored: Scored
    oracle: tuple[float, ...]  # 1 for the greedy oracle's sentences
    soft: tuple[float, ...]  # the sentence's own ROUGE-1 F1, scaled to the article's best
    precision: tuple[float, ...]  # share of the sentence's stems found in the reference


def prepare(article: DevArticle) -> Prepared:
    document = build_document([(article.title, article.text)])
    budget = Budget(document, points=DEFAULT_MAX_POINTS, words=DEFAULT_WORD_BUDGET)
    scored = sentence_features(budget)
    sentences = [str(s) for s in document.sentences]
    chosen = set(greedy_oracle(sentences, article.reference))
    alone = [score(sentences[i], article.reference, stem=True).rouge1 for i in scored.indices]
    top = max(alone, default=0.0) or 1.0
    reference = Counter(rouge_tokens(article.reference, stem=True))
    precision = []
    for i in scored.indices:
        tokens = Counter(rouge_tokens(sentences[i], stem=True))
        precision.append(sum((tokens & reference).values()) / max(1, sum(tokens.values())))
    return Prepared(
        article,
        budget,
        scored,
        tuple(1.0 if i in chosen else 0.0 for i in scored.indices),
        tuple(value / top for value in alone),
        tuple(precision),
    )


# --- logistic regression, in plain Python so that every machine fits the same numbers ----------


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, size):
            factor = rows[r][col] / rows[col][col]
            for c in range(col, size + 1):
                rows[r][c] -= factor * rows[col][c]
    solution = [0.0] * size
    for r in range(size - 1, -1, -1):
        known = sum(rows[r][c] * solution[c] for c in range(r + 1, size))
        solution[r] = (rows[r][size] - known) / rows[r][r]
    return solution


def fit_logistic(
    rows: Sequence[Sequence[float]], targets: Sequence[float], l2: float
) -> tuple[list[float], float]:
    """Weights and intercept minimising log loss + l2/2 |w|^2 (Newton's method)."""
    width = len(rows[0]) + 1  # the intercept is the last column and is not penalised
    theta = [0.0] * width
    for _ in range(NEWTON_ROUNDS):
        gradient = [0.0] * width
        hessian = [[0.0] * width for _ in range(width)]
        for row, target in zip(rows, targets, strict=True):
            x = [*row, 1.0]
            z = sum(t * v for t, v in zip(theta, x, strict=True))
            p = 1 / (1 + math.exp(-z))
            weight = p * (1 - p)
            for a in range(width):
                gradient[a] += (p - target) * x[a]
                for b in range(a, width):
                    hessian[a][b] += weight * x[a] * x[b]
        for a in range(width):
            for b in range(a):
                hessian[a][b] = hessian[b][a]
            if a < width - 1:
                gradient[a] += l2 * theta[a]
                hessian[a][a] += l2
        step = _solve(hessian, gradient)
        theta = [t - s for t, s in zip(theta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-10:
            break
    return theta[:-1], theta[-1]


@dataclass(frozen=True, slots=True)
class Setting:
    target: str
    l2: float
    near_duplicate: float
    min_odds: float
    replace_leaning: bool


def fit_model(prepared: Sequence[Prepared], setting: Setting) -> Model:
    rows: list[tuple[float, ...]] = []
    targets: list[float] = []
    for item in prepared:
        labels = getattr(item, setting.target)
        for index, features, label in zip(
            item.scored.indices, item.scored.features, labels, strict=True
        ):
            if index in item.budget.eligible:  # a leaning sentence's label is not its stand-in's
                rows.append(features)
                targets.append(label)
    weights, intercept = fit_logistic(rows, targets, setting.l2)
    return Model(
        weights=tuple(round(w, 6) for w in weights),
        intercept=round(intercept, 6),
        near_duplicate=setting.near_duplicate,
        min_odds=setting.min_odds,
        replace_leaning=setting.replace_leaning,
    )


def summarise(item: Prepared, model: Model) -> list[str]:
    chosen = KeyPointSummarizer(model=model).choose(item.budget, item.scored)
    return [str(item.budget.layout.sentences[i]) for i in chosen]


def rouge_of(items: Sequence[Prepared], summaries: Sequence[Sequence[str]]) -> list[float]:
    """Mean stemmed R-1, R-2, R-L (x 100) and mean words."""
    totals = [0.0, 0.0, 0.0, 0.0]
    for item, summary in zip(items, summaries, strict=True):
        text = " ".join(summary)
        result = score(text, item.article.reference, stem=True)
        for k, value in enumerate((result.rouge1, result.rouge2, result.rougeL)):
            totals[k] += 100 * value
        totals[3] += nlp.word_count(text)
    return [t / len(items) for t in totals]


def lead3(item: Prepared) -> list[str]:
    return [str(s) for s in item.budget.layout.sentences[:3]]


def cross_validate(
    tuning: Sequence[Prepared], settings: Sequence[Setting]
) -> dict[Setting, list[float]]:
    """Out-of-fold figures of every setting; one fit per (target, l2) and held-out fold."""
    folds = sorted({fold_of(item.article.id) for item in tuning})
    predictions: dict[Setting, list[tuple[int, list[str]]]] = {s: [] for s in settings}
    fits: dict[tuple[str, float, int], Model] = {}
    for setting in settings:
        for fold in folds:
            key = (setting.target, setting.l2, fold)
            if key not in fits:
                train = [item for item in tuning if fold_of(item.article.id) != fold]
                fits[key] = fit_model(train, setting)
            base = fits[key]
            model = Model(
                base.weights,
                base.intercept,
                setting.near_duplicate,
                setting.min_odds,
                setting.replace_leaning,
            )
            for number, item in enumerate(tuning):
                if fold_of(item.article.id) == fold:
                    predictions[setting].append((number, summarise(item, model)))
    results = {}
    for setting, found in predictions.items():
        ordered = [summary for _, summary in sorted(found, key=lambda pair: pair[0])]
        results[setting] = rouge_of(tuning, ordered)
    return results


def model_toml(model: Model, setting: Setting, tuning_count: int) -> str:
    def number(value: float) -> str:
        return repr(float(value))

    weights = "\n".join(
        f"    {number(w)},  # {name}" for name, w in zip(FEATURES, model.weights, strict=True)
    )
    names = ", ".join(f'"{name}"' for name in FEATURES)
    return (
        "# The key-point model: written by benchmarks/summ_fit.py (--write), do not edit by hand.\n"
        f"# Logistic regression fitted on the {tuning_count} dev articles of folds 1-4; fold 0\n"
        "# is kept aside. Settings chosen by 4-fold cross-validation on the tuning folds.\n\n"
        "[fit]\n"
        f'target = "{setting.target}"\n'
        f"l2 = {number(setting.l2)}\n\n"
        "[features]\n"
        f"names = [{names}]\n"
        f"intercept = {number(model.intercept)}\n"
        f"weights = [\n{weights}\n]\n\n"
        "[selection]\n"
        f"near_duplicate = {number(model.near_duplicate)}\n"
        f"min_odds = {number(model.min_odds)}\n"
        f"replace_leaning = {'true' if model.replace_leaning else 'false'}\n"
    )


def split(articles: Sequence[DevArticle]) -> tuple[list[DevArticle], list[DevArticle]]:
    """(tuning, held aside) articles."""
    tuning = [a for a in articles if fold_of(a.id) != HELD_ASIDE_FOLD]
    aside = [a for a in articles if fold_of(a.id) == HELD_ASIDE_FOLD]
    return tuning, aside


def study(items: Sequence[Prepared], model: Model) -> None:
    """Mean feature values of the oracle's sentences, ours and all candidates."""
    groups: dict[str, list[tuple[float, ...]]] = {"oracle": [], "ours": [], "all": []}
    for item in items:
        ours = set(KeyPointSummarizer(model=model).choose(item.budget, item.scored))
        for index, features, label in zip(
            item.scored.indices, item.scored.features, item.oracle, strict=True
        ):
            groups["all"].append(features)
            if label:
                groups["oracle"].append(features)
            if index in ours:
                groups["ours"].append(features)
    print(f"\n{'feature':<18} {'oracle':>7} {'ours':>7} {'all':>7} {'weight':>8}")
    for k, name in enumerate(FEATURES):
        means = [sum(f[k] for f in rows) / max(1, len(rows)) for rows in groups.values()]
        print(f"{name:<18} {means[0]:7.3f} {means[1]:7.3f} {means[2]:7.3f} {model.weights[k]:8.3f}")


def row(label: str, figures: Sequence[float]) -> str:
    return f"{label:<34} {figures[0]:6.2f} {figures[1]:6.2f} {figures[2]:6.2f} {figures[3]:6.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV_SET, help="the dev set (JSON lines)")
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_FILE.name}")
    args = parser.parse_args(argv)
    if not args.dev.exists():
        print(f"skipped: no dev set at {args.dev}")
        return 0
    tuning_articles, aside_articles = split(load_dev(args.dev))
    tuning = [prepare(a) for a in tuning_articles]
    aside = [prepare(a) for a in aside_articles]
    settings = [
        Setting(*values)
        for values in itertools.product(
            TARGETS, L2_GRID, NEAR_DUPLICATE_GRID, MIN_ODDS_GRID, REPLACE_GRID
        )
    ]
    results = cross_validate(tuning, settings)
    best = max(settings, key=lambda s: (sum(results[s][:3]), s.l2))
    model = fit_model(tuning, best)
    print(f"{len(tuning)} tuning articles (folds 1-4), {len(aside)} held aside (fold 0)")
    print(f"{'':<34} {'R-1':>6} {'R-2':>6} {'R-L':>6} {'words':>6}  (stemmed)")
    print(row("tuning, lead-3", rouge_of(tuning, [lead3(i) for i in tuning])))
    print(row("tuning, ours, 4-fold CV", results[best]))
    print(row("held aside, lead-3", rouge_of(aside, [lead3(i) for i in aside])))
    print(
        row(
            "held aside, ours (fit on tuning)",
            rouge_of(aside, [summarise(i, model) for i in aside]),
        )
    )
    print(f"chosen: {best}")
    ranked = sorted(settings, key=lambda s: -sum(results[s][:3]))
    print("next best settings (CV R-1 R-2 R-L words):")
    for setting in ranked[1:6]:
        print("  ", row(str(setting)[8:-1][:60], results[setting]))
    study(tuning, model)
    if args.write:
        MODEL_FILE.write_text(model_toml(model, best, len(tuning)), encoding="utf-8")
        print(f"\nwrote {MODEL_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
