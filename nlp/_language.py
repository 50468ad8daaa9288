"""A cheap language guess: is this text English?

The English model's entities, quotes and actions are guesses on any other
language, so the tagger applies only the watchlist to non-English text. An
article's own ``language`` (from its HTML) decides when it has one; otherwise
:func:`detect_language` counts the commonest function words of a few European
languages and looks at the script. It only has to tell English from the rest,
on news text of a sentence or more; anything it cannot tell is taken as English.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "of",
            "and",
            "to",
            "in",
            "is",
            "that",
            "for",
            "it",
            "was",
            "on",
            "with",
            "as",
            "by",
            "at",
            "from",
            "has",
            "have",
            "are",
            "be",
            "this",
            "which",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "des",
            "et",
            "est",
            "un",
            "une",
            "du",
            "dans",
            "que",
            "pour",
            "qui",
            "sur",
            "pas",
            "au",
            "avec",
            "ce",
            "sont",
            "par",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "nicht",
            "ein",
            "eine",
            "zu",
            "den",
            "von",
            "mit",
            "sich",
            "des",
            "auf",
            "für",
            "im",
            "dem",
            "auch",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "y",
            "es",
            "en",
            "un",
            "una",
            "que",
            "por",
            "con",
            "para",
            "del",
            "se",
            "su",
            "al",
            "lo",
            "como",
            "más",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "la",
            "di",
            "che",
            "è",
            "e",
            "un",
            "una",
            "per",
            "non",
            "sono",
            "della",
            "del",
            "le",
            "gli",
            "con",
            "si",
            "nel",
            "alla",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "van",
            "is",
            "dat",
            "op",
            "te",
            "in",
            "niet",
            "voor",
            "zijn",
            "met",
            "die",
            "ook",
            "aan",
            "bij",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "de",
            "que",
            "e",
            "do",
            "da",
            "em",
            "um",
            "uma",
            "para",
            "com",
            "não",
            "se",
            "por",
            "mais",
            "dos",
        ]
    ),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
)
MIN_HITS = 3
SAMPLE_CHARS = 2000


def detect_language(text: str) -> str:
    """An ISO 639-1 code for ``text``; "en" when unsure."""
    sample = text[:SAMPLE_CHARS]
    letters = sum(1 for c in sample if c.isalpha())
    if not letters:
        return "en"
    for code, script in _SCRIPTS:
        if len(script.findall(sample)) > letters * 0.3:
            return code
    words = [w.lower() for w in _WORD.findall(sample)]
    scores = {code: sum(1 for w in words if w in stops) for code, stops in STOPWORDS.items()}
    best = max(scores, key=lambda code: (scores[code], code == "en"))
    if scores[best] < MIN_HITS or scores[best] <= scores["en"]:
        return "en"
    return best


def is_english(language: str, text: str) -> bool:
    """Whether to run the English model: the declared ``language`` ("en-GB"), else a guess from ``text``."""
    declared = language.strip().lower().replace("_", "-")
    if declared:
        return declared.split("-")[0] == "en"
    return detect_language(text) == "en"


# French and Italian elisions glue an article to a name ("L'Ofcom", "dell'Ofcom").
_ELISION = re.compile(r"^((?:[cdjlmnst]|qu|dell|all|dall|nell|sull)['\u2019])(\w.*)$", re.IGNORECASE)


def split_elisions(doc: Doc) -> Doc:
    """The same text with elided articles split off ("L'Ofcom" -> "L'" + "Ofcom"), for the watchlist."""
    words: list[str] = []
    spaces: list[bool] = []
    changed = False
    for token in doc:
        match = _ELISION.match(token.text)
        if match:
            words += [match.group(1), match.group(2)]
            spaces += [False, bool(token.whitespace_)]
            changed = True
        else:
            words.append(token.text)
            spaces.append(bool(token.whitespace_))
    if not changed:
        return doc
    split = Doc(doc.vocab, words=words, spaces=spaces)
    split.user_data.update(doc.user_data)
    return split
