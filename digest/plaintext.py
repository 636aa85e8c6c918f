"""Plain-text layout: wrapped paragraphs, underlined headings, reference lines for long URLs."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

TEXT_WIDTH = 78


def wrap_text(
    text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None
) -> str:
    """Wrap to `width` columns; `first` replaces the indent on the first line (for bullets)."""
    return textwrap.fill(
        " ".join(text.split()),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    )


def underline(title: str, char: str = "=") -> str:
    """A heading with a rule of its own length below it, wrapped when the title is long."""
    lines = wrap_text(title).splitlines()
    return "\n".join(lines) + "\n" + char * max(len(line) for line in lines)


def reference_lines(references: Sequence[tuple[int, str]], width: int = TEXT_WIDTH) -> str:
    """'[n] URL' lines, never wider than `width`.

    A URL too long for its line is written the way RFC 3986 (appendix C) describes for URLs in
    plain text: inside angle brackets, broken after a '/', '-', '?', '&' or '=' where possible, the
    continuation lines indented; readers and tools drop the whitespace to get the URL back.
    """
    lines: list[str] = []
    for number, url in references:
        label = f"[{number}] "
        if len(label) + len(url) <= width:
            lines.append(label + url)
        else:
            lines.extend(_broken_url(url, label, width))
    return "\n".join(lines)


_URL_BREAK_AFTER = "/-?&=_.~"


def _broken_url(url: str, label: str, width: int) -> list[str]:
    indent = " " * len(label)
    rest, lines, prefix = f"<{url}>", [], label
    while len(prefix) + len(rest) > width:
        room = width - len(prefix)
        cut = max((rest.rfind(c, 0, room) + 1 for c in _URL_BREAK_AFTER), default=0)
        cut = cut if cut > room // 2 else room
        lines.append(prefix + rest[:cut])
        rest, prefix = rest[cut:], indent
    lines.append(prefix + rest)
    return lines
