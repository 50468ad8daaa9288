"""The Tagger API on the seed article, hand-written cases and the gold set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlp import TAGGER_VERSION, Tagger, load_watchlist, normalise_name
from regwatch.errors import ConfigError
from regwatch.models import Article, TaggedEntity
from regwatch.settings import Settings

SEED = Path(__file__).parent / "data" / "seed_article.txt"  # the customer's seed article
GOLD = Path(__file__).parent / "data" / "nlp_gold.jsonl"


@pytest.fixture(scope="module")
def tagger() -> Iterator[Tagger]:
    """One tagger (one spaCy model load) for the whole module."""
    yield Tagger(load_watchlist(), batch_size=8).load()


@pytest.fixture(scope="module")
def seed_entities(tagger: Tagger) -> dict[str, TaggedEntity]:
    title, body = SEED.read_text(encoding="utf-8").split("\n", 1)
    return {e.name: e for e in tagger.tag(title, body)}


@pytest.mark.parametrize(
    ("name", "entity_id", "entity_type"),
    [
        ("Ofcom", "ofcom", "regulator"),
        ("X", "x", "platform"),
        ("Grok", "grok", "product"),
        ("Keir Starmer", "keir_starmer", "person"),
        ("Liz Kendall", "liz_kendall", "person"),
        ("Nigel Farage", "nigel_farage", "person"),
        ("Elon Musk", "elon_musk", "person"),
        ("Online Safety Act", "online_safety_act", "law"),
    ],
)
def test_seed_watched_entities_are_found_and_linked(
    seed_entities: dict[str, TaggedEntity], name: str, entity_id: str, entity_type: str
) -> None:
    entity = seed_entities[name]
    assert entity.entity_id == entity_id and entity.type == entity_type and entity.watched


def test_seed_keir_starmer_mentions_include_sir_keir_and_the_prime_minister(
    seed_entities: dict[str, TaggedEntity],
) -> None:
    starmer = seed_entities["Keir Starmer"]
    assert starmer.mentions == ["Keir Starmer", "Prime Minister", "Sir Keir"]
    assert starmer.count == 4 and starmer.first_position == 0 and starmer.in_title


def test_seed_politics_uk_is_not_watched(seed_entities: dict[str, TaggedEntity]) -> None:
    assert not any(e.watched and ("Politics" in e.name or e.name == "UK") for e in seed_entities.values())
    assert not seed_entities["Politics UK"].watched


def test_seed_counts_and_salience(seed_entities: dict[str, TaggedEntity]) -> None:
    assert seed_entities["X"].count == 6 and seed_entities["X"].mentions == ["X"]
    assert seed_entities["Grok"].count == 6
    assert all(0.0 <= e.salience <= 1.0 for e in seed_entities.values())
    # Grok: often, early and in the title; Nigel Farage: once, late.
    assert seed_entities["Grok"].salience > seed_entities["Nigel Farage"].salience


def test_first_position_is_an_offset_into_title_and_body(tagger: Tagger) -> None:
    title, body = (
        "Regulator acts",
        "Last week Ofcom opened an investigation into Meta. Ofcom said more would follow.",
    )
    (ofcom,) = [e for e in tagger.tag(title, body) if e.name == "Ofcom"]
    text = title + "\n\n" + body
    assert text[ofcom.first_position : ofcom.first_position + 5] == "Ofcom"
    assert ofcom.count == 2 and not ofcom.in_title


def test_title_entities_are_in_title_and_more_salient(tagger: Tagger) -> None:
    entities = {
        e.name: e
        for e in tagger.tag("Ofcom fines TikTok", "The regulator said Meta was also being examined.")
    }
    assert entities["Ofcom"].in_title and entities["TikTok"].in_title and not entities["Meta"].in_title
    assert entities["Ofcom"].salience > entities["Meta"].salience


def test_unwatched_entities_are_normalised_and_deduplicated(tagger: Tagger) -> None:
    body = (
        "The BBC's director general met the Home Office on Monday. "
        "A BBC spokesperson said talks with the Home Office would continue in London."
    )
    entities = tagger.tag("", body)
    unwatched = {(e.name, e.type) for e in entities if not e.watched}
    assert (
        ("BBC", "ORG") in unwatched and ("Home Office", "ORG") in unwatched and ("London", "GPE") in unwatched
    )
    assert [e.count for e in entities if e.name == "BBC"] == [2]
    assert not any(e.type in {"DATE", "CARDINAL", "TIME"} for e in entities)
    assert all(e.entity_id is None for e in entities if not e.watched)


def test_normalise_name() -> None:
    assert normalise_name("the  Home Office's") == "Home Office"
    assert normalise_name("Ofcom\u2019s") == "Ofcom"
    assert normalise_name("Jones'") == "Jones"


def test_twitter_is_tagged_as_x_and_musks_as_elon_musk(tagger: Tagger) -> None:
    entities = {
        e.name: e for e in tagger.tag("", "Twitter users said Musk's changes had made the site worse.")
    }
    assert entities["X"].mentions == ["Twitter"] and entities["X"].entity_id == "x"
    assert entities["Elon Musk"].mentions == ["Musk"]


def test_tag_many_keeps_order_across_batches(tagger: Tagger) -> None:
    items = [("", f"Story {i}: Ofcom fined TikTok.") for i in range(5)] + [("", "Meta appealed.")]
    results = list(tagger.tag_many(items))
    assert len(results) == 6
    assert all({"Ofcom", "TikTok"} <= {e.name for e in r} for r in results[:5])
    assert {e.name for e in results[5] if e.watched} == {"Meta"}


def test_tag_articles_fills_entities(tagger: Tagger) -> None:
    articles = [
        Article(
            url="https://example.org/a", source_id="test", title="Ofcom acts", body="X was fined by Ofcom."
        ),
        Article(url="https://example.org/b", source_id="test", title="Weather", body="Rain in Leeds."),
    ]
    tagger.tag_articles(articles)
    assert {e.name for e in articles[0].watched_entities()} == {"Ofcom", "X"}
    assert articles[1].watched_entities() == []


def test_tagger_loads_lazily_and_reports_a_missing_model() -> None:
    lazy = Tagger(load_watchlist(include_default=False), model="no_such_model_xyz")  # no error yet
    with pytest.raises(ConfigError, match="spaCy model 'no_such_model_xyz' is not installed"):
        lazy.tag("title", "body")


def test_from_settings_reads_nlp_settings() -> None:
    settings = Settings(env={}, overrides={"NLP_MODEL": "en_core_web_sm", "NLP_BATCH_SIZE": 7})
    tagger = Tagger.from_settings(settings, load_watchlist())
    assert tagger.model == "en_core_web_sm" and tagger.batch_size == 7


def test_version_changes_with_the_watchlist_and_the_model() -> None:
    default = Tagger(load_watchlist())
    assert default.version == TAGGER_VERSION
    extra = load_watchlist(inline=[{"id": "acme", "name": "Acme", "type": "company"}])
    assert Tagger(extra).version != TAGGER_VERSION
    assert Tagger(load_watchlist(), model="en_core_web_sm").version != TAGGER_VERSION


def test_gold_set_precision_and_recall(tagger: Tagger) -> None:
    """Document-level precision and recall on watched canonical names over the gold set."""
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 60
    assert sum(1 for row in rows if not row["watched"]) >= 20  # hard negatives
    true_pos = false_pos = false_neg = 0
    errors = []
    for row, entities in zip(rows, tagger.tag_many(("", row["text"]) for row in rows), strict=True):
        found = {e.name for e in entities if e.watched}
        expected = set(row["watched"])
        true_pos += len(found & expected)
        false_pos += len(found - expected)
        false_neg += len(expected - found)
        if found != expected:
            errors.append((row["text"][:60], sorted(found - expected), sorted(expected - found)))
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    print(
        f"gold: {len(rows)} docs, tp={true_pos} fp={false_pos} fn={false_neg}, P={precision:.3f} R={recall:.3f}"
    )
    assert precision >= 0.95, errors
    assert recall >= 0.95, errors
