"""OPML 2.0 feed lists (the feed readers' exchange format) <-> our feed sources and TOML (pure).

Import: every outline with an `xmlUrl` is a feed; its name is `text` (else `title`, else the URL);
the innermost enclosing outline without an `xmlUrl` is a category and becomes the feed's `section`;
`language` is kept; a non-standard `weight` attribute (written by our export) is read back.
Only http(s) `xmlUrl` values are taken: a local path or any other scheme is skipped with a warning
(local files go into a feed list only when the operator writes them by hand). The document is
untrusted XML: no DTD (a document with a DOCTYPE is refused), no entity expansion, no network.

Export: one outline per feed (`type="rss"`, `text`, `title`, `xmlUrl`, `language`, and `weight`
when it is not 1), grouped under one category outline per section, in list order. Local files
are skipped with a warning: OPML is for sharing URLs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from digest.errors import ConfigError
from digest.models import FeedSource, is_web_url

# Far more outlines than any real subscription list; a bound against hostile documents.
MAX_FEEDS = 5_000
DEFAULT_LANGUAGE = "de"
# Characters XML 1.0 cannot carry at all; dropped on export.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class OpmlImport:
    """The feeds found in an OPML document and what was skipped, one warning a line."""

    feeds: tuple[FeedSource, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OpmlExport:
    """An OPML document and the feeds left out of it, one warning a line."""

    document: bytes
    warnings: tuple[str, ...] = ()


def parse_opml(data: bytes) -> OpmlImport:
    """The feeds of an OPML document; ConfigError when it is not well-formed OPML."""
    root = _parse_untrusted(data)
    if etree.QName(root).localname != "opml":
        raise ConfigError(f"not an OPML document (root element <{etree.QName(root).localname}>)")
    body = root.find("body")
    if body is None:
        raise ConfigError("OPML document has no <body>")
    feeds: list[FeedSource] = []
    warnings: list[str] = []
    names: set[str] = set()
    urls: set[str] = set()
    for outline, section in _feed_outlines(body, None):
        if len(feeds) >= MAX_FEEDS:
            warnings.append(f"more than {MAX_FEEDS} feeds; kept the first {MAX_FEEDS}")
            break
        source, problem = _source(outline, section)
        if source is None:
            warnings.append(problem)
            continue
        if source.url in urls:
            warnings.append(f"{source.url}: listed twice, kept the first")
            continue
        source = _with_unique_name(source, names)
        urls.add(source.url)
        names.add(source.name)
        feeds.append(source)
    return OpmlImport(feeds=tuple(feeds), warnings=tuple(warnings))


def _parse_untrusted(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise ConfigError(f"OPML is not well-formed XML: {error}") from None
    if root is None:
        raise ConfigError("OPML document is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ConfigError("OPML with a DOCTYPE is refused (entities and DTDs are not allowed)")
    return root


def _feed_outlines(
    parent: etree._Element, section: str | None
) -> list[tuple[etree._Element, str | None]]:
    """Outlines with an xmlUrl, each with the text of its innermost category outline."""
    found: list[tuple[etree._Element, str | None]] = []
    stack = [(child, section) for child in reversed(parent.findall("outline"))]
    while stack:
        outline, within = stack.pop()
        if outline.get("xmlUrl") is not None:
            found.append((outline, within))
            continue
        label = _clean(outline.get("text") or outline.get("title") or "") or within
        stack.extend((child, label) for child in reversed(outline.findall("outline")))
    return found


def _source(outline: etree._Element, section: str | None) -> tuple[FeedSource | None, str]:
    url = (outline.get("xmlUrl") or "").strip()
    name = _clean(outline.get("text") or outline.get("title") or "") or url
    if not is_web_url(url):
        return None, f"{name}: skipped, xmlUrl is not an http(s) URL: {url!r}"
    language = _clean(outline.get("language") or "") or DEFAULT_LANGUAGE
    weight_text = (outline.get("weight") or "").strip()
    weight = 1.0
    if weight_text:
        try:
            weight = float(weight_text)
        except ValueError:
            weight = math.nan
        if not (math.isfinite(weight) and weight > 0):
            return None, f"{name}: skipped, weight is not a positive number: {weight_text!r}"
    return FeedSource(name=name, url=url, language=language, section=section, weight=weight), ""


def _with_unique_name(source: FeedSource, taken: set[str]) -> FeedSource:
    """Feed lists need unique names; a repeated one gets " (2)", " (3)" ... appended."""
    if source.name not in taken:
        return source
    number = 2
    while f"{source.name} ({number})" in taken:
        number += 1
    return FeedSource(
        name=f"{source.name} ({number})",
        url=source.url,
        language=source.language,
        section=source.section,
        weight=source.weight,
    )


def _clean(text: str) -> str:
    return text.strip()


def to_opml(feeds: Sequence[FeedSource], title: str) -> OpmlExport:
    """An OPML 2.0 document of the http(s) feeds, grouped by section in order of appearance."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _xml_text(title)
    body = etree.SubElement(root, "body")
    categories: dict[str, etree._Element] = {}
    warnings = []
    for source in feeds:
        if source.is_local:
            warnings.append(f"{source.name}: local file {source.url} left out (OPML shares URLs)")
            continue
        parent = body
        if source.section:
            if source.section not in categories:
                categories[source.section] = etree.SubElement(
                    body, "outline", text=_xml_text(source.section)
                )
            parent = categories[source.section]
        attributes = {
            "type": "rss",
            "text": _xml_text(source.name),
            "title": _xml_text(source.name),
            "xmlUrl": _xml_text(source.url),
            "language": _xml_text(source.language),
        }
        if source.weight != 1.0:
            attributes["weight"] = repr(source.weight)
        etree.SubElement(parent, "outline", attributes)
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return OpmlExport(document=document, warnings=tuple(warnings))


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def feed_list_toml(feeds: Sequence[FeedSource], comment: str = "") -> str:
    """A feed list of [[feeds]] tables that `config.load_feed_list` reads back to `feeds`."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    for source in feeds:
        if lines:
            lines.append("")
        lines.append("[[feeds]]")
        lines.append(f"name = {toml_string(source.name)}")
        lines.append(f"url = {toml_string(source.url)}")
        lines.append(f"language = {toml_string(source.language)}")
        if source.section is not None:
            lines.append(f"section = {toml_string(source.section)}")
        if source.weight != 1.0:
            lines.append(f"weight = {source.weight!r}")
    return "\n".join(lines) + "\n"


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
                 "\r": "\\r"}  # fmt: skip


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    pieces = []
    for char in text:
        if char in _TOML_ESCAPES:
            pieces.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            pieces.append(f"\\u{ord(char):04X}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError("a lone surrogate cannot be written to TOML")
        else:
            pieces.append(char)
    return '"' + "".join(pieces) + '"'
