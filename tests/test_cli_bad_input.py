"""Bad input on the command line or in a setting: one line that says what is wrong, a non-zero exit,
never a traceback. And a query word starting with - is a query word, not an unknown option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Cli
from click.testing import Result

from indexer._types import MAX_OFFSET
from regwatch.app import App
from regwatch.models import Article


def one_line_error(result: Result, starts: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
    assert result.stderr.strip().startswith(starts), result.stderr


@pytest.fixture
def stored(home: Path) -> Path:
    """A home with two indexed articles about fines, one of them the ICO's."""
    with App.load(home, None) as app:
        for url, title, body in (
            ("https://news.example.org/ico", "ICO fine", "The ICO issued a fine to a retailer."),
            ("https://news.example.org/ofcom", "Ofcom fine", "Ofcom issued a fine to a broadcaster."),
        ):
            app.store.articles.upsert(Article(url=url, source_id="news", title=title, body=body))
        app.store.search.index_pending()
    return home


def test_an_offset_too_large_for_any_index_is_a_one_line_error(cli: Cli) -> None:
    result = cli("-q", "search", "x", "--offset", "99999999999999999999", expect=None)
    one_line_error(result, "Error: offset must be a whole number from 0 to 1,000,000,000")
    assert f"(at most {MAX_OFFSET:,})" in cli("search", "--help").stdout  # the help says the same bound


def test_until_the_last_day_of_the_calendar_is_every_article(cli: Cli, stored: Path) -> None:
    assert cli.json("search", "fine", "--until", "9999-12-31")["total"] == 2
    result = cli("search", "fine", "--until", "9999-12-31", "--facets", "month", "--json")
    assert result.exit_code == 0 and '"total": 2' in result.stdout


def test_a_query_word_starting_with_a_dash_excludes_it(cli: Cli, stored: Path) -> None:
    urls = ["https://news.example.org/ofcom"]
    assert [hit["url"] for hit in cli.json("search", "fine", "-ico")["hits"]] == urls
    assert [hit["url"] for hit in cli.json("search", "-ico", "fine")["hits"]] == urls
    after_dashes = json.loads(cli("search", "--json", "--", "-ico", "fine").stdout)
    assert [hit["url"] for hit in after_dashes["hits"]] == urls
    assert cli.json("search", "ofcom", "fine")["total"] == 1  # several arguments are one query


def test_a_query_of_exclusions_only_is_a_one_line_error(cli: Cli) -> None:
    result = cli("-q", "search", "-ico", expect=None)
    one_line_error(result, "Error: a search needs at least one word that is not excluded")


def test_a_mistyped_long_option_is_still_an_error(cli: Cli) -> None:
    result = cli("-q", "search", "--limt", "5", "grok", expect=2)
    assert "No such option '--limt'. Did you mean '--limit'?" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REGWATCH_INDEX_BUSY_TIMEOUT", "inf", "Error: environment: INDEX_BUSY_TIMEOUT must be a number"),
        ("REGWATCH_INDEX_TIMEOUT", "nan", "Error: environment: INDEX_TIMEOUT must be a number"),
        (
            "REGWATCH_INDEX_BATCH_SIZE",
            "99999999999999999999",
            "Error: environment: INDEX_BATCH_SIZE must be between 1 and 1,000,000",
        ),
        (
            "REGWATCH_ALERT_LOOKBACK",
            "10000000",
            "Error: environment: ALERT_LOOKBACK must be between 0 and 8,784",
        ),
        ("REGWATCH_SMTP_PORT", "70000", "Error: environment: SMTP_PORT must be between 1 and 65,535"),
    ],
)
def test_a_numeric_setting_out_of_range_is_a_one_line_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    one_line_error(cli("-q", "search", "x", expect=None), message)


def test_a_numeric_setting_out_of_range_in_the_config_names_the_file(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "regwatch.yaml"
    config.write_text("settings:\n  CRAWL_LOOKBACK_DAYS: 99999999999\n", encoding="utf-8")
    result = Cli(home=cli.home, config=config)("-q", "sources", expect=None)
    one_line_error(result, f"Error: {config}: settings: CRAWL_LOOKBACK_DAYS must be between 0 and 36,600")


def test_every_numeric_default_is_within_its_range() -> None:
    from regwatch.settings import SETTINGS

    numeric = [s for s in SETTINGS if isinstance(s.default, int | float) and not isinstance(s.default, bool)]
    assert sum(s.min is not None for s in numeric) >= 30  # the ranges live in the rows
    for setting in numeric:
        low, high = setting.range
        assert low <= setting.default <= high, setting.name


def test_regwatch_settings_shows_each_range_from_the_same_row(cli: Cli) -> None:
    lines = {line.split()[0]: line for line in cli("settings").output.splitlines() if line.strip()}
    assert lines["SMTP_PORT"].endswith("(1 to 65,535)")
    assert lines["CRAWL_LOOKBACK_DAYS"].endswith("(0 to 36,600)")
    assert not lines["LOG_LEVEL"].endswith(")")
