"""Hostile input: markup, XML attacks, resource abuse, header injection and private links from feeds."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from pathlib import Path

import html5lib
import pytest

from digest import pipeline
from digest.config import DEFAULT_CONFIG, Config, load_config

HOSTILE = Path(__file__).parent / "data" / "hostile"
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
XHTML = "{http://www.w3.org/1999/xhtml}"
EXECUTABLE_ELEMENTS = ("script", "iframe", "frame", "form", "object", "embed", "applet", "base",
                       "meta", "link", "svg", "math")


def config_for(tmp_path: Path, feeds: Path) -> Config:
    """The project's defaults writing to tmp_path, keeping every article (no relevance cut)."""
    base = load_config(DEFAULT_CONFIG)
    select = dataclasses.replace(base.select, threshold=0.0, max_total=100, max_per_section=100)
    return dataclasses.replace(base, feeds=feeds, out_dir=tmp_path / "out", select=select)


def write_feed_list(folder: Path, feeds: dict[str, str]) -> Path:
    """A feed list naming each feed (name -> URL or absolute path)."""
    lines = [f'[[feeds]]\nname = "{name}"\nurl = "{url}"\nlanguage = "de"\n' for name, url in feeds.items()]
    path = folder / "feeds.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def parsed_html(path: Path):  # noqa: ANN201 - an ElementTree element from html5lib
    return html5lib.parse(path.read_bytes(), transport_encoding="utf-8", namespaceHTMLElements=True)


def local_name(tag: object) -> str:
    return tag.removeprefix(XHTML).split("}")[-1] if isinstance(tag, str) else ""


def executable_parts(root) -> list[str]:  # noqa: ANN001
    """Everything in a parsed document that could run code or send the reader elsewhere unasked."""
    found = []
    for element in root.iter():
        name = local_name(element.tag)
        if name in EXECUTABLE_ELEMENTS and not (name == "meta" and _harmless_meta(element)):
            found.append(f"<{name}> element")
        for attribute, value in element.attrib.items():
            attribute = attribute.split("}")[-1].lower()
            if attribute.startswith("on"):
                found.append(f"{attribute} attribute on <{name}>")
            squeezed = re.sub(r"[\s\x00-\x1f]+", "", value).lower()
            if attribute in ("href", "src", "action", "formaction", "xlink:href", "background"):
                if squeezed.startswith(("javascript:", "data:", "vbscript:")):
                    found.append(f"{attribute}={value!r} on <{name}>")
            if attribute == "style" and ("expression(" in squeezed or "javascript:" in squeezed):
                found.append(f"style={value!r} on <{name}>")
        if name == "style" and element.text:
            squeezed = re.sub(r"\s+", "", element.text).lower()
            if "expression(" in squeezed or "javascript:" in squeezed:
                found.append("executable CSS in <style>")
    return found


def _harmless_meta(element) -> bool:  # noqa: ANN001
    """charset, viewport and the like; never http-equiv refresh."""
    return "http-equiv" not in {a.lower() for a in element.attrib} or (
        element.attrib.get("http-equiv", "").lower() in ("content-type", "x-ua-compatible")
    )


def visible_text(root) -> str:  # noqa: ANN001
    body = next(e for e in root.iter() if local_name(e.tag) == "body")
    return " ".join(" ".join(body.itertext()).split())


# --- Markup in feed titles, teasers and content ------------------------------------------------


def test_markup_in_feed_fields_never_reaches_digest_html_as_markup(tmp_path: Path) -> None:
    config = config_for(tmp_path, HOSTILE / "markup.toml")
    pipeline.build(config, day=DAY, now=NOW)
    html_path = tmp_path / "out" / DAY.isoformat() / "digest.html"
    root = parsed_html(html_path)
    assert executable_parts(root) == []
    links = [
        e.attrib["href"] for e in root.iter() if local_name(e.tag) == "a" and "href" in e.attrib
    ]
    assert links, "the digest links its articles"
    for link in links:
        assert link.startswith(("https://", "http://", "#", "mailto:")), link
    assert not any("evil.example" in link for link in links)


def test_markup_in_feed_fields_leaves_the_titles_readable(tmp_path: Path) -> None:
    pipeline.build(config_for(tmp_path, HOSTILE / "markup.toml"), day=DAY, now=NOW)
    text = visible_text(parsed_html(tmp_path / "out" / DAY.isoformat() / "digest.html"))
    for words in ("Marine", "verstärkt", "Ostsee", "Drohnenabwehr", "am Flughafen",
                  "Cyberangriff", "Stadtwerke"):
        assert words in text, words
    assert "Darf nicht erscheinen" not in text
    assert "Dieser Eintrag verlinkt" not in text


def test_markup_escaped_twice_is_shown_as_text_not_run(tmp_path: Path) -> None:
    pipeline.build(config_for(tmp_path, HOSTILE / "markup.toml"), day=DAY, now=NOW)
    html_path = tmp_path / "out" / DAY.isoformat() / "digest.html"
    root = parsed_html(html_path)
    # The second item's title decodes to the text '<script>alert("doppelt")</script>': the reader
    # sees it as text (a quoted attribute value may hold '<' as it is), never as an element.
    assert executable_parts(root) == []
    assert 'Drohnenabwehr <script>alert("doppelt")</script> am Flughafen' in visible_text(root)
