"""The extraction harness: corpus layouts, gold parsing, splits, scoring and the CLI's verdict.

Real corpora stay outside the repository; the layouts here are tiny copies written by
hand, one per reader, so that each reader is pinned without third-party pages.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from benchmarks.extraction import __main__ as cli
from benchmarks.extraction import run as run_module
from benchmarks.extraction.corpora import html_text, read_corpus, readability_byline_names
from benchmarks.extraction.scoring import (
    authors_f1,
    body_prf,
    normalise,
    published_ok,
    snippet_scores,
    title_ok,
)
from benchmarks.extraction.sides import Extracted
from benchmarks.extraction.splits import hash_split, record, split_of

SNIPPETS = Path(__file__).parent / "data" / "crawl_snippets"
PARAGRAPH = "The regulator opened an investigation into the platform after complaints from parents. " * 4


def test_snippets_match_across_case_spacing_and_unicode_forms() -> None:
    assert normalise("Die  GEMA\u00a0dreht\nvöllig") == "die gema dreht völlig"
    body = "The watchdog FINED the operator\n\n£2.4m in total.\u00a0Related stories follow."
    recall, precision = snippet_scores(
        body, ["fined the operator £2.4m", "not there"], ["Related stories", "Imprint"]
    )
    assert (recall, precision) == (0.5, 0.5)
    assert snippet_scores("", [], []) == (1.0, 1.0)


def test_soft_hyphens_count_on_neither_side() -> None:
    """Some golds keep the page's soft hyphens, some extractors drop them: neither is more text."""
    gold = "Genesenen\u00ad\u00adnachweise werden verlangt"
    assert snippet_scores("Genesenennachweise werden verlangt", [gold], []) == (1.0, 1.0)
    assert title_ok("Impf- und Genesenennachweise", "Impf- und Genesenen\u00adnachweise")
    assert (
        body_prf("Ann Kiess\u00adling hat viele Entdeckungen", "Ann Kiessling hat viele Entdeckungen")[2]
        == 1.0
    )
    assert authors_f1(["Ann Kiessling"], ["Ann Kiess\u00adling"]) == 1.0


def test_a_published_time_is_met_to_the_minute_and_a_day_by_its_day() -> None:
    gold = "2024-03-05T09:30:00+00:00"
    assert published_ok(datetime(2024, 3, 5, 9, 30, 40, tzinfo=UTC), gold)
    assert not published_ok(datetime(2024, 3, 5, 9, 45, tzinfo=UTC), gold)
    assert not published_ok(date(2024, 3, 5), gold)  # a day never meets an instant
    assert published_ok(date(2024, 3, 5), "2024-03-05")
    assert published_ok(datetime(2024, 3, 5, 23, 0, tzinfo=UTC), "2024-03-05")
    assert published_ok(datetime(2018, 4, 5, 6, 0, tzinfo=UTC), "2018-04-05T06:00")  # naive: UTC
    # A page's shown day is local: 01:06 UTC on 8 May is 7 May in Lima, 9 May is no zone's 7 May.
    assert published_ok(datetime(2022, 5, 8, 1, 6, tzinfo=UTC), "2022-05-07")
    assert not published_ok(datetime(2022, 5, 9, 1, 6, tzinfo=UTC), "2022-05-07")


def test_html_text_keeps_one_block_per_line_so_words_never_glue() -> None:
    text = html_text("<div><p>One <b>bold</b>.</p><p>Second</p><ul><li>a</li><li>b</li></ul></div>")
    assert text == "One bold.\n\nSecond\n\na\n\nb"


def test_readability_bylines_give_the_names_they_list() -> None:
    assert readability_byline_names("By Stella Kim, Jennifer Jett") == ["Stella Kim", "Jennifer Jett"]
    assert readability_byline_names("By\n\t\t\tScott Cunningham") == ["Scott Cunningham"]
    assert readability_byline_names("Par Sébastien Farcis") == ["Sébastien Farcis"]
    assert readability_byline_names("By Brenda  Goodman, MA\nWebMD") == ["Brenda  Goodman"]
    assert readability_byline_names("Martin Untersinger (avec Damien Leloup)") == ["Martin Untersinger"]


def _readability_corpus(root: Path) -> Path:
    pages = root / "test" / "test-pages"
    for name, byline in (("news-1", "By Ann Lee and Bo Chan"), ("tiny", None), ("bbc-1", "BBC News")):
        folder = pages / name
        folder.mkdir(parents=True)
        filler = "<!-- padding -->" * (0 if name == "tiny" else 400)
        (folder / "source.html").write_text(
            f"<html><head><title>T {name}</title></head><body>{filler}<p>{PARAGRAPH}</p></body></html>"
        )
        (folder / "expected.html").write_text(f"<div><p>{PARAGRAPH}</p><p>Second paragraph.</p></div>")
        meta = {"title": f"T {name}", "byline": byline, "publishedTime": "2019-01-03T07:00:02.000Z"}
        (folder / "expected-metadata.json").write_text(json.dumps(meta))
    return root


def test_readability_layout_reads_real_pages_and_their_gold(tmp_path: Path) -> None:
    kind, pages = read_corpus(_readability_corpus(tmp_path / "readability"))
    assert kind == "readability"
    by_id = {page.id: page for page in pages}
    assert set(by_id) == {"news-1", "bbc-1"}  # a page under 5 kB is one of the project's feature tests
    news = by_id["news-1"]
    assert news.body.endswith("\n\nSecond paragraph.")
    assert news.authors == ["Ann Lee", "Bo Chan"]
    assert news.title is None  # Readability's titles are its own guesses: not scored
    assert news.published == "2019-01-03T07:00:02.000Z"
    assert by_id["bbc-1"].authors is None  # a byline naming the publisher is not scored


def test_l3s_layout_takes_full_text_blocks_and_the_first_headline(tmp_path: Path) -> None:
    base = tmp_path / "page-signal" / "L3S-GN1-x"
    (base / "original").mkdir(parents=True)
    (base / "annotated").mkdir()
    page_id = "01ccc7c5-a1d1-46e1-a5f7-43310df16575"
    (base / "url-mapping.txt").write_text(f"<urn:uuid:{page_id}>\thttp://news.example/a.html\n")
    (base / "original" / f"{page_id}.html").write_text(
        f"<html><body><h1>Kosovo’s future</h1><p>{PARAGRAPH}</p></body></html>"
    )
    (base / "annotated" / f"{page_id}.html").write_text(
        '<html><body><span class="x-nc-sel0">Home News</span>'
        '<h1><span class="x-nc-sel1">Kosovo?s future</span></h1>'
        f'<p><span class="x-nc-sel2">{PARAGRAPH}<span class="x-nc-sel2">Mr. RÃ¼cker said.</span></span></p>'
        '<p><span class="x-nc-sel2">Second block.</span></p>'
        '<p><span class="x-nc-sel4">Related story</span></p></body></html>',
        encoding="utf-8",
    )
    kind, pages = read_corpus(tmp_path / "page-signal")
    assert kind == "l3s-gn1"
    (page,) = pages
    assert page.url == "http://news.example/a.html"
    assert page.body == PARAGRAPH.strip() + " Mr. Rücker said.\n\nSecond block."
    assert page.title == "Kosovo?s future" and page.title_wildcard
    scores = run_module.score_side(Extracted(body=page.body, title="Kosovo’s future"), page)
    assert scores.title_ok and scores.f1 == 1.0


def test_trafilatura_eval_layout_reads_snippets_and_checked_metadata(tmp_path: Path) -> None:
    tests = tmp_path / "trafilatura" / "tests"
    (tests / "eval").mkdir(parents=True)
    (tests / "eval" / "a.html").write_text(f"<html><body><p>{PARAGRAPH}</p></body></html>")
    data = {
        "https://blog.example/a": {
            "file": "a.html",
            "with": ["opened an investigation"],
            "without": ["Impressum"],
            "title": "A",
            "author": "Ann Lee; Bo Chan",
            "date": "2022-01.26",
        },
        "https://blog.example/missing": {"file": "missing.html", "with": [], "without": []},
    }
    (tests / "evaldata.json").write_text(json.dumps(data))
    kind, pages = read_corpus(tmp_path / "trafilatura")
    assert kind == "trafilatura-eval"
    (page,) = pages  # a listed page whose file is absent is skipped
    assert page.with_ == ["opened an investigation"] and page.body is None
    assert page.authors == ["Ann Lee", "Bo Chan"]
    assert page.published is None  # a malformed gold date is not scored


def test_splits_are_fixed_by_hash_and_the_record_wins(tmp_path: Path) -> None:
    ids = [f"page-{i}" for i in range(200)]
    splits = [hash_split("corpus", i) for i in ids]
    assert splits == [hash_split("corpus", i) for i in ids]
    assert 70 < splits.count("dev") < 130
    path = tmp_path / "splits.json"
    record("corpus", ids, "https://example.org/repo", "abc123", path)
    recorded = json.loads(path.read_text())
    assert recorded["corpus"]["commit"] == "abc123"
    assert set(recorded["corpus"]["dev"]) | set(recorded["corpus"]["test"]) == set(ids)
    flipped = {"corpus": {"dev": ["page-0"], "test": []}}
    assert split_of("corpus", "page-0", flipped) == "dev"


def test_cli_reports_both_sides_per_split(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([str(SNIPPETS), "--worst", "2"]) == 0
    out = capsys.readouterr().out
    assert "crawl_snippets" in out and "regwatch" in out and "trafilatura" in out
    assert "body judged by snippets" in out
    assert "crawl_snippets/newsdesk" in out or "crawl_snippets/vereinsblog" in out


def test_cli_fails_when_regwatch_is_below_trafilatura(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_module, "regwatch_side", lambda html, url, **_: Extracted(body=""))
    assert cli.main([str(SNIPPETS)]) == 1
    err = capsys.readouterr().err
    assert "regwatch below bare trafilatura on crawl_snippets" in err and "empty bodies" in err


def test_cli_says_what_it_cannot_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main([str(tmp_path)]) == 2
    assert "not a corpus this harness reads" in capsys.readouterr().err
    assert cli.main([str(tmp_path / "absent")]) == 2


def test_a_clone_at_another_commit_is_flagged(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import subprocess

    corpus = _readability_corpus(tmp_path / "readability")
    subprocess.run(["git", "init", "-q", str(corpus)], check=True)
    subprocess.run(["git", "-C", str(corpus), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(corpus), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        check=True,
    )
    cli._check_commit("readability", corpus, {"readability": {"commit": "0" * 40}})
    assert "the figures were measured at 000000000000" in capsys.readouterr().err


MERCURY_TEST = """
describe('WwwExampleComExtractor', () => {
  describe('initial test case', () => {
    beforeAll(() => {
      url =
        'https://www.example.com/2016/11/29/story';
      const html = fs.readFileSync('./fixtures/www.example.com.html');
    });
    it('returns the title', async () => {
      assert.equal(
        title,
        'Regulator\\u2019s "review" ' +
          'opens'
      );
    });
    it('returns the author', async () => {
      assert.equal(author, 'Julia Carrie Wong and Sam Levin');
    });
    it('returns the date_published', async () => {
      assert.equal(date_published, '2016-11-29T20:26:06.000Z');
    });
  });
  describe('a second page', () => {
    beforeAll(() => {
      url = 'https://www.example.com/feature';
      const html = fs.readFileSync('./fixtures/www.example.com--feature.html');
    });
    it('returns the author', async () => {
      assert.equal(author, null);
    });
  });
});
"""


def test_mercury_layout_reads_the_values_its_tests_assert(tmp_path: Path) -> None:
    clone = tmp_path / "parser"
    tests = clone / "src" / "extractors" / "custom" / "www.example.com"
    tests.mkdir(parents=True)
    (tests / "index.test.js").write_text(MERCURY_TEST)
    (clone / "fixtures").mkdir()
    saved = '<html><head><meta value="2016-11-29T20:26:06Z" name="article:published_time"></head></html>'
    (clone / "fixtures" / "www.example.com.html").write_text(saved)
    (clone / "fixtures" / "www.example.com--feature.html").write_text("<html></html>")

    kind, pages = read_corpus(clone)
    assert kind == "mercury"
    feature, story = pages
    assert story.url == "https://www.example.com/2016/11/29/story"
    assert story.title == 'Regulator\u2019s "review" opens'  # literals joined, escapes read
    assert story.authors == ["Julia Carrie Wong", "Sam Levin"]
    assert story.published == "2016-11-29T20:26:06.000Z"
    assert story.body is None and not story.with_  # no body gold: only the metadata is scored
    assert b'content="2016-11-29T20:26:06Z"' in story.html()  # the saved meta tag as the publisher wrote it
    assert (feature.url, feature.authors, feature.title) == ("https://www.example.com/feature", [], None)
