"""Compare German sentence splitters on the shared gold set: boundary P/R/F1 and words per second.

Run: .venv/bin/python benchmarks/sentences.py [GOLD.jsonl] [--passes N]

Each gold line is {"text": paragraph, "sentences": [...]}. A boundary is the number of
non-whitespace characters before the point where one sentence ends and the next begins, so
whitespace differences between prediction and gold do not matter. Only sentence-internal
boundaries of a paragraph are counted. Speed is measured on one core over several passes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest import nlp

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
DEFAULT_GOLD = SHARED / "eval" / "sentences" / "dev.jsonl"

Splitter = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class GoldParagraph:
    text: str
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def load_gold(path: Path) -> list[GoldParagraph]:
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [GoldParagraph(row["text"], tuple(row["sentences"])) for row in rows]


def _visible_length(text: str) -> int:
    return sum(1 for character in text if not character.isspace())


def boundaries(text: str, sentences: list[str] | tuple[str, ...]) -> set[int]:
    """Internal boundaries as counts of non-space characters; sentences are found in order."""
    ends = []
    position = 0
    for sentence in sentences:
        found = text.find(sentence, position)
        if found < 0:
            raise ValueError(f"sentence is not a substring in order: {sentence[:60]!r}")
        position = found + len(sentence)
        ends.append(_visible_length(text[:position]))
    return set(ends[:-1])


def score(splitter: Splitter, gold: list[GoldParagraph]) -> Score:
    true_positives = false_positives = false_negatives = 0
    for paragraph in gold:
        expected = boundaries(paragraph.text, paragraph.sentences)
        predicted = boundaries(paragraph.text, splitter(paragraph.text))
        true_positives += len(expected & predicted)
        false_positives += len(predicted - expected)
        false_negatives += len(expected - predicted)
    return Score(true_positives, false_positives, false_negatives)


def errors(splitter: Splitter, gold: list[GoldParagraph], width: int = 45) -> list[str]:
    """One line per wrong or missing boundary, with the text around it."""
    lines = []
    for paragraph in gold:
        expected = boundaries(paragraph.text, paragraph.sentences)
        predicted = boundaries(paragraph.text, splitter(paragraph.text))
        offsets = _offsets_by_visible_length(paragraph.text)
        for kind, wrong in (("extra", predicted - expected), ("missed", expected - predicted)):
            for boundary in sorted(wrong):
                at = offsets[boundary]
                left = paragraph.text[max(0, at - width) : at]
                right = paragraph.text[at : at + width]
                lines.append(f"  {kind:6} …{left}‖{right}…".replace("\n", " "))
    return lines


def _offsets_by_visible_length(text: str) -> dict[int, int]:
    offsets = {}
    count = 0
    for index, character in enumerate(text):
        if not character.isspace():
            count += 1
            offsets[count] = index + 1
    return offsets


def words_per_second(splitter: Splitter, gold: list[GoldParagraph], passes: int) -> float:
    texts = [paragraph.text for paragraph in gold]
    word_count = sum(len(text.split()) for text in texts) * passes
    splitter(texts[0])  # build lazily loaded models outside the timed loop
    started = time.perf_counter()
    for _ in range(passes):
        for text in texts:
            splitter(text)
    return word_count / (time.perf_counter() - started)


_NAIVE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def naive_regex(text: str) -> list[str]:
    """Baseline: split after every . ! ? followed by whitespace."""
    return [piece.strip() for piece in _NAIVE_END.split(text) if piece.strip()]


def punkt_german() -> Splitter:
    import punkt

    tokenizer = punkt.PunktSentenceTokenizer(punkt.load_model("german"))
    return lambda text: [text[start:end] for start, end in tokenizer.span_tokenize(text)]


def somajo_german() -> Splitter | None:
    """SoMaJo (GPL-3.0) if installed; used only for comparison here, never by the package."""
    try:
        from somajo import SoMaJo
    except ImportError:
        return None
    tokenizer = SoMaJo("de_CMC", character_offsets=True)

    def split(text: str) -> list[str]:
        sentences = []
        for sentence in tokenizer.tokenize_text([text]):
            start = sentence[0].character_offset[0]
            end = sentence[-1].character_offset[1]
            sentences.append(text[start:end])
        return sentences

    return split


def candidates() -> dict[str, Splitter]:
    found: dict[str, Splitter] = {
        "naive regex": naive_regex,
        "punkt german": punkt_german(),
        "digest.nlp": nlp.split_sentences,
    }
    somajo = somajo_german()
    if somajo is not None:
        found["somajo de_CMC"] = somajo
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="?", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--passes", type=int, default=20, help="timed passes over the file")
    parser.add_argument("--errors", action="store_true", help="list each splitter's mistakes")
    arguments = parser.parse_args()
    if not arguments.gold.exists():
        print(f"gold file not found: {arguments.gold}", file=sys.stderr)
        return 1
    gold = load_gold(arguments.gold)
    internal = sum(len(paragraph.sentences) - 1 for paragraph in gold)
    print(f"{arguments.gold.name}: {len(gold)} paragraphs, {internal} internal boundaries")
    header = ("splitter", "P", "R", "F1", "TP", "FP", "FN", "words/s")
    print("{:16} {:>6} {:>6} {:>6} {:>4} {:>4} {:>4} {:>10}".format(*header))
    for name, splitter in candidates().items():
        result = score(splitter, gold)
        passes = max(1, arguments.passes // 10) if name.startswith("somajo") else arguments.passes
        speed = words_per_second(splitter, gold, passes)
        print(
            f"{name:16} {result.precision:6.3f} {result.recall:6.3f} {result.f1:6.3f} "
            f"{result.true_positives:4} {result.false_positives:4} {result.false_negatives:4} "
            f"{speed:10,.0f}"
        )
        if arguments.errors:
            print("\n".join(errors(splitter, gold)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
