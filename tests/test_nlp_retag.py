"""`regwatch retag`: a changed watchlist reaches the whole archive, incrementally, and search follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Cli

from regwatch.app import App
from regwatch.models import Article

pytestmark = pytest.mark.slow

ARTICLES = [
    ("https://news.example.org/1", "Ofcom fines Acme Social", "Ofcom fined Acme Social \u00a32m on Monday."),
    ("https://news.example.org/2", "Acme Social appeals", "Acme Social said it would appeal the Ofcom fine."),
    ("https://news.example.org/3", "Flood warnings", "Heavy rain is expected across Yorkshire."),
]


def write_config(path: Path, with_acme: bool) -> Path:
    entry = "watchlist:\n  - {id: acme_social, name: Acme Social, type: platform}\n" if with_acme else ""
    path.write_text(entry or "watchlist: []\n", encoding="utf-8")
    return path


def store_articles(home: Path, config: Path) -> None:
    with App.load(home, config) as app:
        for url, title, body in ARTICLES:
            app.store.articles.upsert(Article(url=url, source_id="news", title=title, body=body))


def watched_ids(home: Path, config: Path) -> dict[str, set[str]]:
    """URL -> ids of the watched entities stored for it (articles with any)."""
    with App.load(home, config) as app:
        found = {}
        for url, _, _ in ARTICLES:
            article = app.store.articles.get(Article(url=url, source_id="", title="", body="").id)
            assert article is not None
            ids = {e.entity_id for e in article.entities if e.entity_id}
            if ids:
                found[url] = ids
        return found


def test_retag_applies_a_changed_watchlist_to_the_archive_once(home: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "regwatch.yaml", with_acme=False)
    store_articles(home, config)
    cli = Cli(home=home, config=config)

    first = cli.json("retag")  # nothing tagged yet: the untagged are tagged on the way
    assert (first["stale"], first["retagged"], first["untagged"]) == (0, 0, 3)
    assert watched_ids(home, config) == {ARTICLES[0][0]: {"ofcom"}, ARTICLES[1][0]: {"ofcom"}}

    write_config(config, with_acme=True)
    changed = cli.json("retag")
    assert changed["tagger_version"] != first["tagger_version"]
    assert (changed["stale"], changed["retagged"], changed["untagged"]) == (3, 3, 0)
    assert changed["indexed"] >= 3
    assert watched_ids(home, config) == {
        ARTICLES[0][0]: {"ofcom", "acme_social"},
        ARTICLES[1][0]: {"ofcom", "acme_social"},
    }
    hits = cli.json("search", "--entity", "Acme Social")
    assert sorted(h["url"] for h in hits["hits"]) == [ARTICLES[0][0], ARTICLES[1][0]]

    again = cli.json("retag")
    assert (again["stale"], again["retagged"], again["untagged"], again["indexed"]) == (0, 0, 0, 0)


def test_retag_stores_quotes_and_actions(home: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "regwatch.yaml", with_acme=True)
    store_articles(home, config)
    Cli(home=home, config=config).json("retag")
    with App.load(home, config) as app:
        article = app.store.articles.get(Article(url=ARTICLES[0][0], source_id="", title="", body="").id)
        assert article is not None
        assert [(a.actor, a.action, a.target) for a in article.actions] == [("Ofcom", "fine", "Acme Social")]


def test_retag_prints_a_summary_without_a_terminal(home: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "regwatch.yaml", with_acme=False)
    store_articles(home, config)
    result = Cli(home=home, config=config)("retag")
    assert "retagged 0 of 0 article(s)" in result.stdout and "tagged 3 untagged" in result.stdout


def test_retag_reports_progress_per_batch(home: Path, tmp_path: Path) -> None:
    from regwatch.app import pipeline

    config = write_config(tmp_path / "regwatch.yaml", with_acme=False)
    store_articles(home, config)
    Cli(home=home, config=config).json("retag")
    write_config(config, with_acme=True)
    calls: list[tuple[int, int]] = []
    with App.load(home, config) as app:
        outcome = pipeline.retag(app, batch=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 3), (3, 3)] and outcome.retagged == 3
