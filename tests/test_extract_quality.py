"""The extraction-quality harness and a floor under its scores on the team's fixture pages.

The fixtures (``tests/data/crawl_quality/``) are pages written in the structure of
their sites (GOV.UK, Guardian, BBC, a regulator, the FTC, a WordPress blog) beside
a human-cut body and metadata. ``python -m crawlers._quality`` prints the scores.
"""

from __future__ import annotations

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


def test_extraction_scores_stay_above_their_floor_on_the_fixture_pages() -> None:
    scores = score_dir(CASES)
    assert len(scores) >= 6
    totals = summary(scores)
    assert totals["body_f1"] >= 0.97, totals
    assert totals["title_exact"] == 1.0, [s.name for s in scores if not s.title_ok]
    assert totals["published_minute"] == 1.0, [s.name for s in scores if not s.published_ok]
    assert totals["authors_f1"] >= 0.95, totals
    for score in scores:
        assert score.body_f1 >= 0.9, score
