"""Rendering: the HTML email, the 78-column text part, digest.json and the German words."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import html5lib
import pytest

from digest import render
from digest.config import RenderConfig
from digest.errors import RenderError
from digest.models import (
    MARKER_NO_DATE,
    MARKER_PAYWALL,
    MARKER_TEASER_ONLY,
    Article,
    Continuation,
    Digest,
    Failure,
    Section,
    Story,
    Termin,
)
from tests.conftest import joined_url

XHTML = "{http://www.w3.org/1999/xhtml}"
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
SECTIONS = ("Bundeswehr & Rüstung", "Ukraine & Russland", "Nahost", "Cyber & Hybride Bedrohungen")
POINT = (
    "Die Bundesregierung will die Ausgaben für die Landesverteidigung im kommenden Haushalt "
    "deutlich erhöhen und dafür mehrere Vorhaben der Beschaffung vorziehen, sagte ein Sprecher."
)


def article(number: int, source: str = "Lagebild Aktuell", **changes: object) -> Article:
    values: dict[str, object] = {
        "url": f"https://lagebild.example/politik/2026/11/meldung-{number}",
        "title": f"Meldung {number}: Verteidigungsminister kündigt neue Beschaffungen an",
        "source": source,
        "published": NOW - timedelta(hours=number % 30),
        "text": POINT,
    }
    values.update(changes)
    return Article(**values)  # type: ignore[arg-type]


def story(number: int, section: str = SECTIONS[0], points: int = 3, **changes: object) -> Story:
    return Story(
        lead=article(number, **changes),
        section=section,
        score=1000.0 - number,
        key_points=tuple(f"{POINT} (Punkt {i + 1})" for i in range(points)),
    )


def make_digest(count: int, *, top: int = 5, **story_changes: object) -> Digest:
    stories = [story(n, SECTIONS[n % len(SECTIONS)], **story_changes) for n in range(count)]
    sections = tuple(
        Section(title=title, stories=tuple(s for s in stories if s.section == title))
        for title in SECTIONS
        if any(s.section == title for s in stories)
    )
    return Digest(
        date=DAY,
        generated_at=NOW,
        title="Sicherheitspolitisches Tagesbriefing",
        sections=sections,
        top=tuple(stories[:top]),
    )


def rendered(digest: Digest, **config: object) -> render.Rendered:
    return render.render(digest, RenderConfig(**config), timezone="Europe/Berlin")  # type: ignore[arg-type]


def parse(html: str) -> object:
    return html5lib.parse(html, namespaceHTMLElements=True)


def elements(tree: object, tag: str = "*") -> list:
    """Elements (not comments) of the parsed page, all or by tag name."""
    found = tree.iter(XHTML + tag if tag != "*" else None)  # type: ignore[attr-defined]
    return [element for element in found if isinstance(element.tag, str)]


def text_of(tree: object) -> str:
    """The visible text with runs of ASCII white space collapsed (no-break spaces stay)."""
    return re.sub(r"[ \t\r\n\f]+", " ", "".join(tree.itertext())).strip()  # type: ignore[attr-defined]


# --- HTML ------------------------------------------------------------------------------------


def test_html_declares_german_and_has_real_headings() -> None:
    tree = parse(rendered(make_digest(6)).html)
    assert tree.get("lang") == "de"  # type: ignore[attr-defined]
    assert len(elements(tree, "h1")) == 1
    section_heads = [text_of(h) for h in elements(tree, "h2")]
    assert "Das Wichtigste in Kürze" in section_heads
    assert SECTIONS[0] in section_heads
    assert len(elements(tree, "h3")) == 6


def test_html_has_no_style_script_or_stylesheet_left() -> None:
    html = rendered(make_digest(10)).html
    tree = parse(html)
    assert elements(tree, "style") == []
    assert elements(tree, "script") == []
    assert [link for link in elements(tree, "link") if link.get("rel") == "stylesheet"] == []


def test_every_classed_or_content_element_carries_its_style_inline() -> None:
    tree = parse(rendered(make_digest(10)).html)
    content_tags = {"body", "h1", "h2", "h3", "p", "ul", "ol", "li", "a", "table", "td"}
    for element in elements(tree):
        tag = element.tag.removeprefix(XHTML)
        if element.get("class") is not None or tag in content_tags:
            assert element.get("style"), f"<{tag} class={element.get('class')}> has no inline style"


def test_every_text_colour_sits_on_an_explicit_background_for_dark_mode() -> None:
    tree = parse(rendered(make_digest(8)).html)
    parents = {child: parent for parent in elements(tree) for child in parent}
    for element in elements(tree):
        style = element.get("style") or ""
        if not re.search(r"(^|;)\s*color:", style):
            continue
        node, found = element, False
        while node is not None and not found:
            found = "background-color" in (node.get("style") or "") or node.get("bgcolor")
            node = parents.get(node)
        assert found, f"colour without background on <{element.tag}>: {style}"


def test_every_link_is_http_or_an_anchor_of_this_page() -> None:
    tree = parse(rendered(make_digest(12)).html)
    ids = {element.get("id") for element in elements(tree) if element.get("id")}
    hrefs = [a.get("href") for a in elements(tree, "a")]
    assert hrefs
    for href in hrefs:
        if href.startswith("#"):
            assert href[1:] in ids, f"anchor {href} points nowhere"
        else:
            assert re.match(r"https?://[^/\s]+", href), href


def test_table_of_contents_links_every_section() -> None:
    digest = make_digest(12)
    tree = parse(rendered(digest).html)
    hrefs = {a.get("href") for a in elements(tree, "a")}
    assert {"#" + section.anchor for section in digest.sections} <= hrefs


def test_link_macro_refuses_non_web_urls() -> None:
    env = render.make_environment(RenderConfig(), "Europe/Berlin")
    template = env.from_string('{% from "macros.html" import link %}{{ link(url, "Titel") }}')
    assert "href" not in template.render(url="javascript:alert(1)")
    assert "href" not in template.render(url="data:text/html,x")
    assert 'href="https://a.example/x"' in template.render(url="https://a.example/x")


def test_untrusted_titles_and_points_are_escaped_not_executed() -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> & „Zitat“'
    digest = make_digest(3, title=hostile)
    html = rendered(digest).html
    tree = parse(html)
    assert elements(tree, "script") == []
    assert elements(tree, "img") == []
    assert hostile in text_of(tree)


def test_german_date_time_and_source_counts() -> None:
    lead = story(1)
    merged = Story(
        lead=lead.lead,
        others=(article(50, "Sicherheitsrundschau"), article(51, "Nordwest-Kurier")),
        section=SECTIONS[0],
        key_points=lead.key_points,
    )
    digest = Digest(
        date=DAY,
        generated_at=NOW,
        title="Sicherheitspolitisches Tagesbriefing",
        sections=(Section(SECTIONS[0], (merged, story(2))),),
    )
    result = rendered(digest)
    page = text_of(parse(result.html))
    assert "Sonntag, 29. November 2026" in page
    assert "Stand 06:00\u00a0Uhr" in page
    assert "3\u00a0Quellen" in page and "1\u00a0Quelle" in page
    assert "Auch berichtet von: Sicherheitsrundschau, Nordwest-Kurier" in page
    assert result.subject == "Sicherheitspolitisches Tagesbriefing – Sonntag, 29. November 2026"


def test_story_shows_key_points_markers_and_weiterlesen_link() -> None:
    digest = make_digest(1, top=0, markers=(MARKER_TEASER_ONLY, MARKER_PAYWALL))
    tree = parse(rendered(digest).html)
    page = text_of(tree)
    assert "nur Anriss" in page and "Paywall" in page
    assert len(elements(tree, "li")) >= 3
    more = [a for a in elements(tree, "a") if text_of(a).startswith("Weiterlesen bei")]
    assert [a.get("href") for a in more] == [digest.stories[0].lead.url]


def test_undated_story_shows_no_invented_time() -> None:
    digest = make_digest(1, top=0, markers=(MARKER_NO_DATE,))
    page = text_of(parse(rendered(digest).html))
    assert "ohne Datum" in page
    assert "heute," not in page


def test_preheader_is_hidden_and_names_the_top_stories() -> None:
    digest = make_digest(8, top=2)
    result = rendered(digest)
    tree = parse(result.html)
    body = elements(tree, "body")[0]
    first = next(iter(body))
    assert "display:none" in first.get("style").replace(" ", "")
    assert digest.top[0].lead.title in result.preheader
    assert result.preheader in text_of(first)


def test_two_hundred_stories_stay_under_the_gmail_limit_compacting_the_lowest_ranks() -> None:
    digest = make_digest(200, points=4)
    html = rendered(digest).html
    size = len(html.encode("utf-8"))
    assert size <= RenderConfig().max_html_bytes
    page = text_of(parse(html))
    best, worst = digest.top[0], min(digest.stories, key=lambda s: s.score)
    assert f"{POINT} (Punkt 1)" in page  # the best stories keep their key points
    assert worst.lead.title in page  # the lowest-ranked one is still there, as a link
    links = {a.get("href") for a in elements(parse(html), "a")}
    assert best.lead.url in links and worst.lead.url in links
    assert "in diesem Ressort" in page


def test_small_digest_is_shown_in_full() -> None:
    digest = make_digest(6)
    page = text_of(parse(rendered(digest).html))
    assert "in diesem Ressort" not in page
    assert page.count("Weiterlesen bei") == 6


def test_a_too_small_budget_leaves_out_lowest_ranks_and_says_so() -> None:
    digest = make_digest(60)
    html = rendered(digest, max_html_bytes=20_000).html
    assert len(html.encode("utf-8")) <= 20_000
    assert "passten nicht mehr in diese E-Mail" in text_of(parse(html))


def test_user_template_folder_overrides_a_partial(tmp_path: Path) -> None:
    (tmp_path / "footer.html").write_text("<p>Eigene Fußzeile der Redaktion</p>\n", "utf-8")
    html = rendered(make_digest(2), template_dir=tmp_path).html
    assert "Eigene Fußzeile der Redaktion" in html
    assert "Automatisch zusammengestellt" not in html


def test_a_template_using_an_unknown_name_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "footer.html").write_text("<p>{{ no_such_thing }}</p>\n", "utf-8")
    with pytest.raises(RenderError, match="no_such_thing"):
        rendered(make_digest(2), template_dir=tmp_path)


def test_empty_digest_renders_a_german_notice() -> None:
    empty = Digest(date=DAY, generated_at=NOW, title="Briefing", sections=())
    result = rendered(empty)
    assert "keine neuen Meldungen" in text_of(parse(result.html))
    assert "keine neuen Meldungen" in result.text


# --- Plain text ------------------------------------------------------------------------------


def long_digest() -> Digest:
    long_url = "https://lagebild.example/" + "/".join(["sicherheitspolitik-und-verteidigung"] * 4)
    word = "Verteidigungsfähigkeitsverbesserungsprogrammfinanzierungsgesetzgebungsverfahren" * 2
    stories = [
        story(1, title=f"Ein sehr langer Titel mit {word} darin und noch mehr Worten " * 2),
        story(2, url=long_url),
        Story(
            lead=article(3),
            others=tuple(article(60 + i, f"Zeitung Nummer {i}") for i in range(8)),
            section=SECTIONS[0],
            key_points=(word + " steht hier. " + POINT,),
        ),
        story(4, markers=(MARKER_PAYWALL, MARKER_TEASER_ONLY)),
    ]
    return Digest(
        date=DAY,
        generated_at=NOW,
        title="Sicherheitspolitisches Tagesbriefing",
        sections=(Section(SECTIONS[0], tuple(stories[:3])), Section(SECTIONS[1], (stories[3],))),
        top=tuple(stories[:2]),
        failures=(Failure("Nordwest-Kurier", "feed", "timeout"),),
        omitted=7,
    )


def test_no_text_line_is_wider_than_78_columns() -> None:
    text = rendered(long_digest()).text
    assert [line for line in text.splitlines() if len(line) > 78] == []


def test_every_text_reference_resolves_and_every_link_is_listed() -> None:
    digest = long_digest()
    text = rendered(digest).text
    listed: dict[str, str] = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.fullmatch(r"\[(\d+)\] (\S+)", line)
        if match:
            following = [match[2]]
            for more in lines[index + 1 :]:
                if not more.startswith(" ") or not following[0].startswith("<"):
                    break
                following.append(more)
            listed[match[1]] = joined_url(following)
    cited = set(re.findall(r"\[(\d+)\]", text))
    assert cited == set(listed)
    named = {a.url for s in digest.stories for a in (s.lead, *render.also_reported(s))}
    assert set(listed.values()) == named
    assert len(listed) == len(set(listed.values()))


def test_a_story_told_by_many_sites_names_five_and_counts_the_rest() -> None:
    digest = long_digest()
    (crowded,) = [s for s in digest.stories if len(s.others) == 8]
    named = render.also_reported(crowded)
    assert len(named) == render.MAX_ALSO_REPORTED == 5
    output = rendered(digest)
    flat_text = " ".join(output.text.split())
    assert "und 3 weitere Berichte" in flat_text
    assert "und 3 weitere Berichte" in output.html
    data = json.loads(output.json)
    (story,) = [st for sec in data["sections"] for st in sec["stories"] if len(st["sources"]) == 9]
    assert {src["url"] for src in story["sources"]} == {a.url for a in crowded.articles}


def test_also_reported_names_each_other_outlet_before_repeats() -> None:
    lead = article(1, "Alpha")
    others = (article(2, "Alpha"), article(3, "Alpha"), article(4, "Beta"), article(5, "Gamma"))
    named = render.also_reported(Story(lead=lead, others=others))
    assert [a.source for a in named] == ["Beta", "Gamma", "Alpha", "Alpha"]


def test_text_headings_are_underlined_to_their_length() -> None:
    text = rendered(long_digest()).text
    lines = text.splitlines()
    for heading in ("Das Wichtigste in Kürze", SECTIONS[0].upper(), "Links"):
        index = lines.index(heading)
        assert set(lines[index + 1]) <= {"=", "-"} and len(lines[index + 1]) == len(heading)


def test_text_part_names_markers_other_outlets_and_failures() -> None:
    text = rendered(long_digest()).text
    flat = " ".join(text.split())
    assert "[Paywall] [nur Anriss]" in flat
    assert "Auch berichtet von: Zeitung Nummer 0 [" in flat
    assert "Nicht erreichbar: Nordwest-Kurier" in flat
    assert "7 weitere Artikel wurden nicht aufgenommen." in flat
    assert "Sonntag, 29. November 2026" in text


# --- digest.json -----------------------------------------------------------------------------


def test_json_has_the_documented_schema_and_lists_every_merged_source() -> None:
    digest = long_digest()
    data = json.loads(rendered(digest).json)
    assert data["date"] == "2026-11-29"
    assert [s["title"] for s in data["sections"]] == [s.title for s in digest.sections]
    merged = data["sections"][0]["stories"][2]
    assert set(merged) >= {"title", "url", "key_points", "sources", "markers"}
    assert [s["url"] for s in merged["sources"]] == [a.url for a in digest.stories[2].articles]
    assert merged["sources"][0] == {
        "name": "Lagebild Aktuell",
        "title": digest.stories[2].lead.title,
        "url": digest.stories[2].lead.url,
        "published": digest.stories[2].lead.published.isoformat(),
    }
    assert data["sections"][1]["stories"][0]["markers"] == ["Paywall", "nur Anriss"]
    assert [t["url"] for t in data["top"]] == [s.lead.url for s in digest.top]


def test_json_schema_document_names_every_field_written() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "digest-json.md").read_text("utf-8")
    data = json.loads(rendered(long_digest()).json)
    story_data = data["sections"][0]["stories"][0]
    names = set(data) | set(story_data) | set(story_data["sources"][0]) | set(data["failures"][0])
    missing = [name for name in sorted(names) if f"`{name}`" not in doc]
    assert missing == []


# --- continued stories and Termine --------------------------------------------------------------


def remembering_digest() -> Digest:
    """Story 0 continues an earlier one with news, story 1 has nothing new; one Termin."""
    base = make_digest(8)
    first, second = base.stories[0], base.stories[1]
    return dataclasses.replace(
        base,
        continuations=(
            Continuation(first.lead.url, date(2026, 11, 24), "story-0123456789ab", "X", 0.4),
            Continuation(second.lead.url, date(2026, 11, 28), "story-ba9876543210", "Y", 0.5, True),
        ),
        termine=(Termin(date(2026, 12, 2), POINT, first.lead.url, "Lagebild Aktuell", "Titel"),),
    )


def test_continued_stories_are_marked_and_linked_and_unchanged_ones_only_listed() -> None:
    digest = remembering_digest()
    out = render.render(
        digest, RenderConfig(), timezone="Europe/Berlin", archive_url="https://b.example/archiv/"
    )
    tree = parse(out.html)
    hrefs = [a.get("href") for a in elements(tree, "a")]
    assert "https://b.example/archiv/2026-11-24/digest.html#story-0123456789ab" in hrefs
    assert "Fortsetzung – zuletzt am Dienstag, 24. November" in text_of(tree)
    assert "Weiterhin in den Nachrichten" in text_of(tree)
    stories = [e for e in elements(tree, "div") if e.get("class") == "story"]
    assert len(stories) == 7  # story 1 is only listed, by title and link
    assert all(e.get("id", "").startswith("story-") for e in stories)
    assert "Weiterhin in den Nachrichten" in out.text
    assert "Fortsetzung – zuletzt am Dienstag, 24. November" in out.text
    assert max(len(line) for line in out.text.splitlines()) <= 78
    data = json.loads(out.json)
    continued = data["sections"][0]["stories"][0]["continues"]
    assert continued["date"] == "2026-11-24" and continued["story"] == "story-0123456789ab"
    assert data["termine"][0]["date"] == "2026-12-02"


def test_the_top_list_says_new_or_continued_and_termine_have_their_box() -> None:
    out = rendered(remembering_digest())
    tree = parse(out.html)
    top = [text_of(li) for li in elements(tree, "li")][:5]
    assert "Fortsetzung" in top[0] and all("neu" in line for line in top[2:])
    assert "Termine" in [text_of(h) for h in elements(tree, "h2")]
    assert "Mittwoch, 2. Dezember:" in text_of(tree)
    assert "Termine\n-------" in out.text and "Mittwoch, 2. Dezember:" in out.text
    content_tags = {"p", "ul", "li", "a"}
    for element in elements(tree):
        tag = element.tag.removeprefix(XHTML)
        if element.get("class") is not None or tag in content_tags:
            assert element.get("style"), f"<{tag} class={element.get('class')}> has no inline style"
