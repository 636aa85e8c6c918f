"""The selection's account of every article -> explain.txt (German) and explain.json (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date

from digest.models import Considered

EXPLAIN_FORMAT = 1


def explain_json(day: date, considered: Sequence[Considered]) -> str:
    """One object per article considered; the schema is in docs/explain-json.md."""
    articles = []
    for record in considered:
        data = asdict(record)
        data["features"] = [{"name": name, "weight": weight} for name, weight in record.reasons]
        del data["reasons"]
        articles.append(data)
    document = {"format": EXPLAIN_FORMAT, "date": day.isoformat(), "articles": articles}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def explain_text(considered: Sequence[Considered]) -> str:
    """One line per article, shown ones first in digest order, for a person reading along."""
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
    return "\n".join(lines) + "\n"
