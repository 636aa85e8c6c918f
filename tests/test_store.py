"""The state database: seen articles, the news window, idempotent rebuilds, feed health, frozen
editions, and the move of an old state out of the published folder."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from digest.models import Article
from digest.store import MIGRATIONS, SentEdition, Store, _dump, adopt_legacy_state

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _article(url: str, published: datetime = T0) -> Article:
    return Article(url=url, title="T", source="S", published=published, text="x")


def test_store_uses_wal(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def urls(articles: list[Article]) -> list[str]:
    return [a.url for a in articles]


def test_each_article_belongs_to_one_digest_and_rebuilds_are_idempotent(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/a"), _article("http://e.de/b")], T0)
        day1, day2 = date(2024, 6, 3), date(2024, 6, 4)
        assert urls(store.window(day1, T0 - HOUR, T0)) == ["http://e.de/a", "http://e.de/b"]
        store.assign(day1, ["http://e.de/a"], T0)
        later = T0 + 20 * HOUR
        store.remember([_article("http://e.de/a"), _article("http://e.de/c", later)], later)
        # Rebuilding day 1 keeps what it showed, also outside the window; day 2 gets what is in
        # its window and in no other edition.
        assert "http://e.de/a" in urls(store.window(day1, later, later))
        assert urls(store.window(day2, T0 - HOUR, later)) == ["http://e.de/b", "http://e.de/c"]
        assert urls(store.window(day2, T0 + HOUR, later)) == ["http://e.de/c"]


def test_the_window_goes_by_publication_time_not_by_when_an_article_was_first_seen(
    tmp_path,
) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember(
            [
                _article("http://e.de/neu", T0 - 2 * HOUR),
                _article("http://e.de/woche", T0 - 5 * 24 * HOUR),
                _article("http://e.de/monat", T0 - 30 * 24 * HOUR),
            ],
            T0,  # a first run: all three are first seen now
        )
        day = T0.date()
        assert urls(store.window(day, T0 - 30 * HOUR, T0)) == ["http://e.de/neu"]
        assert len(store.window(day, T0 - 31 * 24 * HOUR, None)) == 3


def test_since_compares_instants_across_time_zones(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/a")], T0)  # 06:00 UTC = 08:00 in Berlin (summer)
        berlin = timezone(timedelta(hours=2))
        day = date(2024, 6, 3)
        assert store.window(day, datetime(2024, 6, 3, 7, 30, tzinfo=berlin), None)
        assert not store.window(day, datetime(2024, 6, 3, 8, 30, tzinfo=berlin), None)
        assert not store.window(day, T0 - HOUR, datetime(2024, 6, 3, 7, 30, tzinfo=berlin))


def test_permalink_guid_already_stored_is_the_same_article(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/a")], T0, {"http://e.de/a": "http://e.de/p/1"})
        store.remember([_article("http://e.de/a2")], T0, {"http://e.de/a2": "http://e.de/p/1"})
        assert urls(store.window(date(2024, 6, 3), T0 - HOUR, None)) == ["http://e.de/a"]


def test_a_state_of_the_previous_schema_gets_publication_times_from_its_records(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:7]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 7")
        record = _article("http://e.de/alt", datetime(2024, 6, 3, 8, 0, tzinfo=timezone(2 * HOUR)))
        db.execute(
            "INSERT INTO articles(url, first_seen, record) VALUES (?, ?, ?)",
            (record.url, (T0 + 48 * HOUR).isoformat(), _dump(record)),
        )
        db.execute(
            "INSERT INTO sends(digest_date, recipient, status) VALUES ('2024-06-03', 'a@e.de',"
            " 'sent')"
        )
    with Store.open(path) as store:
        assert urls(store.window(date(2024, 6, 3), T0 - HOUR, T0 + HOUR)) == ["http://e.de/alt"]
        assert store.sends(date(2024, 6, 3)) == {"a@e.de": ("sent", 0, None)}


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
        assert store.window(date(2024, 7, 4), T0 - timedelta(days=1), None) == []


def test_compaction_keeps_what_is_recent(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.remember([_article("http://e.de/neu")], T0)
        store.compact(T0 - timedelta(days=30))
        assert [a.text for a in store.window(date(2024, 6, 3), T0 - HOUR, None)] == ["x"]


# --- frozen editions ---------------------------------------------------------------------------

DAY = date(2024, 6, 3)


def edition(html: str, revision: int = 1) -> SentEdition:
    return SentEdition(DAY, revision, "Briefing", html, "text", '{"date": "2024-06-03"}')


def test_an_edition_is_frozen_once_a_recipient_is_served_and_never_replaced(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.freeze_edition(edition("<p>eins</p>"), T0).html == "<p>eins</p>"
        assert store.sent_edition(DAY) is None  # nobody has it yet: a rebuild may change it
        assert store.freeze_edition(edition("<p>zwei</p>"), T0).html == "<p>zwei</p>"
        store.record_send(DAY, "a@e.de", "pending", T0, revision=1)
        store.record_send(DAY, "a@e.de", "sent", T0, revision=1, message_id="<m>")
        store.record_send(DAY, "b@e.de", "pending", T0, revision=1)
        store.record_send(DAY, "b@e.de", "failed", T0, revision=1, error="550")
        kept = store.sent_edition(DAY)
        assert kept is not None and kept.html == "<p>zwei</p>"
        assert store.freeze_edition(edition("<p>drei</p>"), T0).html == "<p>zwei</p>"
        assert store.served_count(DAY) == 1


def test_an_attempt_left_pending_by_a_crash_freezes_the_edition_too(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.freeze_edition(edition("<p>eins</p>"), T0)
        store.record_send(DAY, "a@e.de", "pending", T0, revision=1)  # the process died here
        assert store.freeze_edition(edition("<p>zwei</p>"), T0).html == "<p>eins</p>"


def test_a_new_edition_of_a_sent_date_starts_with_nobody_served(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.freeze_edition(edition("<p>eins</p>"), T0)
        store.record_send(DAY, "a@e.de", "sent", T0, revision=1)
        assert store.supersede_edition(DAY, T0 + HOUR) == 2
        assert store.edition_revision(DAY) == 2
        assert store.sent_edition(DAY) is None and store.sends(DAY) == {}
        assert store.unsent(DAY, ["a@e.de"], 2) == ["a@e.de"]
        assert store.freeze_edition(edition("<p>neu</p>", 2), T0).html == "<p>neu</p>"


# --- the state out of the published folder -----------------------------------------------------


def test_a_state_left_in_out_moves_once_with_its_write_ahead_log(tmp_path: Path) -> None:
    legacy = tmp_path / "out" / "state.sqlite"
    legacy.parent.mkdir()
    keep_open = sqlite3.connect(legacy)  # holds the WAL file open, as a live process would
    keep_open.execute("PRAGMA journal_mode=WAL")
    keep_open.execute("CREATE TABLE t(x)")
    keep_open.execute("INSERT INTO t VALUES (42)")
    keep_open.commit()
    target = tmp_path / "state" / "state.sqlite"
    assert adopt_legacy_state(legacy, target)
    keep_open.close()
    assert not legacy.exists() and not Path(f"{legacy}-wal").exists()
    assert sqlite3.connect(target).execute("SELECT x FROM t").fetchall() == [(42,)]
    assert not adopt_legacy_state(legacy, target)  # nothing left to move
