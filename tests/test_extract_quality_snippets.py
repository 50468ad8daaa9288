"""The snippet mode of the extraction-quality harness (``python -m crawlers._quality --snippets DIR``).

Real third-party pages are scored from a directory outside the repository; the
pages here (``tests/data/crawl_snippets/``) are the team's own, small enough to
check the scoring by eye.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from crawlers._quality import main
from crawlers._quality_snippets import (
    Extracted,
    means,
    normalise,
    report,
    score_corpus,
    score_page,
    snippet_scores,
    trafilatura_side,
)

CASES = Path(__file__).parent / "data" / "crawl_snippets"


def test_snippets_match_across_case_spacing_and_unicode_forms() -> None:
    assert normalise("Die  GEMA\u00a0dreht\nvöllig") == "die gema dreht völlig"
    body = "The watchdog FINED the operator\n\n£2.4m in total.\u00a0Related stories follow."
    recall, precision = snippet_scores(
        body, ["fined the operator £2.4m", "not there"], ["Related stories", "Imprint"]
    )
    assert recall == 0.5
    assert precision == 0.5
    assert snippet_scores("", [], []) == (1.0, 1.0)
    assert snippet_scores("", ["anything"], ["nav"]) == (0.0, 1.0)


def test_both_extractors_are_scored_on_the_team_pages() -> None:
    cases = {case.name: case for case in score_corpus(CASES)}
    assert set(cases) == {"newsdesk", "vereinsblog"}
    news, blog = cases["newsdesk"], cases["vereinsblog"]
    assert (news.language, blog.language) == ("en", "de")
    for case in (news, blog):
        assert (case.ours.recall, case.ours.precision) == (1.0, 1.0), case
        assert case.bare.recall == 1.0, case
    assert news.ours.title_ok and news.ours.published_ok and news.ours.authors_f1 == 1.0
    # trafilatura reports a day, never an instant: right to the day, not to the minute.
    assert news.bare.published_day_ok and news.bare.published_ok is False
    assert blog.ours.title_ok is None  # no metadata gold for that page: not scored
    totals = means(list(cases.values()))
    assert totals["pages"] == 2 and totals["ours_recall"] == 1.0
    assert totals["title_ok_pages"] == 1


def test_a_leaky_extractor_loses_precision_and_a_failing_one_recall() -> None:
    page = CASES / "newsdesk.html"

    def leaky(html: bytes, url: str) -> Extracted:
        return Extracted(body=trafilatura_side(html, url).body + "\nRelated stories\nCookie settings")

    def empty(html: bytes, url: str) -> Extracted:
        return Extracted(body="", published=date(2024, 3, 5))

    case = score_page(page, ours=leaky, bare=empty)
    assert case.ours.recall == 1.0 and case.ours.precision == pytest.approx(1 / 3)
    assert case.bare.recall == 0.0 and case.bare.precision == 1.0
    assert case.bare.published_day_ok and not case.bare.published_ok

    def late(html: bytes, url: str) -> Extracted:
        return Extracted(body="", published=datetime(2024, 3, 5, 9, 45, tzinfo=UTC))

    assert score_page(page, ours=late, bare=late).ours.published_ok is False


def test_report_has_a_line_per_page_and_an_english_subset() -> None:
    text = report(score_corpus(CASES))
    assert "newsdesk" in text and "vereinsblog" in text
    assert "all (2 pages)" in text and "English (1 pages)" in text


def test_cli_runs_both_modes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--snippets", str(CASES)]) == 0
    assert "English (1 pages)" in capsys.readouterr().out
    assert main([str(Path(__file__).parent / "data" / "crawl_quality")]) == 0
    assert "mean over" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="no NAME.html"):
        main(["--snippets", str(tmp_path)])


def test_a_lone_section_h1_does_not_beat_the_title_tag() -> None:
    """Found on a real blog page: the only <h1> named the section, <title> the post."""
    from crawlers._extract import extract_article

    text = "Die Bibliothek öffnet ab April auch samstags, betreut von Ehrenamtlichen. " * 5
    page = (
        "<html><head><title>Neue Öffnungszeiten der Bibliothek | Vereinsblog</title></head><body>"
        f"<h1>Neuigkeiten</h1><h2>Neue Öffnungszeiten der Bibliothek</h2><p>{text}</p></body></html>"
    )
    assert extract_article(page, "https://verein.example/a", min_body_chars=0).title == (
        "Neue Öffnungszeiten der Bibliothek"
    )
    shortened = page.replace("<h1>Neuigkeiten</h1>", "<h1>Neue Öffnungszeiten der Bibliothek ab April</h1>")
    assert extract_article(shortened, "https://verein.example/a", min_body_chars=0).title == (
        "Neue Öffnungszeiten der Bibliothek ab April"
    )
