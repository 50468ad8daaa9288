"""Subscribers in the config: every field, its default, and errors that name the subscriber and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from regwatch.config import load_config
from regwatch.errors import ConfigError
from regwatch.models import Subscriber

SOURCES = """
sources:
  - {id: ofcom-news, name: Ofcom, kind: feed, url: "https://ofcom.example/feed", type: regulator}
  - {id: ledger, name: Ledger, kind: feed, url: "https://ledger.example/feed"}
"""


def load(tmp_path: Path, subscribers: str) -> list[Subscriber]:
    path = tmp_path / "config.yaml"
    path.write_text(SOURCES + "subscribers:\n" + subscribers, encoding="utf-8")
    return load_config(path, env={}).subscribers


def test_every_field_is_read(tmp_path: Path) -> None:
    [sub] = load(
        tmp_path,
        """
  - id: policy-desk
    name: Policy desk
    email: desk@example.org
    timezone: America/New_York
    send_time: "06:30"
    cadence: weekly
    weekday: Tuesday
    entities: [Ofcom, X]
    keywords: ['"online safety act"', "age verif*"]
    sources: [ofcom-news]
    source_types: [Regulator, government]
    jurisdictions: [UK]
    min_relevance: 1.5
    empty_day: notice
""",
    )
    assert sub == Subscriber(
        id="policy-desk",
        name="Policy desk",
        email="desk@example.org",
        timezone="America/New_York",
        send_time="06:30",
        cadence="weekly",
        weekday=1,
        entities=("Ofcom", "X"),
        keywords=('"online safety act"', "age verif*"),
        sources=("ofcom-news",),
        source_types=("regulator", "government"),
        jurisdictions=("UK",),
        min_relevance=1.5,
        empty_day="notice",
    )


def test_defaults_are_a_daily_digest_of_everything_watched(tmp_path: Path) -> None:
    [sub] = load(tmp_path, "  - {id: ana, email: ana@example.org}\n")
    assert (sub.name, sub.timezone, sub.send_time, sub.cadence) == ("ana", "Europe/London", "07:00", "daily")
    assert (sub.entities, sub.keywords, sub.sources, sub.source_types, sub.jurisdictions) == ((),) * 5
    assert (sub.min_relevance, sub.empty_day) == (0.0, "skip")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{id: ana}", "subscribers[0]: missing required field 'email'"),
        ("{id: ana, email: nobody}", "(subscriber 'ana'): email 'nobody' is not an address"),
        ("{id: ana, email: a@b.c, timezone: Mars/Olympus}", "(subscriber 'ana'): timezone 'Mars/Olympus'"),
        (
            "{id: ana, email: a@b.c, send_time: 7:30}",
            "(subscriber 'ana'): send_time must be a string, got 450",
        ),
        ("{id: ana, email: a@b.c, send_time: '7am'}", "(subscriber 'ana'): send_time must be HH:MM"),
        (
            "{id: ana, email: a@b.c, cadence: monthly}",
            "(subscriber 'ana'): cadence must be one of daily, weekdays",
        ),
        ("{id: ana, email: a@b.c, cadence: weekly}", "(subscriber 'ana'): weekday must name the day"),
        (
            "{id: ana, email: a@b.c, cadence: weekly, weekday: funday}",
            "(subscriber 'ana'): weekday must name",
        ),
        (
            "{id: ana, email: a@b.c, weekday: mon}",
            "(subscriber 'ana'): weekday only applies to cadence: weekly",
        ),
        (
            "{id: ana, email: a@b.c, keywords: ['\"unbalanced']}",
            "(subscriber 'ana'): keywords: '\"unbalanced'",
        ),
        (
            "{id: ana, email: a@b.c, keywords: ['']}",
            "(subscriber 'ana'): keywords must be a list of non-empty",
        ),
        ("{id: ana, email: a@b.c, keywords: grok}", "(subscriber 'ana'): keywords: expected a list"),
        (
            "{id: ana, email: a@b.c, sources: [nope]}",
            "(subscriber 'ana'): sources: unknown source id(s) nope",
        ),
        (
            "{id: ana, email: a@b.c, source_types: [blog]}",
            "(subscriber 'ana'): source_types must be among news",
        ),
        (
            "{id: ana, email: a@b.c, min_relevance: high}",
            "(subscriber 'ana'): min_relevance must be a number",
        ),
        ("{id: ana, email: a@b.c, min_relevance: -1}", "(subscriber 'ana'): min_relevance must be a number"),
        (
            "{id: ana, email: a@b.c, empty_day: shout}",
            "(subscriber 'ana'): empty_day must be one of skip, notice",
        ),
        (
            "{id: ana, email: a@b.c, entity: [Ofcom]}",
            "(subscriber 'ana'): unknown field(s) entity; expected id",
        ),
    ],
)
def test_errors_name_the_subscriber_and_the_field(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, f"  - {entry}\n")
    assert message in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path / "config.yaml"))
    assert "\n" not in str(raised.value)


def test_a_subscriber_id_declared_twice_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="subscriber id 'ana' is declared twice"):
        load(tmp_path, "  - {id: ana, email: a@b.c}\n  - {id: ana, email: b@b.c}\n")


def test_a_bad_subscriber_is_one_line_from_the_cli(tmp_path: Path, home: Path) -> None:
    from cli_helpers import Cli

    path = tmp_path / "bad.yaml"
    path.write_text(SOURCES + "subscribers:\n  - {id: ana, email: a@b.c, cadence: fortnightly}\n")
    result = Cli(home=home, config=path)("digest", "--preview", expect=None)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert (
        "(subscriber 'ana'): cadence must be one of daily, weekdays, weekly, got 'fortnightly'"
        in result.output
    )


def test_a_subscriber_declares_saved_searches_that_are_read_only_config_searches(tmp_path: Path) -> None:
    [sub] = load(
        tmp_path,
        """
  - id: ana
    email: ana@example.org
    saved_searches:
      - {name: "Age checks", query: '"age checks" OR "age verification"', source_types: [Regulator], alert: true}
      - {name: Ofcom in the EU, entity: Ofcom, jurisdictions: [EU], languages: [FR], since: "2026-01-01"}
""",
    )
    first, second = sub.saved_searches
    assert (first.id, first.owner, first.origin, first.alert) == ("config-1", "ana", "config", True)
    assert first.query == '"age checks" OR "age verification"' and first.source_types == ("regulator",)
    assert (second.entity, second.jurisdictions, second.languages, second.since) == (
        "Ofcom",
        ("EU",),
        ("fr",),
        "2026-01-01",
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{query: grok}", "saved_searches[0]: a saved search needs a name"),
        ("{name: All}", "needs a query, an entity, a source, a type or a jurisdiction"),
        ('{name: Q, query: "\\"open"}', "is not a search"),
        ("{name: Q, source: nowhere}", "source: unknown source id 'nowhere'"),
        ("{name: Q, query: x, since: yesterday}", "since must be a date like 2026-01-31"),
        ("{name: Q, query: x, alert: yes please}", "alert must be true or false"),
        ("{name: Q, query: x, colour: red}", "unknown field(s) colour"),
    ],
)
def test_a_bad_saved_search_is_an_error_naming_it(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"  - id: ana\n    email: a@example.org\n    saved_searches:\n      - {entry}\n")
    assert message in str(caught.value) and "subscriber 'ana'" in str(caught.value)


def test_two_saved_searches_of_one_subscriber_cannot_share_a_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="two have the same name"):
        load(
            tmp_path,
            "  - id: ana\n    email: a@example.org\n    saved_searches:\n"
            "      - {name: Grok, query: grok}\n      - {name: grok, query: grok chatbot}\n",
        )
