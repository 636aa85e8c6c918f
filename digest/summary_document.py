"""German text -> a sumy document of our own sentences, words and stems, and where each stands."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import punkt
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

from digest import nlp
from digest.errors import SummarizeError

MAX_SENTENCES = 200  # sentences read per text: key points come from the first ones

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SUMY_LANGUAGE = {"de": "german", "en": "english"}


@dataclass(frozen=True, slots=True)
class Language:
    """Everything language-specific, built once per process: splitter, stop words, stems."""

    code: str
    name: str
    stop_words: frozenset[str]
    split_sentences: Callable[[str], list[str]]
    stem: Callable[[str], str]


class _WordTokenizer:
    """The tokenizer object sumy's Sentence asks for: only `to_words` is needed."""

    def to_words(self, text: str) -> tuple[str, ...]:
        return tuple(nlp.words(text))


_TOKENIZER = _WordTokenizer()


@functools.cache
def _english_splitter() -> punkt.PunktSentenceTokenizer:
    return punkt.PunktSentenceTokenizer(punkt.load_model("english"))


def _split_english(text: str) -> list[str]:
    return [text[start:end] for start, end in _english_splitter().span_tokenize(text)]


@functools.cache
def load_language(code: str) -> Language:
    """The resources of language `code` ("de" or "en"), built on first use."""
    if code not in _SUMY_LANGUAGE:
        raise SummarizeError(
            f"no summarizer for language {code!r}; supported: {sorted(_SUMY_LANGUAGE)}"
        )
    # The summarizer's stems keep umlauts an English stemmer leaves (see nlp.stem).
    stem = functools.partial(nlp.stem, language=code, fold_umlauts=False)
    splitter = nlp.split_sentences if code == "de" else _split_english
    return Language(code, _SUMY_LANGUAGE[code], nlp.stop_words(code), splitter, stem)


def _paragraphs(text: str, language: Language, room: int) -> list[list[Sentence]]:
    """Sentences grouped by paragraph (blank-line separated), at most `room` of them."""
    paragraphs = []
    for block in _PARAGRAPH_BREAK.split(text):
        if room <= 0:
            break
        sentences = [s.strip() for s in language.split_sentences(block)]
        kept = [Sentence(s, _TOKENIZER) for s in sentences if s][:room]
        if kept:
            paragraphs.append(kept)
            room -= len(kept)
    return paragraphs


def build_document(
    versions: Sequence[tuple[str | None, str]], *, language: str = "de"
) -> ObjectDocumentModel:
    """A sumy document of one or more versions of a story, each given as (title, text).

    Each version's first paragraph opens with a heading (its title, empty when it has none), so
    headings mark where a version begins; a version without sentences is left out.
    """
    lang = load_language(language)
    paragraphs: list[Paragraph] = []
    for title, text in versions:
        found = _paragraphs(text or "", lang, MAX_SENTENCES)
        if not found:
            continue
        heading = Sentence(title or "", _TOKENIZER, is_heading=True)
        found[0].insert(0, heading)
        paragraphs.extend(Paragraph(sentences) for sentences in found)
    return ObjectDocumentModel(paragraphs)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each sentence of a document stands: its version, paragraph start, the titles."""

    sentences: tuple[Sentence, ...]
    version: tuple[int, ...]
    paragraph_start: tuple[bool, ...]
    titles: tuple[str, ...]


def layout_of(document: ObjectDocumentModel) -> Layout:
    """Where each sentence of `document` stands; titles are its headings, one per version."""
    version: list[int] = []
    starts: list[bool] = []
    titles: list[str] = []
    for paragraph in document.paragraphs:
        if paragraph.headings or not titles:
            titles.append(" ".join(str(h) for h in paragraph.headings))
        for number, _ in enumerate(paragraph.sentences):
            version.append(len(titles) - 1)
            starts.append(number == 0)
    return Layout(tuple(document.sentences), tuple(version), tuple(starts), tuple(titles))


def content_stems(words: Iterable[str], language: Language) -> Counter[str]:
    """Stems of the words that are neither stop words nor numbers, counted."""
    return Counter(
        language.stem(w) for w in words if w not in language.stop_words and not w.isdigit()
    )
