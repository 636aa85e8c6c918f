"""Specification of our method: a fitted linear score per sentence, as its script fits it."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from digest.errors import SummarizeError
from digest.summarize import key_points
from digest.summary_document import build_document
from digest.summary_scorer import MODEL_FILE, KeyPointSummarizer, model_from_data, shipped_model
from tests.conftest import ARTICLE, ARTICLE_TITLE, sentences_of

ROOT = Path(__file__).resolve().parents[1]
SHARED_DEV = ROOT / ".." / "shared" / "eval" / "summ" / "dev.jsonl"


def test_our_summarizer_also_takes_a_plain_sentence_count_as_sumy_does() -> None:
    document = build_document([(ARTICLE_TITLE, ARTICLE)])
    chosen = KeyPointSummarizer("de")(document, 2)
    assert 1 <= len(chosen) <= 2
    assert all(str(s) in sentences_of(ARTICLE) for s in chosen)


def test_the_lead_sentence_that_matches_the_title_is_chosen() -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE)
    assert points[0] == (
        "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen."
    )


def test_key_points_are_stable_across_runs() -> None:
    assert key_points(ARTICLE, title=ARTICLE_TITLE) == key_points(ARTICLE, title=ARTICLE_TITLE)


@pytest.mark.skipif(not SHARED_DEV.exists(), reason="needs ../shared/eval/summ/dev.jsonl")
def test_refitting_on_the_dev_set_reproduces_the_shipped_model() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks import summ_fit
    from benchmarks.summ_quality import load_dev

    with MODEL_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    shipped = shipped_model()
    setting = summ_fit.Setting(
        target=data["fit"]["target"],
        l2=data["fit"]["l2"],
        near_duplicate=shipped.near_duplicate,
        min_odds=shipped.min_odds,
        replace_leaning=shipped.replace_leaning,
    )
    tuning, _ = summ_fit.split(load_dev(SHARED_DEV))
    refitted = summ_fit.fit_model([summ_fit.prepare(a) for a in tuning], setting)
    assert refitted.intercept == pytest.approx(shipped.intercept, abs=1e-5)
    assert refitted.weights == pytest.approx(shipped.weights, abs=1e-5)


def test_the_shipped_model_is_refused_for_features_other_than_ours() -> None:
    data = tomllib.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert model_from_data(data) == shipped_model()
    data["features"]["names"] = list(reversed(data["features"]["names"]))
    with pytest.raises(SummarizeError, match="other features"):
        model_from_data(data)
