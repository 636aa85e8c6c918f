"""Judged articles -> the digest's stories in sections, ranked and limited, with every fate (pure).

1. Relevance and series come from the editorial model (digest/editorial.py), article by article:
   only articles on topic are grouped into stories, so every version shown under a story passed
   the decision on its own.
2. Stories: agency copies and independent reports of one event are merged (digest/cluster.py).
   A live blog or ticker is compared by its title alone, so it joins a story only when its
   title names that story's event. The lead is the most complete version (full text before
   "nur Anriss", then the longest). Series items (tickers, service items) are never shown: a
   story made only of them is dropped.
3. Ressort: the model's section probabilities averaged over the story's articles; a feed's
   section hint, or the fallback when the model is unsure (editorial.story_section).
4. Ranking: importance = relevance x (1 + 0.5 x (outlets - 1)) x feed weight
   x (0.5 + 0.5 x 2^(-age in hours / 24)); per-section and total limits cut the least important,
   and what they cut is counted in `omitted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest import nlp
from digest.cluster import Clustering, cluster, feed_boilerplate
from digest.config import SelectConfig
from digest.editorial import EditorialModel, is_ticker, story_section
from digest.models import (
    MARKER_NO_DATE,
    MARKER_PAYWALL,
    MARKER_TEASER_ONLY,
    Article,
    Considered,
    Judgement,
    Section,
    Story,
)
from digest.relevance import Topics

RECENCY_HALF_LIFE_HOURS = 24.0
# A story shows at most this many versions, lead included (a feed repeating one item
# hundreds of times under new links must not make one giant story).
MAX_STORY_VERSIONS = 12
EXTRA_OUTLET_BONUS = 0.5


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen stories in sections (key points still empty) and what became of each article."""

    sections: tuple[Section, ...]
    top: tuple[str, ...]
    omitted: int
    considered: tuple[Considered, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story before the limits: its articles (lead first), where it goes and how it ranks."""

    number: int
    indices: tuple[int, ...]  # every on-topic article of the story, lead first
    shown: tuple[int, ...]  # those a reader may see: no series items
    relevance: float
    section: str
    section_reason: str
    importance: float


def select(
    articles: Sequence[Article],
    judgements: Sequence[Judgement],
    model: EditorialModel,
    topics: Topics,
    config: SelectConfig,
    *,
    now: datetime,
) -> Selection:
    """Tell each story on topic once, in one section, most important first."""
    on_topic = [i for i, judgement in enumerate(judgements) if judgement.on_topic]
    chosen = [articles[i] for i in on_topic]
    clustering = cluster(
        chosen,
        model.story,
        model.story_link,
        topics,
        title_only=frozenset(k for k, a in enumerate(chosen) if is_ticker(a)),
        common=model.story_common,
        boilerplate=feed_boilerplate(articles),
    )
    candidates = [
        _candidate(number, tuple(on_topic[k] for k in group), articles, judgements, model, now)
        for number, group in enumerate(clustering.groups, start=1)
    ]
    showable = [c for c in candidates if c.shown]
    shown, cut = _apply_limits(showable, model, config)
    sections = tuple(
        Section(
            title=title,
            stories=tuple(_story(c, articles) for c in shown if c.section == title),
        )
        for title in model.section.titles
        if any(c.section == title for c in shown)
    )
    by_importance = sorted(shown, key=lambda c: -c.importance)
    top = tuple(articles[c.shown[0]].url for c in by_importance[: config.top_count])
    considered = _considered(articles, judgements, clustering, on_topic, candidates, shown, cut)
    return Selection(sections=sections, top=top, omitted=len(cut), considered=considered)


def lead_order(article: Article) -> tuple[bool, bool, int, float]:
    """Sort key of completeness: full text before teasers, free before paywalled, then length."""
    return (
        MARKER_TEASER_ONLY not in article.markers,
        MARKER_PAYWALL not in article.markers,
        len(nlp.words(article.text)),
        article.weight,
    )


def importance(
    relevance: float, outlets: int, weight: float, newest: datetime | None, now: datetime
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
    return relevance * outlet_factor * weight * recency


def _candidate(
    number: int,
    group: Sequence[int],
    articles: Sequence[Article],
    judgements: Sequence[Judgement],
    model: EditorialModel,
    now: datetime,
) -> Candidate:
    ordered = tuple(sorted(group, key=lambda i: lead_order(articles[i]), reverse=True))
    shown = tuple(i for i in ordered if not judgements[i].series)[:MAX_STORY_VERSIONS]
    members = [articles[i] for i in ordered]
    relevance = max(judgements[i].relevance for i in ordered)
    section, _, reason = story_section(
        [judgements[i] for i in ordered], [a.section_hint for a in members], model
    )
    visible = [articles[i] for i in shown] or members
    return Candidate(
        number=number,
        indices=ordered,
        shown=shown,
        relevance=relevance,
        section=section,
        section_reason=reason,
        importance=importance(
            relevance,
            len({a.source for a in visible}),
            max(a.weight for a in visible),
            max((a.published for a in visible if MARKER_NO_DATE not in a.markers), default=None),
            now,
        ),
    )


def _apply_limits(
    candidates: Sequence[Candidate], model: EditorialModel, config: SelectConfig
) -> tuple[list[Candidate], dict[int, str]]:
    """Shown stories in digest order (section, then importance) and why the others were cut."""
    cut: dict[int, str] = {}
    within_sections: list[Candidate] = []
    for title in model.section.titles:
        ranked = sorted(
            (c for c in candidates if c.section == title), key=lambda c: (-c.importance, c.number)
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
    lead, *others = (articles[i] for i in candidate.shown)
    return Story(
        lead=lead,
        others=tuple(others),
        section=candidate.section,
        score=round(candidate.importance, 3),
    )


def _considered(
    articles: Sequence[Article],
    judgements: Sequence[Judgement],
    clustering: Clustering,
    on_topic: Sequence[int],
    candidates: Sequence[Candidate],
    shown: Sequence[Candidate],
    cut: dict[int, str],
) -> tuple[Considered, ...]:
    """What became of every article, in digest order: shown stories first, then the rest."""
    joined: dict[int, str] = {}
    for link in clustering.links:
        for member in (link.first, link.second):
            joined.setdefault(on_topic[member], f"{link.reason} {link.similarity:.2f}")
    place = {c.number: rank for rank, c in enumerate(shown, start=1)}
    of_article: dict[int, Candidate] = {i: c for c in candidates for i in c.indices}
    records: list[tuple[tuple[bool, int, float], Considered]] = []
    for index, (article, judgement) in enumerate(zip(articles, judgements, strict=True)):
        candidate = of_article.get(index)
        if candidate is None:
            fate = judgement.rule or f"nicht im Thema (Relevanz {judgement.relevance:.2f})"
            key = (True, len(place) + 1, -judgement.relevance)
            records.append((key, _record(article, judgement, None, False, "", fate)))
            continue
        is_shown = candidate.number in place and index in candidate.shown
        if is_shown:
            role = "Lead" if index == candidate.shown[0] else "weitere Fassung"
            fate = f"Rang {place[candidate.number]}, {role}"
            if role != "Lead":
                fate += f" ({joined.get(index, 'zusammengeführt')})"
        elif judgement.series:
            fate = "Serien- oder Servicebeitrag, nie gezeigt"
        elif candidate.number in place:
            fate = f"weitere Fassung über der Höchstzahl je Story ({MAX_STORY_VERSIONS})"
        else:
            fate = cut.get(candidate.number, "nicht gezeigt")
        key = (not is_shown, place.get(candidate.number, len(place)), -judgement.relevance)
        records.append(
            (key, _record(article, judgement, candidate, is_shown, candidate.section, fate))
        )
    return tuple(record for _, record in sorted(records, key=lambda pair: pair[0]))


def _record(
    article: Article,
    judgement: Judgement,
    candidate: Candidate | None,
    shown: bool,
    section: str,
    fate: str,
) -> Considered:
    return Considered(
        url=article.url,
        title=article.title,
        source=article.source,
        on_topic=judgement.on_topic,
        shown=shown,
        relevance=judgement.relevance,
        series=judgement.series,
        section=section or None,
        section_reason=candidate.section_reason if candidate else None,
        story=f"S{candidate.number}" if candidate else None,
        fate=fate,
        reasons=judgement.reasons,
        rule=judgement.rule,
    )
