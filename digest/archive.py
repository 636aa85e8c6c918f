"""EDGE: the files of each edition in out/, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path


def edition_dir(out_dir: Path, day: date) -> Path:
    return out_dir / day.isoformat()


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write `data` so that `path` holds either its old content or all of the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def write_edition(out_dir: Path, day: date, files: dict[str, str | bytes]) -> list[Path]:
    """Write the named files of one edition; returns their paths in the order given."""
    folder = edition_dir(out_dir, day)
    return [write_atomic(folder / name, content) for name, content in files.items()]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
