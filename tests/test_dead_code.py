"""No dead code in digest/: vulture, at 80 % confidence, finds nothing unused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_vulture_finds_no_unused_code_in_the_package() -> None:
    found = subprocess.run(
        [sys.executable, "-m", "vulture", "digest/", "--min-confidence", "80"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert found.returncode == 0, found.stdout + found.stderr
