"""explain.json and explain.txt: every article's fate, the features that decided, what failed."""

from __future__ import annotations

import json
from datetime import date

from digest.explain import EXPLAIN_FORMAT, explain_json, explain_text
from digest.models import Considered, Failure

DAY = date(2024, 12, 21)
SHOWN = Considered(
    url="https://news.example/a",
    title="Anschlag auf Weihnachtsmarkt",
    source="Testblatt",
    on_topic=True,
    shown=True,
    relevance=0.97,
    series=False,
    section="Terrorismus & innere Sicherheit",
    section_reason="Modell 0.91",
    story="S1",
    fate="Rang 1, Lead",
    reasons=(("lt:Terrorismus und innere Sicherheit", 1.52), ("c:nsch", -0.11)),
)
DROPPED = Considered(
    url="https://news.example/b",
    title="Bundesliga: Kiel besiegt Augsburg",
    source="Testblatt",
    on_topic=False,
    shown=False,
    relevance=0.01,
    series=False,
    section=None,
    section_reason=None,
    story=None,
    fate="nicht im Thema (Relevanz 0.01)",
    reasons=(("lt:Sport", -2.1),),
)
FAILED = Failure(source="Flutblatt", stage="page", message="https://flut.example/1: timeout")


def test_explain_json_has_one_object_per_article_with_the_documented_fields() -> None:
    document = json.loads(explain_json(DAY, [SHOWN, DROPPED], [FAILED]))
    assert document["format"] == EXPLAIN_FORMAT and document["date"] == "2024-12-21"
    first, second = document["articles"]
    assert set(first) == {
        "url", "title", "source", "on_topic", "shown", "relevance", "series", "section",
        "section_reason", "story", "fate", "rule", "features",
    }  # fmt: skip
    assert first["features"][0] == {"name": "lt:Terrorismus und innere Sicherheit", "weight": 1.52}
    assert second["on_topic"] is False and second["story"] is None and second["section"] is None
    assert document["failures"] == [
        {"source": "Flutblatt", "stage": "page", "message": "https://flut.example/1: timeout"}
    ]


def test_explain_text_has_a_line_per_article_and_one_per_failure() -> None:
    lines = explain_text([SHOWN, DROPPED], [FAILED]).splitlines()
    assert lines[0].startswith("# Auswahl: 2 Artikel, 1 im Thema, 1 Storys, 1 Artikel gezeigt")
    assert lines[2].startswith("GEZEIGT | 0.97 | Terrorismus & innere Sicherheit (Modell 0.91)")
    assert lines[3].startswith("VERWORFEN | 0.01 | - | - |") and "lt:Sport -2.10" in lines[3]
    assert lines[-1] == "FEHLER | page | Flutblatt | https://flut.example/1: timeout"


def test_the_documented_fields_are_the_records_fields() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "explain-json.md").read_text("utf-8")
    document = json.loads(explain_json(DAY, [SHOWN], [FAILED]))
    for name in document["articles"][0]:
        assert f"`{name}`" in doc or f"`articles[].{name}`" in doc, name
    assert "`failures`" in doc
