"""What a document says about itself: places, acronym definitions, name boundaries.

The linker (:mod:`nlp._linker`) asks these questions of a doc before it links a
candidate that could name something else:

* :class:`Places`: which jurisdictions (UK, EU, IE, AU, US...) the text is about,
  from the place words of ``nlp/data/jurisdictions.yaml`` ("Britain", "Brussels",
  "Australian", "eSafety"), and which place qualifies a given mention
  ("Australia's Online Safety Act", "Spain's prime minister", "the Reform Party
  of the United States");
* :func:`defined_otherwise`: whether the text spells an acronym out as something
  else ("an initial coin offering (ICO)", "China Meteorological Administration
  (CMA)", "obstructive sleep apnea (OSA)");
* :func:`inside_other_name`: whether a mention is one word of a longer proper
  name ("Kids Online Safety Act", "the National Reform Party", "CMA CGM");
* :func:`cited_initials`, :func:`in_apposition`, :func:`names_other_body`: a
  surname in a reference list ("Starmer GA,"), a role title set off next to a
  name ("the Technology Secretary, Michelle Donelan,"), another body named with
  a coreference noun ("the Electoral Commission").

Every answer is computed from the tokens alone (no parser), once per doc and
only when a candidate needs it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from importlib import resources

import yaml
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from nlp._components import NAME_SUFFIXES

POSSESSIVES = frozenset({"'s", "\u2019s", "'", "\u2019"})
# A person's initials after a surname in a reference list ("Starmer GA", "Kyle J.").
INITIALS = re.compile(r"^(?:[A-Z]{1,3}|(?:[A-Z]\.){1,3})$")
# Countries and unions named in nearly every article: as unwatched entities they say nothing.
COUNTRY_NAMES = frozenset(
    {"UK", "U.K.", "United Kingdom", "Britain", "Great Britain", "EU", "E.U.", "European Union"}
    | {"US", "U.S.", "USA", "U.S.A.", "United States", "America"}
)
# Jurisdictions whose texts use another's weak words too (``UK~`` in ``jurisdictions.yaml``): Labour,
# MPs, the Commons and backbenchers are Westminster words in Canada, Australia, New Zealand and Ireland.
SHARED_WEAK_WORDS = {"UK": frozenset({"CA", "AU", "NZ", "IE"})}
# After "the Commission": a body named by what it is about is another one ("the Commission on ...").
COREF_BREAKERS = frozenset({"of", "on", "for", "against", "to"})
# Words an acronym's spelled-out form may skip ("Competition and Markets Authority").
LINK_WORDS = frozenset({"of", "and", "for", "the", "&", "on", "in", "to", "de", "la", "du"})
# Capitalised words that may stand right before a name without being part of it.
NAME_OPENERS = frozenset(
    {"The", "A", "An", "This", "That", "These", "Those", "Its", "Their", "Our", "Your", "His", "Her", "My"}
    | {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October"}
    | {"November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)


def load_jurisdictions() -> dict[str, list[str]]:
    """The place words per jurisdiction code, from ``nlp/data/jurisdictions.yaml``."""
    text = resources.files("nlp").joinpath("data/jurisdictions.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text) or {}
    return {str(code): [str(term) for term in terms] for code, terms in raw.items()}


def place_matcher(
    vocab: Vocab, jurisdictions: Mapping[str, Sequence[str]], make_doc: Callable[[str], Doc]
) -> PhraseMatcher:
    """One ORTH phrase matcher with a match id per jurisdiction code."""
    matcher = PhraseMatcher(vocab, attr="ORTH")
    for code, terms in jurisdictions.items():
        matcher.add(code, [make_doc(term) for term in terms])
    return matcher


class Places:
    """The place words of one doc: counts per jurisdiction and the code at each token."""

    def __init__(self, doc: Doc, matcher: PhraseMatcher | None) -> None:
        self.doc = doc
        self.at: dict[int, str] = {}
        self.counts: Counter[str] = Counter()
        if matcher is None:
            return
        strings = doc.vocab.strings
        for match_id, start, end in matcher(doc):
            code = strings[match_id]
            self.counts[code] += 1
            for i in range(start, end):
                self.at[i] = code

    def foreign(self, home: str) -> int:
        """Place words of jurisdictions other than ``home`` (weak "~" words not counted)."""
        return sum(n for code, n in self.counts.items() if code != home and not code.endswith("~"))

    def own(self, home: str) -> int:
        """Place words of ``home``, with its weak words ("Labour", "MPs") unless the text names a
        place that has them too (Canada, Australia, New Zealand, Ireland): a British text about Gaza
        or a summit in Riyadh is still British when it says "MPs"."""
        shared = SHARED_WEAK_WORDS.get(home, frozenset())
        weak = self.counts[home + "~"] if not any(self.counts[code] for code in shared) else 0
        return self.counts[home] + weak

    def qualifier(self, span: Span, reach: int = 3) -> str:
        """The jurisdiction that qualifies ``span``: a place word right before it, possibly with a
        possessive and lower-case adjectives between ("Australia's", "Slovakia's populist", "the
        Estonian"), else one right after "of" ("of the United States"), else a parenthesised
        "(Cth)"-style tag after it; "" if none. "The FTC and Ofcom" is not qualified: a
        conjunction or punctuation ends the search."""
        doc = self.doc
        sentence_start = span.sent.start if doc.has_annotation("SENT_START") else 0
        for i in range(span.start - 1, max(sentence_start, span.start - reach) - 1, -1):
            if i in self.at and not self.at[i].endswith("~"):
                return self.at[i]
            token = doc[i]
            if token.text in POSSESSIVES:
                continue
            if not (token.is_alpha and token.is_lower and not token.is_stop):
                break
        j = span.end
        if j < len(doc) and doc[j].lower_ == "of":
            for k in range(j + 1, min(len(doc), j + 4)):
                if k in self.at and not self.at[k].endswith("~"):
                    return self.at[k]
        for k in range(span.end, min(len(doc), span.end + 4)):
            if k in self.at and not self.at[k].endswith("~") and doc[k - 1].text == "(":
                return self.at[k]
        return ""


def initials(words: Sequence[str]) -> str:
    """ "Initial Coin Offering" -> "ICO"; link words are skipped, hyphenated words give one letter per part."""
    letters = []
    for word in words:
        if word.lower() in LINK_WORDS:
            continue
        for part in word.split("-"):
            if part[:1].isalpha():
                letters.append(part[0].upper())
    return "".join(letters)


def spelled_out(doc: Doc, acronym: str) -> list[Span]:
    """Runs of words in ``doc`` whose initials spell ``acronym`` ("initial coin offerings"
    for ICO), each starting with the acronym's first letter; a plural last word counts."""
    target = acronym.replace(".", "").upper()
    found: list[Span] = []
    n = len(doc)
    for start in range(n):
        first = doc[start]
        if not first.is_alpha or first.text[0].upper() != target[0] or first.lower_ in LINK_WORDS:
            continue
        letters = ""
        for end in range(start, min(n, start + 2 * len(target) + 2)):
            token = doc[end]
            if not (token.is_alpha or "-" in token.text) or token.is_punct:
                break
            letters = initials([t.text for t in doc[start : end + 1]])
            if not target.startswith(letters):
                break
            if letters == target:
                found.append(doc[start : end + 1])
                break
    return found


def defined_otherwise(doc: Doc, acronym: str, own_names: Iterable[str]) -> bool:
    """Whether ``doc`` spells ``acronym`` out as something other than ``own_names``.

    Only spelled-out forms that look like a definition count: in lower case
    ("initial coin offerings") or written right before or after the acronym in
    brackets ("Capital Markets Authority (CMA)", "OSA (obstructive sleep apnea)"),
    so that a sentence which merely happens to start with the same letters does not.
    """
    own = {" ".join(name.lower().replace("\u2019", "'").split()) for name in own_names}
    for span in spelled_out(doc, acronym):
        words = " ".join(t.lower_.replace("\u2019", "'") for t in span)
        if any(words == name or name.startswith(words) for name in own):
            continue
        if any(name.startswith(words.rstrip("s")) for name in own):
            continue
        lower = all(t.is_lower or t.lower_ in LINK_WORDS for t in span)
        after = (
            span.end + 1 < len(span.doc)
            and span.doc[span.end].text == "("
            and span.doc[span.end + 1].text.rstrip(".") == acronym.rstrip(".")
        )
        before = (
            span.start >= 2
            and span.doc[span.start - 1].text == "("
            and span.doc[span.start - 2].text.rstrip(".") == acronym.rstrip(".")
        )
        if lower or after or before:
            return True
    return False


def title_case_line(span: Span) -> bool:
    """Whether the sentence around ``span`` is a headline in Title Case (most words capitalised)."""
    doc = span.doc
    sent = span.sent if doc.has_annotation("SENT_START") else doc[max(0, span.start - 8) : span.end + 8]
    words = [t for t in sent if t.is_alpha and len(t) > 3]
    return len(words) >= 3 and sum(1 for t in words if t.text[0].isupper()) >= len(words) - 1


def inside_other_name(span: Span, places: Places | None = None, lexical: bool = True) -> bool:
    """Whether ``span`` is part of a longer proper name that is not the entity's.

    A capitalised word right before it ("Kids Online Safety Act", "National Reform
    Party", "Centre for European Reform") makes it one, unless it opens a sentence,
    is a determiner, a date word, a place (a qualifier, judged by the caller) or the
    line is a Title Case headline. With ``lexical`` False (a name that is unambiguous
    on its own) the model's entities must also join the two words into one name.
    An acronym followed by more capitals or a hyphen ("CMA CGM", "CMA-ES") is one too.
    """
    doc = span.doc
    if span.start > 0:
        prev = doc[span.start - 1]
        capitalised = prev.is_alpha and prev.text[0].isupper() and not prev.is_stop
        if (
            capitalised
            and not prev.is_sent_start
            and prev.text not in NAME_OPENERS
            and (places is None or prev.i not in places.at)
            and not title_case_line(span)
            and (lexical or any(e.start <= prev.i and span.end <= e.end for e in doc.ents))
        ):
            return True
    if span.end < len(doc) and len(span) == 1 and span[0].text.isupper() and len(span[0].text) > 1:
        nxt = doc[span.end]
        if nxt.is_alpha and nxt.is_upper and len(nxt.text) > 1 and (places is None or nxt.i not in places.at):
            return True
        glued = not span[-1].whitespace_ and not nxt.whitespace_
        if nxt.text == "-" and glued and span.end + 1 < len(doc) and doc[span.end + 1].is_alpha:
            return True
    return False


class DocEvidence:
    """Per-doc evidence, computed on first use."""

    def __init__(self, doc: Doc, place_matcher: PhraseMatcher | None) -> None:
        self.doc = doc
        self._matcher = place_matcher
        self._defined: dict[tuple[str, tuple[str, ...]], bool] = {}

    @cached_property
    def places(self) -> Places:
        return Places(self.doc, self._matcher)

    def defined_otherwise(self, acronym: str, own_names: Sequence[str]) -> bool:
        key = (acronym, tuple(own_names))
        if key not in self._defined:
            self._defined[key] = defined_otherwise(self.doc, acronym, own_names)
        return self._defined[key]


def with_plurals(terms: Iterable[str]) -> list[str]:
    """Terms plus their plain plural ("platform" -> "platforms", "social network" -> "social networks")."""
    out = []
    for term in terms:
        out.append(term)
        if not term.endswith("s"):
            out.append(term + "s")
    return list(dict.fromkeys(out))


def cited_initials(span: Span) -> bool:
    """A one-word surname followed by initials in a reference list: "Starmer GA," "Kyle J."."""
    doc = span.doc
    if len(span) != 1 or span.end >= len(doc):
        return False
    initials = doc[span.end]
    if not INITIALS.match(initials.text) or initials.text in NAME_SUFFIXES:
        return False
    after = doc[span.end + 1] if span.end + 1 < len(doc) else None
    return after is None or after.text in {",", ".", ";", "(", ":"} or initials.text.endswith(".")


def in_apposition(span: Span, people: Sequence[Span], names: Sequence[Span]) -> bool:
    """A role title next to a person's name set off by a comma: "Technology Secretary, Michelle
    Donelan," or "Michelle Donelan, the Technology Secretary"."""
    doc = span.doc
    starts = {p.start for p in people} | {n.start for n in names}
    ends = {p.end for p in people} | {n.end for n in names}
    if span.end + 1 < len(doc) and doc[span.end].text == "," and span.end + 1 in starts:
        return True
    i = span.start - 1
    if i >= 0 and doc[i].lower_ in ("the", "a", "an"):
        i -= 1
    elif i >= 1 and doc[i].text in POSSESSIVES and doc[i - 1].text[:1].isupper():
        i -= 2  # "Winston Churchill, Britain's prime minister,"
    return i >= 0 and doc[i].text == "," and i in ends


# After "as ROLE", the words that make the role the subject of its own clause ("as the Prime Minister
# said", "as the Technology Secretary has made clear"); anything else goes on describing a capacity
# ("as prime minister in 2019", "who as prime minister a decade ago promised").
CLAUSE_VERBS = frozenset(
    {"is", "was", "are", "were", "has", "had", "have", "will", "would", "can", "could", "may", "might"}
    | {"must", "should", "shall", "did", "does", "do", "said", "says", "told", "tells", "put", "puts"}
    | {"noted", "notes", "wrote", "writes", "warned", "warns", "argued", "argues", "insisted", "insists"}
    | {"explained", "explains", "stated", "states", "claimed", "claims", "admitted", "admits", "made"}
    | {"makes", "set", "sets", "announced", "announces", "wants", "wanted", "hopes", "hoped", "knows"}
    | {"knew", "acknowledged", "acknowledges", "pointed", "points", "suggested", "suggests"}
)
# Right before "as": a list or a comparison, where the role stands for its holder ("ministers such
# as the Technology Secretary", "as well as the Prime Minister", "just as the prime minister has").
AS_LISTS = frozenset({"such", "well", "so", "just"})
# A few words before "as": a comparison ("the same party as the prime minister", "as popular as").
AS_COMPARISONS = frozenset({"same", "as"})


# Before a role, the verbs that say someone is or becomes it ("Mr Oli became prime minister", "who has
# been prime minister since 2016", "whoever becomes prime minister"): the subject holds it, not the
# title; and "for" before a bare title ("her preference for prime minister", "ran for president").
BECOMING = frozenset(
    {"is", "was", "are", "were", "be", "been", "being", "become", "became", "becomes", "becoming"}
    | {"remain", "remains", "remained", "named", "appointed", "elected", "installed", "reappointed"}
)


def predicative_role(span: Span) -> bool:
    """A role title that says in what capacity someone acts or served, not who: "resigned after 49
    days as prime minister", "under Theresa May as prime minister", "his time as Technology
    Secretary", "when he became prime minister". The holder is whoever the sentence is about, so the
    title names no one itself."""
    doc = span.doc
    i = span.start - 1
    determiner = i >= 0 and doc[i].lower_ in ("the", "a", "an")
    if determiner:
        i -= 1
    if i >= 0 and (doc[i].lower_ in BECOMING or (doc[i].lower_ == "for" and not determiner)):
        return True
    if i < 0 or doc[i].lower_ != "as" or (i > 0 and doc[i - 1].lower_ in AS_LISTS):
        return False
    if any(t.lower_ in AS_COMPARISONS for t in doc[max(0, i - 3) : i]):
        return False
    if span.end >= len(doc):
        return True
    return doc[span.end].lower_ not in CLAUSE_VERBS


def names_other_body(doc: Doc, span: Span, linked: Sequence[Span]) -> bool:
    """Whether the text names another body with the coreference noun before ``span`` (or in
    the same sentence): "the Electoral Commission", "a Commission of Jurists", "his Commission"."""
    noun = span[-1].lower_
    limit = span.sent.end if doc.has_annotation("SENT_START") else span.end
    for token in doc[:limit]:
        if token.lower_ != noun or token.i == span.end - 1 or any(s.start <= token.i < s.end for s in linked):
            continue
        prev = doc[token.i - 1] if token.i > 0 else None
        nxt = doc[token.i + 1] if token.i + 1 < len(doc) else None
        named_before = prev is not None and prev.is_alpha and prev.text[0].isupper() and prev.lower_ != "the"
        named_after = nxt is not None and nxt.lower_ in COREF_BREAKERS and token.text[0].isupper()
        owned = prev is not None and prev.lower_ in ("his", "her", "its", "their")
        if named_before or named_after or owned:
            return True
    return False


def noise(ent: Span) -> bool:
    """A model entity not worth listing: a country name (GPE) that nearly every article carries,
    or a single word standing alone on its line (a heading such as "Background")."""
    if ent.label_ == "GPE" and ent.text.removeprefix("the ").strip() in COUNTRY_NAMES:
        return True
    if len(ent) != 1:
        return False
    doc = ent.doc
    before = ent.start == 0 or (doc[ent.start - 1].is_space and "\n" in doc[ent.start - 1].text)
    after = ent.end == len(doc) or (doc[ent.end].is_space and "\n" in doc[ent.end].text)
    return before and after
