"""The CLI contract: errors a user can fix are one line, docs cover every command."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import Cli

from regwatch.app.cli import cli as regwatch_group
from regwatch.errors import ERROR_CLASS_MEANINGS, SOURCE_ERROR_CLASSES
from regwatch.models import Source

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", sorted(regwatch_group.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    command = regwatch_group.commands[name]
    assert command.help and "Example" in command.help, f"{name} lacks help with an example"


@pytest.mark.parametrize("name", sorted(regwatch_group.commands))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"regwatch {name}" in README.read_text(encoding="utf-8")


def test_the_readme_and_sources_help_list_every_error_class_with_its_meaning(cli: Cli) -> None:
    readme = README.read_text(encoding="utf-8")
    help_text = " ".join(cli("sources", "--help").output.split())
    for error_class, meaning in ERROR_CLASS_MEANINGS.items():
        assert f"| `{error_class}` | {meaning} |" in readme, error_class
        assert f"{error_class} {meaning}" in help_text, error_class
    assert set(ERROR_CLASS_MEANINGS) == set(SOURCE_ERROR_CLASSES)


def test_readme_starts_with_the_two_newcomer_commands() -> None:
    head = README.read_text(encoding="utf-8")[:1200]
    assert "make demo" in head and "make test" in head


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.output
    for fragment in fragments:
        assert fragment in error_lines[0], error_lines[0]


def test_invalid_yaml_config_names_the_file_and_line(home: Path, tmp_path: Path) -> None:
    config = write(tmp_path / "bad.yaml", "sources:\n  - id: a\n   name: b\n")
    result = Cli(home=home, config=config)("sources", expect=None)
    assert_one_line_error(result, "bad.yaml", "invalid YAML")


def test_unknown_source_kind_names_the_entry_and_field(home: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml",
        "sources:\n  - {id: s1, name: S, kind: carrier-pigeon, url: 'https://example.org/'}\n",
    )
    result = Cli(home=home, config=config)("sources", expect=None)
    assert_one_line_error(result, "sources[0]", "s1", "kind must be one of")


def test_unknown_setting_in_config_is_rejected(home: Path, tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "settings:\n  CRAWL_SPEED: fast\n")
    assert_one_line_error(Cli(home=home, config=config)("settings", expect=None), "CRAWL_SPEED")


def test_bad_subscriber_timezone_names_the_subscriber(home: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml",
        "subscribers:\n  - {id: ana, email: ana@example.org, timezone: Mars/Olympus}\n",
    )
    assert_one_line_error(Cli(home=home, config=config)("sources", expect=None), "ana", "timezone")


def test_bad_source_timezone_names_the_source(home: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml",
        "sources:\n  - {id: ec, name: EC, kind: feed, url: 'https://ec.example/rss', timezone: Mars/Olympus}\n",
    )
    assert_one_line_error(Cli(home=home, config=config)("sources", expect=None), "ec", "timezone")


def test_a_source_dates_shown_days_in_its_jurisdictions_zone_unless_it_names_one() -> None:
    assert (
        Source("a", "A", "feed", "https://a.example", jurisdiction="EU").local_timezone == "Europe/Brussels"
    )
    named = Source("b", "B", "feed", "https://b.example", jurisdiction="US", timezone="America/Chicago")
    assert named.local_timezone == "America/Chicago"
    assert Source("c", "C", "feed", "https://c.example").local_timezone == ""


def test_missing_config_file_is_one_line(home: Path, tmp_path: Path) -> None:
    result = Cli(home=home, config=tmp_path / "nope.yaml")("sources", expect=None)
    assert_one_line_error(result, "nope.yaml", "not found")


def test_crawl_says_it_sends_alerts_in_its_help_and_its_summary(home: Path, tmp_path: Path) -> None:
    from test_digest_alerts import CONFIG, investigation_article
    from test_digest_ledger import store_articles

    from regwatch.app import App

    assert "then tag, index and send alerts" in " ".join(Cli()("crawl", "--help").output.split())
    config = write(
        tmp_path / "alerts.yaml",
        CONFIG.replace(
            'url: "http://127.0.0.1:9/o.xml"', 'url: "http://127.0.0.1:9/o.xml", enabled: false'
        ).replace('url: "http://127.0.0.1:9/p.xml"', 'url: "http://127.0.0.1:9/p.xml", enabled: false'),
    )
    with App.load(home, config) as app:
        store_articles(app, investigation_article(seen=datetime.now(UTC) - timedelta(minutes=10)))
    result = Cli(home=home, config=config)("crawl")
    assert "alerts sent:       1" in result.output.splitlines()
    assert "alert ana: sent, 1 item(s)" in result.output.splitlines()
    assert [p.name for p in (home / "outbox").glob("*-ana-alert-*.eml")]


def test_crawl_of_an_unknown_source_lists_the_known_ones(cli: Cli) -> None:
    assert_one_line_error(cli("crawl", "no-such-source", expect=None), "no-such-source", "bbc-technology")


def test_environment_overrides_config_and_secrets_are_masked(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "c.yaml", "settings:\n  SMTP_HOST: from-config\n  SMTP_PORT: 2525\n")
    monkeypatch.setenv("REGWATCH_SMTP_HOST", "from-env")
    monkeypatch.setenv("REGWATCH_SMTP_PASSWORD", "hunter2")
    values = Cli(home=home, config=config).json("settings")
    assert values["SMTP_HOST"] == "from-env"
    assert values["SMTP_PORT"] == 2525
    assert values["SMTP_PASSWORD"] == "***"


def test_a_non_numeric_environment_setting_is_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGWATCH_SMTP_PORT", "twenty-five")
    assert_one_line_error(cli("settings", expect=None), "SMTP_PORT", "int")


def test_search_on_an_empty_home_finds_nothing(cli: Cli) -> None:
    assert cli.json("search", "Ofcom") == {"total": 0, "hits": []}


def test_digest_needs_preview_or_send(cli: Cli) -> None:
    result = cli("digest", expect=None)
    assert result.exit_code == 2 and "--preview or --send" in result.output


def test_extract_prints_one_json_line_per_file_and_reports_bad_ones(cli: Cli, tmp_path: Path) -> None:
    page = """<html lang="en"><head><title>Ofcom opens investigation | Example</title>
    <link rel="canonical" href="https://news.example.org/ofcom-x">
    <meta property="article:published_time" content="2026-01-12T09:30:00+00:00">
    <meta name="author" content="Jane Reporter"></head><body><article><h1>Ofcom opens investigation</h1>
    <p>Ofcom has opened an investigation into X under the Online Safety Act after reports that the
    Grok chatbot was used to create sexualised images.</p>
    <p>The regulator said it would move quickly and could seek to block access to the platform.</p>
    </article></body></html>"""
    plain = write(tmp_path / "page.html", page)
    packed = tmp_path / "page2.html.gz"
    packed.write_bytes(gzip.compress(page.encode()))
    result = cli("extract", str(plain), str(packed), str(tmp_path / "missing.html"), "--jsonl", expect=None)
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in records] == [str(plain), str(packed)]
    for record in records:
        assert set(record) == {"path", "title", "body", "published", "authors", "language", "canonical_url"}
        assert record["canonical_url"] == "https://news.example.org/ofcom-x"
        assert "Grok" in record["body"]
    assert "missing.html" in result.stderr


@pytest.mark.slow
def test_tag_reads_stdin_and_links_watched_entities(cli: Cli) -> None:
    text = "Ofcom opened an investigation into X after Grok was misused, Liz Kendall said."
    result = cli("tag", "-", "--jsonl", input=text)
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["path"] == "-"
    names = {e["name"] for e in record["entities"]}
    assert {"Ofcom", "X", "Grok", "Liz Kendall"} <= names
    for entity in record["entities"]:
        assert set(entity) >= {"name", "type", "mentions"}


def test_a_yaml_boolean_where_a_name_belongs_says_to_quote_it(home: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml", "sources:\n  - {id: off, name: Off, kind: feed, url: 'https://e.org/'}\n"
    )
    assert_one_line_error(Cli(home=home, config=config)("sources", expect=None), "sources[0]", "quote it")
