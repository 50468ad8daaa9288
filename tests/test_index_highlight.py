"""Where a search's words are in a text: marked spans, a hit's sentence, and hits that carry them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_index_search import SOURCES, fill, id_of

from indexer import Highlight, SearchQuery, Store, highlight, hit_sentence


def marked(result: Highlight | None) -> list[str]:
    return [] if result is None else [result.text[a:b] for a, b in result.marks]


def test_words_are_marked_as_the_index_tokenizes_them() -> None:
    text = "Ofcom's fine: OFCOM fined Café Ltd; the café said “no”."
    assert marked(highlight(text, "ofcom cafe")) == ["Ofcom", "OFCOM", "Café", "café"]
    assert marked(highlight(text, "fine*")) == ["fine", "fined"]
    assert marked(highlight(text, "fine")) == ["fine"]


def test_a_phrase_is_marked_only_where_its_words_follow_each_other() -> None:
    text = "Online safety matters. The Online Safety Act is law; safety online is not."
    assert marked(highlight(text, '"online safety act"')) == ["Online Safety Act"]
    assert marked(highlight(text, '"online saf"*')) == ["Online safety", "Online Safety"]


def test_excluded_words_and_operators_are_not_marked() -> None:
    text = "Ofcom and the ICO: fine OR penalty"
    assert marked(highlight(text, "ofcom -ico")) == ["Ofcom"]
    assert marked(highlight(text, "fine OR penalty")) == ["fine", "penalty"]
    assert highlight(text, "").marks == ()


def test_pieces_cut_the_text_at_the_marks_and_keep_every_character() -> None:
    result = highlight("<b>Ofcom</b> & X", "ofcom x")
    assert result.pieces() == [("<b>", False), ("Ofcom", True), ("</b> & ", False), ("X", True)]
    assert "".join(piece for piece, _ in result.pieces()) == result.text


def test_the_hit_sentence_holds_the_most_search_terms() -> None:
    body = (
        "Ofcom published its plan. Nothing else here.\n"
        "Ofcom opened an investigation into X under the Online Safety Act. Later, X replied."
    )
    sentence = hit_sentence(body, 'ofcom x "online safety act"')
    assert sentence is not None
    assert sentence.text == "Ofcom opened an investigation into X under the Online Safety Act."
    assert marked(sentence) == ["Ofcom", "X", "Online Safety Act"]
    assert hit_sentence(body, "grok") is None


def test_a_long_sentence_is_cut_around_its_first_mark_at_word_boundaries() -> None:
    body = " ".join(["padding"] * 200) + " the regulator fined Acme " + " ".join(["tail"] * 200) + "."
    sentence = hit_sentence(body, "fined", limit=120)
    assert sentence is not None and len(sentence.text) <= 124
    assert sentence.text.startswith("… padding") and sentence.text.endswith("tail …")
    assert marked(sentence) == ["fined"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "regwatch.db", sources=SOURCES) as opened:
        yield fill(opened)


def test_hits_carry_their_marked_title_and_sentence_only_when_asked(store: Store) -> None:
    [plain] = store.search.search(SearchQuery("ages check")).hits
    assert plain.title_marked is None and plain.sentence is None
    [hit] = store.search.search(SearchQuery("ages check", highlight=True)).hits
    assert hit.title_marked is not None and marked(hit.title_marked) == []  # "age checks": other words
    assert hit.sentence is not None and marked(hit.sentence) == ["check", "ages"]
    assert hit.to_dict() == plain.to_dict()  # the JSON does not change


def test_the_title_is_marked_where_it_matches(store: Store) -> None:
    [hit] = store.search.search(SearchQuery("age checks", highlight=True)).hits
    assert marked(hit.title_marked) == ["age", "checks"]


def test_a_match_in_the_summary_only_gives_the_summary_as_sentence(store: Store) -> None:
    [hit] = store.search.search(SearchQuery("views", highlight=True)).hits
    assert hit.id == id_of("cma") and hit.sentence is not None
    assert hit.sentence.text == "The CMA wants views on remedies." and marked(hit.sentence) == ["views"]
