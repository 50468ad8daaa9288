"""Full-text search: the query syntax, filters, ranking, the JSON shape, and keeping the index current."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from indexer import SearchQuery, SearchResult, Store
from regwatch.errors import QueryError
from regwatch.models import Article, Source, TaggedEntity
from regwatch.sources import ListingSelectors

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

OFCOM = TaggedEntity("Ofcom", "regulator", ["Ofcom"], "ofcom", 3, 0, True, 0.9)
CMA = TaggedEntity("Competition and Markets Authority", "regulator", ["CMA"], "cma", 2, 0, True, 0.8)
ACME = TaggedEntity("Acme Social", "ORG", ["Acme Social"], None, 1, 30, False, 0.3)

# id -> (source, title, summary, body, published, entities)
CORPUS: dict[str, tuple[str, str, str, str, datetime | None, list[TaggedEntity]]] = {
    "fine": (
        "ofcom",
        "Ofcom fines Acme Social over age checks",
        "A penalty under the Online Safety Act.",
        "Ofcom imposed a fine on Acme Social for failing to check ages under the Online Safety Act.",
        T0,
        [ACME, OFCOM],
    ),
    "cma": (
        "cma",
        "CMA consults on cloud market remedies",
        "The CMA wants views on remedies.",
        "The Competition and Markets Authority opened a consultation on the cloud market and egress fees.",
        T0 + timedelta(days=1),
        [CMA],
    ),
    "cafe": (
        "press",
        "Regulators meet at the café",
        "A summary.",
        "Regulators from Ofcom and the CMA met to discuss online safety cooperation, not fines.",
        T0 + timedelta(days=2),
        [OFCOM, CMA],
    ),
    "consult": (
        "ofcom",
        "Ofcom consultation on safety codes",
        "Codes of practice.",
        "Ofcom launched a consultation on illegal harms codes of practice for online services.",
        datetime(2024, 5, 4, 23, 59, tzinfo=UTC),
        [OFCOM],
    ),
    "undated": (
        "press",
        "Penalty notice for a telecoms provider",
        "",
        "A regulator announced a penalty notice; the date of the notice was not published.",
        None,
        [],
    ),
}
UNDATED_SEEN = T0 + timedelta(days=5)


def url_of(key: str) -> str:
    return f"https://news.example/{key}"


def id_of(key: str) -> str:
    return Article(url=url_of(key), source_id="", title="", body="").id


def article(key: str, **changes: object) -> Article:
    source, title, summary, body, published, _ = CORPUS[key]
    fields: dict[str, object] = {
        "url": url_of(key),
        "source_id": source,
        "title": title,
        "summary": summary,
        "body": body,
        "published": published,
    }
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


SOURCES = {
    "ofcom": Source(
        "ofcom",
        "Ofcom",
        "listing",
        "https://ofcom.example",
        "regulator",
        "UK",
        selectors=ListingSelectors(link="a"),
    ),
    "cma": Source("cma", "CMA", "feed", "https://cma.example", "regulator", "UK"),
    "press": Source("press", "Press", "feed", "https://press.example", "news", "EU"),
}


def fill(store: Store) -> Store:
    """Store and index the corpus (the cluster tests reuse it); "cafe" is in French.

    Open the store with ``sources=SOURCES``: the type and jurisdiction filters read them.
    """
    for key, (*_, entities) in CORPUS.items():
        seen = UNDATED_SEEN if key == "undated" else T0
        store.articles.upsert(article(key, language="fr" if key == "cafe" else "en"), seen_at=seen)
        store.articles.set_entities(id_of(key), entities, "test")
    # PostgreSQL has no embedded index to fill: its search is the cluster's.
    assert store.search.index_pending() == (len(CORPUS) if store.engine == "sqlite" else 0)
    return store


@pytest.fixture(autouse=True)
def eager_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the search columns on the first search, however narrow (see SqliteSearch._matches)."""
    monkeypatch.setattr("indexer._search.COLUMNS_AFTER_MATCHES", -1)


@pytest.fixture(params=["columns", "sql"])
def store(tmp_path: Path, request: pytest.FixtureRequest):
    """The corpus, searched through the in-memory columns or in SQL alone: the same answers."""
    with Store.open(
        tmp_path / "regwatch.db", sources=SOURCES, search_columns=request.param == "columns"
    ) as opened:
        yield fill(opened)


def keys(result: SearchResult) -> set[str]:
    by_id = {id_of(k): k for k in CORPUS}
    return {by_id[hit.id] for hit in result.hits}


def test_words_are_anded(store: Store) -> None:
    assert keys(store.search.search(SearchQuery("ofcom consultation"))) == {"consult"}


def test_a_quoted_phrase_must_appear_in_order(store: Store) -> None:
    assert keys(store.search.search(SearchQuery('"online safety act"'))) == {"fine"}
    assert keys(store.search.search(SearchQuery('"safety online"'))) == set()


def test_or_joins_alternatives_and_binds_tighter_than_and(store: Store) -> None:
    assert keys(store.search.search(SearchQuery("fine OR egress"))) == {"fine", "cma"}
    # ofcom AND (remedies OR codes)
    assert keys(store.search.search(SearchQuery("ofcom remedies OR codes"))) == {"consult"}


def test_a_leading_minus_or_not_excludes(store: Store) -> None:
    assert keys(store.search.search(SearchQuery("ofcom -consultation"))) == {"fine", "cafe"}
    assert keys(store.search.search(SearchQuery("ofcom NOT consultation"))) == {"fine", "cafe"}
    assert keys(store.search.search(SearchQuery('ofcom -"online safety"'))) == {"consult"}


def test_a_trailing_star_searches_a_prefix(store: Store) -> None:
    assert keys(store.search.search(SearchQuery("regulat*"))) == {"cafe", "undated"}
    assert keys(store.search.search(SearchQuery("consult*"))) == {"cma", "consult"}


def test_diacritics_and_case_do_not_matter(store: Store) -> None:
    assert keys(store.search.search(SearchQuery("CAFE"))) == {"cafe"}
    assert keys(store.search.search(SearchQuery("café"))) == {"cafe"}


def test_fts5_syntax_in_user_text_is_searched_as_plain_words(store: Store) -> None:
    # "title:" would be a column filter and NEAR an operator if passed through raw.
    assert keys(store.search.search(SearchQuery("title:cloud"))) == set()
    assert keys(store.search.search(SearchQuery("NEAR ofcom"))) == set()
    assert keys(store.search.search(SearchQuery("cloud AND egress"))) == {"cma"}
    assert keys(store.search.search(SearchQuery("AT&T ofcom"))) == set()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('"unbalanced', "unbalanced double quote"),
        ("AND", "AND needs a word"),
        ("ofcom OR", "OR needs a word"),
        ("NOT", "NOT must be followed"),
        ("*", "'*' must follow"),
        ("off*com", "'*' can only end a word"),
        ("NEAR(ofcom fine)", "parentheses are not supported"),
        ("NEAR(", "parentheses are not supported"),
        ("-ofcom", "at least one word that is not excluded"),
        ("ofcom OR -fine", "OR cannot join an excluded term"),
        ('""', "has no words"),
        ("&& --", "nothing to search for"),
    ],
)
def test_malformed_queries_are_query_errors_that_say_what_is_wrong(
    store: Store, text: str, complaint: str
) -> None:
    with pytest.raises(QueryError, match=complaint) as raised:
        store.search.search(SearchQuery(text))
    assert "sqlite" not in str(raised.value).lower()


def test_entity_filter_matches_canonical_name_or_id_case_insensitively(store: Store) -> None:
    assert keys(store.search.search(SearchQuery(entity="ofcom"))) == {"fine", "cafe", "consult"}
    assert keys(store.search.search(SearchQuery(entity="OFCOM"))) == {"fine", "cafe", "consult"}
    assert keys(store.search.search(SearchQuery(entity="competition and markets  AUTHORITY"))) == {
        "cma",
        "cafe",
    }
    assert keys(store.search.search(SearchQuery(entity="CMA"))) == {"cma", "cafe"}  # the id


def test_entity_filter_matches_an_unwatched_entity_by_normalised_name(store: Store) -> None:
    assert keys(store.search.search(SearchQuery(entity="acme social"))) == {"fine"}
    assert keys(store.search.search(SearchQuery(entity="Acme"))) == set()


def test_text_with_an_entity_filter_matches_the_same_whichever_side_is_smaller(store: Store) -> None:
    # The store tests the entity per text match when the text is the smaller side, and
    # builds the entity's article list otherwise: both ways must give the same hits.
    narrow_text = SearchQuery("penalty", entity="OFCOM")  # 2 text matches, 3 Ofcom articles
    broad_text = SearchQuery("ofcom", entity="acme social")  # 3 text matches, 1 Acme article
    with store.search._db.transaction(write=False) as conn:
        assert store.search._probe_entity(conn, narrow_text, "penalty")
        assert not store.search._probe_entity(conn, broad_text, "ofcom")
    assert keys(store.search.search(narrow_text)) == {"fine"}
    assert keys(store.search.search(broad_text)) == {"fine"}
    assert keys(store.search.search(SearchQuery("consultation", entity="cma"))) == {"cma"}


def test_source_filter_combines_with_text(store: Store) -> None:
    assert keys(store.search.search(SearchQuery(source="ofcom"))) == {"fine", "consult"}
    assert keys(store.search.search(SearchQuery("consultation", source="ofcom"))) == {"consult"}


def test_date_range_is_inclusive_of_whole_days(store: Store) -> None:
    result = store.search.search(SearchQuery(since=date(2024, 5, 2), until=date(2024, 5, 4)))
    # "consult" was published at 23:59 on the 4th: still inside until=4th.
    assert keys(result) == {"cma", "cafe", "consult"}
    assert keys(store.search.search(SearchQuery(until=date(2024, 5, 1)))) == {"fine"}
    assert keys(store.search.search(SearchQuery(since=datetime(2024, 5, 4, 23, 59, tzinfo=UTC)))) == {
        "consult",
        "undated",
    }


def test_date_range_falls_back_to_first_seen_when_published_is_unknown(store: Store) -> None:
    day = UNDATED_SEEN.date()
    assert keys(store.search.search(SearchQuery("penalty", since=day, until=day))) == {"undated"}
    assert keys(store.search.search(SearchQuery("penalty", until=day - timedelta(days=1)))) == {"fine"}


def test_a_range_that_ends_before_it_starts_is_a_query_error(store: Store) -> None:
    with pytest.raises(QueryError, match="since .* is after until"):
        store.search.search(SearchQuery(since=date(2024, 5, 3), until=date(2024, 5, 2)))


def test_a_date_that_is_not_a_date_is_a_query_error(store: Store) -> None:
    with pytest.raises(QueryError, match="since must be a date"):
        store.search.search(SearchQuery(since="last tuesday"))  # type: ignore[arg-type]


def test_limit_and_offset_page_through_and_total_counts_all(store: Store) -> None:
    first = store.search.search(SearchQuery(limit=2))
    second = store.search.search(SearchQuery(limit=2, offset=2))
    rest = store.search.search(SearchQuery(limit=2, offset=4))
    assert first.total == second.total == rest.total == len(CORPUS)
    assert [len(first.hits), len(second.hits), len(rest.hits)] == [2, 2, 1]
    assert len({h.id for h in first.hits + second.hits + rest.hits}) == len(CORPUS)


@pytest.mark.parametrize("bad", [{"limit": 0}, {"offset": -1}])
def test_a_limit_below_one_or_negative_offset_is_a_query_error(bad: dict[str, int]) -> None:
    with pytest.raises(QueryError):
        SearchQuery("ofcom", **bad)


def test_empty_text_lists_newest_first_by_published_or_first_seen(store: Store) -> None:
    hits = store.search.search(SearchQuery()).hits
    assert [h.id for h in hits] == [id_of(k) for k in ("undated", "consult", "cafe", "cma", "fine")]


def test_a_title_match_ranks_above_a_body_match(store: Store) -> None:
    # "fines" is in the title of "fine"; "fines" is only in the body of "cafe".
    assert [h.id for h in store.search.search(SearchQuery("fines")).hits] == [id_of("fine"), id_of("cafe")]
    # "penalty": the title of "undated", the summary of "fine" and the body of "undated".
    assert [h.id for h in store.search.search(SearchQuery("penalty")).hits][0] == id_of("undated")


def test_hits_carry_a_highlighted_body_snippet_and_watched_entities_first(store: Store) -> None:
    hit = store.search.search(SearchQuery("ages")).hits[0]
    assert "to check [ages] under" in hit.snippet
    assert hit.entities == ["Ofcom", "Acme Social"]


def test_a_listing_without_text_has_the_start_of_the_summary_or_body_as_snippet(store: Store) -> None:
    hit = store.search.search(SearchQuery(source="cma")).hits[0]
    assert hit.snippet == "The CMA wants views on remedies."
    undated = store.search.search(SearchQuery(source="press", since=UNDATED_SEEN.date())).hits[0]
    assert undated.snippet.startswith("A regulator announced a penalty notice")


def test_result_to_dict_is_the_cli_json_contract(store: Store) -> None:
    data = json.loads(json.dumps(store.search.search(SearchQuery("ages check", limit=1)).to_dict()))
    assert data == {
        "total": 1,
        "hits": [
            {
                "id": id_of("fine"),
                "title": "Ofcom fines Acme Social over age checks",
                "url": url_of("fine"),
                "source": "ofcom",
                "published": "2024-05-01T09:00:00+00:00",
                "entities": ["Ofcom", "Acme Social"],
                "snippet": data["hits"][0]["snippet"],
                "story": id_of("fine"),
            }
        ],
    }
    assert "failing to [check] [ages] under" in data["hits"][0]["snippet"]
    undated = store.search.search(SearchQuery("telecoms")).to_dict()
    assert undated["hits"][0]["published"] is None


def test_facets_count_matches_by_source_and_watched_entity(store: Store) -> None:
    facets = store.search.facets(SearchQuery("ofcom"))
    assert facets == {
        "sources": {"ofcom": 2, "press": 1},
        "types": {"regulator": 2, "news": 1},
        "jurisdictions": {"UK": 2, "EU": 1},
        "languages": {"en": 2, "fr": 1},
        "entities": {"Ofcom": 3, "Competition and Markets Authority": 1},
        "other_entities": {"acme social": 1},
    }


def test_a_source_no_longer_configured_counts_as_an_unknown_type(store: Store) -> None:
    store.search.sources = {}
    assert store.search.facets(SearchQuery("ofcom"))["types"] == {"unknown": 3}


def test_source_type_and_jurisdiction_filters_follow_the_configured_sources(store: Store) -> None:
    assert keys(store.search.search(SearchQuery(source_types=("regulator",)))) == {"fine", "cma", "consult"}
    assert keys(store.search.search(SearchQuery(source_types=("News",)))) == {"cafe", "undated"}
    assert keys(store.search.search(SearchQuery("ofcom", jurisdictions=("uk",)))) == {"fine", "consult"}
    assert keys(store.search.search(SearchQuery(source_types=("news",), jurisdictions=("UK",)))) == set()
    assert keys(store.search.search(SearchQuery(source_types=("court",)))) == set()


def test_a_language_filter_keeps_articles_in_those_languages(store: Store) -> None:
    assert keys(store.search.search(SearchQuery("regulators", languages=("FR",)))) == {"cafe"}
    assert store.search.search(SearchQuery(languages=("en", "fr"))).total == len(CORPUS)


def test_sort_newest_orders_text_matches_by_date(store: Store) -> None:
    assert [h.id for h in store.search.search(SearchQuery("fines", sort="newest")).hits] == [
        id_of("cafe"),
        id_of("fine"),
    ]
    assert all(h.score is None for h in store.search.search(SearchQuery("fines", sort="newest")).hits)
    with pytest.raises(QueryError, match="sort must be one of relevance, newest"):
        SearchQuery("fines", sort="oldest")


def test_a_date_histogram_counts_matches_per_day_week_or_month(store: Store) -> None:
    assert store.search.histogram(SearchQuery()) == {
        "2024-05-01": 1,
        "2024-05-02": 1,
        "2024-05-03": 1,
        "2024-05-04": 1,
        "2024-05-06": 1,
    }
    assert store.search.histogram(SearchQuery("ofcom"), "week") == {"2024-04-29": 3}  # Monday 29 April
    assert store.search.histogram(SearchQuery(), "month") == {"2024-05-01": 5}
    with pytest.raises(QueryError, match="interval must be one of day, week, month"):
        store.search.histogram(SearchQuery(), "year")


def test_index_pending_is_idempotent(store: Store) -> None:
    assert store.search.index_pending() == 0
    assert store.articles.counts()["unindexed"] == 0


def test_new_entities_reindex_the_article_without_duplicating_hits(store: Store) -> None:
    store.articles.set_entities(id_of("cma"), [CMA, ACME], "v2")
    assert store.search.index_pending() == 1
    assert store.search.index_pending() == 0
    result = store.search.search(SearchQuery("egress"))
    assert result.total == 1 and [h.entities for h in result.hits] == [
        ["Competition and Markets Authority", "Acme Social"]
    ]


def test_an_updated_article_loses_its_old_words_at_once_and_gains_new_ones_when_indexed(store: Store) -> None:
    changed = article("cma", body="The CMA closed its review of hyperscalers without action.")
    assert store.articles.upsert(changed) == "updated"
    assert store.search.search(SearchQuery("egress")).total == 0  # before index_pending
    assert store.search.search(SearchQuery("hyperscalers")).total == 0  # not indexed yet
    assert store.search.index_pending() == 1
    assert store.search.search(SearchQuery("egress")).total == 0
    result = store.search.search(SearchQuery("hyperscalers"))
    assert [h.id for h in result.hits] == [id_of("cma")]
    assert store.search.search(SearchQuery("cma remedies")).total == 1  # the title is unchanged, found once


def test_search_works_in_batches_smaller_than_the_backlog(tmp_path: Path) -> None:
    with Store.open(tmp_path / "small.db", index_batch_size=2) as opened:
        for key in CORPUS:
            opened.articles.upsert(article(key))
        assert opened.search.index_pending() == len(CORPUS)
        assert opened.search.index_pending() == 0
        assert opened.search.search(SearchQuery("regulator OR regulators")).total == 2


def test_a_page_its_facets_and_histogram_agree_and_see_every_write_since(
    store: Store, tmp_path: Path
) -> None:
    query = SearchQuery("ofcom", limit=1)
    first = store.search.search(query)
    assert (
        sum(store.search.facets(query)["sources"].values())
        == sum(store.search.histogram(query).values())
        == first.total
    )
    store.articles.upsert(article("consult", url="https://news.example/ofcom-2", published=None))
    store.search.index_pending()  # a write through this store
    assert store.search.search(query).total == first.total + 1
    with Store.open(store.path) as other:  # a write by another process
        other.articles.upsert(article("consult", url="https://news.example/ofcom-3", published=None))
        other.search.index_pending()
    assert store.search.search(query).total == first.total + 2
    assert sum(store.search.facets(query)["sources"].values()) == first.total + 2


def test_a_failed_search_does_not_leave_stale_matches_behind(store: Store) -> None:
    assert store.search.search(SearchQuery("ofcom")).total == 3
    with pytest.raises(QueryError):
        store.search.search(SearchQuery('"unbalanced'))
    assert store.search.facets(SearchQuery("egress"))["sources"] == {"cma": 1}


# -- the in-memory columns answer exactly as SQL does (see indexer/_columns.py) ---------

WORDS = ["ofcom", "fine", "fines", "online", "safety", "act", "regulator", "café", "cafe", "penalty"]
WORDS += [f"w{n}" for n in range(8)]
POOL = [
    OFCOM,
    TaggedEntity("OFCOM", "regulator", ["OFCOM"], "ofcom", 1, 5, False, 0.4),  # same id, smaller name
    TaggedEntity("Office of Communications", "regulator", ["Office"], "ofcom", 1, 9, False, 0.2),
    CMA,
    TaggedEntity("CMA", "regulator", ["CMA"], "CMA", 1, 2, True, 0.5),  # an id differing in case only
    ACME,
    TaggedEntity("Grok", "product", ["Grok"], "grok", 2, 3, True, 0.7),
    # Unwatched: one name in two spellings, and a watched entity's name found unlinked.
    TaggedEntity("ACME SOCIAL", "ORG", ["ACME SOCIAL"], None, 1, 12, False, 0.1),
    TaggedEntity("Grok", "PRODUCT", ["Grok"], None, 1, 7, False, 0.1),
    TaggedEntity("Boris Johnson", "PERSON", ["Boris Johnson"], None, 2, 1, False, 0.3),
]
RANDOM_SOURCES = ["ofcom", "cma", "press", "gone"]  # "gone" is no longer configured


def random_article(rng: random.Random, n: int) -> tuple[Article, list[TaggedEntity], datetime]:
    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))

    # Few distinct texts and times, so bm25 and dates tie often.
    midnight = datetime(2024, 5, 9, tzinfo=UTC)  # where until=2024-05-08 ends (exclusive)
    published = rng.choice(
        [None, T0, T0, T0 + timedelta(minutes=1), midnight, T0 + timedelta(days=rng.choice([1, 6, 7, 40]))]
    )
    article = Article(
        url=f"https://random.example/{n}",
        source_id=rng.choice(RANDOM_SOURCES),
        title=rng.choice(["Ofcom fines", "w1 w2", text(1, 4)]),
        summary=rng.choice(["", "penalty", text(0, 6)]),
        body=rng.choice(["online safety act", text(3, 25)]),
        published=published,
        language=rng.choice(["en", "EN", "fr", "", "De", "Ü"]),
    )
    entities = rng.sample(POOL, rng.randint(0, 3))
    if entities and rng.random() < 0.2:
        entities.append(entities[0])  # the same entity twice: counted once
    return article, entities, T0 + timedelta(days=rng.choice([0, 2, 9]))


def random_store(path: Path, seed: int, count: int = 120) -> Store:
    rng = random.Random(seed)
    store = Store.open(path, sources=SOURCES)
    for n in range(count):
        article, entities, seen = random_article(rng, n)
        store.articles.upsert(article, seen_at=seen)
        store.articles.set_entities(article.id, entities, "test")
        if n == count - 10:
            store.search.index_pending()  # the last ten stay out of the text index
    return store


def random_query(rng: random.Random) -> SearchQuery:
    return SearchQuery(
        text=rng.choice(
            ["", "", "w1", "w2 w3", "fine OR penalty", "ofcom -fines", '"online safety"', "w*", "caf*"]
        ),
        entity=rng.choice(
            [None, None, "ofcom", "OFCOM", "Office of Communications", "cma", "acme social", "nobody"]
        ),
        source=rng.choice([None, None, None, "press", "gone"]),
        since=rng.choice([None, None, T0.date(), T0 + timedelta(minutes=1)]),
        until=rng.choice([None, None, (T0 + timedelta(days=7)).date()]),
        limit=rng.choice([3, 20]),
        offset=rng.choice([0, 0, 2, 11]),
        source_types=rng.choice([(), (), ("regulator",), ("news", "court")]),
        jurisdictions=rng.choice([(), (), ("uk",)]),
        languages=rng.choice([(), (), ("en",), ("FR", "de"), ("ü",)]),
        sort=rng.choice(["relevance", "newest"]),
    )


def answers(store: Store, query: SearchQuery, columns: bool) -> tuple[object, ...]:
    store.search.use_columns = columns
    try:
        result = store.search.search(query)
        return (
            result.to_dict(),
            [hit.score for hit in result.hits],  # the same bm25 floats
            store.search.facets(query),
            [store.search.histogram(query, interval) for interval in ("day", "week", "month")],
        )
    finally:
        store.search.use_columns = True


def assert_columns_answer_as_sql(store: Store, queries: list[SearchQuery]) -> None:
    for query in queries:
        assert answers(store, query, columns=True) == answers(store, query, columns=False), query


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_columns_answer_exactly_as_sql_on_random_corpora(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    with random_store(tmp_path / "random.db", seed) as store:
        assert_columns_answer_as_sql(store, [random_query(rng) for _ in range(80)])
        assert store.search._columns.builds == 1 and store.search._columns.usable


def test_the_columns_follow_writes_by_this_store_and_by_another_process(tmp_path: Path) -> None:
    rng = random.Random(4)
    path = tmp_path / "random.db"
    with random_store(path, 4) as store:
        queries = [random_query(rng) for _ in range(40)]
        assert_columns_answer_as_sql(store, queries)
        # This store: an update (new source, date, language, text), a deletion, new entities, a new article.
        first = Article(
            url="https://random.example/0", source_id="press", title="w7 fines", body="penalty w7"
        )
        store.articles.upsert(replace(first, published=T0 + timedelta(days=3), language="fr"))
        store.articles.delete(Article(url="https://random.example/1", source_id="", title="", body="").id)
        store.articles.set_entities(
            Article(url="https://random.example/2", source_id="", title="", body="").id, POOL[:3]
        )
        store.articles.upsert(
            Article(url="https://random.example/new", source_id="cma", title="w7", body="w7 w1")
        )
        store.search.index_pending()
        assert_columns_answer_as_sql(store, queries + [SearchQuery("w7"), SearchQuery(entity="ofcom")])
        with Store.open(path) as other:  # another process (its own connection) writes
            for n in range(200, 230):
                article, entities, seen = random_article(rng, n)
                other.articles.upsert(article, seen_at=seen)
                other.articles.set_entities(article.id, entities, "test")
            other.articles.delete(Article(url="https://random.example/3", source_id="", title="", body="").id)
            other.search.index_pending()
        assert_columns_answer_as_sql(store, queries)
        assert store.search._columns.builds == 1  # brought up to date from search_changes, not rebuilt


def test_the_columns_rebuild_when_changes_they_missed_were_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "random.db"
    with random_store(path, 5, count=30) as store:
        assert store.search.search(SearchQuery("w1")).total >= 0 and store.search._columns.builds == 1
        monkeypatch.setattr("indexer._fts.SEARCH_CHANGES_KEPT", 1)
        with Store.open(path) as other:
            for n in (0, 1, 2):
                other.articles.upsert(
                    Article(url=f"https://random.example/{n}", source_id="cma", title="w6", body="w6")
                )
            other.search.index_pending()  # keeps only the last change
        assert_columns_answer_as_sql(store, [SearchQuery("w6"), SearchQuery(source="cma"), SearchQuery()])
        assert store.search._columns.builds == 2


def test_a_relevance_page_puts_long_ties_newest_first_at_any_depth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(tmp_path / "ties.db") as store:
        for n in range(40):  # one text, so one bm25 score; 8 distinct dates
            published = T0 + timedelta(hours=n % 8)
            store.articles.upsert(
                Article(
                    url=f"https://ties.example/{n}",
                    source_id="press",
                    title="Ofcom",
                    body="fine",
                    published=published,
                )
            )
        store.search.index_pending()
        hits = store.search.search(SearchQuery("fine", limit=100)).hits
        full = [h.id for h in hits]
        assert len(full) == 40 and len({h.score for h in hits}) == 1
        for margin in (256, 3):  # ties within the first pass, and past it (the second pass)
            monkeypatch.setattr("indexer._search.TIE_MARGIN", margin)
            pages = [
                store.search.search(SearchQuery("fine", limit=7, offset=offset)).hits
                for offset in range(0, 42, 7)
            ]
            assert [h.id for page in pages for h in page] == full
            assert_columns_answer_as_sql(store, [SearchQuery("fine", limit=5, offset=o) for o in (0, 4, 30)])


def test_search_falls_back_to_sql_when_row_numbers_are_too_sparse_for_the_columns(store: Store) -> None:
    store.search.use_columns = True
    conn = sqlite3.connect(store.path)
    try:  # a row numbered far beyond the others (written by hand)
        conn.execute(
            "INSERT INTO articles (doc, id, url, source_id, title, fetched_at, content_hash, first_seen,"
            " last_seen, last_changed) VALUES (10000000, 'far', 'https://far.example', 'press', 'Far away',"
            " '2024-05-09T00:00:00.000000+00:00', 'h', '2024-05-09T00:00:00.000000+00:00',"
            " '2024-05-09T00:00:00.000000+00:00', '2024-05-09T00:00:00.000000+00:00')"
        )
        conn.commit()
    finally:
        conn.close()
    assert store.search.search(SearchQuery()).hits[0].id == "far"
    assert not store.search._columns.usable
    assert_columns_answer_as_sql(store, [SearchQuery(), SearchQuery("ofcom", entity="ofcom")])


def test_a_new_store_answers_narrow_text_in_sql_and_builds_the_columns_for_a_broad_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("indexer._search.COLUMNS_AFTER_MATCHES", 2)
    with Store.open(tmp_path / "regwatch.db", sources=SOURCES) as opened:
        fill(opened)
        assert opened.search.search(SearchQuery("fines")).total == 2
        assert opened.search._columns.builds == 0  # two matches: SQL, no build
        assert opened.search.search(SearchQuery("ofcom")).total == 3
        assert opened.search._columns.builds == 1
        assert opened.search.search(SearchQuery("fines")).total == 2  # then the columns serve every search
        assert opened.search._hits_key is not None and opened.search._hits_key[0] == "columns"
