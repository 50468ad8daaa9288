"""Extraction quality on an external corpus judged by snippets, beside bare trafilatura.

Where nobody has cut a whole body by hand, a page can still be judged by
snippets: ``NAME.html`` (the saved page) beside ``NAME.json`` with ``url``,
``with`` (text that must be in the extracted body) and ``without`` (text that
must not: navigation, teasers, footers), optionally ``language`` and the
metadata a person checked: ``title``, ``published`` (ISO; a date alone is
judged to the day) and ``authors``. The corpus stays outside the repository
when its pages are third-party; the CLI takes its directory.

Per page, for :func:`~crawlers._extract.extract_article` and for
``trafilatura.extract`` with its defaults (what regwatch would get without its
own metadata and post-processing) in the same run:

- recall: share of ``with`` snippets found in the body;
- precision: share of ``without`` snippets absent from it.

Both sides are compared after Unicode NFKC, case folding and whitespace
collapsing, so a non-breaking space or a line break never decides a match.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import trafilatura

from regwatch.errors import ExtractionError

from ._extract import extract_article
from ._quality import authors_f1

logger = logging.getLogger(__name__)

_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text as snippets are matched: NFKC, case-folded, whitespace collapsed."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def snippet_scores(body: str, with_: Sequence[str], without: Sequence[str]) -> tuple[float, float]:
    """(recall over ``with``, precision over ``without``); 1.0 where a list is empty."""
    text = normalise(body)
    found = sum(normalise(s) in text for s in with_)
    leaked = sum(normalise(s) in text for s in without)
    recall = found / len(with_) if with_ else 1.0
    precision = 1 - leaked / len(without) if without else 1.0
    return recall, precision


@dataclass
class Extracted:
    """What one extractor made of a page (only what the snippet mode scores)."""

    body: str
    title: str = ""
    published: datetime | date | None = None
    authors: list[str] = field(default_factory=list)
    language: str = ""


@dataclass
class SideScore:
    recall: float
    precision: float
    title_ok: bool | None = None
    published_ok: bool | None = None
    published_day_ok: bool | None = None
    authors_f1: float | None = None


@dataclass
class SnippetCase:
    name: str
    language: str
    ours: SideScore
    bare: SideScore


def regwatch_side(html: bytes, url: str) -> Extracted:
    try:
        article = extract_article(html, url, "quality", None, min_body_chars=0)
    except ExtractionError as exc:
        logger.warning("quality %s: regwatch extracted nothing (%s)", url, exc)
        return Extracted(body="")
    return Extracted(
        body=article.body,
        title=article.title,
        published=article.published,
        authors=list(article.authors),
        language=article.language,
    )


def trafilatura_side(html: bytes, url: str) -> Extracted:
    """Bare ``trafilatura.extract`` with its defaults; metadata from the same call."""
    raw = trafilatura.extract(html, url=url, output_format="json", with_metadata=True)
    if not raw:
        return Extracted(body="")
    data = json.loads(raw)
    published: date | None = None
    if data.get("date"):
        try:
            published = date.fromisoformat(data["date"][:10])
        except ValueError:
            published = None
    authors = [a.strip() for a in re.split(r";", data.get("author") or "") if a.strip()]
    return Extracted(
        body=data.get("text") or "",
        title=data.get("title") or "",
        published=published,
        authors=authors,
        language=data.get("language") or "",
    )


def _same_day(predicted: datetime | date | None, gold: str) -> bool:
    """The gold's calendar day (a predicted instant read in its own offset, as the page shows it)."""
    if predicted is None:
        return False
    day = predicted.date() if isinstance(predicted, datetime) else predicted
    return day == date.fromisoformat(gold[:10])


def _published_ok(predicted: datetime | date | None, gold: str) -> bool:
    """Same minute (with an offset) for a gold instant; same day for a gold date."""
    if predicted is None:
        return False
    if len(gold) <= 10:
        return _same_day(predicted, gold)
    if not isinstance(predicted, datetime) or predicted.utcoffset() is None:
        return False
    return abs((predicted - datetime.fromisoformat(gold)).total_seconds()) < 60


def _score_side(extracted: Extracted, gold: dict[str, Any]) -> SideScore:
    recall, precision = snippet_scores(extracted.body, gold.get("with", []), gold.get("without", []))
    score = SideScore(recall=recall, precision=precision)
    if "title" in gold:
        score.title_ok = normalise(extracted.title) == normalise(gold["title"])
    if "published" in gold:
        score.published_ok = _published_ok(extracted.published, gold["published"])
        score.published_day_ok = _same_day(extracted.published, gold["published"])
    if "authors" in gold:
        score.authors_f1 = authors_f1(extracted.authors, gold["authors"])
    return score


Extractor = Callable[[bytes, str], Extracted]


def score_page(
    html_path: Path, ours: Extractor = regwatch_side, bare: Extractor = trafilatura_side
) -> SnippetCase:
    gold = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
    html = html_path.read_bytes()
    mine, theirs = ours(html, gold["url"]), bare(html, gold["url"])
    language = gold.get("language") or mine.language or theirs.language
    return SnippetCase(
        name=html_path.stem,
        language=language,
        ours=_score_side(mine, gold),
        bare=_score_side(theirs, gold),
    )


def score_corpus(directory: Path) -> list[SnippetCase]:
    pages = sorted(Path(directory).glob("*.html"))
    if not pages:
        raise FileNotFoundError(f"{directory}: no NAME.html + NAME.json pages to score")
    return [score_page(path) for path in pages]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def means(cases: list[SnippetCase]) -> dict[str, float]:
    """Mean recall/precision per side, and metadata where the gold has it."""
    out: dict[str, float] = {"pages": float(len(cases))}
    for side in ("ours", "bare"):
        scores = [getattr(c, side) for c in cases]
        out[f"{side}_recall"] = _mean([s.recall for s in scores])
        out[f"{side}_precision"] = _mean([s.precision for s in scores])
        out[f"{side}_perfect"] = _mean([float(s.recall == 1.0 and s.precision == 1.0) for s in scores])
        for key in ("title_ok", "published_ok", "published_day_ok", "authors_f1"):
            values = [float(getattr(s, key)) for s in scores if getattr(s, key) is not None]
            if values:
                out[f"{side}_{key}"] = _mean(values)
                out[f"{key}_pages"] = float(len(values))
    return out


def _fmt_meta(score: SideScore) -> str:
    parts = []
    if score.title_ok is not None:
        parts.append("T" if score.title_ok else "t")
    if score.published_ok is not None:
        parts.append("D" if score.published_ok else "d")
    if score.authors_f1 is not None:
        parts.append(f"A{score.authors_f1:.2f}")
    return " ".join(parts)


def _summary_line(label: str, cases: list[SnippetCase]) -> str:
    m = means(cases)
    line = (
        f"{label} ({len(cases)} pages): regwatch R {m['ours_recall']:.3f} P {m['ours_precision']:.3f} "
        f"(all snippets right on {m['ours_perfect']:.2f}) | trafilatura R {m['bare_recall']:.3f} "
        f"P {m['bare_precision']:.3f} (all right on {m['bare_perfect']:.2f})"
    )
    for key, label_key in (
        ("title_ok", "title exact"),
        ("published_ok", "published (to the minute where the gold has a time)"),
        ("published_day_ok", "published to the day"),
        ("authors_f1", "authors F1"),
    ):
        if f"ours_{key}" in m:
            line += (
                f"\n  {label_key} on {int(m[f'{key}_pages'])} pages: regwatch {m[f'ours_{key}']:.2f}"
                f" | trafilatura {m[f'bare_{key}']:.2f}"
            )
    return line


def report(cases: list[SnippetCase]) -> str:
    """Per-page lines, the means, and the means over English pages."""
    lines = [f"{'page':<44} {'lang':<4} {'ours R':>6} {'ours P':>6} {'traf R':>6} {'traf P':>6}  metadata"]
    for c in cases:
        meta = _fmt_meta(c.ours)
        if meta:
            meta = f"ours {meta} / traf {_fmt_meta(c.bare)}"
        lines.append(
            f"{c.name[:44]:<44} {c.language[:4]:<4} {c.ours.recall:6.2f} {c.ours.precision:6.2f} "
            f"{c.bare.recall:6.2f} {c.bare.precision:6.2f}  {meta}"
        )
    lines.append(_summary_line("all", cases))
    english = [c for c in cases if c.language.lower().startswith("en")]
    if english:
        lines.append(_summary_line("English", english))
    return "\n".join(lines)
