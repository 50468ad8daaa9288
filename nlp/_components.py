"""spaCy components: the watchlist ruler (the linker is in :mod:`nlp._linker`).

``regwatch_watchlist_ruler`` is spaCy's :class:`SpanRuler` fed with patterns
generated from the watchlist (:func:`watchlist_patterns`). It writes every
candidate to ``doc.spans["regwatch_candidates"]`` with one of these labels:

* ``WATCH``: an alias that names the entity on its own ("Ofcom", "Twitter");
* ``WATCH_AMBIGUOUS``: an alias that needs support ("X", "Kendall"), and every
  two- or three-letter acronym ("ICO", "CMA", "DSA"): short capitals name many things;
* ``WATCH_BLOCK``: a phrase in which an alias is *not* the entity ("Malcolm X");
* ``WATCH_CUE``: a phrase in which an ambiguous alias *is* the entity ("on X");
* ``WATCH_ROLE``: a dated role title of a person ("Technology Secretary");
* ``WATCH_COREF``: a generic noun that may stand for the entity ("the Commission").

Both the ruler and the linker keep their data in the pipeline
(``to_disk``/``from_disk``), so a saved pipeline tags exactly as the one that was built.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span

if TYPE_CHECKING:
    from nlp._watchlist import Watchlist, WatchlistEntry

logger = logging.getLogger(__name__)

CANDIDATES_KEY = "regwatch_candidates"
LABEL_SURE = "WATCH"
LABEL_AMBIGUOUS = "WATCH_AMBIGUOUS"
LABEL_BLOCK = "WATCH_BLOCK"
LABEL_CUE = "WATCH_CUE"
LABEL_ROLE = "WATCH_ROLE"
LABEL_COREF = "WATCH_COREF"
ROLE_ID_PREFIX = "role:"
DATE_EXT = "regwatch_date"
if not Doc.has_extension(DATE_EXT):
    Doc.set_extension(DATE_EXT, default=None)
# A role title right after these is not the current holder ("former Prime Minister").
ROLE_BLOCKERS = frozenset(
    {"former", "ex", "shadow", "deputy", "then", "late", "previous", "future", "next", "acting", "junior"}
    | {"first", "second", "third", "fourth", "fifth", "last", "interim", "caretaker", "would-be"}
)

HONORIFICS = (
    "Sir",
    "Dame",
    "Lord",
    "Lady",
    "Baroness",
    "Baron",
    "Mr",
    "Mr.",
    "Mrs",
    "Mrs.",
    "Ms",
    "Ms.",
    "Miss",
    "Dr",
    "Dr.",
    "Prof",
    "Prof.",
    "Professor",
)
# Tokens that may follow a person's name inside the model's PERSON span without
# making it someone else's name ("Liz Kendall MP", "Elon Musk's").
NAME_SUFFIXES = frozenset(
    {"MP", "MPs", "KC", "QC", "MEP", "MSP", "CBE", "OBE", "MBE", "Jr", "Jr.", "Sr", "Sr."}
)
# Words of a title that the model may put inside a PERSON span ("Prime Minister Keir Starmer").
ROLE_WORDS = frozenset(
    {
        "secretary",
        "minister",
        "prime",
        "chancellor",
        "leader",
        "president",
        "chair",
        "chairman",
        "chairwoman",
        "chief",
        "executive",
        "commissioner",
        "director",
        "spokesperson",
        "spokesman",
        "spokeswoman",
        "mayor",
        "governor",
        "senator",
        "deputy",
        "shadow",
        "home",
        "foreign",
        "state",
        "technology",
        "business",
        "science",
        "culture",
        "justice",
        "health",
        "reform",
        "labour",
    }
)
APOSTROPHES = ("'", "\u2019")
# What a product's numbered version adds to its name in one token: "-1", "-1.5", "-4o".
VERSION_SUFFIX = r"-[0-9]{1,3}(?:\.[0-9]{1,2})?[a-z]?"


def _variants(token: str, case_sensitive: bool) -> list[str]:
    """Spellings one pattern token accepts: both apostrophes; upper case for case-sensitive tokens."""
    forms = [token] if case_sensitive else [token.lower()]
    for a, b in (APOSTROPHES, APOSTROPHES[::-1]):
        forms += [f.replace(a, b) for f in forms if a in f]
    if case_sensitive:
        forms += [f.upper() for f in forms]
    return list(dict.fromkeys(forms))


def _token_spec(token: str, case_sensitive: bool, others: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One pattern token; ``others`` are spellings left to the entity's other aliases
    (the name "xAI" does not also match "XAI": that alias is an ambiguous acronym)."""
    attr = "ORTH" if case_sensitive else "LOWER"
    forms = [f for f in _variants(token, case_sensitive) if f == token or f not in others]
    return {attr: forms[0] if len(forms) == 1 else {"IN": forms}}


def _phrase_patterns(
    phrase: str, case_sensitive: bool, make_doc: Callable[[str], Doc], others: frozenset[str] = frozenset()
) -> list[list[dict[str, Any]]]:
    """Token patterns for ``phrase`` as the tokenizer splits it.

    The tokenizer keeps a full stop on what looks like an initial ("access to
    X.", "Malcolm X."), so a second pattern matches that token too; the tagger
    drops the stop from the mention. A form without spaces that the tokenizer
    splits alone ("x.AI") may stay one token in a sentence ("X.ai said"): it gets
    a one-token pattern as well.
    """
    tokens = [t.text for t in make_doc(phrase)]
    patterns = [[_token_spec(t, case_sensitive, others if len(tokens) == 1 else frozenset()) for t in tokens]]
    if len(tokens) > 1 and not any(c.isspace() for c in phrase):
        patterns.append([_token_spec(phrase, case_sensitive, others)])  # "x.AI" alone, but "X.ai said"
    glued = [t.text for t in make_doc(phrase + ".")]
    if len(glued) == len(tokens) and glued[-1] == tokens[-1] + ".":
        patterns.append([*patterns[0][:-1], _token_spec(glued[-1], case_sensitive)])
    return patterns


def is_case_sensitive(entry: WatchlistEntry, form: str) -> bool:
    """Whether ``form`` is matched only as written (or in capitals).

    Listed aliases, people's names (so "musk" the scent is not Elon Musk), short
    aliases ("X", "FB") and acronyms ("ICO": "ico" is not the regulator).
    """
    return (
        form in entry.case_sensitive
        or entry.entity.type == "person"
        or len(form) <= 3
        or (form.isupper() and len(form) <= 6)
    )


def _with_ampersands(forms: Iterable[str]) -> list[str]:
    """Each form, plus its spelling with "&" for "and" and the reverse ("Science, Innovation &
    Technology")."""
    out: list[str] = []
    for form in forms:
        out.append(form)
        if " and " in form:
            out.append(form.replace(" and ", " & "))
        elif " & " in form:
            out.append(form.replace(" & ", " and "))
    return list(dict.fromkeys(out))


def is_acronym(form: str, longest: int = 3) -> bool:
    """ "ICO", "CMA", "DSA", "X.AI": two or three capitals, the short forms that name many things
    ("DSIT" is long enough to be one department's; a one-letter name such as X is not one)."""
    letters = form.replace(".", "").replace("&", "")
    return 2 <= len(letters) <= longest and letters.isalpha() and letters.isupper()


def watchlist_patterns(watchlist: Watchlist, make_doc: Callable[[str], Doc]) -> list[dict[str, Any]]:
    """SpanRuler patterns (``{"label", "pattern", "id"}``) for every alias, blocker, cue,
    role title and coreference noun.

    ``make_doc`` is the pipeline's tokenizer, so each alias is split exactly as
    article text will be ("Musk's" is "Musk" + "'s": the possessive needs no pattern).
    Acronyms are ambiguous whatever the entry says: "ICO" is also an initial coin
    offering and an icon file, "CMA" a shipping line.
    """
    patterns: list[dict[str, Any]] = []
    for entry in watchlist:
        for form in _with_ampersands(entry.surface_forms):
            case_sensitive = is_case_sensitive(entry, form)
            tokens = [t.text for t in make_doc(form)]
            ambiguous = form in entry.ambiguous or (is_acronym(form) and form != entry.entity.name)
            label = LABEL_AMBIGUOUS if ambiguous else LABEL_SURE
            others = frozenset(entry.surface_forms) - {form}
            for pattern in _phrase_patterns(form, case_sensitive, make_doc, others):
                patterns.append({"label": label, "pattern": pattern, "id": entry.id})
                if entry.entity.type == "person" and tokens[0] not in HONORIFICS:
                    titled = [{"ORTH": {"IN": list(HONORIFICS)}}, *pattern]  # "Sir Keir Starmer", "Mr Musk"
                    patterns.append({"label": label, "pattern": titled, "id": entry.id})
            if entry.entity.type == "product" and len(tokens) == 1 and len(form) > 2 and form.isalnum():
                # a numbered version ("Grok-1", "Grok-1.5") is one token, and the product's name
                versioned = f"^{re.escape(form)}{VERSION_SUFFIX}$"
                patterns.append(
                    {"label": LABEL_SURE, "pattern": [{"ORTH": {"REGEX": versioned}}], "id": entry.id}
                )
        for role in entry.roles:
            for pattern in _phrase_patterns(role.title, False, make_doc):
                patterns.append({"label": LABEL_ROLE, "pattern": pattern, "id": role_id(role.title)})
        for label, phrases in ((LABEL_BLOCK, entry.blockers), (LABEL_CUE, entry.cues)):
            for phrase in phrases:
                if isinstance(phrase, str):
                    for pattern in _phrase_patterns(phrase, False, make_doc):
                        patterns.append({"label": label, "pattern": pattern, "id": entry.id})
                else:
                    patterns.append({"label": label, "pattern": [dict(t) for t in phrase], "id": entry.id})
        for noun in entry.coreference:
            words = [{"LOWER": t.text.lower()} for t in make_doc(noun)]
            patterns.append({"label": LABEL_COREF, "pattern": [{"LOWER": "the"}, *words], "id": entry.id})
    return patterns


def role_id(title: str) -> str:
    """The ruler id of a role title: one id per title, whoever holds it."""
    return ROLE_ID_PREFIX + " ".join(title.casefold().split())


def linker_records(watchlist: Watchlist) -> list[dict[str, Any]]:
    """What the linker keeps per entity: id, canonical name, type, surface forms, context and
    counter-context terms, jurisdiction, domains, which aliases are ambiguous, and dated roles."""
    return [
        {
            "id": e.id,
            "name": e.entity.name,
            "type": e.entity.type,
            "forms": list(e.surface_forms),
            "ambiguous": sorted(e.ambiguous),
            "jurisdiction": e.jurisdiction,
            "context": list(e.context_terms()),
            "anti_context": list(e.anti_context),
            "domains": list(e.domains),
            "roles": [
                {
                    "title": r.title,
                    "from": r.start.isoformat() if r.start else None,
                    "until": r.until.isoformat() if r.until else None,
                }
                for r in e.roles
            ],
        }
        for e in watchlist
    ]


# --- the ruler --------------------------------------------------------------------


class WatchlistRuler(SpanRuler):
    """spaCy's SpanRuler, writing watchlist candidates; warns once when it has no patterns.

    Speed: spaCy's token Matcher tries every pattern at every token, and a
    watchlist makes hundreds of patterns. A token pattern whose every token is a
    plain ``ORTH`` or ``LOWER`` value (or a short ``IN`` list of them) is
    expanded into phrases for one of two PhraseMatchers (ORTH, LOWER), which
    cost the same whatever their size; only the rest (blockers such as "X" +
    "-") go to the token Matcher. ``patterns`` and serialization are unchanged.
    """

    def clear(self) -> None:
        super().clear()
        self._phrases = {
            attr: PhraseMatcher(self.nlp.vocab, attr=attr, validate=self.validate) for attr in PHRASE_ATTRS
        }

    def _require_patterns(self) -> None:
        if len(self) == 0 and not getattr(self, "_warned_empty", False):
            self._warned_empty = True
            logger.warning(
                "%s: the watchlist has no patterns; no entity will be tagged as watched", self.name
            )
        super()._require_patterns()

    def add_patterns(self, patterns: list[dict[str, Any]]) -> None:
        self._warned_empty = False
        general = []
        for entry in patterns:
            expanded = _as_phrases(entry["pattern"])
            if expanded is None:
                general.append(entry)
                continue
            attr, phrases = expanded
            label = repr((entry["label"], entry.get("id", "")))
            key = self.nlp.vocab.strings.add(label)
            self._match_label_id_map[key] = {"label": entry["label"], "id": entry.get("id", "")}
            docs = [Doc(self.nlp.vocab, words=list(words), spaces=[True] * len(words)) for words in phrases]
            self._phrases[attr].add(label, docs)
            self._patterns.append(entry)
        if general:
            super().add_patterns(general)

    def match(self, doc: Doc) -> list[Span]:
        found = set(super().match(doc))
        for matcher in self._phrases.values():
            for key, start, end in matcher(doc):
                ids = self._match_label_id_map[key]
                found.add(Span(doc, start, end, label=ids["label"], span_id=ids["id"]))
        return sorted(found)


PHRASE_ATTRS = ("ORTH", "LOWER")
MAX_PHRASE_VARIANTS = 256


def _as_phrases(pattern: Any) -> tuple[str, list[tuple[str, ...]]] | None:
    """A token pattern of plain ORTH (or LOWER) values as (attr, word tuples); None if it is not one."""
    if not isinstance(pattern, list) or not pattern:
        return None
    attr = None
    choices: list[list[str]] = []
    for spec in pattern:
        if not isinstance(spec, dict) or len(spec) != 1:
            return None
        ((key, value),) = spec.items()
        key = str(key).upper()
        if key not in PHRASE_ATTRS or (attr is not None and key != attr):
            return None
        attr = key
        if isinstance(value, str):
            choices.append([value])
        elif (
            isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(v, str) for v in value["IN"])
        ):
            choices.append(list(value["IN"]))
        else:
            return None
    if attr is None or math.prod(len(c) for c in choices) > MAX_PHRASE_VARIANTS:
        return None
    return attr, list(itertools.product(*choices))


@Language.factory(
    "regwatch_watchlist_ruler",
    default_config={"spans_key": CANDIDATES_KEY, "validate": True, "overwrite": True},
)
def make_watchlist_ruler(
    nlp: Language, name: str, spans_key: str, validate: bool, overwrite: bool
) -> WatchlistRuler:
    """Candidates for watched entities from alias patterns; patterns are added in ``initialize``."""
    return WatchlistRuler(
        nlp,
        name,
        spans_key=spans_key,
        validate=validate,
        overwrite=overwrite,
        annotate_ents=False,
        scorer=None,
    )
