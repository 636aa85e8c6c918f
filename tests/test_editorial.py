"""Editorial judgement: features of a feed item, the fitted model, series items, operator lists."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest import editorial
from digest.config import SelectConfig
from digest.errors import ConfigError
from digest.models import Article
from digest.relevance import load_topics

NOW = datetime(2024, 12, 21, 18, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval" / "selection" / "dev.jsonl"


def item(title: str, text: str = "", *, url: str = "https://news.example/politik/a-1.html",
         source: str = "Testblatt") -> Article:  # fmt: skip
    return Article(url=url, title=title, source=source, published=NOW, text=text or title)


def judged(*articles: Article) -> list:
    return editorial.judge(list(articles), editorial.load_model(), load_topics())


# --- Features ------------------------------------------------------------------------------


def test_url_folders_are_the_path_folders_without_the_item_name_or_numbers() -> None:
    url = "https://www.example.org/politik/ausland/2024/12/nato-gipfel-100.html"
    assert editorial.url_folders(url) == ["politik", "ausland"]
    assert editorial.url_folders("https://example.org/a-1.html") == []


def test_the_slug_is_the_last_segment_of_several_joined_words_without_ids_or_numbers() -> None:
    slug = editorial.url_slug_words
    assert slug("https://z.example/artikel/470552.abhoeraffaere-russe-hoert-mit.html") == [
        "abhoeraffaere",
        "russe",
        "hoert",
        "mit",
    ]
    assert slug("https://w.example/de/panzer-hub-in-polen/a-65391554") == ["panzer", "hub", "polen"]
    assert slug("https://r.example/audio/120606_1200_Tagesgespraech_Pflege.mp3") == [
        "tagesgespraech",
        "pflege",
    ]
    # A folder or an id is no slug.
    assert slug("https://r.example/sendungen/weltzeit/1776302/") == []
    assert slug("https://n.example/news/3911696") == []


def test_a_punning_headline_is_read_with_the_subject_its_link_names() -> None:
    features = editorial.features(
        item(
            "Russe hört mit", url="https://z.example/artikel/1.abhoeraffaere-spionage-taurus.html"
        ),
        load_topics(),
        [],
    )
    assert {"g:spionag", "g:taurus"} <= set(features)


@given(st.text(max_size=60))
def test_slug_words_are_lower_case_letters_only(path: str) -> None:
    for word in editorial.url_slug_words("https://x.example/" + path):
        assert word.isalpha() and word == word.lower() and len(word) >= 3


def test_title_template_masks_dates_numbers_weekdays_and_months() -> None:
    first = editorial.title_template("Lottozahlen vom Samstag, 21.12.2024")
    second = editorial.title_template("Lottozahlen vom Mittwoch, 3.1.2025")
    assert first == second
    assert editorial.title_template("Wetter im Dezember") == editorial.title_template(
        "Wetter im Januar"
    )
    assert first != editorial.title_template("Nato-Gipfel in Vilnius")


@given(st.text(max_size=80), st.integers(0, 9), st.integers(0, 9))
def test_a_title_template_does_not_depend_on_its_digits(text: str, a: int, b: int) -> None:
    assert editorial.title_template(f"{text} {a}") == editorial.title_template(f"{text} {b}")


def test_words_most_items_of_a_feed_share_are_not_features() -> None:
    articles = [
        item(f"Beitrag {name}", f"Radio Mitte, Am Mittag. {name}", url=f"https://r.example/{i}")
        for i, name in enumerate(["Haushalt", "Wahl", "Schule", "Bahn", "Garten", "Zoll"])
    ]
    found = editorial.feature_sets(articles, load_topics())
    assert all("x:mitt" not in f and "x:radio" not in f for f in found)
    assert any(name.startswith("x:") for name in found[0])


def test_a_title_template_repeated_in_one_feed_is_marked_but_not_across_feeds() -> None:
    same_feed = [
        item("Lottozahlen vom 21.12.2024", url="https://a.example/1"),
        item("Lottozahlen vom 18.12.2024", url="https://a.example/2"),
    ]
    found = editorial.feature_sets(same_feed, load_topics())
    assert all("s:repeated-template" in f for f in found)
    other_feeds = [
        item("Lottozahlen vom 21.12.2024", url="https://a.example/1", source="A"),
        item("Lottozahlen vom 18.12.2024", url="https://b.example/2", source="B"),
    ]
    assert all(
        "s:repeated-template" not in f for f in editorial.feature_sets(other_feeds, load_topics())
    )


def test_a_standing_topics_ticker_is_marked_but_not_one_events_live_blog() -> None:
    topic, event = editorial.feature_sets(
        [
            item("Nahost-Ticker: ++ Raketenalarm im Norden ++", url="https://a.example/1"),
            item(
                "Liveblog zum Putsch in Niger: ++ Militär übernimmt ++", url="https://a.example/2"
            ),
        ],
        load_topics(),
    )
    assert "s:topic-ticker" in topic
    assert "s:topic-ticker" not in event


def test_a_tickers_teaser_its_latest_entry_is_not_read() -> None:
    (ticker,) = editorial.feature_sets(
        [item("Ukraine-Liveblog: ++ Kämpfe im Osten ++", "Die Bundesbank senkt die Zinsen.")],
        load_topics(),
    )
    assert not any(name.startswith("x:") for name in ticker)
    assert "t:kampf" in ticker


@given(st.text(max_size=300), st.text(max_size=300))
def test_features_of_any_title_and_text_are_finite(title: str, text: str) -> None:
    article = item(title.strip() or "x", text)
    for features in editorial.feature_sets([article], load_topics()):
        assert all(math.isfinite(v) and v > 0 for v in features.values())


# --- The shipped model ---------------------------------------------------------------------


def test_the_shipped_model_knows_the_nine_sections_and_has_thresholds() -> None:
    model = editorial.load_model()
    assert len(model.section.titles) == 9
    assert model.section.titles[-1] == "Weitere Meldungen"
    assert 0 < model.relevance.threshold < 1 and 0 < model.series.threshold < 1
    assert 0 <= model.section.min_probability < 1
    assert 0 < model.story_link < 1


def test_security_news_is_on_topic_and_everyday_news_is_not() -> None:
    on_topic = [
        item("Russische Drohnen treffen Umspannwerke bei Charkiw",
             "Bei dem nächtlichen Angriff fiel in weiten Teilen der Stadt der Strom aus."),
        item("Bundeswehr bestellt weitere Patriot-Systeme",
             "Der Haushaltsausschuss gab die Mittel für die Luftverteidigung frei."),
        item("Anschlag auf Weihnachtsmarkt: Ermittler prüfen Motiv des Täters",
             "Der Generalbundesanwalt hat die Ermittlungen übernommen."),
        item("Hackerangriff legt Kreisverwaltung lahm",
             "Die Behörde ist seit Tagen nicht erreichbar, der Staatsschutz ermittelt."),
    ]  # fmt: skip
    off_topic = [
        item("Bayern gewinnt Spitzenspiel in Dortmund",
             "Mit zwei Toren in der Schlussphase holte der Tabellenführer drei Punkte.",
             url="https://news.example/sport/fussball/a-2.html"),
        item("Rezept: Plätzchen mit Zimt und Orange",
             "So gelingen die Weihnachtsplätzchen auch ohne Erfahrung.",
             url="https://news.example/ratgeber/kochen/a-3.html"),
        item("Dax schließt mit leichtem Plus",
             "Anleger warteten auf neue Zahlen aus den USA.",
             url="https://news.example/wirtschaft/boerse/a-4.html"),
    ]  # fmt: skip
    judgements = judged(*on_topic, *off_topic)
    assert [j.on_topic for j in judgements] == [True] * 4 + [False] * 3


def test_daily_tickers_and_service_items_are_series() -> None:
    judgements = judged(
        item("Ukraine-Liveblog: ++ Russland meldet Einnahme von Ort in Donezk ++",
             "Die Entwicklungen im Liveblog.", url="https://news.example/ticker/a-5.html"),
        item("Lottozahlen vom Samstag, 21.12.2024",
             "Die Gewinnzahlen der Ziehung: 4, 12, 19, 23, 38, 45.",
             url="https://news.example/service/lotto/a-6.html"),
        item("Nato-Gipfel beschließt neue Luftverteidigung",
             "Die Staats- und Regierungschefs einigten sich auf ein gemeinsames Vorhaben."),
    )  # fmt: skip
    assert [j.series for j in judgements] == [True, True, False]


def test_reasons_are_the_features_that_weighed_most_strongest_first() -> None:
    (judgement,) = judged(item("Raketenangriff auf Kiew", "Die Luftabwehr war im Einsatz."))
    weights = [abs(w) for _, w in judgement.reasons]
    assert weights == sorted(weights, reverse=True)
    assert judgement.reasons and all(name for name, _ in judgement.reasons)


def test_section_probabilities_sum_to_one_most_likely_first() -> None:
    (judgement,) = judged(item("Israel greift Ziele im Libanon an", "Die Hisbollah droht."))
    probabilities = [p for _, p in judgement.sections]
    assert abs(sum(probabilities) - 1) < 1e-3
    assert probabilities == sorted(probabilities, reverse=True)
    assert judgement.sections[0][0] == "Naher & Mittlerer Osten"


# --- The operator's lists ------------------------------------------------------------------


def test_a_watch_list_term_is_always_on_topic_and_the_block_list_wins() -> None:
    model, topics = editorial.load_model(), load_topics()
    garden = item("Neue Rosensorten für den Garten", "Züchter stellen ihre Neuheiten vor.")
    war = item("Raketenangriff auf Kiew", "Die Luftabwehr war im Einsatz.")
    watch = editorial.operator_terms(SelectConfig(watch=("Rosensorte*",)))
    assert editorial.judge([garden], model, topics, watch)[0].on_topic
    assert editorial.judge([garden], model, topics, watch)[0].rule == (
        "Beobachtungsliste: Rosensorte*"
    )
    both = editorial.operator_terms(SelectConfig(watch=("Kiew",), block=("Raketenangriff*",)))
    (blocked,) = editorial.judge([war], model, topics, both)
    assert not blocked.on_topic and blocked.rule == "Sperrliste: Raketenangriff*"


def test_a_malformed_operator_term_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"select\.watch"):
        editorial.operator_terms(SelectConfig(watch=("**",)))


# --- Loading -------------------------------------------------------------------------------


def test_a_missing_or_malformed_model_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        editorial.load_model(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"format": 1, "relevance": {}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="malformed editorial model"):
        editorial.load_model(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": 99}), encoding="utf-8")
    with pytest.raises(ConfigError, match="format 99"):
        editorial.load_model(other)


@pytest.mark.skipif(not SHARED.is_file(), reason="the dev labels (../shared) are not here")
def test_refitting_on_the_labelled_items_reproduces_the_shipped_model() -> None:
    pytest.importorskip("sklearn")
    from training import fit_editorial

    shipped = json.loads(editorial.DEFAULT_MODEL.read_text(encoding="utf-8"))
    refitted = json.loads(fit_editorial.dump(fit_editorial.fit(fit_editorial.training_items())))
    assert refitted["trained_on"] == shipped["trained_on"]
    for part in ("relevance", "series", "story"):
        assert refitted[part]["threshold"] == shipped[part]["threshold"]
        assert refitted[part]["weights"].keys() == shipped[part]["weights"].keys()
        assert (
            max(abs(refitted[part]["weights"][k] - w) for k, w in shipped[part]["weights"].items())
            < 1e-3
        )
    for key in ("link", "common_title_words"):
        assert refitted["story"][key] == shipped["story"][key]
    assert refitted["section"]["classes"] == shipped["section"]["classes"]
    assert refitted["section"]["min_probability"] == shipped["section"]["min_probability"]


def test_a_big_events_name_is_not_an_everyday_title_word() -> None:
    from training import corpus, fit_editorial

    def labelled(n: int, title: str, story: str) -> corpus.Labelled:
        article = item(title, url=f"https://a.example/{n}")
        return corpus.Labelled("feed", n, "core", "Weitere Meldungen", story, False, article)

    # "Sitzung" heads twelve different stories; "Lindenau" thirty reports of ten stories.
    items = [labelled(n, f"Sitzung Nummer {n}", f"s{n}") for n in range(12)]
    items += [labelled(100 + n, f"Lindenau meldet {n}", f"l{n % 10}") for n in range(30)]
    common = fit_editorial.common_title_words(items, load_topics())
    assert "sitzung" in common
    assert "lindenau" not in common
