"""The state database: one file in WAL mode, migrated once, shared by the classes of each
concern; compaction over several of them as one step; the move of an old state out of the
published folder."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.models import Article
from digest.store import MIGRATIONS, Store, adopt_legacy_state
from digest.store.articles import dump_article
from digest.store.pages import CachedPage

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _article(url: str, published: datetime = T0) -> Article:
    return Article(url=url, title="T", source="S", published=published, text="x")


def test_store_uses_wal(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


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
            (record.url, (T0 + 48 * HOUR).isoformat(), dump_article(record)),
        )
        db.execute(
            "INSERT INTO sends(digest_date, recipient, status) VALUES ('2024-06-03', 'a@e.de',"
            " 'sent')"
        )
    with Store.open(path) as store:
        window = store.articles.window(date(2024, 6, 3), T0 - HOUR, T0 + HOUR)
        assert [a.url for a in window] == ["http://e.de/alt"]
        assert store.sends.by_recipient(date(2024, 6, 3)) == {"a@e.de": ("sent", 0, None)}


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


def test_a_state_newer_than_the_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(Exception, match="newer than this program"), Store.open(path):
        pass


def test_a_transaction_inside_another_joins_it_and_rolls_back_with_it(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        with pytest.raises(RuntimeError), store.db.transaction():
            store.articles.remember([_article("http://e.de/a")], T0)
            raise RuntimeError("crash before the outer step commits")
        assert store.articles.window(T0.date(), T0 - HOUR, None) == []


def test_compaction_forgets_old_pages_and_edition_caches_and_old_texts(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.articles.remember([_article("http://e.de/alt")], T0)
        store.pages.cache([CachedPage("http://e.de/alt", T0, None, "HTTP 404")])
        store.editions.cache(T0.date(), "fp", [], [], 0)
        month_later = T0 + timedelta(days=31)
        store.compact(month_later - timedelta(days=30))
        assert store.pages.cached(["http://e.de/alt"]) == {}
        assert store.editions.cached(T0.date(), "fp") is None
        assert store.articles.texts(["http://e.de/alt"]) == {}


def test_compaction_keeps_what_is_recent(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.articles.remember([_article("http://e.de/neu")], T0)
        store.pages.cache([CachedPage("http://e.de/neu", T0, None, "HTTP 404")])
        store.editions.cache(T0.date(), "fp", [], [], 0)
        store.compact(T0 - timedelta(days=30))
        assert [a.text for a in store.articles.window(T0.date(), T0 - HOUR, None)] == ["x"]
        assert list(store.pages.cached(["http://e.de/neu"])) == ["http://e.de/neu"]
        assert store.editions.cached(T0.date(), "fp") == ((), (), 0)


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
