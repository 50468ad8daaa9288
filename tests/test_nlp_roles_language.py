"""Dated roles ("the Technology Secretary" on the article's date) and non-English text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from nlp import Tagger, load_watchlist
from nlp._language import detect_language, is_english
from regwatch.models import Article


@pytest.fixture(scope="module")
def tagger() -> Iterator[Tagger]:
    yield Tagger(load_watchlist(), batch_size=4).load()


def watched(tagger: Tagger, body: str, **kwargs: object) -> dict[str, list[str]]:
    result = tagger.analyse("", body, **kwargs)  # type: ignore[arg-type]
    return {e.name: e.mentions for e in result.entities if e.watched}


# --- dated roles --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "holder"),
    [(date(2025, 3, 1), "Peter Kyle"), (date(2026, 1, 10), "Liz Kendall")],
)
def test_a_role_only_mention_is_its_holder_on_the_articles_date(
    tagger: Tagger, day: date, holder: str
) -> None:
    found = watched(tagger, "The Technology Secretary said the rules would be tightened.", published=day)
    assert found == {holder: ["Technology Secretary"]}


def test_a_role_before_anyones_holding_it_links_nobody(tagger: Tagger) -> None:
    assert watched(tagger, "The Technology Secretary spoke.", published=date(2019, 1, 1)) == {}


def test_prime_minister_in_2026_is_keir_starmer(tagger: Tagger) -> None:
    found = watched(tagger, "The Prime Minister told MPs he would act.", published=date(2026, 1, 12))
    assert found == {"Keir Starmer": ["Prime Minister"]}


@pytest.mark.parametrize(
    "text",
    [
        "Former Prime Minister Boris Johnson said the law went too far.",
        "The Shadow Technology Secretary called for a vote.",
        "The Prime Minister of Australia announced a ban for under-16s.",
    ],
)
def test_qualified_titles_and_other_countries_roles_are_not_the_holder(tagger: Tagger, text: str) -> None:
    assert "Keir Starmer" not in watched(tagger, text, published=date(2026, 1, 12))
    assert "Liz Kendall" not in watched(tagger, text, published=date(2026, 1, 12))


def test_a_title_before_the_name_counts_once(tagger: Tagger) -> None:
    result = tagger.analyse("", "Technology Secretary Liz Kendall spoke.", published=date(2026, 1, 12))
    [kendall] = [e for e in result.entities if e.name == "Liz Kendall"]
    assert kendall.mentions == ["Liz Kendall"] and kendall.count == 1


def test_tag_articles_dates_roles_by_published(tagger: Tagger) -> None:
    article = Article(
        url="https://example.org/r",
        source_id="test",
        title="Online safety",
        body="The Technology Secretary said Ofcom had her support.",
        published=datetime(2025, 2, 1, 9, 0, tzinfo=UTC),
    )
    tagger.tag_articles([article])
    assert {e.name for e in article.watched_entities()} == {"Peter Kyle", "Ofcom"}


# --- non-English text ---------------------------------------------------------

FRENCH = (
    "La Commission européenne a ouvert une enquête sur X et son assistant Grok. "
    "Le régulateur Ofcom a également lancé une procédure, selon les informations de la presse."
)
GERMAN = "Die Europäische Kommission hat eine Untersuchung gegen X und Meta eingeleitet, die sich auf das Gesetz stützt."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FRENCH, "fr"),
        (GERMAN, "de"),
        ("Ofcom opened an investigation into X over the Grok chatbot on Monday.", "en"),
        ("Министерство объявило о новых правилах для социальных сетей.", "ru"),
        ("Ofcom", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_a_declared_language_wins_over_the_guess() -> None:
    assert is_english("en-GB", FRENCH) and not is_english("fr", "Ofcom opened an investigation into X.")
    assert not is_english("", FRENCH) and is_english("", "The regulator said it would act.")


def test_non_english_text_gets_only_watchlist_entities(tagger: Tagger) -> None:
    result = tagger.analyse("", FRENCH)
    assert {e.name for e in result.entities} == {"X", "Grok", "Ofcom"}
    assert all(e.watched for e in result.entities)  # no English-model guesses ("La Commission", "Le")
    assert result.quotes == [] and result.actions == []


def test_an_articles_language_field_is_used(tagger: Tagger) -> None:
    english_text = "Ofcom fined TikTok on Monday, the BBC reported from London."
    article = Article(url="https://example.org/l", source_id="t", title="", body=english_text, language="fr")
    tagger.tag_articles([article])
    assert {e.name for e in article.entities} == {"Ofcom", "TikTok"} and article.actions == []


def test_elided_articles_do_not_hide_a_watched_name(tagger: Tagger) -> None:
    result = tagger.analyse("", "L'Ofcom a ouvert une enquête sur la plateforme, selon le régulateur.")
    [ofcom] = result.entities
    assert ofcom.name == "Ofcom" and ofcom.mentions == ["Ofcom"]
    text = "\n\nL'Ofcom a ouvert une enquête sur la plateforme, selon le régulateur."
    assert text[ofcom.first_position :].startswith("Ofcom")


def test_a_quote_from_a_role_is_attributed_to_its_holder(tagger: Tagger) -> None:
    result = tagger.analyse(
        "",
        "\u201cNo platform is above the law,\u201d said the Technology Secretary.",
        published=date(2026, 1, 9),
    )
    assert [(q.speaker, q.speaker_entity_id) for q in result.quotes] == [("Liz Kendall", "liz_kendall")]
