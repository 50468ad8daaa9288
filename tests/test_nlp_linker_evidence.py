"""The linker's evidence rules on short texts written for these tests: word senses, acronyms,
places, apposition, coreference and cues (the kinds of error real news showed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from nlp import Tagger, load_watchlist

DAY = date(2026, 1, 12)  # Liz Kendall is Technology Secretary, Keir Starmer Prime Minister


@pytest.fixture(scope="module")
def tagger() -> Iterator[Tagger]:
    yield Tagger(load_watchlist(), batch_size=8).load()


def watched(tagger: Tagger, text: str, day: date | None = DAY) -> dict[str, list[str]]:
    """Entity id -> mentions of the watched entities tagged in ``text``."""
    result = tagger.analyse("", text, published=day, language="en")
    return {e.entity_id: e.mentions for e in result.entities if e.entity_id}


# --- other senses of a watched name ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Grok means to understand something so thoroughly that it becomes part of you. Heinlein "
        "coined the word in Stranger in a Strange Land, where the Martian Mike learns to grok water.",
        "Grok is the simplest way to parse unstructured log data in Logstash: each grok pattern names "
        "a field, and the Grok debugger in Kibana shows what it captures.",
    ],
)
def test_grok_the_word_and_the_log_filter_are_not_the_chatbot(tagger: Tagger, text: str) -> None:
    assert "grok" not in watched(tagger, text)


def test_grok_the_chatbot_is_still_grok(tagger: Tagger) -> None:
    text = "Grok, the chatbot built by Elon Musk's xAI, produced the images, users of the app said."
    assert {"grok", "xai", "elon_musk"} <= set(watched(tagger, text))


def test_xai_meaning_explainable_ai_is_not_the_company(tagger: Tagger) -> None:
    text = (
        "Explainable AI (XAI) methods such as SHAP and saliency maps help doctors see why a model "
        "flagged a scan. XAI is now part of most hospital procurement rules."
    )
    assert "xai" not in watched(tagger, text)


def test_meta_tags_and_meta_learning_are_not_the_company(tagger: Tagger) -> None:
    text = (
        "Every page needs a Meta Description under 160 characters. Meta tags in the head section tell "
        "search engines what the page is about. Meta-learning is a different topic altogether."
    )
    assert "meta" not in watched(tagger, text)


def test_meta_owned_instagram_is_still_meta(tagger: Tagger) -> None:
    assert {"meta", "instagram"} <= set(watched(tagger, "Meta-owned Instagram changed its teen accounts."))


# --- acronyms ----------------------------------------------------------------------


def test_an_acronym_spelled_out_as_something_else_is_not_linked(tagger: Tagger) -> None:
    text = (
        "The start-up raised $30m in an initial coin offering (ICO) last spring. ICO investors were "
        "promised tokens that never traded."
    )
    assert "ico" not in watched(tagger, text)
    weather = "Rainfall has risen since 1961, according to the China Meteorological Administration (CMA)."
    assert "cma" not in watched(tagger, weather)


def test_the_regulators_acronyms_still_link_in_their_own_context(tagger: Tagger) -> None:
    found = watched(
        tagger, "The ICO fined the retailer £1m after a data breach exposed customers' personal data."
    )
    assert found["ico"] == ["ICO"]


def test_an_acronym_inside_a_longer_name_is_not_linked(tagger: Tagger) -> None:
    text = "The container ship was chartered by CMA CGM, the French shipping group, in Marseille."
    assert "cma" not in watched(tagger, text)


def test_an_acronym_used_as_a_name_needs_one_context_word(tagger: Tagger) -> None:
    filler = "The sessions ran all day and the questions went on well into the evening. " * 5
    text = (
        f"Jeni was the keynote speaker at the ICO\u2019s annual conference.\n\n{filler}\n\nIt was about data."
    )
    assert watched(tagger, text)["ico"] == ["ICO"]
    assert "ico" not in watched(tagger, text.replace("ICO\u2019s", "ICO"))


def test_counter_context_across_the_text_outweighs_as_much_context(tagger: Tagger) -> None:
    text = (
        "The ICO\u2019s hard cap was reached within an hour, the founders said.\n\n"
        + "The sale ran for a week and buyers came from forty countries. " * 8
        + "Every buyer got tokens for their data."
    )
    assert "ico" not in watched(tagger, text)
    assert "ico" in watched(tagger, text.replace("tokens", "vouchers"))


# --- evidence from the rest of the text ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Ofcom fined Grok on Tuesday.",
        "Grok was fined by Ofcom on Tuesday.",
        "Ofcom has opened an investigation into Grok.",
    ],
)
def test_a_watched_regulator_acting_on_a_name_makes_it_the_watched_one(tagger: Tagger, text: str) -> None:
    assert set(watched(tagger, text)) == {"ofcom", "grok"}


@pytest.mark.parametrize(
    "text",
    [
        "Essex school reprimanded by ICO for facial recognition in canteen.",
        "The CMA has blocked the takeover.",
    ],
)
def test_a_regulator_acronym_acting_as_a_regulator_links(tagger: Tagger, text: str) -> None:
    assert set(watched(tagger, text)) in ({"ico"}, {"cma"})


def test_a_regulator_near_a_name_without_acting_on_it_is_not_enough(tagger: Tagger) -> None:
    text = "Ofcom published its annual report. Grok the idea before you read it, the editor wrote."
    assert "grok" not in watched(tagger, text)


def test_watched_entities_of_the_same_domain_support_an_acronym(tagger: Tagger) -> None:
    # Meta and Instagram share the data-protection domain with the ICO; Starmer does not.
    text = (
        "Instagram is putting every teen into a more private account (The Verge)... "
        "Our statement in response to Meta\u2019s announcement on teen accounts (ICO)..."
    )
    assert {"ico", "meta", "instagram"} <= set(watched(tagger, text))
    other = "Keir Starmer is putting every teen into a new scheme (The Verge)... Our statement (ICO)..."
    assert "ico" not in watched(tagger, other)


def test_a_speakers_label_is_a_name(tagger: Tagger) -> None:
    filler = "The rest of the session went on like this for a while. " * 6
    text = f"User: Draw me a cat.\nGrok: Here it is.\nUser: Thanks.\n\n{filler}\n\nThe chatbot was slow."
    assert "grok" in watched(tagger, text)
    verb = f"Grok the idea first.\nThen draw me a cat.\n\n{filler}\n\nThe chatbot was slow."
    assert "grok" not in watched(tagger, verb)


def test_a_numbered_version_and_a_dotted_spelling_are_the_product_and_the_company(tagger: Tagger) -> None:
    text = "X.ai revealed that Grok-1 is a 314 billion-parameter model; Grok-1.5 followed in March."
    found = watched(tagger, text)
    assert found["xai"] == ["X.ai"] and set(found["grok"]) == {"Grok-1", "Grok-1.5"}


# --- places ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Australia's Online Safety Act gives the eSafety Commissioner power to order removals in Sydney "
        "and Melbourne.",
        "Under the Online Safety Act 2021, Australian platforms must remove cyber-abuse material.",
        "The Kids Online Safety Act would make American platforms liable, senators in Washington said.",
        "Sri Lanka's Online Safety Act gives a five-member commission power to order takedowns.",
        "In Colombo, critics say the Online Safety Act will be used to silence journalists.",
    ],
)
def test_other_countries_online_safety_acts_are_not_the_uk_act(tagger: Tagger, text: str) -> None:
    assert "online_safety_act" not in watched(tagger, text)


def test_an_acronym_is_what_the_texts_full_name_for_it_is(tagger: Tagger) -> None:
    text = (
        "Defamation disputes were settled in Sri Lanka's courts well before the Online Safety Act "
        "(OSA). The OSA, by contrast, makes harmful online content a crime."
    )
    assert "online_safety_act" not in watched(tagger, text)
    uk = "Ofcom enforces the Online Safety Act (OSA) in Britain. The OSA came into force in 2023."
    assert watched(tagger, uk)["online_safety_act"] == ["Online Safety Act", "OSA"]


def test_the_uk_act_named_in_an_australian_text_is_the_uk_act(tagger: Tagger) -> None:
    text = "Australian teenagers, like British ones under the UK's Online Safety Act, now face age checks."
    assert "online_safety_act" in watched(tagger, text)


@pytest.mark.parametrize(
    "text",
    [
        "The Reform Party of the United States nominated Ross Perot again in 1996.",
        "Ross Perot's Reform Party won 8% of the vote in Texas and California that year.",
    ],
)
def test_other_countries_reform_parties_are_not_reform_uk(tagger: Tagger, text: str) -> None:
    assert "reform_uk" not in watched(tagger, text)


def test_another_countrys_prime_minister_is_not_the_uk_holder(tagger: Tagger) -> None:
    text = "Spain's prime minister flew to Brussels; Slovakia's populist prime minister stayed home."
    assert "keir_starmer" not in watched(tagger, text)


def test_a_british_text_about_abroad_still_has_the_british_holder(tagger: Tagger) -> None:
    text = (
        "The Prime Minister told MPs that the situation in Gaza was intolerable. He said Israel must "
        "let aid into Gaza and that the West Bank settlements were illegal."
    )
    assert "keir_starmer" in watched(tagger, text)
    canada = "The Prime Minister told MPs in Ottawa that Canada would recognise a Palestinian state."
    assert "keir_starmer" not in watched(tagger, canada)  # Canada has MPs too


def test_a_former_prime_minister_a_few_words_back_is_not_the_holder(tagger: Tagger) -> None:
    text = "The board will be chaired by Sir Tony Blair, a former British prime minister, from March."
    assert "keir_starmer" not in watched(tagger, text)


ROLE_CASES = [
    # a capacity someone served in or came to: whoever the sentence is about
    ("Liz Truss resigned after 49 days as prime minister.", False),
    ("Under Theresa May as prime minister, the Online Harms White Paper was published.", False),
    ("She follows the late Abe Shinzo, who as prime minister a decade ago promised reform.", False),
    ("When Mr Oli became prime minister in 2024, he had already served three times.", False),
    ("Andrew Holness, who has been prime minister since 2016, campaigned on tax cuts.", False),
    ("Whoever becomes prime minister will have him to thank.", False),
    # no particular holder, or someone else's
    ("Ramsay MacDonald went on to become Britain's first Labour prime minister.", False),
    ("France has burned through one prime minister after another.", False),
    ("Ayman Asfari was once touted to be Mr Sharaa's prime minister.", False),
    ("Winston Churchill, Britain's prime minister, considered shooting the Nazi leaders.", False),
    # the role as a clause's subject, in a comparison, after its country, or in a text naming the holder
    ("As the Prime Minister said on Monday, the rules will change.", True),
    ("Sir Sadiq Khan belongs to the same party as the prime minister.", True),
    ("Sir Keir Starmer's ratings as prime minister are dire.", True),
    ("Britain's prime minister said the rules would change.", True),
    ("Questions for the Prime Minister were dominated by the budget.", True),
]


def test_a_role_is_the_holder_unless_it_names_a_capacity_or_no_one_in_particular(tagger: Tagger) -> None:
    wrong = [
        (text, holder)
        for text, holder in ROLE_CASES
        if ("keir_starmer" in watched(tagger, text)) is not holder
    ]
    assert wrong == []


def test_a_eu_legal_citation_is_not_the_commission(tagger: Tagger) -> None:
    text = "Member states of the EU apply Council Regulation (EC) 44/2001 on jurisdiction in civil matters."
    assert "european_commission" not in watched(tagger, text)


def test_an_ampersand_spelling_of_a_name_links(tagger: Tagger) -> None:
    text = "A reply came from the Department for Science, Innovation & Technology in August."
    assert "dsit" in watched(tagger, text)


# --- people --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The Technology Secretary, Michelle Donelan, said the summit would go ahead.",
        "Michelle Donelan, the Technology Secretary, said the summit would go ahead.",
    ],
)
def test_a_role_next_to_another_named_holder_is_not_linked(tagger: Tagger, text: str) -> None:
    assert "liz_kendall" not in watched(tagger, text)


def test_ms_kendall_without_a_first_name_is_liz_kendall_in_an_ofcom_story(tagger: Tagger) -> None:
    text = (
        "Ofcom has opened an investigation into X after Grok was used to make sexualised images. "
        "The platform said it had removed the posts and suspended the accounts involved. "
        "Campaigners said the images had spread for days before anything was done, and that victims "
        "had been left to report each one themselves. "
        "Ms Kendall said she expected an update within days."
    )
    assert watched(tagger, text).get("liz_kendall") == ["Ms Kendall"]


def test_a_surname_beside_the_role_its_holder_has_is_the_holder(tagger: Tagger) -> None:
    """However a paper capitalises the title."""
    for text in (
        "Mr Kyle, the business secretary, said the deal would create jobs across Britain.",
        "Kyle, the Business Secretary, told the BBC the tariffs would hurt British exporters.",
    ):
        assert "peter_kyle" in watched(tagger, text), text


def test_a_surname_followed_by_initials_is_a_reference_not_the_politician(tagger: Tagger) -> None:
    text = "Bird KD, Boleyn T, Starmer GA, Teo RKC. Intercannabinoid interactions. Psychopharmacology 1980."
    assert "keir_starmer" not in watched(tagger, text)


# --- coreference and cues --------------------------------------------------------------


def test_the_commission_in_an_eu_story_is_the_european_commission(tagger: Tagger) -> None:
    text = (
        "Brussels has given TikTok until Friday to explain its new app under the Digital Services Act. "
        "The Commission said it could impose interim measures."
    )
    assert watched(tagger, text)["european_commission"] == ["Commission"]


def test_the_commission_after_another_commission_is_not_the_european_commission(tagger: Tagger) -> None:
    text = (
        "The Electoral Commission is reviewing donations to the party in London. The Commission said "
        "it would publish its findings in the spring."
    )
    assert "european_commission" not in watched(tagger, text)


def test_x_inside_a_quotation_is_x_on_its_cue(tagger: Tagger) -> None:
    text = "\u201cIf you go onto X you will have seen it,\u201d she told the committee."
    assert watched(tagger, text)["x"] == ["X"]


# --- unwatched noise ---------------------------------------------------------------------


def test_a_heading_word_and_the_country_name_are_not_listed_as_entities(tagger: Tagger) -> None:
    body = (
        "The Technology Secretary said platforms must act quickly in the UK.\n\n"
        "Background\n\n"
        "Ofcom can fine companies, its chief executive told reporters in London."
    )
    names = {e.name for e in tagger.analyse("Statement", body, published=DAY).entities}
    assert "Background" not in names and "UK" not in names
    assert {"Ofcom", "Liz Kendall", "London"} <= names
