"""Relevance, sections, stories and ranking: articles -> the digest's sections (pure).

1. Relevance: each article is scored against the weighted term lists of topics.toml
   (digest/relevance.py); a story counts as relevant when its best article reaches the threshold.
2. Stories: agency copies and independent reports of one event are merged (digest/cluster.py);
   the lead is the most complete version (full text before "nur Anriss", then the longest).
3. Ressort: the section whose terms weigh most over all the story's articles; a feed's section
   hint wins unless another section scores hint_margin times as much, and decides when no
   section is clear. Each story lands in exactly one section.
4. Ranking: importance = (1 + ln(1 + relevance)) x (1 + 0.5 x (outlets - 1)) x feed weight
   x (0.5 + 0.5 x 2^(-age in hours / 24)); per-section and total limits cut the least important,
   and what they cut is counted in `omitted`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest import nlp
from digest.cluster import Clustering, cluster
from digest.config import SelectConfig
from digest.models import (
    MARKER_NO_DATE,
    MARKER_PAYWALL,
    MARKER_TEASER_ONLY,
    Article,
    Section,
    Story,
)
from digest.relevance import Score, Topics, load_topics, relevance, section_scores

FALLBACK_SECTION = "Weitere Meldungen"
RECENCY_HALF_LIFE_HOURS = 24.0
EXTRA_OUTLET_BONUS = 0.5


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen stories in sections (key points still empty) and why each article fared."""

    sections: tuple[Section, ...]
    top: tuple[str, ...]
    omitted: int
    explain: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story before the limits: its articles (lead first), where it goes and how it ranks."""

    number: int
    indices: tuple[int, ...]
    relevance: float
    section: str
    section_reason: str
    importance: float


def select(articles: Sequence[Article], config: SelectConfig, *, now: datetime) -> Selection:
    """Keep what is on topic, tell each story once in one section, most important first."""
    topics = load_topics(config.topics)
    scores = [relevance(article, topics) for article in articles]
    clustering = cluster(articles, topics)
    candidates = [
        _candidate(number, group, articles, scores, topics, now)
        for number, group in enumerate(clustering.groups, start=1)
    ]
    relevant = [c for c in candidates if c.relevance >= config.threshold]
    shown, cut = _apply_limits(relevant, topics, config)
    sections = tuple(
        Section(
            title=title,
            stories=tuple(_story(c, articles) for c in shown if c.section == title),
        )
        for title in topics.section_titles
        if any(c.section == title for c in shown)
    )
    by_importance = sorted(shown, key=lambda c: -c.importance)
    top = tuple(articles[c.indices[0]].url for c in by_importance[: config.top_count])
    explain = _explain(articles, scores, clustering, candidates, shown, cut, config)
    return Selection(sections=sections, top=top, omitted=len(cut), explain=explain)


def lead_order(article: Article) -> tuple[bool, bool, int, float]:
    """Sort key of completeness: full text before teasers, free before paywalled, then length."""
    return (
        MARKER_TEASER_ONLY not in article.markers,
        MARKER_PAYWALL not in article.markers,
        len(nlp.words(article.text)),
        article.weight,
    )


def importance(
    relevance_score: float, outlets: int, weight: float, newest: datetime | None, now: datetime
) -> float:
    """`newest` is None when no version gave a date: such a story counts as one half-life old,
    neither as fresh as its first-seen time would make it nor as stale as the oldest news."""
    age_hours = (
        RECENCY_HALF_LIFE_HOURS
        if newest is None
        else max((now - newest).total_seconds() / 3600.0, 0.0)
    )
    recency = 0.5 + 0.5 * 0.5 ** (age_hours / RECENCY_HALF_LIFE_HOURS)
    outlet_factor = 1.0 + EXTRA_OUTLET_BONUS * (outlets - 1)
    return (1.0 + math.log1p(max(relevance_score, 0.0))) * outlet_factor * weight * recency


def choose_section(
    scores: dict[str, float], hints: Sequence[str | None], topics: Topics
) -> tuple[str, str]:
    """The story's Ressort and why: the strongest section, the feed's hint, or the fallback."""
    known_hints = [h for h in hints if h is not None and h in scores]
    hint: str | None = Counter(known_hints).most_common(1)[0][0] if known_hints else None
    best: str | None = max(scores, key=lambda title: scores[title], default=None)
    best_score = scores[best] if best is not None else 0.0
    if hint is not None:
        if best_score < topics.min_section_score:
            return hint, "Ressort-Hinweis des Feeds"
        if (
            best is not None
            and best != hint
            and best_score >= topics.hint_margin * max(scores[hint], 0.01)
        ):
            return best, f"Begriffe ({best_score:.1f}) überwiegen Feed-Hinweis {hint!r}"
        return hint, "Ressort-Hinweis des Feeds, durch Begriffe gestützt"
    if best is not None and best_score >= topics.min_section_score:
        return best, f"Ressort-Begriffe {best_score:.1f}"
    return topics.fallback_section, "kein Ressort eindeutig"


def _candidate(
    number: int,
    group: Sequence[int],
    articles: Sequence[Article],
    scores: Sequence[Score],
    topics: Topics,
    now: datetime,
) -> Candidate:
    ordered = tuple(sorted(group, key=lambda i: lead_order(articles[i]), reverse=True))
    members = [articles[i] for i in ordered]
    story_relevance = max(scores[i].value for i in ordered)
    section, reason = choose_section(
        section_scores(members, topics), [a.section_hint for a in members], topics
    )
    return Candidate(
        number=number,
        indices=ordered,
        relevance=story_relevance,
        section=section,
        section_reason=reason,
        importance=importance(
            story_relevance,
            len({a.source for a in members}),
            max(a.weight for a in members),
            max((a.published for a in members if MARKER_NO_DATE not in a.markers), default=None),
            now,
        ),
    )


def _apply_limits(
    relevant: Sequence[Candidate], topics: Topics, config: SelectConfig
) -> tuple[list[Candidate], dict[int, str]]:
    """Shown stories in digest order (section, then importance) and why the others were cut."""
    cut: dict[int, str] = {}
    within_sections: list[Candidate] = []
    for title in topics.section_titles:
        ranked = sorted(
            (c for c in relevant if c.section == title), key=lambda c: (-c.importance, c.number)
        )
        within_sections.extend(ranked[: config.max_per_section])
        for c in ranked[config.max_per_section :]:
            cut[c.number] = f"Höchstzahl je Ressort ({config.max_per_section}) erreicht"
    best = sorted(within_sections, key=lambda c: (-c.importance, c.number))
    kept = {c.number for c in best[: config.max_total]}
    for c in best[config.max_total :]:
        cut[c.number] = f"Gesamthöchstzahl ({config.max_total}) erreicht"
    return [c for c in within_sections if c.number in kept], cut


def _story(candidate: Candidate, articles: Sequence[Article]) -> Story:
    lead, *others = (articles[i] for i in candidate.indices)
    return Story(
        lead=lead,
        others=tuple(others),
        section=candidate.section,
        score=round(candidate.importance, 3),
    )


def _explain(
    articles: Sequence[Article],
    scores: Sequence[Score],
    clustering: Clustering,
    candidates: Sequence[Candidate],
    shown: Sequence[Candidate],
    cut: dict[int, str],
    config: SelectConfig,
) -> tuple[str, ...]:
    """One block per story (shown ones first, in digest order), one line per article."""
    joined: dict[int, str] = {}
    for link in clustering.links:
        joined.setdefault(link.second, f"{link.reason} {link.similarity:.2f}")
        joined.setdefault(link.first, f"{link.reason} {link.similarity:.2f}")
    shown_numbers = {c.number: place for place, c in enumerate(shown, start=1)}
    ordered = sorted(
        candidates,
        key=lambda c: (c.number not in shown_numbers, shown_numbers.get(c.number, 0), -c.relevance),
    )
    lines = [
        f"# Auswahl: {len(articles)} Artikel, {len(candidates)} Storys, {len(shown)} aufgenommen, "
        f"{len(cut)} durch Höchstzahlen weggefallen; Schwelle {config.threshold:.2f}",
        "# Urteil | Relevanz | Ressort | Story | Quelle: Titel | Link | Begriffe | Grund",
    ]
    for c in ordered:
        if c.number in shown_numbers:
            verdict, reason = (
                "BEHALTEN",
                f"Rang {shown_numbers[c.number]}, Gewicht {c.importance:.2f}",
            )
        elif c.number in cut:
            verdict, reason = "WEGGEFALLEN", cut[c.number]
        else:
            verdict = "VERWORFEN"
            reason = f"Relevanz {c.relevance:.2f} unter Schwelle {config.threshold:.2f}"
        for position, index in enumerate(c.indices):
            article, score = articles[index], scores[index]
            role = "Lead" if position == 0 else f"Version ({joined.get(index, 'zusammengeführt')})"
            story = f"Story {c.number} ({len(c.indices)} Artikel, {role})"
            terms = ", ".join(score.terms) or "keine Begriffe"
            lines.append(
                f"{verdict} | {score.value:.2f} | {c.section} ({c.section_reason}) | {story} | "
                f"{article.source}: {article.title} | {article.url} | {terms} | {reason}"
            )
    return tuple(lines)
