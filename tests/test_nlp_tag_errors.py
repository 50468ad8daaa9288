"""One article never stops tagging: over-long texts are cut, and a text the tagger fails on fails alone.

A failed article is recorded with its error, skipped by later runs (one attempt,
not one per run), and tried again when the tagger changes or by `regwatch retag`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli
from spacy.language import Language
from spacy.tokens import Doc

import nlp._tagger
from nlp import Tagger
from nlp._tagger import MAX_SENTENCE_CHARS, MAX_TOKEN_CHARS, prepare_text
from nlp._watchlist import Watchlist, default_entries
from regwatch.app import App, pipeline
from regwatch.models import Article

pytestmark = pytest.mark.slow

FILLER = "the regulator said the rules would apply from next year. "


def long_text(chars: int = 1_200_000) -> str:
    """Ofcom at the start, Grok at the end, plain filler between."""
    return "Ofcom opened an investigation.\n\n" + FILLER * (chars // len(FILLER)) + "\n\nGrok was named."


COMPONENT_FAULT = "COMPONENT-FAULT"
TOKENIZER_FAULT = "TOKENIZER-FAULT"


@Language.component("regwatch_test_faulty")
def faulty(doc: Doc) -> Doc:
    """A component with a bug that only one text triggers."""
    if COMPONENT_FAULT in doc.text:
        raise RuntimeError("component broke")
    return doc


@pytest.fixture
def store_engine(searchable_store_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The App's store on each engine (read from the environment); on PostgreSQL, search on the real node."""
    for name, value in searchable_store_settings.items():
        monkeypatch.setenv(f"REGWATCH_{name}", value)


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    """The default tagger, plus a component that breaks on COMPONENT_FAULT (after the linker,
    so the watchlist alone still works)."""
    loaded = Tagger(Watchlist(default_entries())).load()
    loaded.nlp.add_pipe("regwatch_test_faulty", last=True)
    return loaded


class FailingTokenizer:
    """The model's own tokenizer, raising on any text that contains ``marker``.

    Stands in for a component that breaks on one text: the failure happens inside
    spaCy, where a real one would, and every other text is tokenized as usual.
    """

    def __init__(self, tokenizer: Any, marker: str) -> None:
        self.tokenizer = tokenizer
        self.marker = marker
        self.failures = 0

    def __call__(self, text: str) -> Doc:
        if self.marker in text:
            self.failures += 1
            raise ValueError(f"tokenizer broke on {self.marker}")
        return self.tokenizer(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)


@pytest.fixture
def failing_tokenizer(tagger: Tagger) -> Iterator[FailingTokenizer]:
    original = tagger.nlp.tokenizer
    failing = FailingTokenizer(original, TOKENIZER_FAULT)
    tagger.nlp.tokenizer = failing
    yield failing
    tagger.nlp.tokenizer = original


# --- the tagger -------------------------------------------------------------------------


def test_a_text_over_a_million_characters_is_tagged_up_to_the_cap(tagger: Tagger) -> None:
    text = long_text()
    result = tagger.analyse("Long report", text)
    assert not result.error
    assert result.cut_from == len("Long report") + 2 + len(text)
    names = {e.name for e in result.entities}
    assert "Ofcom" in names and "Grok" not in names  # Grok comes after NLP_MAX_CHARS


def test_the_cap_comes_from_nlp_max_chars(tagger: Tagger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tagger, "max_chars", 500)
    short = "Ofcom opened an investigation. " + "x " * 400 + "Grok was named."
    result = tagger.analyse("", short)
    assert result.cut_from == len(short) + 2
    assert [e.name for e in result.entities if e.watched] == ["Ofcom"]
    whole = tagger.analyse("", "Ofcom and Grok.")
    assert whole.cut_from == 0
    assert (
        Tagger.from_settings(
            {"NLP_MODEL": "m", "NLP_BATCH_SIZE": 8, "NLP_MAX_CHARS": 1234}, Watchlist([])
        ).max_chars
        == 1234
    )


def test_prepare_text_breaks_long_runs_and_sentences_and_keeps_every_offset() -> None:
    text = "Ofcom said " + "\U0001f642" * 350 + " then " + "word " * 1000 + "X."
    prepared = prepare_text(text)
    assert len(prepared) == len(text)
    assert max(len(run) for run in prepared.split()) <= MAX_TOKEN_CHARS
    assert max(len(line) for line in prepared.split("\n")) <= MAX_SENTENCE_CHARS
    # only break characters changed: everything else is where it was
    assert all(a == b or b in " \n" for a, b in zip(text, prepared, strict=True))
    assert prepared.startswith("Ofcom said ") and prepared.endswith("X.")
    ordinary = "Ofcom opened an investigation into X. The regulator said so.\n\nMore text."
    assert prepare_text(ordinary) is ordinary
    under = ("a " * (MAX_SENTENCE_CHARS // 2 - 1) + ".") * 3 + (" " + "x" * MAX_TOKEN_CHARS) * 3
    assert prepare_text(under) is under


def test_a_text_that_makes_the_tokenizer_raise_fails_alone_in_its_batch(tagger: Tagger) -> None:
    # A lone surrogate (undecodable input read with surrogateescape) cannot be encoded by spaCy.
    texts = [("", "Ofcom fined X."), ("", "Ofcom \udcff fined Grok."), ("", "Liz Kendall backed Ofcom.")]
    first, broken, last = tagger.analyse_many(texts)
    assert {e.name for e in first.entities if e.watched} == {"Ofcom", "X"}
    assert broken.failed and broken.error.startswith("UnicodeEncodeError") and not broken.entities
    assert {e.name for e in last.entities if e.watched} == {"Liz Kendall", "Ofcom"}


def test_a_component_that_raises_on_one_text_leaves_it_the_watchlists_entities(tagger: Tagger) -> None:
    ok, broken = tagger.analyse_many([("", "Ofcom fined X."), ("", f"{COMPONENT_FAULT}: Ofcom fined Grok.")])
    assert not ok.error and {e.name for e in ok.entities if e.watched} == {"Ofcom", "X"}
    assert broken.fallback and not broken.failed and broken.error == "RuntimeError: component broke"
    assert {e.name for e in broken.entities} == {"Ofcom", "Grok"}


# --- the tag step -----------------------------------------------------------------------


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "regwatch.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    return config


def store(app: App, *articles: tuple[str, str, str]) -> list[Article]:
    stored = [Article(url=url, source_id="news", title=title, body=body) for url, title, body in articles]
    for article in stored:
        app.store.articles.upsert(article)
    return stored


@pytest.mark.usefixtures("store_engine")
def test_run_tags_and_indexes_the_normal_article_beside_a_1_2m_character_one(
    home: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    with App.load(home, config) as app:
        store(
            app,
            ("https://news.example.org/huge", "A very long report", long_text()),
            ("https://news.example.org/fine", "Ofcom fines X", "Ofcom fined X on Monday over Grok."),
        )
    cli = Cli(home=home, config=config)
    summary = cli.json("run")
    assert (summary["articles_tagged"], summary["tag_errors"], summary["indexed"]) == (2, 0, 2)
    hits = cli.json("search", "--entity", "X")["hits"]
    assert [hit["url"] for hit in hits] == ["https://news.example.org/fine"]
    assert cli.json("search", "regulator")["total"] == 1  # the long one is stored and searchable
    assert cli.json("run")["articles_tagged"] == 0


@pytest.mark.usefixtures("store_engine")
def test_a_failed_article_is_recorded_skipped_by_later_runs_and_retried_by_retag(
    home: Path,
    tmp_path: Path,
    tagger: Tagger,
    failing_tokenizer: FailingTokenizer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with App.load(home, write_config(tmp_path)) as app:
        monkeypatch.setattr(App, "tagger", tagger)  # the module's tagger, with the failing tokenizer
        first, broken, last = store(
            app,
            ("https://news.example.org/1", "Ofcom fines X", "Ofcom fined X on Monday."),
            ("https://news.example.org/2", TOKENIZER_FAULT, "Ofcom fined Grok on Tuesday."),
            ("https://news.example.org/3", "Kendall", "Liz Kendall backed Ofcom."),
        )
        with caplog.at_level(logging.ERROR, logger="nlp"):
            outcome = pipeline.tag_pending(app)
        assert (outcome.articles, outcome.failed) == (2, 1)
        assert [r.getMessage() for r in caplog.records] == [
            "source=news url=https://news.example.org/2 tagging failed (ValueError: tokenizer broke on TOKENIZER-FAULT)"
        ]
        assert app.store.articles.get(first.id).entities and app.store.articles.get(last.id).entities
        [error] = app.store.tag_errors.latest()
        assert (error["article_id"], error["error"], error["attempts"], error["fallback"]) == (
            broken.id,
            "ValueError: tokenizer broke on TOKENIZER-FAULT",
            1,
            False,
        )
        assert pipeline.index_pending(app) == 3  # the failed one is still searchable by its text

        # Later runs do not try it again with the same tagger...
        assert pipeline.tag_pending(app).articles == 0
        assert failing_tokenizer.failures == 1
        # ...a new tagger version does, once...
        monkeypatch.setattr(nlp._tagger, "PIPELINE_REVISION", "test-next")
        assert pipeline.tag_pending(app).failed == 1
        assert pipeline.tag_pending(app).failed == 0
        assert failing_tokenizer.failures == 2
        assert app.store.tag_errors.latest()[0]["attempts"] == 2

        # ...and so does `regwatch retag`, which tags it once the fault is gone.
        failing_tokenizer.marker = "no such marker"
        outcome = pipeline.retag(app)
        assert (outcome.retried, outcome.failed) == (1, 0)
        assert app.store.tag_errors.latest() == []
        assert {e.name for e in app.store.articles.get(broken.id).watched_entities()} == {"Ofcom", "Grok"}


@pytest.mark.usefixtures("store_engine")
def test_an_article_tagged_with_the_watchlist_alone_is_stored_and_its_error_recorded(
    home: Path, tmp_path: Path, tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    with App.load(home, write_config(tmp_path)) as app:
        monkeypatch.setattr(App, "tagger", tagger)
        [article] = store(app, ("https://news.example.org/b", COMPONENT_FAULT, "Ofcom fined Grok."))
        outcome = pipeline.tag_pending(app)
        assert (outcome.articles, outcome.failed) == (1, 1)
        assert {e.name for e in app.store.articles.get(article.id).entities} == {"Ofcom", "Grok"}
        [error] = app.store.tag_errors.latest()
        assert error["fallback"] and error["error"] == "RuntimeError: component broke"
        assert pipeline.tag_pending(app).articles == 0  # stored as tagged: not tried again by runs
        assert pipeline.retag(app).retried == 1  # but by `regwatch retag`


# --- regwatch tag -------------------------------------------------------------------------


def test_regwatch_tag_on_a_text_over_a_million_characters_warns_and_tags_it(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text(long_text(), encoding="utf-8")
    result = cli("tag", str(path), "--jsonl")
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["name"] for e in record["entities"] if e["id"]] == ["Ofcom"]
    assert (
        f"warning: {path}: {path.stat().st_size} characters; only the first 200000 are tagged"
        in result.stderr
    )
    assert "Traceback" not in result.output


def test_regwatch_tag_on_stdin_that_is_not_utf8_is_a_one_line_error(home: Path) -> None:
    """A real terminal's stdin decodes bad bytes to lone surrogates, which spaCy cannot encode."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "REGWATCH_HOME": str(home)}
    env.pop("REGWATCH_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", "from regwatch.app.cli import main; main()", "-q", "tag", "-", "--jsonl"],
        input=b"Ofcom fined \xff X.\n",
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == ["error: -: cannot read: not UTF-8 (invalid start byte at 12)"]
