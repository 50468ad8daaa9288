"""Conditional GETs on index pages (feeds, listings, API pages), end to end against the sample site.

The sample site answers ``If-None-Match``/``If-Modified-Since`` with 304 for index
pages too. A source whose first run settled everything its index listed asks
for the index conditionally next time; a 304 is a healthy run with nothing new,
never ``empty`` or failing. A source whose run had an error keeps reading its
index in full, so a 304 never hides the page that failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from cli_helpers import Cli

from crawlers import canonical_url
from regwatch.app import App, pipeline
from regwatch.app.sample_site import DEMO_CONFIG
from regwatch.config import load_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_runs(sample_site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("index-304")
    demo = load_config(DEMO_CONFIG, env={}, text_substitutions={"base_url": sample_site})
    config = home / "config.yaml"
    # An auto source given the feed's own address: the page its discovery reads is the feed.
    feed_itself = {
        "id": "wire-auto",
        "name": "Wire (auto)",
        "kind": "auto",
        "url": f"{sample_site}/wire/atom.xml",
    }
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [*(s.to_dict() for s in demo.sources), feed_itself],
                "settings": {"CRAWL_ALLOWED_HOSTS": sample_site, "CRAWL_LOOKBACK_DAYS": 0},
            }
        )
    )
    with App.load(home, config) as app:
        first = {s.source_id: s for s in pipeline.crawl(app)}
        # An auto source's index is what its discovery chose to follow (the feed its page declares).
        found = app.store.source_states.discoveries()
        index = {s.id: found[s.id].address if s.kind == "auto" else s.url for s in app.config.sources}
        ledger = {sid: app.store.fetch_ledger.entry(sid, canonical_url(url)) for sid, url in index.items()}
        second = {s.source_id: s for s in pipeline.crawl(app)}
    rows = {row["id"]: row for row in Cli(home=home, config=config).json("sources")}
    yield {"first": first, "second": second, "ledger": ledger, "rows": rows}


# The sample site's search API is generated per request and sends no validators.
NO_VALIDATORS = {"dsit-search"}


def test_an_index_is_kept_in_the_ledger_only_when_its_run_settled_everything(
    two_runs: dict[str, Any],
) -> None:
    clean = [sid for sid, stats in two_runs["first"].items() if stats.errors == 0]
    broken = [sid for sid, stats in two_runs["first"].items() if stats.errors]
    assert len(set(clean) - NO_VALIDATORS) >= 3 and broken  # the sample site has a 404 behind one source
    for sid in set(clean) - NO_VALIDATORS:
        entry = two_runs["ledger"][sid]
        assert entry is not None and entry["status"] == 200 and entry["article_url"] == "", sid
        assert entry["etag"] or entry["last_modified"]
    for sid in [*broken, *NO_VALIDATORS]:
        assert two_runs["ledger"][sid] is None, sid


def test_an_unchanged_index_answers_304_and_nothing_it_lists_is_fetched(two_runs: dict[str, Any]) -> None:
    assert two_runs["first"]["wire-auto"].errors == 0  # checked below with the clean ones
    for sid, first in two_runs["first"].items():
        second = two_runs["second"][sid]
        if first.errors or sid in NO_VALIDATORS:
            # Read in full again, its pages asked for conditionally (the failed page tried again).
            assert second.index_not_modified == 0 and second.items_found == first.items_found, sid
            assert second.not_modified >= 1 and second.pages_fetched == 0 and second.errors == first.errors
        else:
            assert second.index_not_modified == 1, sid
            assert (second.pages_fetched, second.not_modified, second.new, second.errors) == (0, 0, 0, 0)
            assert second.items_found == 0 and second.index_failure is None


def test_a_304_index_is_a_healthy_run_in_sources(two_runs: dict[str, Any]) -> None:
    for sid, first in two_runs["first"].items():
        row = two_runs["rows"][sid]
        if first.errors:
            continue
        assert row["status"] == "ok" and row["consecutive_failures"] == 0, row
        assert row["last_error"] == "" and not row["low_volume"], row
        # It lists what it listed when last read in full.
        assert row["items_listed_last_run"] == first.items_found, row
        assert row["latency_ms"] is not None
