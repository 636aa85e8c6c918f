"""Page HTML or feed teaser -> article text, metadata and paywall flag (pure: no I/O)."""

from __future__ import annotations

import functools
import html as html_module
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import trafilatura
from lxml.etree import ParserError, XMLSyntaxError
from py3langid import langid
from trafilatura.utils import detect_encoding

from digest import nlp, vectors
from digest.errors import ExtractError
from digest.models import MARKER_PAYWALL, MARKER_TEASER_ONLY, Article, ExtractedPage
from digest.textrules import (
    CAPTION_CREDIT,
    PAYWALL_PROMPT,
    clean_text,
    is_paywalled,
    looks_like_credit,
    strip_caption_credits,
    strip_forbidden_chars,
)

# Page lines and paragraphs are compared by their runs of letters and digits.
_words = functools.partial(nlp.words, compounds=False)


# ---------------------------------------------------------------------------------------------
# Boilerplate in the HTML tree: general markup conventions, never one outlet's class names.

_BOILERPLATE_TAGS = (
    "aside", "nav", "footer", "form", "button", "noscript", "iframe", "video", "audio", "svg",
    "template", "dialog", "figure", "figcaption", "picture", "select", "object", "embed",
)  # fmt: skip
_BOILERPLATE_ROLES = frozenset(
    {"navigation", "banner", "complementary", "contentinfo", "dialog", "alertdialog", "search"}
)
# Whole tokens of class/id names that mark page furniture around an article.
_BOILERPLATE_TOKENS = frozenset(
    """
    related recommended recommendation recommendations newsletter cookie cookies consent cmp
    social share sharing sharebar shariff promo promotion advert advertisement ad ads anzeige
    sponsored outbrain taboola comment comments kommentare breadcrumb breadcrumbs caption
    credit credits copyright readmore lesetipp lesetipps mehrzumthema embed gallery slideshow
    toolbar subscribe signup login modal popup overlay sidebar footer navigation nav menu
    authorbox authorbio bio teaserlist teasers teaser-list liveblog-teaser paywall-teaser
    """.split()
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NAME_SPLIT = re.compile(r"[\s_\-:]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _name_tokens(value: str) -> set[str]:
    """Lower-cased tokens of a class or id attribute: "related-Box_item" -> related, box, item."""
    spaced = _CAMEL_BOUNDARY.sub(" ", value)
    tokens = {t.lower() for t in _NAME_SPLIT.split(spaced) if t}
    joined = {t.lower() for t in value.split()}  # also the whole class names, e.g. "teaser-list"
    return tokens | joined


_PROSE_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})


def _is_boilerplate_element(element: Any) -> bool:
    if element.tag == "figure" and element.find(".//blockquote") is not None:
        return False  # a pull quote: <figure><blockquote>...</blockquote><figcaption>
    if element.tag in _BOILERPLATE_TAGS:
        return True
    attrs = element.attrib
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    if _HIDDEN_STYLE.search(attrs.get("style", "")):
        return True
    if attrs.get("role", "").lower() in _BOILERPLATE_ROLES:
        return True
    if element.tag in _PROSE_TAGS:  # a paragraph or heading is never furniture by its name
        return False
    names = " ".join(attrs.get(key, "") for key in ("class", "id", "data-component", "data-type"))
    return bool(_name_tokens(names) & _BOILERPLATE_TOKENS)


def _text_length(element: Any) -> int:
    return len(" ".join(element.itertext()).split())


def _link_density(element: Any) -> float:
    total = _text_length(element)
    if total == 0:
        return 0.0
    linked = sum(_text_length(a) for a in element.iter("a"))
    return linked / total


def _is_link_list(element: Any) -> bool:
    """A list of links to other pages ("Lesen Sie auch", sources), not an enumeration in prose."""
    items = element.findall("li")
    if not items:
        return False
    linked_items = sum(1 for item in items if item.find(".//a") is not None)
    return linked_items >= 0.75 * len(items) and _link_density(element) > 0.5


def _boilerplate_roots(tree: Any) -> list[Any]:
    """Elements that are page furniture; never one that holds most of the page's prose."""
    body = tree.find(".//body")
    page_words = _text_length(body if body is not None else tree)
    roots = []
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("html", "body", "head"):
            continue
        furniture = _is_boilerplate_element(element) and _text_length(element) < 0.4 * page_words
        if furniture or (element.tag in ("ul", "ol") and _is_link_list(element)):
            roots.append(element)
    return roots


def _block_keys(element: Any) -> Iterable[tuple[str, ...]]:
    """Word keys of an element and of each block inside it, as trafilatura emits them as lines."""
    for block in element.iter():
        if isinstance(block.tag, str):
            key = tuple(_words(" ".join(block.itertext())))
            if key:
                yield key


def _boilerplate_lines(tree: Any, main_lines: Sequence[str]) -> frozenset[tuple[str, ...]]:
    """Word keys of the extracted lines that only occur inside page furniture.

    The tree is not changed: trafilatura sees the whole page to find the main content, and
    afterwards its lines that are furniture (teasers, captions, consent boxes...) are dropped.
    Text that also occurs outside the furniture is kept, and a "furniture" element that holds
    most of the extracted text is the article's own container after all (a sticky column).
    """
    main_keys = {tuple(_words(line)) for line in main_lines}
    main_words = sum(len(key) for key in main_keys) or 1
    roots = []
    for root in _boilerplate_roots(tree):
        keys = set(_block_keys(root)) & main_keys
        if sum(len(key) for key in keys) < 0.5 * main_words:
            roots.append(root)
    inside: set[tuple[str, ...]] = set()
    for root in roots:
        inside.update(_block_keys(root))
    root_ids = {id(r) for r in roots}
    outside: set[tuple[str, ...]] = set()
    for element in tree.iter("p", "li", "h2", "h3", "h4", "blockquote"):
        ancestors = {id(a) for a in element.iterancestors()} | {id(element)}
        if not ancestors & root_ids:
            outside.add(tuple(_words(" ".join(element.itertext()))))
    return frozenset((inside - outside) & main_keys)


# Signatures of compressed data. The HTTP edge undoes Content-Encoding (and gzip sent without
# it) under its size cap; what still starts like this is refused, never inflated here, because
# an inflater here would not be bounded by that cap (trafilatura inflates bytes it is given).
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ\x00", b"PK\x03\x04")


def _parse_html(html: str | bytes) -> Any:
    if isinstance(html, bytes):
        if html.startswith(_COMPRESSED_MAGIC):
            raise ExtractError("page is compressed data, not HTML")
        html = _decode(html)
    html = _CHARACTER_REFERENCE.sub(_allowed_reference, strip_forbidden_chars(html))
    if not html.strip():
        raise ExtractError("page is empty")
    try:
        tree = trafilatura.load_html(html)
    except (ParserError, XMLSyntaxError, ValueError) as exc:
        raise ExtractError(f"page is not parseable HTML: {exc}") from exc
    if tree is None:
        raise ExtractError("page is not parseable HTML")
    return tree


# A numeric character reference; lxml turns "&#1;" into the character itself, which trafilatura
# then cannot put into its XML tree (it gives up on the whole page).
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX][0-9a-fA-F]{1,8}|[0-9]{1,10});?")
_MARKUP = frozenset("<>&\"'")


def _allowed_reference(match: re.Match[str]) -> str:
    """A reference as the character it stands for (HTML's rules, e.g. &#150; is a dash), or
    nothing for a forbidden one; references to markup characters stay references."""
    reference = match.group()
    character = html_module.unescape(reference if reference.endswith(";") else reference + ";")
    return reference if character in _MARKUP else strip_forbidden_chars(character)


def _decode(html: bytes) -> str:
    """The page as text: UTF-8 when it is, else the encoding detected, else UTF-8 with
    replacement characters (decoded here, so that trafilatura never sees bytes)."""
    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in detect_encoding(html):
        try:
            return html.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return html.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
# Metadata: a precise publication time from the usual meta conventions.

_DATE_XPATHS = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//meta[@name="date" or @name="pubdate" or @name="publish-date"]/@content',
    "//time[@datetime]/@datetime",
)


def _parse_timestamp(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _json_ld_dates(tree: Any) -> Iterable[str]:
    """Every datePublished in the page's JSON-LD, in the order written; a block that is not
    JSON (even allowing control characters in strings, as pages often have) gives none."""
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script, strict=False)
        except ValueError:
            continue
        yield from _dates_published(data)


def _dates_published(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datePublished" and isinstance(value, str):
                yield value
            else:
                yield from _dates_published(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dates_published(item)


def _published(tree: Any, fallback: str | None) -> datetime | None:
    """The first stated publication time with a UTC offset; else the first one, read as UTC."""
    candidates = [*_json_ld_dates(tree)]
    for xpath in _DATE_XPATHS:
        candidates.extend(str(v) for v in tree.xpath(xpath))
    candidates.extend([fallback] if fallback else [])
    parsed = [p for p in map(_parse_timestamp, candidates) if p is not None]
    aware = [p for p in parsed if p.tzinfo is not None]
    if aware:
        return aware[0]
    return parsed[0].replace(tzinfo=UTC) if parsed else None


# ---------------------------------------------------------------------------------------------
# Language.

_MIN_LETTERS_FOR_LANGUAGE = 20
_MIN_LANGUAGE_CONFIDENCE = 0.5


@functools.cache
def _language_identifier() -> langid.LanguageIdentifier:
    return langid.LanguageIdentifier.from_modelpath(
        langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True
    )


def _has_letters(text: str, count: int) -> bool:
    """True when `text` has at least `count` letters (stops counting there)."""
    letters = (c for c in text if c.isalpha())
    return sum(1 for _ in itertools.islice(letters, count)) >= count


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text` ("de", "en", ...), or None when it is too short or unclear."""
    if not _has_letters(text, _MIN_LETTERS_FOR_LANGUAGE) or len(text.split(maxsplit=3)) < 3:
        return None
    code, confidence = _language_identifier().classify(text[:5000])
    return str(code) if confidence >= _MIN_LANGUAGE_CONFIDENCE else None


# ---------------------------------------------------------------------------------------------
# Article-level rules on the paragraph list (need title and author, so not in clean_text).

_SENTENCE_END = re.compile(r"[.!?:\"“”»«')]\s*$")
_END_OF_ARTICLE = re.compile(
    r"^(?:Fehler\b.{0,40}\bentdeckt\?|Ähnliche(?: Artikel| Themen)?:?|Mehr zum Thema:?|"
    r"Themen:?|Schlagworte:?|Schlagwörter:?|Verwendete Quellen:?|Quellen:?|Tags:?|"
    r"Mehr aus (?:dem )?Ressort|Zur Startseite|"
    r"Das könnte Sie auch interessieren:?|Related (?:articles|topics):?|More from)$",
    re.IGNORECASE,
)
_PROMO = re.compile(
    r"\b(?:\d+|zwei|vier) (?:Wochen|Monate) (?:kostenlos|gratis|für \d)|Probeabo|Testabo|"
    r"Jetzt testen|"
    r"Abo (?:bestellen|sichern)|Unterstützen Sie (?:uns|unabhängigen Journalismus)|free trial",
    re.IGNORECASE,
)


def _overlap(a: str, b: str) -> float:
    return vectors.overlap(set(_words(a)), set(_words(b)))


def _drop_leading_headings(paragraphs: list[str], title: str | None) -> list[str]:
    """Drop the page's own title lines (and kickers) above the first real paragraph."""
    start = 0
    while start < len(paragraphs) and start < 4:
        line = paragraphs[start]
        heading_like = len(line.split()) <= 20 and not _SENTENCE_END.search(line)
        if heading_like or (title and _overlap(line, title) >= 0.6 and len(line.split()) <= 25):
            start += 1
        else:
            break
    return paragraphs[start:]


def _drop_duplicates(paragraphs: Sequence[str]) -> list[str]:
    seen: set[tuple[str, ...]] = set()
    kept = []
    for paragraph in paragraphs:
        key = tuple(_words(paragraph))
        if len(key) >= 6 and key in seen:
            continue
        seen.add(key)
        kept.append(paragraph)
    return kept


def _cut_tail(paragraphs: list[str]) -> list[str]:
    """Cut at an end-of-article marker ("Themen", "Fehler entdeckt?") in the last third."""
    third = len(paragraphs) * 2 // 3
    for index in range(third, len(paragraphs)):
        if _END_OF_ARTICLE.match(paragraphs[index].strip()) or _PROMO.search(paragraphs[index]):
            return paragraphs[:index]
    return paragraphs


def _drop_author_bio(paragraphs: list[str], author: str | None) -> list[str]:
    """Drop closing "<Author> ist Redakteurin ..." paragraphs about the author, not the story."""
    if not author or not paragraphs:
        return paragraphs
    names = [n.strip() for n in re.split(r"[;,]| und ", author) if n.strip()]
    kept = list(paragraphs)
    while kept and len(kept[-1].split()) <= 60:
        last = kept[-1]
        if any(last.startswith(name) for name in names) or any(
            name in last and re.search(r"\b(?:Redakteur|Korrespondent|Reporter|Autor)", last)
            for name in names
        ):
            kept.pop()
        else:
            break
    return kept


def _drop_subscription_prompt(paragraphs: list[str]) -> list[str]:
    """Drop the closing "Jetzt abonnieren ..." lines; the page is flagged as paywalled instead."""
    kept = list(paragraphs)
    while kept and len(kept[-1].split()) <= 40 and PAYWALL_PROMPT.search(kept[-1]):
        kept.pop()
    return kept


def _drop_orphan_captions(paragraphs: list[str], raw: list[str]) -> list[str]:
    """A line right before a credit ("Quelle: AFP") is an image caption, not prose."""
    captions = {
        raw[i - 1]
        for i in range(1, len(raw))
        if CAPTION_CREDIT.match(raw[i].strip())
        and looks_like_credit(raw[i].strip())
        and len(raw[i - 1].split()) <= 30
    }
    return [p for p in paragraphs if p not in captions]


def _main_text(
    raw_text: str, title: str | None, author: str | None, furniture: frozenset[tuple[str, ...]]
) -> str:
    lines = [line.strip() for line in raw_text.splitlines() if line.strip()]
    raw = [line for line in lines if tuple(_words(line)) not in furniture]
    paragraphs = _drop_orphan_captions(raw, raw)
    paragraphs = _drop_duplicates(paragraphs)
    paragraphs = _drop_leading_headings(paragraphs, title)
    paragraphs = _cut_tail(paragraphs)
    paragraphs = clean_text("\n\n".join(paragraphs)).split("\n\n")
    paragraphs = _drop_author_bio([p for p in paragraphs if p], author)
    paragraphs = _drop_subscription_prompt(paragraphs)
    return "\n\n".join(paragraphs)


_DESCRIPTION_XPATH = (
    '//meta[@property="og:description" or @name="description" or @name="twitter:description"]'
    "/@content"
)
_LEAD_CANDIDATE_TAGS = ("p", "div", "span", "h2", "strong", "section", "header")


def _lead_paragraph(tree: Any) -> str | None:
    """The visible standfirst: the first short block in the body that repeats the description.

    Extractors often start at the body column and miss the lead printed above it; the page's
    own description meta tag names it.
    """
    descriptions = [" ".join(str(d).split()) for d in tree.xpath(_DESCRIPTION_XPATH)]
    body = tree.find(".//body")
    if body is None:
        return None
    for description in descriptions:
        wanted = set(_words(description.rstrip(".… ")))
        if len(wanted) < 6:
            continue
        for element in body.iter(*_LEAD_CANDIDATE_TAGS):
            text = " ".join(" ".join(element.itertext()).split())
            found = _words(text)
            if not found or len(found) > 1.4 * len(wanted) + 8:
                continue
            if len(wanted & set(found)) >= 0.85 * len(wanted):
                return text
    return None


def _with_lead(text: str, lead: str | None) -> str:
    if not lead:
        return text
    lead_words = set(_words(lead))
    head = set(_words(" ".join(text.split("\n\n")[:3])))
    if lead_words and len(lead_words & head) >= 0.6 * len(lead_words):
        return text  # the extractor already has it
    return f"{lead}\n\n{text}" if text else lead


def _extract_raw_text(tree: Any, url: str | None) -> str:
    """trafilatura's main text of the page; it works on its own copy, `tree` is left unchanged."""
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        with_metadata=False,
    )
    text = getattr(document, "text", None) if document is not None else None
    return text or ""


def extract_page(html: str | bytes, *, url: str | None = None) -> ExtractedPage:
    """Main text and metadata of an article page; ExtractError when there is no main text."""
    tree = _parse_html(html)
    metadata = trafilatura.extract_metadata(tree, default_url=url)
    raw_text = strip_forbidden_chars(_extract_raw_text(tree, url))
    furniture = _boilerplate_lines(tree, raw_text.splitlines())
    title = strip_forbidden_chars(metadata.title or "").strip() or None
    author = strip_forbidden_chars(metadata.author or "").strip() or None
    text = _main_text(raw_text, title, author, furniture)
    if text.strip():
        lead = strip_forbidden_chars(_lead_paragraph(tree) or "")
        text = _with_lead(text, clean_text(lead))
    if not text.strip():
        raise ExtractError(f"no main text found on page{f' {url}' if url else ''}")
    return ExtractedPage(
        title=title,
        author=author,
        date=_published(tree, metadata.date),
        text=text,
        language=detect_language(text),
        paywalled=is_paywalled(raw_text) or is_paywalled(text),
    )


def choose_text(teaser: str, page: ExtractedPage | None) -> tuple[str, tuple[str, ...]]:
    """The text to use for an article and its reader markers: the page unless it is no better."""
    if page is None or len(page.text.strip()) < len(teaser.strip()):
        markers: tuple[str, ...] = (MARKER_TEASER_ONLY,)
        if page is not None and page.paywalled:
            markers += (MARKER_PAYWALL,)
        return teaser, markers
    return page.text, (MARKER_PAYWALL,) if page.paywalled else ()


# ---------------------------------------------------------------------------------------------
# One article: its feed text, or its page's main text when the feed gives only a teaser.

# Below this many words a text's detected language does not override the feed's language.
MIN_WORDS_TO_OVERRIDE_LANGUAGE = 20


def feed_text(article: Article) -> str:
    """The article's feed text without bylines, agency tags, credits and prompts (or its title
    when nothing else is left)."""
    return clean_text(strip_caption_credits(article.text)) or article.title


def needs_page(article: Article, min_words: int) -> bool:
    """True when the feed text is shorter than `min_words` words: only a teaser."""
    return is_teaser_text(feed_text(article), min_words)


def is_teaser_text(text: str, min_words: int) -> bool:
    """True when a `feed_text` is shorter than `min_words` words (see `needs_page`)."""
    return len(text.split()) < min_words


def full_article(article: Article, page: ExtractedPage | None, *, min_words: int) -> Article:
    """The article with its final text, reader markers, author and language.

    A teaser-only article (see `needs_page`) takes the page's main text when there is a page
    with more text than the teaser; otherwise it keeps its teaser, marked "nur Anriss". The
    language is the one detected on the final text when that is confident and the text long
    enough, else the feed's.
    """
    return finish_article((article, feed_text(article), page), min_words=min_words)


ArticleWork = tuple[Article, str, ExtractedPage | None]  # an article, its feed_text, its page


def finish_article(work: ArticleWork, *, min_words: int) -> Article:
    """`full_article` for an article whose `feed_text` is already known."""
    article, text, page = work
    markers = article.markers
    author = article.author
    from_page = False
    if is_teaser_text(text, min_words):
        text, found = choose_text(text, page)
        markers = tuple(dict.fromkeys(markers + found))
        from_page = page is not None and text == page.text
        if author is None and page is not None and from_page:
            author = page.author
    language = article.language
    if len(text.split()) >= MIN_WORDS_TO_OVERRIDE_LANGUAGE:
        # The page's language was detected on this very text when the page was extracted.
        detected = page.language if from_page and page is not None else detect_language(text)
        language = detected or language
    return replace(article, text=text, markers=markers, author=author, language=language)


# ---------------------------------------------------------------------------------------------
# Many pages at once: `extract_page` for digest.workers, one page's failure its own.

PageBody = tuple[str | bytes, str | None]  # the page's HTML and its URL


def extract_page_or_error(body: PageBody) -> ExtractedPage | ExtractError:
    """`extract_page`, with the error returned instead of raised (one per page of many).

    Any exception counts: whatever one hostile page makes the parser do costs that page only,
    never the other pages of its batch or the build."""
    html, url = body
    try:
        return extract_page(html, url=url)
    except ExtractError as error:
        return error
    except Exception as error:
        return ExtractError(f"page could not be read ({type(error).__name__}: {error})")


__all__ = [
    "choose_text",
    "clean_text",
    "detect_language",
    "extract_page",
    "extract_page_or_error",
    "feed_text",
    "finish_article",
    "full_article",
    "is_paywalled",
    "is_teaser_text",
    "needs_page",
]
