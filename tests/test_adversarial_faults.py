"""Hard faults: a build killed with SIGKILL at random points, and two builds at once.

What the archive promises (digest/archive.py writes every file to a hidden temporary file in the
same folder, fsyncs it and renames it into place):
- every visible file in out/ is complete: each digest.json parses, each .html file ends with
  </html>, feed.xml parses as XML;
- a killed build may leave hidden temporary files (".NAME.*.tmp"), never a visible partial file,
  and they are never read as editions;
- the state database passes PRAGMA integrity_check, and the next build completes.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from digest import runs
from digest.archive import read_editions
from digest.config import DEFAULT_CONFIG, independent_state_dir, load_config

ROOT = Path(__file__).resolve().parents[1]
FEEDS = ROOT / "tests" / "data" / "feeds" / "list.toml"
DAY = date(2026, 11, 29)
# Seeded so that a failure can be replayed; the points spread over a whole build (about 2-3 s,
# most of it start-up) so that some kills land while files are being written.
KILL_SEED = 20261129
KILLS = 3


def build_command(out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "digest",
        "build",
        "--feeds",
        str(FEEDS),
        "--out",
        str(out),
        "--date",
        DAY.isoformat(),
        "--since",
        "2026-11-01",  # the test feeds are dated 27-28 November 2026
    ]


def killed_build(out: Path, after: float) -> int | None:
    """Start a build and SIGKILL it after `after` seconds; its exit code if it finished first."""
    process = subprocess.Popen(
        build_command(out), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        return process.wait(timeout=after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


def broken_files(out: Path) -> list[str]:
    """Every visible file in out/ that breaks the archive's promise."""
    problems = []
    for path in out.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix == ".tmp":
            problems.append(f"{path}: visible temporary file")
        elif path.name == "digest.json":
            try:
                json.loads(path.read_text("utf-8"))
            except ValueError as error:
                problems.append(f"{path}: {error}")
        elif path.suffix == ".html":
            if not path.read_text("utf-8").rstrip().endswith("</html>"):
                problems.append(f"{path}: does not end with </html>")
        elif path.suffix == ".xml":
            try:
                ET.fromstring(path.read_bytes())
            except ET.ParseError as error:
                problems.append(f"{path}: {error}")
    return problems


def integrity(database: Path) -> str:
    if not database.exists():
        return "ok"
    with sqlite3.connect(database) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_build_killed_at_random_points_leaves_no_partial_file_and_state_intact(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    state = independent_state_dir(out.resolve()) / "state.sqlite"  # where `--out` keeps it
    delays = random.Random(KILL_SEED)
    for _ in range(KILLS):
        killed_build(out, after=delays.uniform(0.5, 3.0))
        assert broken_files(out) == []
        assert integrity(state) == "ok"
        for edition in read_editions(out):  # hidden temporary files are never an edition
            assert edition.href.endswith("/digest.html")
    finished = subprocess.run(build_command(out), cwd=ROOT, capture_output=True, timeout=60)
    assert finished.returncode == 0, finished.stderr.decode()
    assert broken_files(out) == []
    assert integrity(state) == "ok"
    folder = out / DAY.isoformat()
    assert {"digest.html", "digest.txt", "digest.json"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "digest.json").read_text("utf-8"))["sections"]
    assert state.is_file() and not (out / "state.sqlite").exists()


def test_a_build_waits_while_another_run_holds_the_lock_and_writes_nothing(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    config = load_config(DEFAULT_CONFIG).with_out_dir(out)
    verbose = [*build_command(out)[:3], "-v", *build_command(out)[3:]]  # logs the wait
    with runs.exclusive(config, wait=0):
        process = subprocess.Popen(
            verbose, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        said = waited_for_the_lock(process)
        assert any("holds the lock; waiting" in line for line in said), said
        assert process.poll() is None, "the second build ended while the lock was held"
        assert not (out / DAY.isoformat()).exists()
        assert not (out / "index.html").exists()
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(said) + errors
    assert (out / DAY.isoformat() / "digest.html").is_file()


def waited_for_the_lock(process: subprocess.Popen[str], timeout: float = 60) -> list[str]:
    """The build's log lines up to the one saying it waits for the lock (all of them if it
    never says so: it ended, or `timeout` seconds passed)."""
    said: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            said.append(line)
            if "holds the lock; waiting" in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return said
