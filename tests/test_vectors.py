"""Sparse term vectors: TF-IDF weights, unit length, cosine and overlap."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.vectors import (
    cosine,
    document_frequencies,
    idf,
    overlap,
    plus,
    tfidf,
    unit,
    weighted,
)

TERMS = st.dictionaries(st.sampled_from("abcdefgh"), st.floats(0.1, 10.0), max_size=8)


def test_document_frequency_counts_documents_not_occurrences() -> None:
    assert document_frequencies([{"a": 3.0, "b": 1.0}, {"a": 1.0}, set()]) == {"a": 2, "b": 1}


def test_smooth_idf_weighs_a_term_in_every_document_one() -> None:
    weights = idf([{"a", "b"}, {"a"}], "smooth")
    assert weights["a"] == pytest.approx(1.0)
    assert weights["b"] == pytest.approx(math.log(3 / 2) + 1)


def test_plain_idf_is_the_log_of_one_plus_the_inverse_share() -> None:
    weights = idf([{"a", "b"}, {"a"}], "plain")
    assert weights["a"] == pytest.approx(math.log(2))
    assert weights["b"] == pytest.approx(math.log(3))


def test_rare_terms_weigh_more_and_vectors_have_unit_length() -> None:
    vectors, weights = tfidf([{"a": 1.0, "b": 1.0}, {"a": 1.0}], "smooth")
    assert vectors[0]["b"] > vectors[0]["a"]
    assert vectors[1] == pytest.approx({"a": 1.0})
    assert (
        weighted({"b": 1.0, "z": 1.0}, weights)["b"] > weighted({"b": 1.0, "z": 1.0}, weights)["z"]
    )


@given(TERMS)
def test_a_unit_vector_has_length_one_and_cosine_one_with_itself(vector: dict[str, float]) -> None:
    scaled = unit(vector)
    if vector:
        assert math.sqrt(sum(v * v for v in scaled.values())) == pytest.approx(1.0)
        assert cosine(scaled, scaled) == pytest.approx(1.0)
    else:
        assert scaled == {}


@given(TERMS, TERMS)
def test_cosine_is_symmetric(first: dict[str, float], second: dict[str, float]) -> None:
    assert cosine(unit(first), unit(second)) == pytest.approx(cosine(unit(second), unit(first)))


def test_vectors_without_shared_terms_have_cosine_zero() -> None:
    assert cosine({"a": 1.0}, {"b": 1.0}) == 0.0


def test_plus_adds_the_second_vector_times_a_factor() -> None:
    assert plus({"a": 1.0}, {"a": 1.0, "b": 2.0}, 2.0) == {"a": 3.0, "b": 4.0}


def test_overlap_is_shared_over_the_smaller_set() -> None:
    assert overlap({"a", "b"}, {"a", "b", "c", "d"}) == 1.0
    assert overlap({"a", "b"}, {"a", "c"}) == 0.5
    assert overlap(set(), {"a"}) == 0.0
