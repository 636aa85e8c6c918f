"""Plain-text layout: wrapping, underlined headings, reference lines that give every URL back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digest.plaintext import reference_lines, underline, wrap_text
from tests.conftest import joined_url


def test_a_heading_is_underlined_to_its_length() -> None:
    assert underline("Inhalt", "-") == "Inhalt\n------"


def test_a_long_heading_is_wrapped_and_underlined_to_its_longest_line() -> None:
    lines = underline("Wort " * 30).splitlines()
    assert len(lines) > 2
    assert lines[-1] == "=" * max(len(line) for line in lines[:-1])


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400))
def test_wrap_text_never_exceeds_the_width_and_keeps_every_word(text: str) -> None:
    wrapped = wrap_text(text, width=40, indent="  ", first="- ")
    assert all(len(line) <= 40 for line in wrapped.splitlines())
    assert "".join(wrapped.split()).replace("-", "") == "".join(text.split()).replace("-", "")


@given(st.lists(st.integers(1, 40), max_size=12))
def test_reference_lines_stay_within_78_columns_and_give_every_url_back(lengths: list[int]) -> None:
    references = [(n + 1, "https://a.example/" + "x-" * (3 * k)) for n, k in enumerate(lengths)]
    lines = reference_lines(references).splitlines()
    assert all(len(line) <= 78 for line in lines)
    starts = [i for i, line in enumerate(lines) if line.startswith("[")]
    assert len(starts) == len(references)
    ends = [*starts[1:], len(lines)][: len(starts)]
    for (number, url), begin, end in zip(references, starts, ends, strict=True):
        assert lines[begin].startswith(f"[{number}] ")
        first = lines[begin][len(f"[{number}] ") :]
        assert joined_url([first, *lines[begin + 1 : end]]) == url
