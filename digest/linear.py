"""Linear models stored as plain weights: logistic (yes/no) and multinomial (one of several)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

EXPLAIN_FEATURES = 8


@dataclass(frozen=True, slots=True)
class BinaryModel:
    """A logistic regression and the probability from which its answer is yes."""

    bias: float
    weights: Mapping[str, float]
    threshold: float

    def probability(self, features: Mapping[str, float]) -> float:
        return _sigmoid(self.bias + _dot(self.weights, features))

    def reasons(self, features: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
        contributions = {
            name: value * self.weights[name]
            for name, value in features.items()
            if name in self.weights
        }
        return _strongest(contributions)


@dataclass(frozen=True, slots=True)
class MultinomialModel:
    """A multinomial logistic regression; below `min_probability` the answer is the fallback."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]
    min_probability: float
    fallback: str

    @property
    def titles(self) -> tuple[str, ...]:
        """Every answer it can give, in the order of its classes, the fallback last."""
        return (*(c for c in self.classes if c != self.fallback), self.fallback)

    def probabilities(self, features: Mapping[str, float]) -> dict[str, float]:
        scores = list(self.bias)
        for name, value in features.items():
            row = self.weights.get(name)
            if row is not None:
                for k, weight in enumerate(row):
                    scores[k] += weight * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def reasons(self, features: Mapping[str, float], answer: str) -> tuple[tuple[str, float], ...]:
        if answer not in self.classes:
            return ()
        k = self.classes.index(answer)
        contributions = {
            name: value * self.weights[name][k]
            for name, value in features.items()
            if name in self.weights
        }
        return _strongest(contributions)


def binary_from_data(part: Mapping) -> BinaryModel:
    return BinaryModel(
        bias=float(part["bias"]),
        weights={str(k): float(v) for k, v in part["weights"].items()},
        threshold=float(part["threshold"]),
    )


def multinomial_from_data(part: Mapping) -> MultinomialModel:
    classes = tuple(str(c) for c in part["classes"])
    weights = {str(k): tuple(float(x) for x in v) for k, v in part["weights"].items()}
    if any(len(row) != len(classes) for row in weights.values()):
        raise ValueError("weights do not match the classes")
    return MultinomialModel(
        classes=classes,
        bias=tuple(float(b) for b in part["bias"]),
        weights=weights,
        min_probability=float(part["min_probability"]),
        fallback=str(part["fallback"]),
    )


def _dot(weights: Mapping[str, float], features: Mapping[str, float]) -> float:
    return sum(value * weights.get(name, 0.0) for name, value in features.items())


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def _strongest(contributions: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    ranked = sorted(contributions.items(), key=lambda item: (-abs(item[1]), item[0]))
    return tuple((name, round(value, 3)) for name, value in ranked[:EXPLAIN_FEATURES] if value)
