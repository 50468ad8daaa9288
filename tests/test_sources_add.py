"""`regwatch sources add URL`: discovery now, what it found, and the record appended to the config as
text (comments kept); and a config that includes no default sources and lists none crawls nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import Cli

from regwatch.app.config_file import append_source
from regwatch.app.sample_site import EXPECTED
from regwatch.app.source_health import DISCOVERY_LINE, SourceView, format_rows
from regwatch.app.sources_add import suggested_id
from regwatch.config import load_config
from regwatch.errors import ConfigError
from regwatch.models import Discovery, Source

MANIFEST: dict[str, Any] = json.loads(EXPECTED.read_text("utf-8"))
RECORD = {"id": "courier", "name": "The Courier", "kind": "auto", "url": "https://courier.example/news/"}


# --- a config with no sources yet ---------------------------------------------------------


def test_include_default_sources_false_without_sources_means_no_sources(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("include_default_sources: false\n", encoding="utf-8")
    assert load_config(path, env={}).sources == []
    path.write_text("include_default_sources: true\n", encoding="utf-8")
    assert len(load_config(path, env={}).sources) >= 25
    path.write_text("settings: {CRAWL_DELAY: 1}\n", encoding="utf-8")  # no sources: key: the catalogue
    assert len(load_config(path, env={}).sources) >= 25


def test_include_default_sources_must_be_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("include_default_sources: 'no'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="include_default_sources must be true or false, got 'no'"):
        load_config(path, env={})


def test_with_no_sources_the_cli_says_so_and_how_to_add_one(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("include_default_sources: false\n", encoding="utf-8")
    cli = Cli(home=home, config=config)
    out = cli("sources").output
    assert out.startswith("no sources:") and f"regwatch --config {config} sources add URL" in out
    assert cli.json("sources") == []
    result = cli("crawl", "--json")
    assert json.loads(result.stdout)["sources"] == 0
    [warning] = [line for line in result.stderr.splitlines() if "no sources to crawl" in line]
    assert "WARNING" in warning and f"regwatch --config {config} sources add URL" in warning


# --- appending a record as text ------------------------------------------------------------


def test_a_record_is_appended_to_the_sources_block_keeping_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "# my regwatch config\n"
        "sources:\n"
        "    # the regulator first\n"
        "    - id: ofcom\n"
        "      name: Ofcom  # its news\n"
        "      kind: feed\n"
        "      url: https://ofcom.example/feed.xml\n"
        "\n"
        "# who gets what\n"
        "subscribers:\n"
        "  - {id: desk, email: desk@example.org}\n"
        "include_default_sources: false\n",
        encoding="utf-8",
    )
    assert append_source(path, RECORD) == ""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my regwatch config\nsources:\n    # the regulator first\n    - id: ofcom\n")
    assert "      name: Ofcom  # its news\n" in text
    assert "      url: https://ofcom.example/feed.xml\n    - id: courier\n      name: The Courier\n" in text
    assert text.endswith(
        "\n# who gets what\nsubscribers:\n  - {id: desk, email: desk@example.org}\ninclude_default_sources: false\n"
    )
    assert [s.id for s in load_config(path, env={}).sources] == ["ofcom", "courier"]


def test_items_written_at_column_zero_get_the_new_one_there_too(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "sources:\n- id: a\n  name: A\n  kind: feed\n  url: https://a.example/rss\nsettings: {}\n", "utf-8"
    )
    append_source(path, RECORD)
    assert "  url: https://a.example/rss\n- id: courier\n  name: The Courier\n" in path.read_text("utf-8")
    assert [s.id for s in load_config(path, env={}).sources] == ["a", "courier"]


def test_an_empty_sources_list_becomes_a_block(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("include_default_sources: false\nsources: []  # none yet\n", "utf-8")
    append_source(path, RECORD)
    assert path.read_text("utf-8") == (
        "include_default_sources: false\nsources:  # none yet\n"
        "  - id: courier\n    name: The Courier\n    kind: auto\n    url: https://courier.example/news/\n"
    )


def test_a_config_that_used_the_catalogue_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("settings:\n  CRAWL_DELAY: 1\n", "utf-8")
    assert "keeps the built-in catalogue" in append_source(path, RECORD)
    sources = load_config(path, env={}).sources
    assert sources[-1].id == "courier" and len(sources) >= 26


def test_a_new_config_file_starts_with_the_one_source(tmp_path: Path) -> None:
    path = tmp_path / "new" / "c.yaml"
    append_source(path, RECORD)
    assert [s.id for s in load_config(path, env={}).sources] == ["courier"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_inline_sources_list_is_refused_and_a_record_that_would_not_load_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    inline = "sources: [{id: a, name: A, kind: feed, url: 'https://a.example/rss'}]\n"
    path.write_text(inline, "utf-8")
    with pytest.raises(ConfigError, match="written inline"):
        append_source(path, RECORD)
    assert path.read_text("utf-8") == inline
    block = "sources:\n  - {id: courier, name: C, kind: feed, url: 'https://c.example/rss'}\n"
    path.write_text(block, "utf-8")
    with pytest.raises(ConfigError, match="not changed, the source would not load: .*declared twice"):
        append_source(path, RECORD)
    assert path.read_text("utf-8") == block


@pytest.mark.parametrize(
    ("url", "taken", "expected"),
    [
        ("https://www.ofcom.org.uk/news-and-updates", set(), "ofcom-news-and-updates"),
        ("https://www.ofcom.org.uk/", set(), "ofcom"),
        ("http://127.0.0.1:8000/courier/", set(), "courier"),
        ("http://127.0.0.1:8000/courier/", {"courier", "courier-2"}, "courier-3"),
        ("https://ico.org.uk/news/index.html", set(), "ico-index"),
        ("http://localhost:9/", set(), "source"),
    ],
)
def test_a_suggested_id_names_the_site_and_the_page(url: str, taken: set[str], expected: str) -> None:
    assert suggested_id(url, taken) == expected


# --- sources add on the sample site ----------------------------------------------------------


@pytest.fixture
def start(tmp_path: Path, sample_site: str) -> Path:
    """The config `sources add` starts from: no catalogue, no sources, the sample site allowed."""
    config = tmp_path / "regwatch.yaml"
    config.write_text(
        "# my sources\ninclude_default_sources: false\nsources: []\n"
        f'settings:\n  CRAWL_ALLOWED_HOSTS: "{sample_site}"\n  CRAWL_LOOKBACK_DAYS: 0\n',
        encoding="utf-8",
    )
    return config


CASES = MANIFEST["discovery"]["cases"]


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p, c in CASES.items() if c["method"]])
def test_sources_add_finds_the_method_of_each_case_and_appends_the_source(
    home: Path, start: Path, sample_site: str, path: str
) -> None:
    case = CASES[path]
    result = Cli(home=home, config=start)(
        "sources", "add", sample_site + path, "--type", "news", "--jurisdiction", "UK"
    )
    out = result.output
    assert f"method:   {case['method']}\naddress:  {sample_site}{case['address']}\n" in out
    if "shape" in case:  # the listing learned, not its heavier navigation
        assert f"\nlinks:    {case['shape']}\n" in out
    assert "first items:\n  2026-01-" in out  # dated items with their titles
    items = [line for line in out.splitlines() if line.startswith("  2026-01-")]
    assert 1 <= len(items) <= 5 and all(len(line) > 14 for line in items)
    [source] = load_config(start, env={}).sources
    assert (source.kind, source.url, source.type, source.jurisdiction) == (
        "auto",
        sample_site + path,
        "news",
        "UK",
    )
    assert source.id == path.strip("/") and case["method"] in source.notes
    assert start.read_text("utf-8").startswith("# my sources\ninclude_default_sources: false\nsources:\n")


@pytest.mark.slow
def test_sources_add_refuses_the_decoys_and_appends_nothing(
    home: Path, start: Path, sample_site: str
) -> None:
    before = start.read_text("utf-8")
    result = Cli(home=home, config=start)("sources", "add", sample_site + "/notices/", expect=1)
    assert "method:   none found" in result.output
    decoys = MANIFEST["discovery"]["decoys"]
    turned_down = result.output[result.output.index("turned down:\n") :]
    # Each decoy is named with why: the undated feed, the sitemap of other sections, the links to
    # pages too short to be articles.
    assert (
        f"  {sample_site}{decoys['undated_feed']}: rss feed with 4 entries, 0 of them dated\n" in turned_down
    )
    assert (
        f"  {sample_site}{decoys['sitemap_of_other_sections']}: sitemap lists nothing under /notices/\n"
        in turned_down
    )
    assert "links /notices/{slug}.html learned" in turned_down and "0 of 4 checked pages" in turned_down
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "nothing to follow at" in errors[0] and "not added" in errors[0]
    assert start.read_text("utf-8") == before


@pytest.mark.slow
def test_a_dry_run_prints_the_record_and_writes_nothing(home: Path, start: Path, sample_site: str) -> None:
    before = start.read_text("utf-8")
    result = Cli(home=home, config=start)(
        "sources", "add", sample_site + "/courier/", "--id", "the-courier", "--dry-run"
    )
    assert start.read_text("utf-8") == before
    record = yaml.safe_load(result.output[result.output.index("  - id: the-courier") :])[0]
    assert record["kind"] == "auto" and record["url"] == sample_site + "/courier/"
    assert record["name"] == "The Courier: news from Westminster and beyond"
    assert "listing" in record["notes"] and "{yyyy}" in record["notes"]


@pytest.mark.slow
def test_an_added_source_is_crawled_by_what_was_discovered_and_shown_by_sources(
    home: Path, start: Path, sample_site: str
) -> None:
    cli = Cli(home=home, config=start)
    added = cli.json("sources", "add", sample_site + "/courier/")
    assert added["added"] and added["discovery"]["method"] == "listing"
    summary = cli.json("crawl")
    [courier] = summary["per_source"]
    assert courier["new"] == 5 and not courier["discovery"]  # followed what `add` stored: no discovery again
    [row] = cli.json("sources")
    assert (
        row["discovery"]["method"] == "listing" and row["discovery"]["pattern"] == CASES["/courier/"]["shape"]
    )
    text = cli("sources").output
    assert (
        f"auto: follows listing {sample_site}/courier/ links /courier/{{yyyy}}/{{mm}}/{{dd}}/{{slug}}/"
        in text
    )


def test_sources_add_needs_a_config_file_or_a_dry_run(cli: Cli) -> None:
    result = cli("sources", "add", "https://example.org/news/", expect=2)
    assert "give --config FILE" in result.output and "Traceback" not in result.output


def test_sources_add_refuses_an_address_already_configured_or_an_id_taken(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "sources:\n  - {id: news, name: N, kind: auto, url: 'https://example.org/news/'}\n", "utf-8"
    )
    cli = Cli(home=home, config=config)
    result = cli("sources", "add", "https://example.org/news", expect=1)
    assert "is already a source of" in result.output and "'news'" in result.output
    result = cli("sources", "add", "https://example.org/other/", "--id", "news", expect=1)
    assert "source id 'news' is already in" in result.output
    result = cli("sources", "add", "ftp://example.org/", expect=2)
    assert "is not an http:// or https:// address" in result.output


def test_the_sources_table_cuts_a_long_discovery_line_visibly() -> None:
    source = Source("courier", "The Courier", "auto", "https://courier.example/news/")
    reason = "learned from the page's structure (" + "dated paths 100%, " * 20 + "end)"
    short = Discovery("feed", "https://courier.example/news/rss.xml", reason="declared")
    long = Discovery("listing", "https://courier.example/news/", reason=reason)
    short_line = format_rows([SourceView(source, None, None, short)]).splitlines()[-1]
    long_line = format_rows([SourceView(source, None, None, long)]).splitlines()[-1]
    assert short_line.endswith("auto: follows feed https://courier.example/news/rss.xml (declared)")
    assert len(long_line) == DISCOVERY_LINE and long_line.endswith("100%, …")
