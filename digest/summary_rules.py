"""What may be a key point: the sentence rules and the Budget, sumy's count that applies them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from sumy.models.dom import ObjectDocumentModel
from sumy.summarizers._summarizer import SentenceInfo

from digest import nlp
from digest.errors import SummarizeError
from digest.summary_document import content_stems, layout_of, load_language
from digest.textrules import is_byline_or_agency

# A ceiling on quoting other people's text, not a length to fill for its own sake; see the
# README's key-points table for what other limits give.
DEFAULT_WORD_BUDGET = 60
DEFAULT_MAX_POINTS = 4
MIN_POINTS = 2  # the design card's 2-4 key points: one only when one sentence is eligible
ANTECEDENT_STEPS = 2  # how far back a leaning sentence is traced to one that stands alone

# Sentence cleaning: what is not a key point even when it scores well.
MIN_SENTENCE_WORDS = 6
DUPLICATE_CONTAINMENT = 0.8  # a sentence mostly contained in an earlier one is a repeat
TITLE_CONTAINMENT = 0.7  # a sentence mostly made of the title's words repeats the title

_TERMINAL = re.compile(r"[.!…:;]['\"“”„«»‚‘’)\]]*\s*$|['\"“”«»’)]\s*$")
_CREDIT = re.compile(
    r"(?:^|\W)(?:foto|fotos|bild|bilder|grafik|quelle|video|audio|illustration|"
    r"photo|image|credit|source)\s*:|©|\(c\)\s|copyright",
    re.IGNORECASE,
)
_READER_CALL = re.compile(
    r"^\s*(?:lesen|hören|sehen|schauen|klicken|abonnieren|folgen|melden|registrieren|laden|"
    r"mehr zum thema|mehr dazu|auch interessant|anzeige|"
    r"read more|click|subscribe|sign up|follow us)\b",
    re.IGNORECASE,
)
# Page furniture that extraction lets through: consent notices, embeds, subscriptions.
_FURNITURE = re.compile(
    r"\b(?:klicken|klick|anklicken|cookies?|javascript|newsletter|datenschutzerklärung|"
    r"drittanbieter\w*|externe[nr]? inhalte?|nachgeladen|abonnieren|abonnement|"
    r"click|subscribe|newsletter)\b",
    re.IGNORECASE,
)


def is_clean_sentence(sentence: str) -> bool:
    """False for fragments, bylines, agency tags, captions, reader calls, page furniture,
    questions, exclamations, quotes without their speaker and sentences leaning on the one
    before them."""
    stripped = sentence.strip()
    return not (
        nlp.word_count(stripped) < MIN_SENTENCE_WORDS
        or stripped.endswith(("?", "!"))
        or not _TERMINAL.search(stripped)
        or _CREDIT.search(stripped)
        or is_byline_or_agency(stripped)
        or _READER_CALL.match(stripped)
        or _FURNITURE.search(stripped)
        or not nlp.quote_has_speaker(stripped)
        or nlp.opens_with_back_reference(stripped)
    )


def containment(inner: Counter[str], outer: Counter[str]) -> float:
    """Share of `inner`'s stems, counted, that `outer` holds too (1 when `inner` is empty)."""
    if not inner:
        return 1.0
    return sum((inner & outer).values()) / sum(inner.values())


def _set_containment(inner: frozenset[str], outer: frozenset[str]) -> float:
    if not inner:
        return 1.0
    return len(inner & outer) / len(inner)


class Budget:
    """sumy's sentence count for one document: at most `points` whole sentences, `words` words.

    sumy's summarizers call it with their sentences best-rated first and keep what it returns.
    A sentence that is not clean, repeats the title or an earlier sentence is passed over; one
    that leans on the sentence before it ("Er ...", "Dabei ...") is replaced by the nearest
    sentence before it that stands alone. A document with two eligible sentences or more gets
    at least two points (when `points` allows): within the word limit when some pair fits it,
    else the two shortest eligible sentences, whole, even beyond it.
    When nothing is eligible at all (a one-liner, a list of fragments), the first sentence that
    fits stands in; when no sentence fits the word limit, the shortest one does, whole.
    """

    def __init__(
        self, document: ObjectDocumentModel, *, points: int, words: int, language: str = "de"
    ) -> None:
        if points < 1 or words < 1:
            raise SummarizeError("key points need a limit of at least one point and one word")
        self.points = points
        self.least = min(MIN_POINTS, points)
        self.words = words
        self.language = load_language(language)
        self.layout = layout_of(document)
        sentences = [str(s) for s in self.layout.sentences]
        self.word_counts = [nlp.word_count(s) for s in sentences]
        self.bags = [content_stems(s.words, self.language) for s in self.layout.sentences]
        stems = [frozenset(bag) for bag in self.bags]
        titles = [content_stems(nlp.words(t), self.language) for t in self.layout.titles]
        eligible: list[int] = []
        leaning: list[bool] = []
        for i, sentence in enumerate(sentences):
            leaning.append(nlp.opens_with_back_reference(sentence))
            title = titles[self.layout.version[i]]
            if not is_clean_sentence(sentence):
                continue
            if title and containment(self.bags[i], title) >= TITLE_CONTAINMENT:
                continue
            if any(_set_containment(stems[i], stems[j]) >= DUPLICATE_CONTAINMENT for j in eligible):
                continue
            eligible.append(i)
        self.eligible = frozenset(eligible)
        self.leaning = tuple(leaning)
        # Sentences that may be ranked: the eligible ones and those leaning on one of them.
        self.candidates = tuple(i for i in range(len(sentences)) if self.stand_in(i) is not None)

    def stand_in(self, index: int) -> int | None:
        """The sentence that can be a key point in place of `index`, if any."""
        if index in self.eligible:
            return index
        if not self.leaning[index]:
            return None
        version = self.layout.version[index]
        for back in range(index - 1, max(-1, index - 1 - ANTECEDENT_STEPS), -1):
            if self.layout.version[back] != version:
                return None
            if back in self.eligible:
                return back
            if not self.leaning[back]:
                return None
        return None

    def pick(
        self,
        ranked: Iterable[int],
        *,
        similar: Callable[[int, Sequence[int]], bool] | None = None,
        enough: Callable[[int, Sequence[int]], bool] | None = None,
    ) -> list[int]:
        """Indices (in document order) chosen from `ranked`, best first, within the limits.

        `similar(i, chosen)` passes over a sentence saying what the chosen ones say;
        `enough(i, chosen)` stops adding points before the limits are reached, once there are
        at least `least` of them.
        """
        ranked = list(ranked)
        chosen: list[int] = []
        used = 0
        for index in ranked:
            if len(chosen) >= self.points:
                break
            target = self.stand_in(index)
            if target is None or target in chosen:
                continue
            if used + self.word_counts[target] > self.words:
                continue
            if similar is not None and chosen and similar(target, chosen):
                continue
            if enough is not None and len(chosen) >= self.least and enough(index, chosen):
                break
            chosen.append(target)
            used += self.word_counts[target]
        if len(chosen) < self.least and len(self.eligible) >= self.least:
            chosen = self._pair(chosen, ranked)
        if not chosen and self.word_counts:
            chosen = [self._fallback()]
        return sorted(chosen)

    def _pair(self, chosen: list[int], ranked: Sequence[int]) -> list[int]:
        """Two eligible sentences: the chosen one with its best-ranked partner within the word
        limit, else the best-ranked pair within it, else (no pair fits) the two shortest."""
        order = list(dict.fromkeys(t for t in map(self.stand_in, ranked) if t is not None))
        order += sorted(self.eligible - set(order))
        shortest = sorted(order, key=lambda i: (self.word_counts[i], i))[:2]
        for anchor in chosen + [i for i in order if i not in chosen]:
            other = shortest[1] if anchor == shortest[0] else shortest[0]
            if self.word_counts[anchor] + self.word_counts[other] > self.words:
                continue  # no partner fits beside this one
            room = self.words - self.word_counts[anchor]
            return [anchor, next(i for i in order if i != anchor and self.word_counts[i] <= room)]
        return shortest

    def _fallback(self) -> int:
        pool = sorted(self.eligible) or range(len(self.word_counts))
        fitting = [i for i in pool if self.word_counts[i] <= self.words]
        if fitting:
            return fitting[0]
        return min(pool, key=lambda i: (self.word_counts[i], i))

    def __call__(self, infos: Sequence[SentenceInfo]) -> list[SentenceInfo]:
        ranked = sorted(infos, key=lambda info: (-info.rating, info.order))
        chosen = self.pick(info.order for info in ranked)
        rating = {info.order: info.rating for info in infos}
        return [SentenceInfo(self.layout.sentences[i], i, rating.get(i, 0.0)) for i in chosen]
