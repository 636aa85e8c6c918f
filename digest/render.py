"""Digest -> subject, HTML and plain text (Jinja2 templates, German dates via Babel)."""

from __future__ import annotations

import json
import textwrap
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_time

from digest.config import RenderConfig
from digest.errors import RenderError
from digest.models import Digest, Rendered, Story

DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LOCALE = "de_DE"


def make_environment(config: RenderConfig, timezone: str) -> jinja2.Environment:
    """One template environment with every filter registered here; user templates come first."""
    folders = [DEFAULT_TEMPLATES]
    if config.template_dir is not None:
        folders.insert(0, config.template_dir)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    zone = ZoneInfo(timezone)
    env.filters["long_date"] = german_long_date
    env.filters["clock"] = lambda moment: german_clock(moment, zone)
    env.filters["day_and_clock"] = lambda moment: german_day_and_clock(moment, zone)
    env.filters["sources"] = count_sources
    env.filters["wrap"] = wrap_text
    return env


def german_long_date(day: date) -> str:
    """'Sonntag, 29. November 2026'."""
    return format_date(day, format="full", locale=LOCALE)


def german_clock(moment: datetime, zone: ZoneInfo) -> str:
    """'06:00 Uhr' in the digest's time zone."""
    return format_time(moment.astimezone(zone), format="HH:mm", locale=LOCALE) + " Uhr"


def german_day_and_clock(moment: datetime, zone: ZoneInfo) -> str:
    """'28.11.2026, 14:30 Uhr'."""
    local = moment.astimezone(zone)
    return f"{format_date(local, format='dd.MM.yyyy', locale=LOCALE)}, {german_clock(local, zone)}"


def count_sources(count: int) -> str:
    return "1 Quelle" if count == 1 else f"{count} Quellen"


def wrap_text(text: str, width: int = 78, indent: str = "", first: str | None = None) -> str:
    """Wrap to `width` columns; `first` replaces the indent on the first line (for bullets)."""
    return textwrap.fill(
        " ".join(text.split()),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    )


def render(digest: Digest, config: RenderConfig, *, timezone: str) -> Rendered:
    env = make_environment(config, timezone)
    context = {"digest": digest, "top": digest.top}
    try:
        html = env.get_template("digest.html").render(context)
        text = env.get_template("digest.txt").render(context)
        subject = env.get_template("subject.txt").render(context).strip()
    except jinja2.TemplateError as error:
        raise RenderError(f"template failed: {error}") from None
    return Rendered(subject=subject, html=html, text=text, json=to_json(digest))


def to_json(digest: Digest) -> str:
    return json.dumps(
        {
            "date": digest.date.isoformat(),
            "generated_at": digest.generated_at.isoformat(),
            "title": digest.title,
            "sections": [
                {"title": section.title, "stories": [_story(s) for s in section.stories]}
                for section in digest.sections
            ],
            "failures": [
                {"source": f.source, "stage": f.stage, "message": f.message}
                for f in digest.failures
            ],
            "omitted": digest.omitted,
        },
        ensure_ascii=False,
        indent=2,
    )


def _story(story: Story) -> dict[str, object]:
    return {
        "title": story.lead.title,
        "url": story.lead.url,
        "section": story.section,
        "published": story.lead.published.isoformat(),
        "key_points": list(story.key_points),
        "sources": [{"name": a.source, "title": a.title, "url": a.url} for a in story.articles],
        "markers": list(story.markers),
    }
