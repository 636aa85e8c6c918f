"""Feed health: failures are counted and reset, validators survive a 304, and a check records
the feed's freshness in the same step (or leaves it as it was)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest.store import UNCHANGED, Store

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)


def test_feed_health_counts_failures_and_keeps_validators_on_304(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        feeds = store.feeds
        feeds.record("F", T0, None, "200", url="http://e.de/f", etag='"1"')
        feeds.record("F", T0, "timeout", "timeout", url="http://e.de/f")
        feeds.record("F", T0, "timeout", "timeout", url="http://e.de/f")
        (health,) = feeds.health()
        assert health.failures == 2 and health.last_error == "timeout" and health.etag == '"1"'
        feeds.record("F", T0, None, "304", url="http://e.de/f")
        (health,) = feeds.health()
        assert health.failures == 0 and health.last_status == "304" and health.etag == '"1"'


def test_a_check_records_freshness_with_its_outcome_and_none_asks_every_time(tmp_path) -> None:
    later = T0 + timedelta(minutes=5)
    with Store.open(tmp_path / "s.sqlite") as store:
        store.feeds.record("A", T0, None, "200", url="https://a.example/", fresh_until=later)
        store.feeds.record("B", T0, None, "200", url="https://b.example/", fresh_until=None)
        assert store.feeds.freshness() == {"A": later}
        store.feeds.record("A", T0, None, "304", url="https://a.example/", fresh_until=None)
        assert store.feeds.freshness() == {}


def test_a_check_without_an_answer_about_caching_leaves_the_freshness_stored(tmp_path) -> None:
    later = T0 + timedelta(minutes=5)
    with Store.open(tmp_path / "s.sqlite") as store:
        store.feeds.record("A", T0, None, "200", url="https://a.example/", fresh_until=later)
        store.feeds.record("A", T0, None, "304", url="https://a.example/")  # not requested
        store.feeds.record("A", T0, "timeout", "timeout", url="https://a.example/")
        store.feeds.record("A", T0, None, "200", fresh_until=UNCHANGED)
        assert store.feeds.freshness() == {"A": later}
