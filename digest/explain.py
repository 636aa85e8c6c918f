"""The selection's account of every article -> explain.txt (German) and explain.json (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date

from digest.models import Considered, Failure

EXPLAIN_FORMAT = 1


def explain_json(
    day: date, considered: Sequence[Considered], failures: Sequence[Failure] = ()
) -> str:
    """One object per article considered, and what failed; the schema is in
    docs/explain-json.md."""
    articles = []
    for record in considered:
        data = asdict(record)
        data["features"] = [{"name": name, "weight": weight} for name, weight in record.reasons]
        del data["reasons"]
        articles.append(data)
    document = {
        "format": EXPLAIN_FORMAT,
        "date": day.isoformat(),
        "articles": articles,
        "failures": [asdict(failure) for failure in failures],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def explain_text(considered: Sequence[Considered], failures: Sequence[Failure] = ()) -> str:
    """One line per article, shown ones first in digest order, then what failed (feeds that
    gave nothing, pages whose teaser was kept), for a person reading along."""
    shown = sum(r.shown for r in considered)
    on_topic = sum(r.on_topic for r in considered)
    stories = len({r.story for r in considered if r.story})
    lines = [
        f"# Auswahl: {len(considered)} Artikel, {on_topic} im Thema, {stories} Storys,"
        f" {shown} Artikel gezeigt",
        "# Urteil | Relevanz | Ressort (Grund) | Story | Quelle: Titel | Link | Merkmale"
        " | Verbleib",
    ]
    for record in considered:
        verdict = "GEZEIGT" if record.shown else "IM THEMA" if record.on_topic else "VERWORFEN"
        section = f"{record.section} ({record.section_reason})" if record.section else "-"
        features = ", ".join(f"{name} {weight:+.2f}" for name, weight in record.reasons) or "-"
        lines.append(
            f"{verdict} | {record.relevance:.2f} | {section} | {record.story or '-'} | "
            f"{record.source}: {record.title} | {record.url} | {features} | {record.fate}"
        )
    if failures:
        lines += [
            f"# Fehlgeschlagen: {len(failures)}"
            " (ein Feed ohne Artikel, eine Seite: Anriss behalten)",
            "# FEHLER | Stufe | Quelle | Meldung",
            *(f"FEHLER | {f.stage} | {f.source} | {' '.join(f.message.split())}" for f in failures),
        ]
    return "\n".join(lines) + "\n"
