"""Score both extractors on every page of some corpora and aggregate per corpus and split."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .corpora import GoldPage
from .scoring import (
    authors_f1,
    body_prf,
    f1_of,
    published_day_ok,
    published_ok,
    snippet_scores,
    title_key,
    title_ok,
)
from .sides import Extracted, regwatch_side, trafilatura_side

SIDES = ("regwatch", "trafilatura")
METRICS = ("body_f1", "title", "published", "authors")


@dataclass
class SideScore:
    precision: float | None  # None: the page has no body gold (titles, times and authors only)
    recall: float | None
    f1: float | None
    empty: bool
    title_ok: bool | None = None
    published_ok: bool | None = None
    published_day_ok: bool | None = None
    authors_f1: float | None = None
    error: str = ""


@dataclass
class PageScore:
    corpus: str
    id: str
    split: str
    snippets: bool  # body judged by snippets, not by a whole text
    sides: dict[str, SideScore]


def _title_matches(predicted: str, page: GoldPage) -> bool:
    gold = page.title or ""
    if not page.title_wildcard or "?" not in gold:
        return title_ok(predicted, gold)
    want, got = title_key(gold), title_key(predicted)
    return len(want) == len(got) and all(w in ("?", g) for w, g in zip(want, got, strict=True))


def score_side(extracted: Extracted, page: GoldPage) -> SideScore:
    precision: float | None
    recall: float | None
    f1: float | None
    if page.body is None and not page.with_ and not page.without:
        precision = recall = f1 = None
    elif page.body is not None:
        precision, recall, f1 = body_prf(extracted.body, page.body)
    else:
        # Snippet gold (trafilatura's evaluation) counts the headline and a standfirst as text of the
        # article; regwatch keeps them as title and summary. Both sides are judged on all three.
        shown = "\n\n".join(t for t in (extracted.title, extracted.summary, extracted.body) if t)
        recall, precision = snippet_scores(shown, page.with_, page.without)
        if not extracted.body.strip():
            precision = 0.0  # an empty body leaks nothing, but it is not a precise extraction
        f1 = f1_of(precision, recall)
    score = SideScore(precision, recall, f1, empty=not extracted.body.strip(), error=extracted.error)
    if page.title is not None:
        score.title_ok = _title_matches(extracted.title, page)
    if page.published:
        score.published_ok = published_ok(extracted.published, page.published)
        score.published_day_ok = published_day_ok(extracted.published, page.published)
    if page.authors is not None:
        score.authors_f1 = authors_f1(extracted.authors, page.authors)
    return score


def extract_both(page: GoldPage) -> dict[str, Extracted]:
    html = page.html()
    return {
        "regwatch": regwatch_side(html, page.url, exclude=page.exclude, timezone=page.timezone),
        "trafilatura": trafilatura_side(html, page.url),
    }


def _score_one(args: tuple[GoldPage, str, str | None]) -> tuple[PageScore, dict[str, Extracted] | None]:
    page, split, save = args
    outputs = extract_both(page)
    scores = {side: score_side(outputs[side], page) for side in SIDES}
    result = PageScore(page.corpus, page.id, split, page.body is None, scores)
    return result, (outputs if save else None)


def score_pages(
    pages: Sequence[tuple[GoldPage, str]], jobs: int = 1, save: Path | None = None
) -> list[PageScore]:
    """Score every (page, split); ``save`` writes each side's body beside the gold for reading."""
    work = [(page, split, str(save) if save else None) for page, split in pages]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_score_one, work, chunksize=4))
    else:
        results = [_score_one(item) for item in work]
    if save:
        for (page, _), (_, outputs) in zip(pages, results, strict=True):
            folder = save / page.corpus
            folder.mkdir(parents=True, exist_ok=True)
            stem = page.id.replace(os.sep, "_")
            for side, extracted in (outputs or {}).items():
                (folder / f"{stem}.{side}.txt").write_text(
                    f"TITLE: {extracted.title}\nPUBLISHED: {extracted.published}\n"
                    f"AUTHORS: {extracted.authors}\n\n{extracted.body}\n",
                    encoding="utf-8",
                )
            gold = page.body if page.body is not None else "WITH:\n" + "\n".join(page.with_)
            (folder / f"{stem}.gold.txt").write_text(
                f"TITLE: {page.title}\nPUBLISHED: {page.published}\nAUTHORS: {page.authors}\n\n{gold}\n",
                encoding="utf-8",
            )
    return [score for score, _ in results]


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def aggregate(scores: Sequence[PageScore], side: str) -> dict[str, Any]:
    """Means of one side over some pages; a metric without gold on any page is None."""
    sides = [s.sides[side] for s in scores]
    titles = [float(x.title_ok) for x in sides if x.title_ok is not None]
    times = [float(x.published_ok) for x in sides if x.published_ok is not None]
    days = [float(x.published_day_ok) for x in sides if x.published_day_ok is not None]
    authors = [x.authors_f1 for x in sides if x.authors_f1 is not None]
    return {
        "pages": len(sides),
        "body_precision": _mean(x.precision for x in sides if x.precision is not None),
        "body_recall": _mean(x.recall for x in sides if x.recall is not None),
        "body_f1": _mean(x.f1 for x in sides if x.f1 is not None),
        "empty": sum(x.empty for x in sides),
        "title": _mean(titles),
        "title_pages": len(titles),
        "published": _mean(times),
        "published_day": _mean(days),
        "published_pages": len(times),
        "authors": _mean(authors),
        "authors_pages": len(authors),
    }


def losses(scores: Sequence[PageScore]) -> list[str]:
    """Metrics on which regwatch is below bare trafilatura over these pages (by more than rounding)."""
    ours, theirs = aggregate(scores, "regwatch"), aggregate(scores, "trafilatura")
    lost = [
        m for m in METRICS if ours[m] is not None and theirs[m] is not None and ours[m] < theirs[m] - 5e-4
    ]
    if ours["empty"] > theirs["empty"]:
        lost.append("empty bodies")
    return lost
