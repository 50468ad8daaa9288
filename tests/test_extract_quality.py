"""The extraction-quality harness and a floor under its scores on the team's fixture pages.

The fixtures (``tests/data/crawl_quality/``) are pages written in the structure of
their sites (news sites from Reuters to ABC Australia, a live blog, regulators and
government: Ofcom, ICO, GOV.UK, the CMA, the Commission, the EDPB, the FTC, the Federal
Register, UK Parliament; WordPress blogs) beside a human-cut body and metadata.
``python -m crawlers._quality`` prints the scores. The floors are the goals set for
extraction on real pages (issue 4), not today's figures.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from crawlers._quality import authors_f1, prf, score_dir, shingles, summary

CASES = Path(__file__).parent / "data" / "crawl_quality"


def test_shingle_scores_punish_boilerplate_and_missing_text() -> None:
    gold = shingles("the regulator opened an investigation into the platform today")
    assert prf(gold, gold) == (1.0, 1.0, 1.0)
    padded = shingles(
        "cookie banner accept all cookies the regulator opened an investigation into the platform today"
    )
    precision, recall, _ = prf(padded, gold)
    assert recall == 1.0 and precision < 0.7
    cut = shingles("the regulator opened an investigation")
    precision, recall, _ = prf(cut, gold)
    assert precision == 1.0 and recall < 0.5
    assert prf(Counter(), gold) == (0.0, 0.0, 0.0)


def test_author_names_are_compared_as_sets_ignoring_case_and_spacing() -> None:
    assert authors_f1(["Dan  Milmo"], ["dan milmo"]) == 1.0
    assert authors_f1([], []) == 1.0
    assert authors_f1(["Joshua Nevett"], ["Joshua Nevett", "Sam Francis"]) == pytest.approx(2 / 3)
    assert authors_f1(["BBC News"], ["Joshua Nevett"]) == 0.0


# The extraction goals (issue 4): body shingle F1 on real pages; title exact, published to the
# minute and author F1 on real news pages.
BODY_F1_GOAL = 0.97
TITLE_GOAL = 0.95
PUBLISHED_GOAL = 0.90
AUTHORS_GOAL = 0.92


def _news_pages() -> set[str]:
    gold = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in CASES.glob("*.json")}
    return {name for name, case in gold.items() if case.get("type") == "news"}


def test_every_fixture_page_says_what_kind_of_source_it_comes_from() -> None:
    for path in CASES.glob("*.json"):
        assert json.loads(path.read_text(encoding="utf-8")).get("type") in {
            "news",
            "regulator",
            "government",
            "parliament",
        }, path.name


def test_extraction_meets_the_body_goal_on_every_fixture_page() -> None:
    scores = score_dir(CASES)
    assert len(scores) >= 26
    assert summary(scores)["body_f1"] >= BODY_F1_GOAL, summary(scores)
    for score in scores:
        assert score.body_f1 >= 0.9, score


def test_extraction_meets_the_metadata_goals_on_the_news_pages() -> None:
    """Regulators' pages are left out of the published goal: many show only a day (EC, FCA,
    eSafety, the Federal Register), and its instant depends on a time zone the page never states."""
    news = _news_pages()
    scores = [score for score in score_dir(CASES) if score.name in news]
    assert len(scores) >= 20
    totals = summary(scores)
    assert totals["title_exact"] >= TITLE_GOAL, [s.name for s in scores if not s.title_ok]
    assert totals["published_minute"] >= PUBLISHED_GOAL, [s.name for s in scores if not s.published_ok]
    assert totals["authors_f1"] >= AUTHORS_GOAL, totals


def test_titles_and_authors_meet_their_goals_on_every_fixture_page() -> None:
    scores = score_dir(CASES)
    totals = summary(scores)
    assert totals["title_exact"] >= TITLE_GOAL, [s.name for s in scores if not s.title_ok]
    assert totals["authors_f1"] >= AUTHORS_GOAL, totals
