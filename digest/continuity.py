"""Continued stories: today's stories matched with those of earlier editions; what is new (pure).

Matching uses the event notion of story grouping (digest/cluster.py): TF-IDF vectors of content
stems, title words twice, compound parts, topic words weighing half, so two stories of one topic
("Krieg", "Angriff") are not taken for one event. A story continues an earlier one when

    cosine(story, earlier) x 0.5 ** (days between the editions / DECAY_HALF_LIFE_DAYS)
        >= CONTINUES_SIMILARITY

and both share at least SHARED_ANCHORS anchor terms: stems that are neither topic words nor
generic news words (GENERIC_WORDS: "Regierung", "Präsident", "Woche" ...) and that occur in at
most ANCHOR_SHARE of all stories compared (names, places, numbers, the object of the event).
Earlier stories that continued one another form a chain: matching one matches the chain, the
mark links its newest story ("zuletzt am"), and what is new is judged against all of it.

What is new: a sentence of today's story is *already sent* when its overlap coefficient with a
sentence the matched editions showed or linked (their key points and their articles' texts),
|A ∩ B| / min(|A|, |B|) over the sets of content stems, reaches NEAR_DUPLICATE. Such sentences
are removed before the key points are chosen, so no key point nearly repeats one sent before. A
continued story none of whose remaining sentences is a whole statement has nothing new.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from digest import nlp
from digest.cluster import content_stems, term_frequencies
from digest.models import Continuation, EarlierStory, Story, is_web_url
from digest.relevance import Topics
from digest.vectors import cosine, document_frequencies, overlap, plus, tfidf

CONTINUES_SIMILARITY = 0.2
DECAY_HALF_LIFE_DAYS = 7.0
SHARED_ANCHORS = 2
ANCHOR_SHARE = 0.5
NEAR_DUPLICATE = 0.6
MIN_STATEMENT_WORDS = 6

# Words that every kind of news shares; they say nothing about which event a story tells.
GENERIC_WORDS = frozenset(
    """
    regierung regierungen bundesregierung präsident präsidentin minister ministerin ministerium
    kanzler kanzlerin staat staaten land länder bund politik politiker politikerin partei parteien
    jahr jahre jahren monat monate woche wochen tag tage tagen stunde stunden uhr zeit ende anfang
    montag dienstag mittwoch donnerstag freitag samstag sonntag heute gestern morgen
    januar februar märz april mai juni juli august september oktober november dezember
    prozent millionen milliarden euro dollar zahl zahlen angaben sprecher sprecherin bericht
    berichte berichtet sagte sagt erklärte erklärt teilte mitteilung frage fragen lage menschen
    leute welt deutschland deutsche deutschen neue neuen ersten erste zweite weitere weiteren
    mehr viele seit laut beim rund etwa gibt geben sollen soll wird werden wurde worden
    """.split()
)

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_TERMINAL = re.compile(r"[.!…]['\"“”«»’)\]]*$")


def story_anchor(url: str) -> str:
    """The stable anchor of a story in its edition's HTML, from its lead article's canonical
    link: the same link gives the same anchor in every build."""
    return "story-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


def source_links(text: str) -> list[str]:
    """Every article link of one edition's digest.json, lead versions first."""
    data = json.loads(text)
    return [
        source["url"]
        for section in data.get("sections", [])
        for story in section.get("stories", [])
        for source in story.get("sources", [])
        if isinstance(source, dict) and isinstance(source.get("url"), str)
    ]


def earlier_stories(
    day: date, text: str, texts: Mapping[str, str] | None = None
) -> list[EarlierStory]:
    """The stories of one earlier edition from its digest.json; `texts` (article link -> text)
    adds the texts of the articles it linked, when the state still has them."""
    data = json.loads(text)
    found = []
    for section in data.get("sections", []):
        for story in section.get("stories", []):
            url = story.get("url", "")
            if not is_web_url(url):
                continue
            sources = [s for s in story.get("sources", []) if isinstance(s, dict)]
            links = [s.get("url", "") for s in sources]
            continued = story.get("continues")
            continues = (
                (date.fromisoformat(continued["date"]), _anchor(continued["story"], ""))
                if isinstance(continued, dict)
                else None
            )
            found.append(
                EarlierStory(
                    day=day,
                    anchor=_anchor(story.get("anchor"), url),
                    title=story.get("title", ""),
                    url=url,
                    key_points=tuple(story.get("key_points", [])),
                    titles=tuple(s.get("title", "") for s in sources if s.get("title")),
                    texts=tuple((texts or {}).get(link, "") for link in links if link),
                    continues=continues,
                )
            )
    return found


_ANCHOR = re.compile(r"story-[0-9a-f]{12}")


def _anchor(value: object, url: str) -> str:
    """An anchor read back from a digest.json, or the one of `url` when it is not one of ours."""
    if isinstance(value, str) and _ANCHOR.fullmatch(value):
        return value
    return story_anchor(url)


def _chains(earlier: Sequence[EarlierStory]) -> dict[tuple[date, str], set[tuple[date, str]]]:
    """Each earlier story's key -> the keys of every story of its chain of continuations."""
    parents = {(e.day, e.anchor): (e.day, e.anchor) for e in earlier}

    def find(key: tuple[date, str]) -> tuple[date, str]:
        while parents[key] != key:
            key = parents[key]
        return key

    for story in earlier:
        # A link always points back in time, so the chains have no cycles.
        if story.continues in parents and story.continues[0] < story.day:
            parents[find((story.day, story.anchor))] = find(story.continues)
    members: dict[tuple[date, str], set[tuple[date, str]]] = {}
    for key in parents:
        members.setdefault(find(key), set()).add(key)
    return {key: members[find(key)] for key in parents}


def match(
    stories: Sequence[Story],
    earlier: Sequence[EarlierStory],
    *,
    day: date,
    topics: Topics,
    only_new: bool = True,
) -> tuple[Continuation, ...]:
    """How each of today's stories continues earlier ones; stories without a match are new."""
    if not stories or not earlier:
        return ()
    documents = [_story_document(s) for s in stories] + [_earlier_document(e) for e in earlier]
    language = stories[0].lead.language
    known = frozenset(
        nlp.stem(w, language)
        for title, text in documents
        for w in nlp.words(f"{title} {text}")
        if len(w) >= 4 and w.isalpha()
    )
    frequencies = [
        plus(
            term_frequencies(text, language, known, topics),
            term_frequencies(title, language, known, topics),
            2.0,
        )
        for title, text in documents
    ]
    vectors, _ = tfidf(frequencies, "smooth")
    document_frequency = document_frequencies(frequencies)
    generic = _generic_stems(language) | _topic_stems(frequencies, documents, language, topics)
    limit = max(2, int(ANCHOR_SHARE * len(documents)))
    anchors = [
        {t for t in f if t not in generic and document_frequency[t] <= limit and len(t) > 2}
        for f in frequencies
    ]
    chains = _chains(earlier)
    found = []
    for index, story in enumerate(stories):
        matched: list[tuple[EarlierStory, float]] = []
        for offset, other in enumerate(earlier):
            position = len(stories) + offset
            shared = anchors[index] & anchors[position]
            if len(shared) < SHARED_ANCHORS:
                continue
            age = max((day - other.day).days, 0)
            score = cosine(vectors[index], vectors[position]) * 0.5 ** (age / DECAY_HALF_LIFE_DAYS)
            if score >= CONTINUES_SIMILARITY:
                matched.append((other, score))
        if not matched:
            continue
        # The whole chain a matched story belongs to was sent: the mark names its newest.
        score = max(value for _, value in matched)
        keys = set().union(*(chains[(other.day, other.anchor)] for other, _ in matched))
        sent = [other for other in earlier if (other.day, other.anchor) in keys]
        direct = {other.anchor for other, _ in matched}
        newest = max(sent, key=lambda other: (other.day, other.anchor in direct, other.anchor))
        found.append(
            Continuation(
                story=story.lead.url,
                day=newest.day,
                anchor=newest.anchor,
                title=newest.title,
                similarity=round(score, 3),
                unchanged=only_new and not any(fresh_texts(story, sent)),
                sent_points=tuple(p for other in sent for p in other.key_points),
                matched=tuple((other.day, other.anchor) for other in sent),
            )
        )
    return tuple(found)


def matched_stories(
    continuation: Continuation, earlier: Iterable[EarlierStory]
) -> list[EarlierStory]:
    keys = set(continuation.matched)
    return [e for e in earlier if (e.day, e.anchor) in keys]


def fresh_texts(story: Story, sent: Sequence[EarlierStory]) -> list[tuple[str, str]]:
    """(title, text) of each version of `story` in the language of its lead, keeping only the
    sentences not already sent by `sent`; versions with no whole statement left are dropped."""
    language = story.lead.language
    known = [
        _stem_set(sentence, language)
        for earlier in sent
        for sentence in (*earlier.key_points, *_all_sentences(earlier.texts))
    ]
    versions = []
    for article in story.articles:
        if article.language != language:
            continue
        paragraphs: list[str] = []
        for paragraph in _PARAGRAPH_BREAK.split(article.text):
            kept = [
                s
                for s in nlp.split_sentences(paragraph)
                if s.strip() and not _already_sent(_stem_set(s, language), known)
            ]
            # One sentence per paragraph: splitting the joined text again gives the same ones.
            paragraphs.extend(" ".join(s.split()) for s in kept)
        if any(is_statement(p) for p in paragraphs):
            versions.append((article.title, "\n\n".join(paragraphs)))
    return versions


def is_near_duplicate(sentence: str, other: str, language: str = "de") -> bool:
    """The documented measure: overlap coefficient of content stems >= NEAR_DUPLICATE."""
    return overlap(_stem_set(sentence, language), _stem_set(other, language)) >= NEAR_DUPLICATE


def is_statement(sentence: str) -> bool:
    """A whole sentence that can stand as a key point: enough words, a full stop, no question."""
    stripped = sentence.strip()
    return len(nlp.words(stripped)) >= MIN_STATEMENT_WORDS and bool(_TERMINAL.search(stripped))


def fingerprint(earlier: Sequence[EarlierStory]) -> str:
    """A digest of what the earlier editions sent, so cached key points follow their changes."""
    digest = hashlib.sha256()
    for story in earlier:
        digest.update(repr((story.day, story.anchor, story.key_points, story.texts)).encode())
    return digest.hexdigest()


def _already_sent(stems: frozenset[str], known: Sequence[frozenset[str]]) -> bool:
    return any(overlap(stems, other) >= NEAR_DUPLICATE for other in known)


def _stem_set(sentence: str, language: str) -> frozenset[str]:
    return frozenset(content_stems(sentence, language))


def _all_sentences(texts: Iterable[str]) -> list[str]:
    return [
        s for text in texts for p in _PARAGRAPH_BREAK.split(text) for s in nlp.split_sentences(p)
    ]


def _story_document(story: Story) -> tuple[str, str]:
    titles = " ".join(a.title for a in story.articles)
    return titles, "\n\n".join(a.text for a in story.articles)


def _earlier_document(story: EarlierStory) -> tuple[str, str]:
    titles = " ".join(dict.fromkeys((story.title, *story.titles)))
    body = "\n\n".join(t for t in story.texts if t) or " ".join(story.key_points)
    return titles, body


@functools.cache
def _generic_stems(language: str) -> frozenset[str]:
    return frozenset(nlp.stem(w, language) for w in GENERIC_WORDS)


def _topic_stems(
    frequencies: Sequence[dict[str, float]],
    documents: Sequence[tuple[str, str]],
    language: str,
    topics: Topics,
) -> frozenset[str]:
    """Stems of the day's words that the topic lexicon lists: shared by every event of a topic."""
    lexicon = topics.relevance.get(language)
    if lexicon is None:
        return frozenset()
    found = set()
    for title, text in documents:
        for word in nlp.words(f"{title} {text}"):
            term = lexicon.match_word(word)
            if term is not None and term.weight > 0:
                found.add(nlp.stem(word, language))
    return frozenset(found)
