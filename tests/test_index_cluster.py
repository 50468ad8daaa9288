"""The cluster backend against a real OpenSearch node: sync, the same answers as the store, outages.

Every test uses its own alias (see ``cluster_fixtures``) over the small corpus of
``test_index_search``, so the embedded store and the cluster answer the same
questions side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import opensearchpy
import pytest
from cluster_fixtures import Gate, open_cluster
from test_index_search import CORPUS, OFCOM, SOURCES, article, fill, id_of

from indexer import ClusterIndex, SearchQuery, Store
from indexer._cluster_mapping import MAPPING_VERSION
from regwatch.errors import ConfigError, IndexBackendError, QueryError


@pytest.fixture
def store(open_store: Callable[..., Store]) -> Iterator[Store]:
    """The corpus in a store on each engine: the cluster is fed from either's ledger alike."""
    with open_store(sources=SOURCES) as opened:
        yield fill(opened)


EMBEDDED = "compares with the embedded search, which a PostgreSQL store does not have"


@pytest.fixture(params=["opensearch", "elasticsearch"])
def cluster(
    store: Store, cluster_url: str, alias: str, request: pytest.FixtureRequest
) -> Iterator[ClusterIndex]:
    """The cluster through each official client: opensearch-py, and elasticsearch's transport."""
    index = open_cluster(store, cluster_url, alias, INDEX_FLAVOR=request.param)
    assert index.flavor == request.param
    yield index
    index.close()


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.id for hit in result.hits]


def test_the_flavour_and_version_are_read_from_the_server(store: Store, cluster_url: str, alias: str) -> None:
    index = open_cluster(store, cluster_url, alias)
    assert index.flavor == "opensearch" and index.server_version.split(".")[0] in {"2", "3"}
    index.close()


def test_an_unknown_flavour_is_a_config_error(store: Store, cluster_url: str, alias: str) -> None:
    with pytest.raises(ConfigError, match="INDEX_FLAVOR must be one of auto, opensearch, elasticsearch"):
        open_cluster(store, cluster_url, alias, INDEX_FLAVOR="solr")


def test_sync_sends_every_article_once_and_a_second_sync_sends_nothing(
    cluster: ClusterIndex, store: Store
) -> None:
    first = cluster.sync()
    assert (first.sent, first.pending, first.failed) == (len(CORPUS), 0, 0)
    second = cluster.sync()
    assert (second.sent, second.requests) == (0, 0)
    status = cluster.status()
    assert status["documents"] == len(CORPUS)
    assert (status["acknowledged"], status["pending"]) == (len(CORPUS), 0)
    assert status["index"] == f"{cluster.alias}-000001" and status["mapping_version"] == MAPPING_VERSION


def test_bulk_requests_are_cut_by_bytes(store: Store, cluster_url: str, alias: str) -> None:
    small = open_cluster(store, cluster_url, alias, INDEX_BULK_BYTES=600)
    outcome = small.sync()
    assert outcome.sent == len(CORPUS) and outcome.requests == len(CORPUS)  # each document is over 300 bytes
    small.close()


PARITY_QUERIES = [
    SearchQuery("ofcom"),
    SearchQuery("ofcom consultation"),
    SearchQuery('"online safety act"'),
    SearchQuery('"safety online"'),
    SearchQuery("fine OR egress"),
    SearchQuery("ofcom remedies OR codes"),
    SearchQuery("ofcom -consultation"),
    SearchQuery("ofcom NOT consultation"),
    SearchQuery('ofcom -"online safety"'),
    SearchQuery("regulat*"),
    SearchQuery("consult*"),
    SearchQuery("CAFE"),
    SearchQuery("café"),
    SearchQuery("title:cloud"),
    SearchQuery("NEAR ofcom"),
    SearchQuery("AT&T ofcom"),
    SearchQuery("fines"),
    SearchQuery("penalty"),
    SearchQuery(entity="ofcom"),
    SearchQuery(entity="competition and markets  AUTHORITY"),
    SearchQuery(entity="CMA"),
    SearchQuery(entity="acme social"),
    SearchQuery(entity="Acme"),
    SearchQuery("consultation", source="ofcom"),
    SearchQuery(since=date(2024, 5, 2), until=date(2024, 5, 4)),
    SearchQuery(until=date(2024, 5, 1)),
    SearchQuery("penalty", since=date(2024, 5, 6), until=date(2024, 5, 6)),
    SearchQuery(limit=2, offset=2),
    SearchQuery(),
    SearchQuery(source_types=("regulator",)),
    SearchQuery("ofcom", jurisdictions=("uk",)),
    SearchQuery(source_types=("news",), jurisdictions=("UK",)),
    SearchQuery("regulators", languages=("FR",)),
    SearchQuery("ofcom OR fines", sort="newest"),
]


@pytest.mark.sqlite_only(EMBEDDED)
@pytest.mark.parametrize(
    "query", PARITY_QUERIES, ids=lambda q: repr(q.text or q.entity or q.since or q.offset)
)
def test_the_cluster_matches_what_the_store_matches(
    cluster: ClusterIndex, store: Store, query: SearchQuery
) -> None:
    cluster.sync()
    embedded, clustered = store.search.search(query), cluster.search(query)
    assert clustered.total == embedded.total
    if query.text and query.sort == "relevance":
        assert set(ids(clustered)) == set(ids(embedded))
    else:
        assert ids(clustered) == ids(embedded)  # newest first, both ways


@pytest.mark.sqlite_only(EMBEDDED)
def test_a_hit_has_the_same_shape_and_a_highlighted_snippet(cluster: ClusterIndex, store: Store) -> None:
    cluster.sync()
    [embedded] = store.search.search(SearchQuery("ages check")).to_dict()["hits"]
    [clustered] = cluster.search(SearchQuery("ages check")).to_dict()["hits"]
    assert {k: v for k, v in clustered.items() if k != "snippet"} == {
        k: v for k, v in embedded.items() if k != "snippet"
    }
    assert "[check] [ages]" in clustered["snippet"]


@pytest.mark.sqlite_only(EMBEDDED)
def test_facets_are_the_same_as_the_stores(cluster: ClusterIndex, store: Store) -> None:
    cluster.sync()
    for query in (SearchQuery("ofcom"), SearchQuery(), SearchQuery("regulat*", source_types=("news",))):
        assert cluster.facets(query) == store.search.facets(query)


@pytest.mark.sqlite_only(EMBEDDED)
@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_date_histograms_are_the_same_as_the_stores(
    cluster: ClusterIndex, store: Store, interval: str
) -> None:
    cluster.sync()
    for query in (SearchQuery(), SearchQuery("ofcom"), SearchQuery("penalty", until=date(2024, 5, 3))):
        assert cluster.histogram(query, interval) == store.search.histogram(query, interval)
    with pytest.raises(QueryError, match="interval must be one of"):
        cluster.histogram(SearchQuery(), "year")


@pytest.mark.sqlite_only(EMBEDDED)
@pytest.mark.parametrize("text", ["", "ofcom OR regulators OR cma OR penalty"])
def test_pages_beyond_the_result_window_walk_there_and_stay_exact(
    cluster: ClusterIndex, store: Store, text: str
) -> None:
    cluster.sync()
    everything = ids(cluster.search(SearchQuery(text, limit=100)))
    assert len(everything) == store.search.search(SearchQuery(text)).total >= 4
    cluster.result_window = 2  # as if the index allowed only two hits per request
    pages = [
        cluster.search(SearchQuery(text, limit=2, offset=offset)) for offset in range(0, len(everything), 2)
    ]
    assert [hit for page in pages for hit in ids(page)] == everything
    assert {page.total for page in pages} == {len(everything)}
    assert ids(cluster.search(SearchQuery(text, limit=3, offset=1))) == everything[1:4]


@pytest.mark.sqlite_only(EMBEDDED)
@pytest.mark.parametrize("text", ['"unbalanced', "ofcom OR", "NEAR(", "-ofcom", '{"match_all": {}}'])
def test_malformed_text_is_the_same_query_error_and_never_raw_dsl(
    cluster: ClusterIndex, store: Store, text: str
) -> None:
    cluster.sync()
    with pytest.raises(QueryError) as embedded:
        store.search.search(SearchQuery(text))
    with pytest.raises(QueryError) as clustered:
        cluster.search(SearchQuery(text))
    assert str(clustered.value) == str(embedded.value)


def test_an_updated_article_replaces_its_document(cluster: ClusterIndex, store: Store) -> None:
    cluster.sync()
    store.articles.upsert(article("cma", body="The CMA closed its review of hyperscalers without action."))
    assert cluster.sync().sent == 1
    assert cluster.search(SearchQuery("egress")).total == 0
    assert ids(cluster.search(SearchQuery("hyperscalers"))) == [id_of("cma")]
    assert cluster.status()["documents"] == len(CORPUS)


def test_new_entities_are_sent_again(cluster: ClusterIndex, store: Store) -> None:
    cluster.sync()
    store.articles.set_entities(id_of("cma"), [OFCOM], "v2")
    assert cluster.sync().sent == 1
    assert id_of("cma") in ids(cluster.search(SearchQuery(entity="ofcom")))


def test_a_deleted_article_leaves_the_cluster_on_the_next_sync(cluster: ClusterIndex, store: Store) -> None:
    cluster.sync()
    store.articles.delete(id_of("fine"))
    outcome = cluster.sync()
    assert (outcome.deleted, outcome.sent) == (1, 0)
    assert cluster.status()["documents"] == len(CORPUS) - 1
    assert cluster.sync().deleted == 0


def test_documents_written_while_the_node_is_down_arrive_after_the_next_sync(
    store: Store,
    gate: Gate,
    alias: str,
) -> None:
    index = open_cluster(store, gate.url, alias, INDEX_RETRIES=1)
    assert index.sync().sent == len(CORPUS)
    gate.close()  # the node goes away
    store.articles.upsert(article("cma", url="https://news.example/while-down", title="Written while down"))
    with pytest.raises(IndexBackendError, match="stay pending"):
        index.sync()
    assert store.cluster_ledger.counts(index.target)["pending"] == 1
    gate.open()  # back, at the same address
    outcome = index.sync()
    assert (outcome.sent, outcome.pending) == (1, 0)
    assert [h.title for h in index.search(SearchQuery('"written while down"')).hits] == ["Written while down"]
    index.close()


def test_a_cluster_that_cannot_be_reached_is_a_clear_error(store: Store, alias: str) -> None:
    with (
        socket_closed() as url,
        pytest.raises(IndexBackendError, match=f"cannot reach the search cluster at {url}"),
    ):
        open_cluster(store, url, alias)


def test_refused_documents_are_recorded_with_the_reason_and_a_migration_fixes_them(
    store: Store,
    cluster_url: str,
    alias: str,
) -> None:
    # An index version with a wrong mapping (a title that must be a number) behind the alias.
    client = opensearchpy.OpenSearch([cluster_url])
    client.indices.create(
        index=f"{alias}-000001", body={"mappings": {"properties": {"title": {"type": "long"}}}}
    )
    client.indices.update_aliases(body={"actions": [{"add": {"index": f"{alias}-000001", "alias": alias}}]})
    client.close()
    index = open_cluster(store, cluster_url, alias)
    outcome = index.sync()
    assert (outcome.sent, outcome.failed, outcome.pending) == (0, len(CORPUS), len(CORPUS))
    status = index.status()
    assert status["failed"] == len(CORPUS) and not status["mapping_current"]
    assert "mapper_parsing_exception" in status["failures"][0]["reason"]
    assert index.sync().failed == len(CORPUS)  # retried on every sync, still refused
    assert index.status()["failures"][0]["attempts"] == 2

    migrated = index.migrate()
    assert (migrated["from"], migrated["to"]) == (f"{alias}-000001", f"{alias}-000002")
    assert migrated["sync"]["sent"] == len(CORPUS)
    status = index.status()
    assert (status["index"], status["documents"], status["failed"]) == (f"{alias}-000002", len(CORPUS), 0)
    assert status["mapping_current"]
    index.close()


def test_migrate_moves_the_alias_to_a_new_version_with_the_same_answers(cluster: ClusterIndex) -> None:
    cluster.sync()
    before = cluster.search(SearchQuery("ofcom"))
    migrated = cluster.migrate()
    assert migrated["to"] == f"{cluster.alias}-000002" and migrated["reindexed"] == len(CORPUS)
    after = cluster.search(SearchQuery("ofcom"))
    assert (after.total, ids(after)) == (before.total, ids(before))
    assert cluster.sync().sent == 0
    assert cluster.status()["index"] == f"{cluster.alias}-000002"


def test_an_index_where_the_alias_should_be_is_refused(store: Store, cluster_url: str, alias: str) -> None:
    client = opensearchpy.OpenSearch([cluster_url])
    client.indices.create(index=alias)
    try:
        with pytest.raises(IndexBackendError, match="is an index, not an alias"):
            open_cluster(store, cluster_url, alias).sync()
    finally:
        client.indices.delete(index=alias)
        client.close()


class socket_closed:
    """A 127.0.0.1 URL on which nothing listens."""

    def __enter__(self) -> str:
        import socket

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.sqlite_only(EMBEDDED)
def test_hits_are_highlighted_as_the_store_highlights_them(cluster: ClusterIndex, store: Store) -> None:
    cluster.sync()
    for text in ("ofcom", '"online safety"', "regulat*", "views", "fine OR egress"):
        query = SearchQuery(text, highlight=True, sort="newest")
        embedded, clustered = store.search.search(query), cluster.search(query)
        assert [(h.title_marked, h.sentence) for h in clustered.hits] == [
            (h.title_marked, h.sentence) for h in embedded.hits
        ], text
        assert any(h.sentence and h.sentence.marks for h in clustered.hits), text


def previous_version_index(
    store: Store,
    cluster_url: str,
    alias: str,
    monkeypatch: pytest.MonkeyPatch,
    other_names: dict | None = None,
) -> None:
    """A version-1 index behind ``alias``, filled as the regwatch before the other-entities facet did.

    ``other_names``: a mapping of that field the index happens to have (one that refuses the new one).
    """
    import indexer._cluster as cluster_module
    from indexer._cluster_mapping import MAPPINGS, index_body, to_document

    properties = {k: v for k, v in MAPPINGS["properties"].items() if k != "other_names"}
    if other_names is not None:
        properties["other_names"] = other_names
    old_mappings = {**MAPPINGS, "_meta": {"regwatch_mapping_version": 1}, "properties": properties}
    client = opensearchpy.OpenSearch([cluster_url])
    client.indices.create(index=f"{alias}-000001", body={**index_body(), "mappings": old_mappings})
    client.indices.update_aliases(body={"actions": [{"add": {"index": f"{alias}-000001", "alias": alias}}]})
    client.close()
    with monkeypatch.context() as patch:
        patch.setattr(cluster_module, "MAPPING_VERSION", 1)
        patch.setattr(
            cluster_module,
            "to_document",
            lambda item, sources: {k: v for k, v in to_document(item, sources).items() if k != "other_names"},
        )
        old = open_cluster(store, cluster_url, alias)
        assert old.sync().sent == len(CORPUS)
        assert old.facets(SearchQuery())["other_entities"] == {}  # that version had no such field
        old.close()


def test_an_index_made_by_the_previous_mappings_is_upgraded_in_place_and_filled(
    store: Store, cluster_url: str, alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous_version_index(store, cluster_url, alias, monkeypatch)
    index = open_cluster(store, cluster_url, alias)
    outcome = index.sync()  # the mappings upgraded, every document sent again
    assert (outcome.sent, outcome.failed) == (len(CORPUS), 0)
    status = index.status()
    assert status["index"] == f"{alias}-000001" and status["mapping_current"]
    if store.engine == "sqlite":  # PostgreSQL has no embedded search to compare with
        assert index.facets(SearchQuery()) == store.search.facets(SearchQuery())
    assert index.facets(SearchQuery())["other_entities"] == {"acme social": 1}
    assert index.sync().sent == 0
    index.close()


def test_migrating_from_the_previous_mappings_sends_every_document_again(
    store: Store, cluster_url: str, alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This one cannot take the new field in place (a field of that name with another type).
    previous_version_index(store, cluster_url, alias, monkeypatch, other_names={"type": "long"})
    index = open_cluster(store, cluster_url, alias)
    migrated = index.migrate()
    assert migrated["resent"] == len(CORPUS) and migrated["sync"]["sent"] == len(CORPUS)
    if store.engine == "sqlite":  # PostgreSQL has no embedded search to compare with
        assert index.facets(SearchQuery()) == store.search.facets(SearchQuery())
    assert index.facets(SearchQuery())["other_entities"] == {"acme social": 1}
    assert index.status()["mapping_current"]
    index.close()
