"""The sample digest in headless chromium at phone and desktop width: real pixels, not blank.

Set UPDATE_SCREENSHOTS=1 to copy the screenshots to docs/screenshots/ (linked from the README).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest import pipeline
from digest.config import DEFAULT_CONFIG, load_config

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_FEEDS = ROOT / "feeds" / "samples.toml"
SCREENSHOTS = ROOT / "docs" / "screenshots"
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)


def chromium() -> str:
    """The chromium binary; skips when absent, unless on CI where it must be installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed on CI (.ci/run installs it)")
    pytest.skip("chromium is not installed")


def screenshot(browser: str, page: Path, width: int, target: Path, profile: Path) -> None:
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},2400",
        f"--screenshot={target}",
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB or RGBA PNG (no library needed)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG format"
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + nearest) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def pixels(width: int, rows: list[bytes]) -> list[bytes]:
    """The RGB triples of the rows, alpha dropped."""
    channels = len(rows[0]) // width
    return [row[x : x + 3] for row in rows for x in range(0, len(row), channels)]


@pytest.fixture(scope="module")
def sample_digest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    out = folder / "out"
    config = dataclasses.replace(
        load_config(DEFAULT_CONFIG), feeds=SAMPLE_FEEDS, out_dir=out, state_dir=folder / "state"
    )
    pipeline.build(config, day=DAY, now=NOW)
    return out / DAY.isoformat() / "digest.html"


@pytest.mark.parametrize("width", [375, 1200])
def test_digest_renders_visibly_in_chromium(
    sample_digest: Path, tmp_path: Path, width: int
) -> None:
    browser = chromium()
    target = tmp_path / f"digest-{width}.png"
    screenshot(browser, sample_digest, width, target, tmp_path / "profile")
    png_width, height, rows = decode_png(target.read_bytes())
    assert png_width == width and height == 2400
    colours = Counter(pixels(png_width, rows))
    # Text is anti-aliased: a page with real content has hundreds of shades, a blank one a few.
    assert len(colours) > 100, f"only {len(colours)} colours: the page looks blank"
    _, count = colours.most_common(1)[0]
    share = 1 - count / colours.total()
    assert share > 0.2, f"only {share:.0%} of the pixels differ from the background"
    # The masthead is dark navy with light text: the top rows must not be white.
    top_band = pixels(png_width, rows[40:60])
    assert sum(1 for r, g, b in top_band if r + g + b < 200) > len(top_band) // 3
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, SCREENSHOTS / f"digest-{width}.png")
