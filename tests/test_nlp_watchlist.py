"""The watchlist: the default entries, validation errors, merging user entries."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from nlp import Watchlist, load_watchlist
from regwatch.errors import ConfigError
from regwatch.settings import Settings

CANONICAL_NAMES = [
    "Ofcom",
    "X",
    "Grok",
    "xAI",
    "Elon Musk",
    "Keir Starmer",
    "Liz Kendall",
    "Nigel Farage",
    "Reform UK",
    "Online Safety Act",
    "Information Commissioner's Office",
    "Competition and Markets Authority",
    "European Commission",
    "Meta",
    "TikTok",
]


def write(tmp_path: Path, text: str, name: str = "extra.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_watchlist_spells_the_canonical_names_exactly() -> None:
    names = {e.name for e in load_watchlist().entities}
    assert set(CANONICAL_NAMES) <= names


def test_default_watchlist_types_grok_as_a_product_and_x_as_a_platform() -> None:
    watchlist = load_watchlist()
    assert watchlist.by_id["grok"].type == "product"
    assert watchlist.by_id["x"].type == "platform"
    assert "Twitter" in watchlist.by_id["x"].aliases


def test_find_matches_id_name_and_alias_case_insensitively() -> None:
    watchlist = load_watchlist()
    assert watchlist.find("twitter").id == "x"
    assert watchlist.find("KEIR_STARMER").name == "Keir Starmer"
    assert watchlist.find("  information commissioner's office ").id == "ico"
    assert watchlist.find("musk").name == "Elon Musk"
    assert watchlist.find("Politics UK") is None


def test_role_holder_depends_on_the_date() -> None:
    watchlist = load_watchlist()
    assert watchlist.holder("Technology Secretary", date(2025, 10, 1)).name == "Liz Kendall"
    assert watchlist.holder("technology secretary", date(2025, 1, 15)).name == "Peter Kyle"
    assert watchlist.holder("Technology Secretary", date(2020, 1, 1)) is None


def test_missing_field_error_names_file_entry_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "- id: acme\n  name: Acme\n- id: beta\n  type: company\n")
    with pytest.raises(ConfigError) as err:
        load_watchlist(files=[path])
    message = str(err.value)
    assert str(path) in message and "watchlist[0]" in message and "'type'" in message


def test_bad_type_error_names_the_field_and_the_choices(tmp_path: Path) -> None:
    path = write(tmp_path, "- id: acme\n  name: Acme\n  type: corporation\n")
    with pytest.raises(
        ConfigError, match=r"extra\.yaml: watchlist\[0\] \(id 'acme'\): field 'type' must be one of"
    ):
        load_watchlist(files=[path])


def test_empty_alias_is_rejected_with_its_index(tmp_path: Path) -> None:
    path = write(tmp_path, "- id: acme\n  name: Acme\n  type: company\n  aliases: [ACME Ltd, '  ']\n")
    with pytest.raises(ConfigError, match=r"\(id 'acme'\): field 'aliases'\[1\] is empty"):
        load_watchlist(files=[path])


def test_null_aliases_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "- id: acme\n  name: Acme\n  type: company\n  aliases:\n")
    with pytest.raises(ConfigError, match=r"field 'aliases' is empty"):
        load_watchlist(files=[path])


def test_duplicate_id_in_one_file_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path, "- {id: acme, name: Acme, type: company}\n- {id: acme, name: Acme Two, type: company}\n"
    )
    with pytest.raises(ConfigError, match=r"watchlist\[1\]: field 'id' 'acme' is declared twice"):
        load_watchlist(files=[path])


def test_alias_naming_two_entities_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "- {id: acme, name: Acme, type: company, aliases: [Twitter]}\n")
    with pytest.raises(ConfigError, match=r"'Twitter' already names entity 'x'"):
        load_watchlist(files=[path])


def test_bad_role_date_and_unknown_field_are_rejected(tmp_path: Path) -> None:
    bad_date = write(
        tmp_path,
        "- {id: jo, name: Jo Bloggs, type: person, roles: [{title: Minister, from: soon}]}\n",
        "a.yaml",
    )
    with pytest.raises(ConfigError, match=r"field 'roles'\[0\]\.from must be a date"):
        load_watchlist(files=[bad_date])
    unknown = write(tmp_path, "- {id: jo, name: Jo Bloggs, type: person, nickname: JB}\n", "b.yaml")
    with pytest.raises(ConfigError, match=r"unknown field\(s\) nickname"):
        load_watchlist(files=[unknown])


def test_ambiguous_must_list_a_known_alias(tmp_path: Path) -> None:
    path = write(tmp_path, "- {id: acme, name: Acme, type: company, ambiguous: [ACME]}\n")
    with pytest.raises(
        ConfigError, match=r"field 'ambiguous' lists 'ACME', which is not the name or an alias"
    ):
        load_watchlist(files=[path])


def test_jurisdiction_cues_and_counter_context_are_validated(tmp_path: Path) -> None:
    bad = write(tmp_path, "- {id: acme, name: Acme, type: company, jurisdiction: Britain}\n", "a.yaml")
    with pytest.raises(ConfigError, match=r"field 'jurisdiction' must be a code such as UK"):
        load_watchlist(files=[bad])
    cue = write(tmp_path, "- {id: acme, name: Acme, type: company, cues: [[]]}\n", "b.yaml")
    with pytest.raises(ConfigError, match=r"field 'cues'\[0\] must be a phrase or a non-empty list"):
        load_watchlist(files=[cue])
    good = write(
        tmp_path,
        "- {id: acme, name: Acme, type: company, jurisdiction: UK, anti_context: [rocket], cues: [Acme Ltd]}\n",
        "c.yaml",
    )
    entry = load_watchlist(files=[good]).entry("acme")
    assert (entry.jurisdiction, entry.anti_context, entry.cues) == ("UK", ("rocket",), ("Acme Ltd",))


def test_domains_are_validated_and_kept(tmp_path: Path) -> None:
    bad = write(tmp_path, "- {id: acme, name: Acme, type: company, domains: [Online Safety]}\n", "a.yaml")
    with pytest.raises(ConfigError, match=r"field 'domains' lists 'Online Safety'; use lower-case words"):
        load_watchlist(files=[bad])
    good = write(
        tmp_path, "- {id: acme, name: Acme, type: company, domains: [online_safety, ai]}\n", "b.yaml"
    )
    entry = load_watchlist(files=[good]).entry("acme")
    assert entry.domains == ("online_safety", "ai") and entry.to_dict()["domains"] == ["online_safety", "ai"]


def test_every_default_entry_has_a_domain_shared_with_another_entry() -> None:
    entries = load_watchlist().entries
    for entry in entries:
        others = {d for e in entries if e.id != entry.id for d in e.domains}
        assert set(entry.domains) & others, entry.id


def test_user_file_adds_an_entity_and_overrides_one(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- id: internet_watch_foundation\n"
        "  name: Internet Watch Foundation\n"
        "  type: company\n"
        "  aliases: [IWF]\n"
        "- id: ofcom\n"
        "  name: Ofcom\n"
        "  type: regulator\n"
        "  aliases: [OFCOM UK]\n",
    )
    default = load_watchlist()
    merged = load_watchlist(files=[path])
    assert len(merged) == len(default) + 1
    assert merged.find("IWF").name == "Internet Watch Foundation"
    assert merged.by_id["ofcom"].aliases == ("OFCOM UK",)
    assert merged.find("Office of Communications") is None  # the override replaced the whole entry
    assert merged.digest != default.digest


def test_inline_entries_override_files(tmp_path: Path) -> None:
    path = write(tmp_path, "- {id: acme, name: Acme, type: company}\n")
    merged = load_watchlist(
        files=[path], inline=[{"id": "acme", "name": "Acme Corp", "type": "company"}], include_default=False
    )
    assert [e.name for e in merged.entities] == ["Acme Corp"]


def test_inline_errors_name_the_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^regwatch\.yaml: watchlist\[0\]: missing required field 'name'"):
        load_watchlist(inline=[{"id": "acme", "type": "company"}], inline_origin="regwatch.yaml")


def test_missing_watchlist_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="watchlist file not found"):
        load_watchlist(files=[tmp_path / "nope.yaml"])


def test_empty_watchlist_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="nlp"):
        watchlist = load_watchlist(include_default=False)
    assert len(watchlist) == 0
    assert "watchlist is empty" in caplog.text


def test_include_default_watchlist_is_a_setting() -> None:
    assert Settings(env={})["NLP_INCLUDE_DEFAULT_WATCHLIST"] is True
    assert (
        Settings(env={"REGWATCH_NLP_INCLUDE_DEFAULT_WATCHLIST": "no"})["NLP_INCLUDE_DEFAULT_WATCHLIST"]
        is False
    )


def test_watchlist_object_can_be_built_directly() -> None:
    assert Watchlist().find("Ofcom") is None
