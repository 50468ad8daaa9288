"""Extraction quality: score :func:`extract_article` against human-cut pages.

A case is ``NAME.html`` (a saved page) beside ``NAME.json`` (``url``, ``title``,
``published`` (ISO, with offset), ``authors``, ``body``: the article text a
person cut from the page, paragraphs separated by blank lines; optional
``exclude``: the per-source selector override a source record would carry;
``type``: the source's type as the catalogue names it, news|regulator|government|
parliament, which tests use to hold news pages to the news metadata goals).
A page that shows only a day is published at midnight where its publisher is;
``timezone`` gives that zone as the page's source record would (else UTC).
Scores:

- body: shingle precision, recall and F1 (word 4-grams, counted with
  multiplicity: boilerplate kept costs precision, text dropped costs recall);
- title: exact match; published: the same instant to the minute; authors:
  F1 over the set of names.

``python -m crawlers._quality DIR`` prints a line per case and the means;
``python -m crawlers._quality --snippets DIR`` scores an external corpus judged
by snippets instead, beside bare trafilatura (see :mod:`crawlers._quality_snippets`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ._extract import extract_article

SHINGLE = 4
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def prf(predicted: Counter[tuple[str, ...]], gold: Counter[tuple[str, ...]]) -> tuple[float, float, float]:
    overlap = sum((predicted & gold).values())
    precision = overlap / sum(predicted.values()) if predicted else 0.0
    recall = overlap / sum(gold.values()) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def authors_f1(predicted: list[str], gold: list[str]) -> float:
    norm_p = {" ".join(a.lower().split()) for a in predicted}
    norm_g = {" ".join(a.lower().split()) for a in gold}
    if not norm_p and not norm_g:
        return 1.0
    overlap = len(norm_p & norm_g)
    if not overlap:
        return 0.0
    precision, recall = overlap / len(norm_p), overlap / len(norm_g)
    return 2 * precision * recall / (precision + recall)


@dataclass
class CaseScore:
    name: str
    body_precision: float
    body_recall: float
    body_f1: float
    title_ok: bool
    published_ok: bool
    authors_f1: float


def _same_minute(predicted: datetime | None, gold: str | None) -> bool:
    if not gold:
        return predicted is None
    if predicted is None:
        return False
    expected = datetime.fromisoformat(gold)
    return abs((predicted - expected).total_seconds()) < 60 and predicted.utcoffset() is not None


def score_case(html_path: Path) -> CaseScore:
    gold = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
    origin = "/".join(gold["url"].split("/")[:3])
    body = html_path.read_bytes().replace(b"{base}", origin.encode())
    article = extract_article(
        body,
        gold["url"],
        "quality",
        None,
        min_body_chars=0,
        exclude=gold.get("exclude", ""),
        local_timezone=gold.get("timezone", ""),
    )
    precision, recall, f1 = prf(shingles(article.body), shingles(gold["body"]))
    return CaseScore(
        name=html_path.stem,
        body_precision=precision,
        body_recall=recall,
        body_f1=f1,
        title_ok=article.title == gold["title"],
        published_ok=_same_minute(article.published, gold.get("published")),
        authors_f1=authors_f1(article.authors, gold.get("authors", [])),
    )


def score_dir(directory: Path) -> list[CaseScore]:
    return [score_case(path) for path in sorted(Path(directory).glob("*.html"))]


def summary(scores: list[CaseScore]) -> dict[str, float]:
    n = len(scores) or 1
    return {
        "cases": float(len(scores)),
        "body_f1": sum(s.body_f1 for s in scores) / n,
        "body_precision": sum(s.body_precision for s in scores) / n,
        "body_recall": sum(s.body_recall for s in scores) / n,
        "title_exact": sum(s.title_ok for s in scores) / n,
        "published_minute": sum(s.published_ok for s in scores) / n,
        "authors_f1": sum(s.authors_f1 for s in scores) / n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawlers._quality", description="Score extract_article against saved pages."
    )
    parser.add_argument(
        "directory",
        nargs="?",
        default="tests/data/crawl_quality",
        help="NAME.html + NAME.json pages with a human-cut body (default: %(default)s)",
    )
    parser.add_argument(
        "--snippets",
        metavar="DIR",
        help="score a corpus judged by with/without snippets instead, beside bare trafilatura",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.snippets:
        from ._quality_snippets import report, score_corpus

        print(report(score_corpus(Path(args.snippets))))  # noqa: T201 - the harness's report is its output
        return 0
    directory = Path(args.directory)
    scores = score_dir(directory)
    lines = [f"{'case':<12} {'body P':>7} {'body R':>7} {'body F1':>7}  title  published  authors F1"]
    for s in scores:
        lines.append(
            f"{s.name:<12} {s.body_precision:7.3f} {s.body_recall:7.3f} {s.body_f1:7.3f}  "
            f"{'ok' if s.title_ok else 'MISS':<5}  {'ok' if s.published_ok else 'MISS':<9}  {s.authors_f1:.2f}"
        )
    totals = summary(scores)
    lines.append(
        f"mean over {len(scores)} cases: body F1 {totals['body_f1']:.3f} (P {totals['body_precision']:.3f}, "
        f"R {totals['body_recall']:.3f}); title exact {totals['title_exact']:.2f}; published to the minute "
        f"{totals['published_minute']:.2f}; authors F1 {totals['authors_f1']:.2f}"
    )
    print("\n".join(lines))  # noqa: T201 - the harness's report is its output
    return 0


if __name__ == "__main__":
    sys.exit(main())
