"""The state database: seen articles, the digest window, idempotent rebuilds, feed health."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from digest.models import Article
from digest.store import MIGRATIONS, Store

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)


def _article(url: str) -> Article:
    return Article(url=url, title="T", source="S", published=T0, text="x")


def test_store_uses_wal(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_each_article_belongs_to_one_digest_and_rebuilds_are_idempotent(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/a"), _article("http://e.de/b")], T0)
        day1 = date(2024, 6, 3)
        assert [a.url for a in store.window(day1, None)] == ["http://e.de/a", "http://e.de/b"]
        store.assign(day1, ["http://e.de/a"], T0)
        later = T0 + timedelta(hours=1)
        store.remember([_article("http://e.de/a"), _article("http://e.de/c")], later)
        # Rebuilding day 1 keeps what it showed; day 2 only gets what was first seen since.
        assert "http://e.de/a" in [a.url for a in store.window(day1, None)]
        assert [a.url for a in store.window(date(2024, 6, 4), None)] == ["http://e.de/c"]


def test_since_compares_instants_across_time_zones(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/a")], T0)  # 06:00 UTC = 08:00 in Berlin (summer)
        berlin = timezone(timedelta(hours=2))
        assert store.window(date(2024, 6, 3), datetime(2024, 6, 3, 7, 30, tzinfo=berlin))
        assert not store.window(date(2024, 6, 3), datetime(2024, 6, 3, 8, 30, tzinfo=berlin))


def test_permalink_guid_already_stored_is_the_same_article(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/a")], T0, {"http://e.de/a": "http://e.de/p/1"})
        store.remember([_article("http://e.de/a2")], T0, {"http://e.de/a2": "http://e.de/p/1"})
        assert [a.url for a in store.window(date(2024, 6, 3), None)] == ["http://e.de/a"]


def test_feed_health_counts_failures_and_keeps_validators_on_304(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.record_feed("F", T0, None, "200", url="http://e.de/f", etag='"1"')
        store.record_feed("F", T0, "timeout", "timeout", url="http://e.de/f")
        store.record_feed("F", T0, "timeout", "timeout", url="http://e.de/f")
        (health,) = store.feed_health()
        assert health.failures == 2 and health.last_error == "timeout" and health.etag == '"1"'
        store.record_feed("F", T0, None, "304", url="http://e.de/f")
        (health,) = store.feed_health()
        assert health.failures == 0 and health.last_status == "304" and health.etag == '"1"'


def test_processes_opening_a_new_state_at_once_migrate_it_exactly_once(tmp_path: Path) -> None:
    """Two schedulers starting together both open a state that does not exist yet."""
    path = tmp_path / "state.sqlite"
    code = (
        "import sys, pathlib\n"
        "from digest.store import Store\n"
        "with Store.open(pathlib.Path(sys.argv[1])): pass\n"
    )
    children = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    errors = [child.communicate(timeout=60)[1].decode() for child in children]
    assert [child.returncode for child in children] == [0] * 6, errors
    with Store.open(path):
        pass
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)


def test_compaction_drops_old_texts_but_an_old_article_never_returns_as_new(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/alt"), _article("http://e.de/nie-gezeigt")], T0)
        store.assign(date(2024, 6, 3), ["http://e.de/alt"], T0)
        month_later = T0 + timedelta(days=31)
        store.compact(month_later - timedelta(days=30))
        texts = dict(store._db.execute("SELECT url, json_extract(record, '$.text') FROM articles"))
        assert texts == {"http://e.de/alt": "", "http://e.de/nie-gezeigt": ""}
        # Both feeds still carry the old items: they are known, so nothing comes back.
        store.remember(
            [_article("http://e.de/alt"), _article("http://e.de/nie-gezeigt")], month_later
        )
        assert store.window(date(2024, 7, 4), None) == []
        assert store.window(date(2024, 7, 4), T0 - timedelta(days=1)) == []


def test_compaction_keeps_what_is_recent(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/neu")], T0)
        store.compact(T0 - timedelta(days=30))
        assert [a.text for a in store.window(date(2024, 6, 3), None)] == ["x"]
