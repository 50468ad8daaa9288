"""Per-source extraction overrides: data in the source record, dated versions for a redesign.

A site redesigned on a given day gets a new override version (``body@YYYY-MM-DD``),
fundus-style: the version valid on the fetch day is used, and the old one keeps
describing the old markup. The crawl test serves the *new* markup, where the generic
extractor takes a promo block for article text, and crawls it with the old override
only and with both versions.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import extract_article, run_crawl
from regwatch.config import load_config
from regwatch.errors import ConfigError
from regwatch.models import Source
from regwatch.settings import Settings
from regwatch.sources import ExtractionOverride, ListingSelectors

FILLER = (
    "The regulator said it would examine whether the platform had complied with its duties under the "
    "Act, and that it would not hesitate to act if it found that the law had been broken by the company."
)
STORY = (
    f"<p>Ofcom fined the operator for failing to protect children. {FILLER}</p>"
    f"<p>The operator has 20 working days to respond. {FILLER}</p>"
)
PROMO = (
    f"<p>Read our latest investigation into broadband prices across the country. {FILLER}</p>"
    f"<p>Sign up to our weekly newsletter for analysis from the desk. {FILLER}</p>"
)
OLD_MARKUP = (
    "<html lang='en'><head><title>Operator fined</title></head><body><div class='story'><h1>Operator fined"
    f"</h1>{STORY}</div><div class='promo'>{PROMO}</div></body></html>"
)
NEW_MARKUP = (
    "<html lang='en'><head><title>Operator fined</title></head><body><main><section class='lead-story'>"
    f"<h1>Operator fined</h1>{STORY}</section><section class='more-from-us'><h2>More</h2>{PROMO}</section>"
    "</main></body></html>"
)
VERSIONED = {
    "link": "a::attr(href)",
    "body": "div.story",  # V1: the markup before the redesign
    "exclude": "div.promo",
    "body@2026-01-05": "section.lead-story",  # V2: from the redesign on
}


def test_the_version_valid_on_the_fetch_day_is_used_and_replaces_the_one_before_whole() -> None:
    selectors = ListingSelectors.parse(VERSIONED)
    assert selectors.override_on(date(2025, 12, 31)) == ExtractionOverride(
        None, exclude="div.promo", body="div.story"
    )
    v2 = selectors.override_on(date(2026, 1, 5))
    assert (v2.valid_from, v2.body, v2.exclude) == (date(2026, 1, 5), "section.lead-story", "")
    assert v2.label == "from 2026-01-05"
    plain = ListingSelectors.parse({"link": "a::attr(href)"})
    assert plain.override_on(date(2026, 1, 5)) == ExtractionOverride()


@pytest.mark.parametrize("key", ["body@2026-13-01", "title@2026-01-01", "body@yesterday"])
def test_a_malformed_dated_key_is_refused_with_what_to_write(key: str) -> None:
    with pytest.raises(ValueError, match=r"@YYYY-MM-DD|not a date"):
        ListingSelectors.parse({"link": "a::attr(href)", key: "main"})


def test_the_new_markup_fools_the_generic_extractor_and_the_body_override_fixes_it() -> None:
    generic = extract_article(NEW_MARKUP, "https://example.org/a", "s")
    assert "newsletter" in generic.body  # what the override is for: the promo read as article text
    fixed = extract_article(NEW_MARKUP, "https://example.org/a", "s", body_css="section.lead-story")
    assert "newsletter" not in fixed.body and "20 working days" in fixed.body
    # A selector that matches nothing (the old markup's) reads the whole page again, with a warning.
    stale = extract_article(NEW_MARKUP, "https://example.org/a", "s", body_css="div.story")
    assert "newsletter" in stale.body


@pytest.mark.slow
def test_a_crawl_uses_todays_override_version_for_a_redesigned_site(tmp_path: Path) -> None:
    pages = {
        "/news/": ("text/html", "<html><body><a href='/news/fined.html'>Fined</a></body></html>"),
        "/news/fined.html": ("text/html; charset=utf-8", NEW_MARKUP),
    }
    out = tmp_path / "articles.jsonl"
    with serve_pages(pages) as (base, _):
        sources = [
            Source(
                id="redesigned",
                name="R",
                kind="listing",
                url=f"{base}/news/",
                selectors=ListingSelectors.parse(VERSIONED),
            ),
            Source(
                id="stale",
                name="S",
                kind="listing",
                url=f"{base}/news/",
                selectors=ListingSelectors.parse(old_only_of(VERSIONED)),
            ),
        ]
        settings = Settings(
            env={},
            overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_OBEY_ROBOTS": False, "CRAWL_RETRIES": 0},
        )
        stats = run_crawl(sources, settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)})
    bodies: dict[str, str] = {a.source_id: a.body for a in read_jsonl(out)}
    assert [s.errors for s in stats] == [0, 0]
    assert "20 working days" in bodies["redesigned"] and "newsletter" not in bodies["redesigned"]
    assert "newsletter" in bodies["stale"]  # the V1 override alone no longer fits the site


def test_a_config_with_a_malformed_override_is_refused_at_load_naming_the_source_and_key(
    tmp_path: Path,
) -> None:
    records = [
        {"id": "fine", "name": "F", "kind": "listing", "url": "https://e.org/", "selectors": VERSIONED},
        {
            "id": "broken",
            "name": "B",
            "kind": "listing",
            "url": "https://e.org/",
            "selectors": {"link": "a::attr(href)", "body@March": "main"},
        },
    ]
    config = tmp_path / "regwatch.yaml"
    config.write_text(yaml.safe_dump({"sources": records}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\[1\] \(id 'broken'\): selectors: selector 'body@March'"):
        load_config(config, env={})


def old_only_of(selectors: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in selectors.items() if "@" not in k}
