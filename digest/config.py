"""One Config, made of nested frozen dataclasses, loaded once from TOML and passed down."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.errors import ConfigError
from digest.models import FeedSource, is_web_url

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "digest.toml"


@dataclass(frozen=True, slots=True)
class FetchConfig:
    concurrency: int = 16
    per_host: int = 2
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    retries: int = 2
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    feeds_deadline: float = 90.0
    pages_deadline: float = 90.0


@dataclass(frozen=True, slots=True)
class ExtractConfig:
    min_words: int = 120
    allow_private: bool = False


# The key-point methods summarize.method names: ours, then sumy's own (digest.summarize has
# each one's class).
SUMMARIZE_METHODS = (
    "keypoints", "lexrank", "textrank", "lsa", "luhn", "edmundson", "sumbasic", "kl", "reduction",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SummarizeConfig:
    method: str = SUMMARIZE_METHODS[0]
    max_points: int = 4
    word_budget: int = 60

    def __post_init__(self) -> None:
        if self.method not in SUMMARIZE_METHODS:
            raise ConfigError(
                f"summarize.method must be one of {', '.join(SUMMARIZE_METHODS)},"
                f" got {self.method!r}"
            )
        if self.max_points < 1 or self.word_budget < 1:
            raise ConfigError("summarize.max_points and summarize.word_budget must be at least 1")


@dataclass(frozen=True, slots=True)
class SelectConfig:
    max_per_section: int = 8
    max_total: int = 40
    top_count: int = 5
    topics: Path | None = None
    model: Path | None = None
    watch: tuple[str, ...] = ()
    block: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderConfig:
    template_dir: Path | None = None
    max_html_bytes: int = 102_000


@dataclass(frozen=True, slots=True)
class ContinuityConfig:
    enabled: bool = True
    days: int = 7
    only_new: bool = True
    archive_url: str = ""


@dataclass(frozen=True, slots=True)
class TermineConfig:
    enabled: bool = True
    days: int = 7


@dataclass(frozen=True, slots=True)
class EmailConfig:
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password_env: str = "DIGEST_SMTP_PASSWORD"
    password_file: Path | None = None
    sender: str = ""
    reply_to: str = ""
    to: tuple[str, ...] = ()
    recipients_file: Path | None = None
    subject: str = "Sicherheitspolitisches Briefing – {date}"
    list_id: str = ""
    list_unsubscribe: str = ""
    batch_size: int = 50
    per_minute: int = 0
    retries: int = 3


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    time: str = "06:00"
    days: str = "mon-sun"
    grace_hours: float = 6.0


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None
    title: str = "Sicherheitspolitisches Tagesbriefing"
    feeds: Path = Path("feeds/samples.toml")
    out_dir: Path = Path("out")
    state_dir: Path = Path("state")
    timezone: str = "Europe/Berlin"
    languages: tuple[str, ...] = ("de",)
    window_hours: float = 30.0
    keep_days: int = 30
    processes: int = 0
    fetch: FetchConfig = field(default_factory=FetchConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    summarize: SummarizeConfig = field(default_factory=SummarizeConfig)
    select: SelectConfig = field(default_factory=SelectConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    continuity: ContinuityConfig = field(default_factory=ContinuityConfig)
    termine: TermineConfig = field(default_factory=TermineConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)

    @property
    def state_path(self) -> Path:
        """The state database; the run lock and the logs live next to it."""
        return self.state_dir / "state.sqlite"

    def with_out_dir(self, out_dir: Path) -> Config:
        """The same settings writing to another folder, as an independent run: with a state of
        its own, kept outside that folder (see `independent_state_dir`)."""
        out = out_dir.resolve()
        return dataclasses.replace(self, out_dir=out, state_dir=independent_state_dir(out))


def independent_state_dir(out_dir: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """The state folder of a run writing to `out_dir` (`--out`): under the XDG state directory
    ($XDG_STATE_HOME, else ~/.local/state), named after the folder and a hash of its path, so
    that it is never inside the published folder and each output folder has its own."""
    home = environ.get("XDG_STATE_HOME") or str(Path(environ.get("HOME", "~")) / ".local/state")
    key = hashlib.sha256(str(out_dir).encode("utf-8")).hexdigest()[:12]
    return Path(home).expanduser() / "sipo-digest" / f"{out_dir.name or 'out'}-{key}"


# The [tables] of digest.toml besides [digest], each a field of Config.
SECTIONS = (
    "fetch",
    "extract",
    "summarize",
    "select",
    "render",
    "continuity",
    "termine",
    "email",
    "schedule",
)

# TOML keys that are not Python identifiers.
_RENAMED = {"from": "sender"}


def load_config(path: Path | None = None) -> Config:
    """Read a TOML config; relative paths resolve against the config file's folder."""
    path = (path or DEFAULT_CONFIG).resolve()
    data = _read_toml(path)
    base = path.parent
    top = dict(data.pop("digest", {}))
    for name in SECTIONS:
        if name in data:
            top[name] = data.pop(name)
    if data:
        raise ConfigError(f"{path}: unknown section or key {sorted(data)[0]!r}")
    if "state" in top:
        raise ConfigError(
            f"{path}: 'state' is now 'state_dir', a folder for the state database, lock and logs"
        )
    config = _build(Config, top, path, base, "")
    for name, value in _budgets(config).items():
        if value <= 0:
            raise ConfigError(f"{path}: {name} must be a positive number of seconds or hours")
    # Defaults for paths are relative to the config file too, not to the working directory.
    return dataclasses.replace(
        config,
        path=path,
        feeds=base / config.feeds,
        out_dir=base / config.out_dir,
        state_dir=base / config.state_dir,
    )


def _budgets(config: Config) -> dict[str, float]:
    return {
        "window_hours": config.window_hours,
        "fetch.feeds_deadline": config.fetch.feeds_deadline,
        "fetch.pages_deadline": config.fetch.pages_deadline,
    }


def load_feed_list(path: Path) -> tuple[FeedSource, ...]:
    """Read a feed list of [[feeds]] tables; local paths resolve against the list file."""
    path = path.resolve()
    data = _read_toml(path)
    unknown = set(data) - {"feeds"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r} (expected [[feeds]] tables)")
    sources = []
    for index, table in enumerate(data.get("feeds", []), start=1):
        where = f"{path}: feed #{index}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table")
        unknown = set(table) - {"name", "url", "language", "section", "weight"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        for key in ("name", "url"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise ConfigError(f"{where}: {key!r} is required and must be a string")
        url = table["url"].strip()
        if not is_web_url(url):
            if "://" in url:
                raise ConfigError(f"{where}: url must be http(s) or a file path, got {url!r}")
            url = str((path.parent / url).resolve())
        weight = table.get("weight", 1.0)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            raise ConfigError(f"{where}: weight must be a positive number")
        section = table.get("section")
        if section is not None and not isinstance(section, str):
            raise ConfigError(f"{where}: section must be a string")
        language = table.get("language", "de")
        if not isinstance(language, str):
            raise ConfigError(f"{where}: language must be a string")
        sources.append(
            FeedSource(
                name=table["name"].strip(),
                url=url,
                language=language,
                section=section,
                weight=float(weight),
            )
        )
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: feed name {duplicates[0]!r} is used twice")
    return tuple(sources)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already says "(at line N, column M)".
        raise ConfigError(f"{path}: malformed TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


def _build(cls: type, data: dict[str, Any], path: Path, base: Path, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [{prefix.rstrip('.')}] must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)} - {"path"}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        name = _RENAMED.get(key, key)
        if name not in fields:
            raise ConfigError(f"{path}: unknown key {prefix + key!r}")
        values[name] = _convert(hints[name], raw, path, base, prefix + key)
    return cls(**values)


def _convert(hint: Any, raw: Any, path: Path, base: Path, key: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, raw, path, base, key + ".")
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        # Optional settings: an empty string means "not set".
        if raw == "":
            return None
        (hint,) = [a for a in args if a is not type(None)]
    if hint is Path:
        if not isinstance(raw, str):
            raise ConfigError(f"{path}: {key} must be a path string")
        return (base / raw).resolve()
    if typing.get_origin(hint) is tuple:
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise ConfigError(f"{path}: {key} must be a list of strings")
        return tuple(raw)
    if hint is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if not isinstance(raw, hint) or (hint is int and isinstance(raw, bool)):
        raise ConfigError(f"{path}: {key} must be {hint.__name__}, got {type(raw).__name__}")
    return raw
