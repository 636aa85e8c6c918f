"""EDGE: the files of each edition in out/, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from datetime import date
from pathlib import Path

from digest.errors import MailError
from digest.models import BuiltEdition, Edition

log = logging.getLogger(__name__)

_EDITION_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def edition_dir(out_dir: Path, day: date) -> Path:
    return out_dir / day.isoformat()


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write `data` so that `path` holds either its old content or all of the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; an archive is meant to be read (and served), so honour the umask.
        os.fchmod(handle, 0o666 & ~_UMASK)
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


def read_built(out_dir: Path, day: date) -> BuiltEdition:
    """The built edition of `day` read back from out/ to be sent; MailError when it is missing,
    unreadable or of another day."""
    folder = edition_dir(out_dir, day)
    try:
        text = (folder / "digest.txt").read_text(encoding="utf-8")
        html = (folder / "digest.html").read_text(encoding="utf-8")
        raw = (folder / "digest.json").read_text(encoding="utf-8")
        data = json.loads(raw)
    except FileNotFoundError as error:
        raise MailError(
            f"{folder}: no built edition ({Path(error.filename).name} missing);"
            f" run `digest build --date {day.isoformat()}` first"
        ) from None
    except (OSError, ValueError) as error:
        raise MailError(f"{folder}: cannot read the built edition: {error}") from None
    if data.get("date") != day.isoformat():
        raise MailError(f"{folder}/digest.json is the edition of {data.get('date')!r}, not {day}")
    return BuiltEdition(day=day, title=str(data.get("title", "")), html=html, text=text, json=raw)


def read_editions(out_dir: Path) -> list[Edition]:
    """Every edition in out/ with a readable digest.json; unreadable ones are logged, skipped."""
    editions = []
    for folder in sorted(out_dir.glob("*/")):
        data = folder / "digest.json"
        if not _EDITION_FOLDER.fullmatch(folder.name) or not data.is_file():
            continue
        try:
            editions.append(
                Edition.from_json(data.read_text("utf-8"), f"{folder.name}/digest.html")
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("skipping edition %s in the archive: %s", folder.name, error)
    return editions


def earlier_editions(out_dir: Path, day: date, count: int) -> list[tuple[date, str]]:
    """The digest.json texts of the `count` newest editions before `day`, newest first; an
    unreadable one is logged and skipped."""
    found: list[tuple[date, str]] = []
    folders = [f for f in out_dir.glob("*/") if _EDITION_FOLDER.fullmatch(f.name)]
    for folder in sorted(folders, key=lambda f: f.name, reverse=True):
        if len(found) >= count:
            break
        if folder.name >= day.isoformat() or not (folder / "digest.json").is_file():
            continue
        try:
            found.append(
                (date.fromisoformat(folder.name), (folder / "digest.json").read_text("utf-8"))
            )
        except (OSError, ValueError) as error:
            log.warning("skipping edition %s for continuity: %s", folder.name, error)
    return found


def write_site(out_dir: Path, index_html: str, feed_xml: str) -> list[Path]:
    """Rewrite out/index.html and out/feed.xml, each atomically."""
    return [
        write_atomic(out_dir / "index.html", index_html),
        write_atomic(out_dir / "feed.xml", feed_xml),
    ]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
