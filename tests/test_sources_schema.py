"""Source records are typed: each kind's selectors have a schema, checked when the config loads."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import Cli

import crawlers
from regwatch.config import load_config
from regwatch.errors import ConfigError
from regwatch.models import SOURCE_KINDS, Source
from regwatch.sources import (
    SELECTOR_SCHEMAS,
    ExtractionOverride,
    FeedSelectors,
    JsonApiSelectors,
    ListingSelectors,
)

API = {"results": "results", "link": "link", "title": "title", "published": "public_timestamp"}


def config_with(tmp_path: Path, kind: str, selectors: dict[str, Any]) -> Path:
    record = {
        "id": "desk",
        "name": "Desk",
        "kind": kind,
        "url": "https://example.org/",
        "selectors": selectors,
    }
    path = tmp_path / "regwatch.yaml"
    path.write_text(yaml.safe_dump({"sources": [record]}), encoding="utf-8")
    return path


def load_error(tmp_path: Path, kind: str, selectors: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(config_with(tmp_path, kind, selectors), env={})
    message = str(caught.value)
    assert "\n" not in message and "sources[0] (id 'desk'): selectors: " in message, message
    return message


def test_a_mistyped_key_is_an_error_naming_the_source_the_key_and_the_valid_keys(tmp_path: Path) -> None:
    message = load_error(tmp_path, "listing", {"link": "a::attr(href)", "nxt": "a.next::attr(href)"})
    assert "unknown key 'nxt' for a listing source" in message
    assert "valid keys: link, item, next, title, published, summary, exclude, body" in message


@pytest.mark.parametrize(
    ("kind", "selectors", "needs"),
    [
        ("listing", {"item": "li"}, "a listing source needs link"),
        (
            "json_api",
            {"link": "link", "title": "title", "published": "date"},
            "a json_api source needs results",
        ),
        ("json_api", {k: v for k, v in API.items() if k != "link"}, "needs link or link_template"),
    ],
)
def test_a_missing_required_key_is_an_error(
    tmp_path: Path, kind: str, selectors: dict[str, str], needs: str
) -> None:
    assert needs in load_error(tmp_path, kind, selectors)


@pytest.mark.parametrize(
    ("selectors", "key"),
    [
        ({"link": "li[[["}, "link: 'li[[['"),  # does not parse
        ({"link": "a::attr(href)", "item": "svg|li"}, "item: 'svg|li'"),  # parses, fails on every page
        ({"link": "a::attr(href)", "body": "main::text"}, "body: 'main::text'"),  # the extractor's plain CSS
        ({"link": "a::attr(href)", "exclude@2026-03-01": "div["}, "exclude@2026-03-01: 'div['"),
    ],
)
def test_a_css_selector_that_cannot_run_is_an_error(
    tmp_path: Path, selectors: dict[str, str], key: str
) -> None:
    message = load_error(tmp_path, "listing", selectors)
    assert f"{key} is not a CSS selector" in message


def test_a_malformed_dated_override_or_template_or_value_is_an_error(tmp_path: Path) -> None:
    assert "@YYYY-MM-DD" in load_error(tmp_path, "feed", {"body@March": "main"})
    assert "2026-13-01 is not a date" in load_error(tmp_path, "feed", {"body@2026-13-01": "main"})
    template = {**API, "link_template": "https://example.org/{value.uin|upper}"}
    assert "link_template: 'https://example.org/{value.uin|upper}' has a field" in load_error(
        tmp_path, "json_api", template
    )
    assert "follow must be a string, got ['news']" in load_error(tmp_path, "sitemap", {"follow": ["news"]})


def test_the_cli_says_it_in_one_line(home: Path, tmp_path: Path) -> None:
    result = Cli(home=home, config=config_with(tmp_path, "feed", {"link": "a::attr(href)"}))(
        "sources", expect=None
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "(id 'desk'): selectors: unknown key 'link' for a feed source" in error


def test_each_kind_reads_its_own_schema_and_writes_the_same_yaml_back() -> None:
    listing = {
        "item": "li.news-item",
        "link": "a::attr(href)",
        "exclude": "div.promo",
        "body": "div.story",
        "body@2026-01-05": "section.lead-story",
    }
    source = Source.from_dict(
        {"id": "x", "name": "X", "kind": "listing", "url": "https://e.org/", "selectors": listing}
    )
    assert isinstance(source.selectors, ListingSelectors)
    assert source.selectors.published == "time::attr(datetime)"  # a default, not written back
    assert source.selectors.overrides == (
        ExtractionOverride(None, exclude="div.promo", body="div.story"),
        ExtractionOverride(date(2026, 1, 5), body="section.lead-story"),
    )
    assert source.to_dict()["selectors"] == listing
    assert Source.from_dict(source.to_dict()) == source


def test_a_record_built_in_code_is_checked_too() -> None:
    assert Source(id="f", name="F", kind="feed", url="https://e.org/").selectors == FeedSelectors()
    with pytest.raises(ConfigError, match=r"source 'l': selectors: a listing source needs link"):
        Source(id="l", name="L", kind="listing", url="https://e.org/")
    with pytest.raises(ConfigError, match=r"a json_api source takes JsonApiSelectors, not ListingSelectors"):
        Source(id="j", name="J", kind="json_api", url="https://e.org/", selectors=ListingSelectors(link="a"))
    with pytest.raises(ValueError, match="link: 'a\\[' is not a CSS selector"):
        ListingSelectors(link="a[")
    with pytest.raises(ConfigError, match=r"source 'c': schedule must be .* got 'cron 0 7 \* \*'"):
        Source(id="c", name="C", kind="feed", url="https://e.org/", schedule="cron 0 7 * *")


def test_adding_a_kind_is_one_schema_and_one_spider() -> None:
    assert set(SOURCE_KINDS) == set(SELECTOR_SCHEMAS) == set(crawlers.SPIDERS)
    for kind, schema in SELECTOR_SCHEMAS.items():
        assert kind == schema.KIND


def test_every_existing_config_shape_still_loads() -> None:
    """The catalogue and the demo config keep their YAML: each record's schema holds what it said."""
    [govuk] = [s for s in load_config(None, env={}).sources if s.id == "govuk-dsit"]
    assert isinstance(govuk.selectors, JsonApiSelectors)
    assert govuk.selectors.content_api == "https://www.gov.uk/api/content{link|path}"
    assert (govuk.selectors.offset_param, govuk.selectors.size_param) == ("start", "count")


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("cron 0 7 * *", "five fields"),  # read as hourly before: a field short
        ("cron 0 7 * * 1-5 x", "five fields"),
        ("every 0h", "N at least 1"),
        ("every 2w", "'every N' and a unit m, h or d"),
        ("cron 99 7 * * *", "minute"),  # a value APScheduler refuses, found at load, not at start
        ("hourly", "got 'hourly'"),
    ],
)
def test_a_schedule_the_scheduler_would_misread_is_an_error_at_load(
    tmp_path: Path, schedule: str, expected: str
) -> None:
    path = config_with(tmp_path, "feed", {})
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    record["sources"][0]["schedule"] = schedule
    path.write_text(yaml.safe_dump(record), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert message.startswith(f"{path}: sources[0] (id 'desk'): schedule") and expected in message, message


@pytest.mark.parametrize(
    "schedule", ["every 30m", "every 1d", "every 2 h", "cron 30 6 * * 1-5", "cron */15 * * * *"]
)
def test_each_schedule_form_loads(tmp_path: Path, schedule: str) -> None:
    path = config_with(tmp_path, "feed", {})
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    record["sources"][0]["schedule"] = schedule
    path.write_text(yaml.safe_dump(record), encoding="utf-8")
    assert [s.schedule for s in load_config(path, env={}).sources if s.id == "desk"] == [schedule]
