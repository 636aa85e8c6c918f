"""Relevance, sections, stories and ranking: articles -> the digest's sections (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.config import SelectConfig
from digest.models import Article, Section, Story

FALLBACK_SECTION = "Weitere Meldungen"


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen stories grouped in sections (key points still empty) and why each article fared."""

    sections: tuple[Section, ...]
    top: tuple[str, ...]
    omitted: int
    explain: tuple[str, ...]


def select(articles: Sequence[Article], config: SelectConfig, *, now: datetime) -> Selection:
    """Group articles into stories and sections, most recent first."""
    ranked = sorted(articles, key=lambda a: (a.published, a.url), reverse=True)
    kept = ranked[: config.max_total]
    by_section: dict[str, list[Story]] = {}
    for article in kept:
        section = article.section_hint or FALLBACK_SECTION
        by_section.setdefault(section, []).append(Story(lead=article, section=section))
    sections = tuple(
        Section(title=title, stories=tuple(stories[: config.max_per_section]))
        for title, stories in by_section.items()
    )
    shown = sum(len(s.stories) for s in sections)
    explain = tuple(f"{a.url}\tbehalten" for a in kept) + tuple(
        f"{a.url}\tverworfen: Höchstzahl erreicht" for a in ranked[config.max_total :]
    )
    top = tuple(story.lead.url for story in (s for sec in sections for s in sec.stories))
    return Selection(
        sections=sections,
        top=top[: config.top_count],
        omitted=len(articles) - shown,
        explain=explain,
    )
