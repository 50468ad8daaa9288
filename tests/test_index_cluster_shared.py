"""Two deployments on one cluster, one name starting the other (`regwatch` and `regwatch-test`).

Against the real OpenSearch node: each keeps its own index versions and template,
syncs, searches and migrates without touching the other's, and a template stored
by an older regwatch is brought to the current form.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import opensearchpy
import pytest
from cluster_fixtures import open_cluster
from test_index_search import CORPUS, SOURCES, fill

from indexer import ClusterIndex, SearchQuery, Store
from indexer._cluster_mapping import index_body, index_template, is_version_of, next_version
from regwatch.models import Article


@pytest.fixture
def client(cluster_url: str) -> Iterator[opensearchpy.OpenSearch]:
    opened = opensearchpy.OpenSearch([cluster_url])
    yield opened
    opened.close()


@pytest.fixture
def names(alias: str, client: opensearchpy.OpenSearch) -> Iterator[dict[str, str]]:
    """The first deployment's alias and two that start with it; their indices and templates go afterwards
    (the ``alias`` fixture deletes ``alias-*`` indices and the first one's template)."""
    found = {"first": alias, "longer": f"{alias}-down-20984", "numbered": f"{alias}-01"}
    yield found
    for name in (found["longer"], found["numbered"]):
        client.indices.delete_index_template(name=f"{name}-template", ignore=[404])


def one_article_store(path: Path, url: str, text: str) -> Store:
    store = Store.open(path)
    store.articles.upsert(
        Article(url=url, source_id="news", title=text, body=f"{text} said the regulator today.")
    )
    store.search.index_pending()
    return store


def templates(client: opensearchpy.OpenSearch, *aliases: str) -> dict[str, tuple[list[str], int]]:
    """Each alias's stored template: (index patterns, priority)."""
    stored = {}
    for alias in aliases:
        [found] = client.indices.get_index_template(name=f"{alias}-template")["index_templates"]
        stored[found["name"]] = (
            found["index_template"]["index_patterns"],
            int(found["index_template"]["priority"]),
        )
    return stored


@pytest.mark.parametrize("order", ["shorter first", "longer first"])
def test_two_deployments_whose_names_start_alike_share_a_cluster(
    tmp_path: Path, cluster_url: str, names: dict[str, str], client: opensearchpy.OpenSearch, order: str
) -> None:
    deployments = [names["first"], names["longer"], names["numbered"]]
    if order == "longer first":
        deployments.reverse()
    clusters: dict[str, ClusterIndex] = {}
    stores: dict[str, Store] = {}
    try:
        for n, name in enumerate(deployments):
            stores[name] = one_article_store(
                tmp_path / f"{n}.db", f"https://news.example.org/{n}", f"Story{n}"
            )
            clusters[name] = open_cluster(stores[name], cluster_url, name)
            outcome = clusters[name].sync()  # before: HTTP 400, overlapping templates at one priority
            assert (outcome.sent, outcome.pending) == (1, 0)
        for n, name in enumerate(deployments):
            cluster = clusters[name]
            status = cluster.status()
            assert (status["index"], status["documents"]) == (f"{name}-000001", 1)
            assert cluster.search(SearchQuery("regulator")).total == 1  # its own article only
            assert cluster.search(SearchQuery(f"Story{n}")).total == 1
        # A migration moves one deployment's alias and touches no other's indices.
        migrated = clusters[names["first"]].migrate()
        assert (migrated["from"], migrated["to"]) == (f"{names['first']}-000001", f"{names['first']}-000002")
        for name in (names["longer"], names["numbered"]):
            assert clusters[name].status()["index"] == f"{name}-000001"
            assert clusters[name].search(SearchQuery("regulator")).total == 1
        assert clusters[names["numbered"]].migrate()["to"] == f"{names['numbered']}-000002"
        assert clusters[names["first"]].status()["index"] == f"{names['first']}-000002"
        stored = templates(client, *deployments)
        assert stored[f"{names['first']}-template"] == ([f"{names['first']}-0*"], 100 + len(names["first"]))
        assert len({priority for _, priority in stored.values()}) == 3
    finally:
        for cluster in clusters.values():
            cluster.close()
        for store in stores.values():
            store.close()


def test_a_template_stored_by_an_older_regwatch_is_upgraded_on_the_next_sync(
    tmp_path: Path, cluster_url: str, names: dict[str, str], client: opensearchpy.OpenSearch
) -> None:
    first, longer = names["first"], names["longer"]
    # What an older regwatch left: NAME-* at priority 100, and its first version behind the alias.
    client.indices.put_index_template(
        name=f"{first}-template",
        body={"index_patterns": [f"{first}-*"], "template": index_body(), "priority": 100},
    )
    client.indices.create(index=f"{first}-000001", body={"aliases": {first: {"is_write_index": True}}})
    with Store.open(tmp_path / "old.db", sources=SOURCES) as store:
        cluster = open_cluster(fill(store), cluster_url, first)
        try:
            assert cluster.sync().sent == len(CORPUS)
            assert cluster.status()["index"] == f"{first}-000001"
        finally:
            cluster.close()
    assert templates(client, first)[f"{first}-template"] == ([f"{first}-0*"], 100 + len(first))
    with one_article_store(tmp_path / "new.db", "https://news.example.org/n", "Newcomer") as store:
        newcomer = open_cluster(store, cluster_url, longer)
        try:
            assert newcomer.sync().sent == 1
        finally:
            newcomer.close()


def test_version_names_are_exact() -> None:
    assert is_version_of("regwatch", "regwatch-000001")
    assert is_version_of("regwatch", "regwatch-1000000")
    assert not is_version_of("regwatch", "regwatch-01-000001")  # a version of "regwatch-01"
    assert not is_version_of("regwatch", "regwatch-test-000001")
    assert not is_version_of("regwatch.x", "regwatchyx-000001")
    assert next_version("regwatch", []) == "regwatch-000001"
    assert next_version("regwatch", ["regwatch-000001", "regwatch-000003"]) == "regwatch-000004"
    shorter, longer = index_template("regwatch"), index_template("regwatch-01")
    assert shorter["index_patterns"] == ["regwatch-0*"] and shorter["priority"] != longer["priority"]
