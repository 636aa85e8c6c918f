"""German sentences, words and stems, with the heavy objects built once."""

from __future__ import annotations

import functools
import re

import punkt
from nltk.stem.snowball import SnowballStemmer

_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)


@functools.cache
def _tokenizer() -> punkt.PunktSentenceTokenizer:
    return punkt.PunktSentenceTokenizer(punkt.load_model("german"))


def split_sentences(text: str) -> list[str]:
    """Split German prose into sentences; each one is a substring of `text`."""
    return [text[start:end] for start, end in _tokenizer().span_tokenize(text)]


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, umlauts and ß kept."""
    return [w.lower() for w in _WORD.findall(text)]


@functools.cache
def stemmer(language: str = "german") -> SnowballStemmer:
    return SnowballStemmer(language)
