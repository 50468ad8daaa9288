"""Stories: wire copies and syndicated versions share a story id; other stories do not."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cluster_fixtures import open_cluster
from pg_fixtures import sql
from story_fixtures import COPY_BODY, COPY_TITLE, FOLLOW_UP_BODY, FOLLOW_UP_TITLE, WIRE_BODY, WIRE_TITLE

from crawlers import extract_file
from digests import select_articles
from indexer import SearchQuery, Store
from indexer._cluster_mapping import to_document
from indexer._story import JACCARD_THRESHOLD, jaccard, same_story, shingles, signature, story_text
from indexer._types import ClusterDoc
from regwatch.models import Article, Source, Subscriber, TaggedEntity

T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
SITE = Path(__file__).resolve().parents[1] / "regwatch" / "app" / "sample_site" / "site"


def make(slug: str, source_id: str, title: str, body: str, minutes: int = 0) -> Article:
    return Article(
        url=f"https://{source_id}.example/{slug}",
        source_id=source_id,
        title=title,
        body=body,
        published=T0 + timedelta(minutes=minutes),
        fetched_at=T0 + timedelta(minutes=minutes + 1),
    )


def wire() -> Article:
    return make("ofcom-x-grok", "wire", WIRE_TITLE, WIRE_BODY)


def copy() -> Article:
    return make("uk-watchdog-probe-x", "tabloid", COPY_TITLE, COPY_BODY, minutes=40)


def follow_up() -> Article:
    return make("ofcom-x-update", "wire", FOLLOW_UP_TITLE, FOLLOW_UP_BODY, minutes=60 * 24 * 14)


def story_of(store: Store, article: Article) -> str:
    stored = store.articles.get(article.id)
    assert stored is not None
    return stored.story_id


# -- the signature ---------------------------------------------------------------------


def test_a_wire_copy_with_its_own_headline_boilerplate_and_edits_is_the_same_story() -> None:
    assert same_story(WIRE_BODY, COPY_BODY)
    assert set(signature(WIRE_BODY).buckets) & set(signature(COPY_BODY).buckets)


def test_an_update_on_the_same_investigation_is_another_story() -> None:
    assert jaccard(shingles(WIRE_BODY), shingles(FOLLOW_UP_BODY)) < 0.1 < JACCARD_THRESHOLD
    assert not same_story(WIRE_BODY, FOLLOW_UP_BODY)
    assert not set(signature(WIRE_BODY).buckets) & set(signature(FOLLOW_UP_BODY).buckets)


def test_case_punctuation_and_spacing_do_not_change_the_signature() -> None:
    shouted = WIRE_BODY.upper().replace(",", " ,").replace("\n", "  ")
    assert signature(shouted) == signature(WIRE_BODY)


def test_short_texts_match_only_when_their_words_are_identical() -> None:
    stub = story_text("Ofcom fines Acme", "Subscribe to read this article.")
    assert stub.startswith("Ofcom fines Acme")  # a short body is compared with its headline
    assert same_story(stub, story_text("OFCOM fines Acme!", "Subscribe to read this article"))
    assert not same_story(stub, story_text("Ofcom warns Acme", "Subscribe to read this article."))
    assert len(signature(stub).buckets) == 1
    assert not set(signature(stub).buckets) & set(signature(WIRE_BODY).buckets)
    assert signature("").buckets == () and not same_story("", "")


def test_bucket_keys_are_the_same_in_another_process() -> None:
    # The buckets of articles stored by the crawl subprocess must meet the parent's.
    script = (
        "from indexer._story import signature; import sys; print(list(signature(sys.stdin.read()).buckets))"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", script],
            input=WIRE_BODY,
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        ).stdout
        assert json.loads(out) == list(signature(WIRE_BODY).buckets)


# -- the store -----------------------------------------------------------------------------


def test_a_syndicated_copy_at_another_url_gets_the_originals_story(store: Store) -> None:
    for article in (wire(), copy(), follow_up()):
        store.articles.upsert(article)
    assert story_of(store, wire()) == wire().id
    assert story_of(store, copy()) == wire().id
    assert story_of(store, follow_up()) == follow_up().id


def test_the_story_is_the_first_stored_copy_whichever_arrives_first(store: Store) -> None:
    store.articles.upsert(copy())
    store.articles.upsert(wire())
    assert story_of(store, wire()) == story_of(store, copy()) == copy().id


@pytest.mark.sqlite_only(
    "embedded search; the cluster's hits carry it too (test_the_cluster_backend_answers…)"
)
def test_search_hits_carry_the_story(store: Store) -> None:
    for article in (wire(), copy(), follow_up()):
        store.articles.upsert(article)
    store.search.index_pending()
    hits = store.search.search(SearchQuery("Grok", limit=10)).to_dict()["hits"]
    assert {hit["url"]: hit["story"] for hit in hits} == {
        wire().url: wire().id,
        copy().url: wire().id,
        follow_up().url: follow_up().id,
    }


def test_an_updated_article_is_assigned_a_story_again(store: Store) -> None:
    store.articles.upsert(wire())
    store.articles.upsert(follow_up())
    edited = dataclasses.replace(follow_up(), body=COPY_BODY)  # the page now carries the wire story
    assert store.articles.upsert(edited) == "updated"
    assert story_of(store, follow_up()) == wire().id
    assert store.articles.upsert(follow_up()) == "updated"
    assert story_of(store, follow_up()) == follow_up().id


def test_when_the_first_copy_changes_story_its_copies_are_assigned_again(store: Store) -> None:
    first, second = wire(), copy()
    third = make("third-copy", "politics", WIRE_TITLE, WIRE_BODY + "\nRead more politics news.", 90)
    for article in (first, second, third):
        store.articles.upsert(article)
    assert {story_of(store, a) for a in (first, second, third)} == {first.id}
    before = {d.article.id: d.version for d in store.cluster_ledger.pending("t")}
    store.articles.upsert(dataclasses.replace(first, body=FOLLOW_UP_BODY))
    assert story_of(store, first) == first.id
    # The copies no longer link through it: the earlier stored copy now leads their story.
    assert story_of(store, second) == story_of(store, third) == second.id
    after = {d.article.id: d.version for d in store.cluster_ledger.pending("t")}
    assert after[second.id] > before[second.id]  # a search cluster is sent the new story


def paragraph(topic: str, count: int = 40) -> str:
    """A paragraph of ``count`` words found in no other paragraph (so it shares no shingle)."""
    return " ".join(f"{topic}{n}" for n in range(count)) + "."


def test_a_full_text_matching_two_stories_merges_them_into_the_first_stored(store: Store) -> None:
    start, middle, end = paragraph("opening"), paragraph("middle"), paragraph("ending")
    # Two outlets ran different cuts of one wire text (they share only its middle: Jaccard ~1/3),
    # then the full text arrives, similar to both (~2/3 each).
    first_cut = make("first-cut", "tabloid", "Cut one", f"{start}\n{middle}")
    second_cut = make("second-cut", "daily", "Cut two", f"{middle}\n{end}", minutes=10)
    full = make("full-text", "wire", "Full text", f"{start}\n{middle}\n{end}", minutes=20)
    assert jaccard(shingles(first_cut.body), shingles(second_cut.body)) < JACCARD_THRESHOLD
    assert min(jaccard(shingles(full.body), shingles(cut.body)) for cut in (first_cut, second_cut)) >= 0.5
    store.articles.upsert(first_cut)
    store.articles.upsert(second_cut)
    assert story_of(store, second_cut) == second_cut.id  # a story of its own, for now
    before = {d.article.id: d.version for d in store.cluster_ledger.pending("t")}
    store.articles.upsert(full)
    assert story_of(store, first_cut) == story_of(store, second_cut) == story_of(store, full) == first_cut.id
    after = {d.article.id: d.version for d in store.cluster_ledger.pending("t")}
    assert after[second_cut.id] > before[second_cut.id]  # a search cluster is sent the merged story
    assert after[first_cut.id] == before[first_cut.id]  # the kept story's members are unchanged


def test_an_unrelated_story_is_not_merged(store: Store) -> None:
    start, middle, end = paragraph("opening"), paragraph("middle"), paragraph("ending")
    other = make("other", "daily", "Other", f"{paragraph('unrelated')}\n{paragraph('story')}")
    first_cut = make("first-cut", "tabloid", "Cut one", f"{start}\n{middle}", minutes=5)
    full = make("full-text", "wire", "Full text", f"{start}\n{middle}\n{end}", minutes=20)
    for article in (other, first_cut, full):
        store.articles.upsert(article)
    assert story_of(store, full) == first_cut.id
    assert story_of(store, other) == other.id


def test_a_deleted_article_leaves_no_buckets(store: Store) -> None:
    store.articles.upsert(wire())
    store.articles.delete(wire().id)
    store.articles.upsert(copy())
    assert story_of(store, copy()) == copy().id
    assert sql(store, "SELECT count(DISTINCT doc) FROM story_buckets") == [(1,)]


def test_articles_stored_before_stories_existed_get_one_from_the_pending_step(store: Store) -> None:
    for article in (wire(), copy(), follow_up()):
        store.articles.upsert(article)
    # the state a migrated archive starts in: no story, no buckets
    sql(store, "UPDATE articles SET story_id = ''")
    sql(store, "DELETE FROM story_buckets")
    assert story_of(store, wire()) == ""
    assert store.stories.assign_pending() == 3
    assert story_of(store, copy()) == story_of(store, wire()) == wire().id
    assert story_of(store, follow_up()) == follow_up().id
    assert store.stories.assign_pending() == 0  # nothing left to do


def test_the_articles_of_a_story_come_in_the_order_they_were_stored(store: Store) -> None:
    for article in (wire(), follow_up(), copy()):
        store.articles.upsert(dataclasses.replace(article, entities=[OFCOM]))
    members = store.stories.articles(wire().id)
    assert [a.url for a in members] == [wire().url, copy().url]
    assert all(a.story_id == wire().id and a.entities == [OFCOM] for a in members)
    assert [a.url for a in store.stories.articles(follow_up().id)] == [follow_up().url]
    assert store.stories.articles("no-such-story") == []


def test_the_cluster_document_carries_the_story(store: Store) -> None:
    store.articles.upsert(wire())
    store.articles.upsert(copy())
    docs = {d.article.id: d for d in store.cluster_ledger.pending("t")}
    document = to_document(docs[copy().id], {})
    assert document["story"] == wire().id
    unstored = ClusterDoc(article=copy(), doc=1, version=1, first_seen=T0)
    assert to_document(unstored, {})["story"] is None


def test_the_cluster_backend_answers_the_same_stories(store: Store, cluster_url: str, alias: str) -> None:
    for article in (wire(), copy(), follow_up()):
        store.articles.upsert(article)
    store.search.index_pending()
    cluster = open_cluster(store, cluster_url, alias)
    try:
        cluster.sync()
        clustered = {h.url: h.story for h in cluster.search(SearchQuery("Grok", limit=10)).hits}
    finally:
        cluster.close()
    assert clustered == {a.url: story_of(store, a) for a in (wire(), copy(), follow_up())}
    assert clustered[copy().url] == wire().id
    if store.engine == "sqlite":  # PostgreSQL has no embedded search to compare with
        embedded = {h.url: h.story for h in store.search.search(SearchQuery("Grok", limit=10)).hits}
        assert clustered == embedded


def test_the_sample_sites_syndicated_pair_shares_a_story_at_its_own_url(store: Store) -> None:
    # The Wire's copy declares the Ledger's canonical URL (so a crawl stores it once);
    # here it is kept at its own address with a sign-off added, as a copy without one would be.
    ledger = extract_file(SITE / "ledger/2026/01/kendall-backs-ofcom-to-block-x.html", "ledger")
    copied = extract_file(SITE / "wire/stories/kendall-ofcom-full-support-block-x.html", "wire")
    copied = dataclasses.replace(
        copied, url="https://wire.example/stories/kendall", body=copied.body + "\n(Reporting by Priya Nair)"
    )
    same_topic = extract_file(SITE / "ledger/2026/01/ofcom-opens-investigation-into-x.html", "ledger")
    for article in (ledger, copied, same_topic):
        store.articles.upsert(article)
    assert copied.id != ledger.id
    assert story_of(store, copied) == story_of(store, ledger) == ledger.id
    assert story_of(store, same_topic) == same_topic.id


# -- digests -------------------------------------------------------------------------------

OFCOM = TaggedEntity("Ofcom", "regulator", ["Ofcom"], "ofcom", 2, 0, True, 0.9)
SOURCES = {
    "wire": Source("wire", "Wire Service", "feed", "https://wire.example/feed"),
    "tabloid": Source("tabloid", "Daily Tabloid", "feed", "https://tabloid.example/feed"),
}


def test_a_digest_collapses_copies_of_one_story_into_also_reported_by(store: Store) -> None:
    for article in (wire(), copy(), follow_up()):
        store.articles.upsert(dataclasses.replace(article, entities=[OFCOM]))
    articles = store.articles.first_seen_between(None, datetime.now(UTC))
    # Different headlines and a body far from the old near-identical rule (0.85): only the story joins them.
    assert jaccard(shingles(WIRE_BODY), shingles(COPY_BODY)) < 0.85
    subscriber = Subscriber("ana", "Ana", "ana@example.org")
    items = select_articles(subscriber, articles, SOURCES)
    # Equal scores: the earliest published copy is kept, the other is "also reported by".
    assert {item.article.url: [c.url for c in item.also_reported] for item in items} == {
        wire().url: [copy().url],
        follow_up().url: [],
    }
    without_stories = [dataclasses.replace(a, story_id="") for a in articles]
    assert len(select_articles(subscriber, without_stories, SOURCES)) == 3


def test_without_stories_a_digest_still_collapses_by_title() -> None:
    first = dataclasses.replace(wire(), entities=[OFCOM])
    second = dataclasses.replace(follow_up(), title=WIRE_TITLE, entities=[OFCOM])
    items = select_articles(Subscriber("ana", "Ana", "ana@example.org"), [first, second], SOURCES)
    assert len(items) == 1


def test_stories_left_to_the_pending_step_come_out_as_assigning_each_upsert(
    open_store: Callable[..., Store],
) -> None:
    """A crawl defers stories to the pending step; the stories must be the ones upserts would give."""
    third = make("third-copy", "politics", WIRE_TITLE, WIRE_BODY + "\nRead more politics news.", 90)
    edited_first = dataclasses.replace(wire(), body=FOLLOW_UP_BODY)  # the leader changes story
    start, middle, end = paragraph("opening"), paragraph("middle"), paragraph("ending")
    cuts = [
        make("first-cut", "tabloid", "Cut one", f"{start}\n{middle}", 100),
        make("second-cut", "daily", "Cut two", f"{middle}\n{end}", 110),
        make("full-text", "wire", "Full text", f"{start}\n{middle}\n{end}", 120),
    ]
    batches = [[wire(), copy(), third, follow_up()], [edited_first], cuts]
    stories: dict[bool, dict[str, str]] = {}
    for deferred in (False, True):
        mode = "deferred" if deferred else "inline"
        with open_store(f"deferred-{deferred}", stories=mode) as opened:
            for batch in batches:
                for article in batch:
                    opened.articles.upsert(article)
                if deferred:
                    opened.search.index_pending()  # indexing assigns no story: that is a step of its own
                    assert story_of(opened, batch[0]) == ""  # none until the pending step
                    assert opened.stories.assign_pending() > 0
            stories[deferred] = {a.id: story_of(opened, a) for batch in batches for a in batch}
    assert stories[True] == stories[False]
    assert stories[True][copy().id] == stories[True][third.id] == copy().id  # the leader left
    assert len({stories[True][a.id] for a in cuts}) == 1  # merged
