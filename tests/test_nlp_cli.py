"""`regwatch tag --jsonl` as a user runs it: the issue's done-when, through the `cli` fixture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli

SEED = Path(__file__).parent / "data" / "seed_article.txt"
WATCHED_ON_THE_SEED = {
    "Ofcom": "regulator",
    "X": "platform",
    "Grok": "product",
    "Keir Starmer": "person",
    "Liz Kendall": "person",
    "Nigel Farage": "person",
    "Elon Musk": "person",
    "Online Safety Act": "law",
}
pytestmark = pytest.mark.slow


def tag(cli: Cli, *paths: Path) -> list[dict[str, Any]]:
    result = cli("tag", *map(str, paths), "--jsonl")
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_seed_lists_the_watched_entities_with_their_types(cli: Cli) -> None:
    [record] = tag(cli, SEED)
    assert set(record) == {"path", "entities", "quotes", "actions"}
    watched = {e["name"]: e["type"] for e in record["entities"] if e["id"]}
    assert {name: watched.get(name) for name in WATCHED_ON_THE_SEED} == WATCHED_ON_THE_SEED
    for entity in record["entities"]:
        assert set(entity) >= {"name", "type", "mentions"}


def test_seed_gives_quotes_and_the_ofcom_investigation_into_x(cli: Cli) -> None:
    [record] = tag(cli, SEED)
    speakers = {q["speaker"] for q in record["quotes"]}
    assert {"Ofcom", "Nigel Farage", "Liz Kendall"} <= speakers
    assert all(set(q) == {"text", "speaker", "speaker_entity_id", "position"} for q in record["quotes"])
    assert [(a["actor"], a["action"], a["target"]) for a in record["actions"]] == [
        ("Ofcom", "investigation", "X")
    ]
    [action] = record["actions"]
    assert action["actor_entity_id"] == "ofcom" and action["target_entity_id"] == "x"


def test_x_ray_spacex_and_kendall_jenner_texts_list_none_of_the_watched(cli: Cli, tmp_path: Path) -> None:
    texts = {
        "xray.txt": "The hospital said its X-ray backlog had fallen after two scanners were installed.",
        "spacex.txt": "SpaceX postponed the Starship launch from Texas after engineers found a faulty valve.",
        "jenner.txt": "Kendall Jenner wore vintage Chanel in Paris. Kendall later posted photos of the show.",
    }
    paths = []
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    records = tag(cli, *paths)
    assert [r["path"] for r in records] == [str(p) for p in paths]
    for record in records:
        names = {e["name"] for e in record["entities"]}
        assert not names & set(WATCHED_ON_THE_SEED), record
        assert not any(e["id"] for e in record["entities"]), record
        assert record["quotes"] == [] and record["actions"] == []


def test_tag_published_dates_role_mentions(cli: Cli) -> None:
    text = "The Technology Secretary said Ofcom had her full support."
    for day, holder in (("2025-03-01", "Peter Kyle"), ("2026-01-09", "Liz Kendall")):
        result = cli("tag", "-", "--jsonl", "--published", day, input=text)
        [record] = [json.loads(line) for line in result.stdout.splitlines()]
        assert holder in {e["name"] for e in record["entities"]}


def test_tag_language_applies_only_the_watchlist(cli: Cli) -> None:
    text = "Ofcom fined TikTok on Monday, the BBC reported from London."
    [record] = [
        json.loads(line)
        for line in cli("tag", "-", "--jsonl", "--language", "fr", input=text).stdout.splitlines()
    ]
    assert {e["name"] for e in record["entities"]} == {"Ofcom", "TikTok"} and record["actions"] == []
