"""Editions: the stories an edition was built with come back for the same inputs only; an
edition anyone has (or may have) is frozen, and a new edition of its date starts a revision."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from digest.models import Article, Section, Story
from digest.store import SentEdition, Store

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = date(2024, 6, 3)


def edition(html: str, revision: int = 1) -> SentEdition:
    return SentEdition(DAY, revision, "Briefing", html, "text", '{"date": "2024-06-03"}')


def story(url: str) -> Story:
    lead = Article(url=url, title="Titel", source="S", published=T0, text="Text.")
    other = Article(url=f"{url}/2", title="Andere", source="Q", published=T0, text="Mehr.")
    return Story(lead=lead, others=(other,), section="Europa", score=0.5, key_points=("Satz.",))


def test_the_edition_cache_returns_the_stories_for_the_same_inputs_only(tmp_path) -> None:
    sections = (Section(title="Europa", stories=(story("http://e.de/a"),)),)
    with Store.open(tmp_path / "s.sqlite") as store:
        store.editions.cache(DAY, "eins", sections, ["http://e.de/a"], 3)
        assert store.editions.cached(DAY, "eins") == (sections, ("http://e.de/a",), 3)
        assert store.editions.cached(DAY, "zwei") is None
        assert store.editions.cached(DAY + timedelta(days=1), "eins") is None


def test_an_edition_is_frozen_once_a_recipient_is_served_and_never_replaced(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        editions, sends = store.editions, store.sends
        assert editions.freeze(edition("<p>eins</p>"), T0).html == "<p>eins</p>"
        assert editions.sent(DAY) is None  # nobody has it yet: a rebuild may change it
        assert editions.freeze(edition("<p>zwei</p>"), T0).html == "<p>zwei</p>"
        sends.attempt(DAY, 1, "a@e.de", T0)
        sends.accepted(DAY, 1, "a@e.de", T0, "<m>")
        sends.attempt(DAY, 1, "b@e.de", T0)
        sends.failed(DAY, 1, ["b@e.de"], T0, "550")
        kept = editions.sent(DAY)
        assert kept is not None and kept.html == "<p>zwei</p>"
        assert editions.freeze(edition("<p>drei</p>"), T0).html == "<p>zwei</p>"
        assert sends.served_count(DAY) == 1


def test_an_attempt_left_pending_by_a_crash_freezes_the_edition_too(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.editions.freeze(edition("<p>eins</p>"), T0)
        store.sends.attempt(DAY, 1, "a@e.de", T0)  # the process died here
        assert store.editions.freeze(edition("<p>zwei</p>"), T0).html == "<p>eins</p>"


def test_a_new_edition_of_a_sent_date_starts_with_nobody_served(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        editions, sends = store.editions, store.sends
        editions.freeze(edition("<p>eins</p>"), T0)
        sends.accepted(DAY, 1, "a@e.de", T0, "<m>")
        assert editions.supersede(DAY, T0 + HOUR) == 2
        assert editions.revision(DAY) == 2
        assert editions.sent(DAY) is None and sends.by_recipient(DAY) == {}
        assert sends.unsent(DAY, ["a@e.de"], 2) == ["a@e.de"]
        assert editions.freeze(edition("<p>neu</p>", 2), T0).html == "<p>neu</p>"


def test_forgetting_drops_the_edition_cache_of_earlier_dates_but_no_sent_edition(
    tmp_path,
) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.editions.cache(DAY, "fp", [], [], 0)
        store.editions.freeze(edition("<p>eins</p>"), T0)
        store.sends.accepted(DAY, 1, "a@e.de", T0, "<m>")
        store.editions.forget(DAY + timedelta(days=1))
        assert store.editions.cached(DAY, "fp") is None
        kept = store.editions.sent(DAY)
        assert kept is not None and kept.html == "<p>eins</p>"
