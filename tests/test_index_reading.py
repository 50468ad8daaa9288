"""What a web desk reads from the store besides search: articles in bulk, entity spellings, story members
(on both store engines)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from test_index_search import SOURCES, fill, id_of

from indexer import Store
from regwatch.models import Article, TaggedEntity


@pytest.fixture
def store(open_store: Callable[..., Store]) -> Iterator[Store]:
    with open_store(sources=SOURCES) as opened:
        yield fill(opened)


def test_get_many_returns_the_stored_articles_in_the_order_asked(store: Store) -> None:
    found = store.articles.get_many([id_of("cma"), "missing", id_of("fine"), id_of("cma")])
    assert [a.id for a in found] == [id_of("cma"), id_of("fine")]
    assert [e.name for e in found[1].entities] == ["Acme Social", "Ofcom"]
    assert store.articles.get_many([]) == []


def test_entity_labels_give_a_stored_spelling_of_each_normalised_name(store: Store) -> None:
    late = Article(url="https://news.example/late", source_id="press", title="ACME", body="ACME SOCIAL again")
    store.articles.upsert(late)
    store.articles.set_entities(late.id, [TaggedEntity("ACME SOCIAL", "ORG", ["ACME SOCIAL"])], "test")
    assert store.articles.entity_labels(["acme social", "Acme  SOCIAL", "nobody"]) == {
        "acme social": "Acme Social"  # the first article's spelling
    }


def test_story_members_list_every_copy_without_its_text(store: Store) -> None:
    body = "The regulator fined the company for failing to protect children online, the statement said. " * 3
    first = Article(url="https://wire.example/a", source_id="press", title="Fine", body=body)
    copy = Article(url="https://mirror.example/a", source_id="cma", title="Fine (copy)", body=body)
    store.articles.upsert(first)
    store.articles.upsert(copy)
    members = store.stories.members([first.id, id_of("fine"), ""])
    assert [(m.id, m.source, m.title) for m in members[first.id]] == [
        (first.id, "press", "Fine"),
        (copy.id, "cma", "Fine (copy)"),
    ]
    assert [m.id for m in members[id_of("fine")]] == [id_of("fine")]
    assert all(m.snippet == "" for m in members[first.id])
