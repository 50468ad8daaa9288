"""A desk over a small archive built for the web tests: sources, watched and other entities, quotes,
actions, a story told twice, and an article whose every field is an XSS probe.

``desk_home`` writes the config and fills the store directly (no crawl, no spaCy):
the pages read what the store holds, whoever wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from indexer import Store
from regwatch.models import Action, Article, Quote, Source, TaggedEntity

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'

CONFIG = """\
sources:
  - {id: ofcom-news, name: Ofcom news, kind: feed, url: "https://ofcom.example/news", type: regulator, jurisdiction: UK}
  - {id: gov, name: GOV.UK DSIT, kind: feed, url: "https://gov.example/feed", type: government, jurisdiction: UK}
  - {id: press, name: The Daily Press, kind: feed, url: "https://press.example/rss", type: news, jurisdiction: UK}
  - {id: eu-wire, name: EU Wire, kind: feed, url: "https://wire.example/rss", type: news, jurisdiction: EU}
include_default_sources: false
"""
SOURCES = {
    "ofcom-news": Source("ofcom-news", "Ofcom news", "feed", "https://ofcom.example/news", "regulator", "UK"),
    "gov": Source("gov", "GOV.UK DSIT", "feed", "https://gov.example/feed", "government", "UK"),
    "press": Source("press", "The Daily Press", "feed", "https://press.example/rss", "news", "UK"),
    "eu-wire": Source("eu-wire", "EU Wire", "feed", "https://wire.example/rss", "news", "EU"),
}


def watched(entity_id: str, name: str, kind: str, salience: float = 0.8) -> TaggedEntity:
    return TaggedEntity(name, kind, [name], entity_id, 2, 0, True, salience)


def other(name: str, kind: str = "ORG") -> TaggedEntity:
    return TaggedEntity(name, kind, [name], None, 1, 40, False, 0.2)


OFCOM = watched("ofcom", "Ofcom", "regulator")
X = watched("x", "X", "platform", 0.7)
GROK = watched("grok", "Grok", "product", 0.6)
KENDALL = watched("liz_kendall", "Liz Kendall", "person", 0.5)
STORY_BODY = (
    "Ofcom has opened a formal investigation into X over the Grok chatbot under the Online Safety Act.\n"
    "The regulator said it would examine whether the platform assessed the risk of illegal content.\n"
    "A spokesperson for X said the company would cooperate fully with the investigation."
)

# key -> (source, title, summary, body, published, entities, quotes, actions, language)
ARTICLES: dict[str, tuple[Any, ...]] = {
    "investigation": (
        "ofcom-news",
        "Ofcom opens investigation into X over Grok",
        "The regulator opens a formal investigation.",
        STORY_BODY,
        T0,
        [OFCOM, X, GROK, other("Acme Social")],
        [Quote("We will not hesitate to act where platforms fail", "Ofcom", "ofcom", 10)],
        [
            Action(
                "Ofcom", "investigation", "X", "ofcom", "x", "Ofcom has opened a formal investigation into X."
            )
        ],
        "en",
    ),
    "investigation-copy": (
        "press",
        "Regulator investigates X (wire copy)",
        "",
        STORY_BODY,
        T0 + timedelta(hours=3),
        [OFCOM, X, GROK],
        [],
        [],
        "en",
    ),
    "statement": (
        "gov",
        "Technology Secretary statement on X and Grok",
        "Liz Kendall welcomes the investigation.",
        "Liz Kendall said Ofcom has the government's full backing.\n"
        "Boris Johnson, the former prime minister, said little about Grok.",
        T0 + timedelta(days=1),
        [KENDALL, OFCOM, GROK, other("Boris Johnson", "PERSON")],
        [Quote("Ofcom has our full backing to act on Grok", "Liz Kendall", "liz_kendall", 5)],
        [],
        "en",
    ),
    "fine": (
        "ofcom-news",
        "Ofcom fines Acme Social for age checks",
        "",
        "Ofcom imposed a fine of 1 million pounds on Acme Social for failing to check ages.",
        T0 + timedelta(days=8),
        [OFCOM, other("Acme Social")],
        [],
        [Action("Ofcom", "fine", "Acme Social", "ofcom", None, "Ofcom imposed a fine on Acme Social.")],
        "en",
    ),
    "eu": (
        "eu-wire",
        "La Commission examine Grok",
        "",
        "La Commission européenne examine le chatbot Grok de X.",
        T0 + timedelta(days=20),
        [GROK, X],
        [],
        [],
        "fr",
    ),
    "probe": (
        "press",
        XSS + " headline",
        XSS,
        "Body with markup " + XSS + " and the word fine.\nSecond paragraph & more <b>bold</b>.",
        T0 + timedelta(days=30),
        [other(XSS)],
        [Quote(XSS, XSS, None, 3)],
        [Action(XSS, "ban", XSS, None, None, XSS)],
        "en",
    ),
}


def url_of(key: str) -> str:
    return "javascript:alert(1)" if key == "probe" else f"https://{key}.example/story"


def article_of(key: str) -> Article:
    source, title, summary, body, published, *_rest, language = ARTICLES[key]
    return Article(
        url=url_of(key),
        source_id=source,
        title=title,
        summary=summary,
        body=body,
        published=published,
        language=language,
    )


def id_of(key: str) -> str:
    return article_of(key).id


def fill_store(store: Store) -> None:
    """Write the archive above into ``store`` (either engine)."""
    for key, (*_, entities, quotes, actions, _language) in ARTICLES.items():
        store.articles.upsert(article_of(key), seen_at=T0)
        store.articles.set_entities(id_of(key), entities, "test", quotes=quotes, actions=actions)
    store.search.index_pending()


def fill_desk_store(path: Path) -> None:
    with Store.open(path, sources=SOURCES) as store:
        fill_store(store)


@pytest.fixture
def desk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A regwatch home with the archive above and its config (``desk.yaml``)."""
    monkeypatch.delenv("REGWATCH_CONFIG", raising=False)
    monkeypatch.delenv("REGWATCH_HOME", raising=False)
    monkeypatch.delenv("REGWATCH_INDEX_URL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    (home / "desk.yaml").write_text(CONFIG, encoding="utf-8")
    fill_desk_store(home / "regwatch.db")
    return home


def desk_client(home: Path, **overrides: Any) -> Any:
    """A TestClient over the desk of ``home`` (use it as a context manager: it opens and closes the store)."""
    from fastapi.testclient import TestClient

    from regwatch.app import App
    from regwatch.app.desk import AppDesk
    from web import create_app

    app = App.load(home, home / "desk.yaml", overrides=overrides or None)
    return TestClient(create_app(AppDesk(app)))


@pytest.fixture
def client(desk_home: Path) -> Iterator[Any]:
    with desk_client(desk_home) as opened:
        yield opened
