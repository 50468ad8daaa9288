"""Rule 5 of the linker: whether a candidate that could name something else has support.

A candidate *needs support* when its alias is listed as ambiguous or is an
acronym ("X", "Kendall", "ICO"), or when it is written in lower case or tagged
as a verb ("grok the idea"). :class:`SupportRules` weighs what the document
says about it, in this order:

* against: the acronym spelled out as something else ("initial coin offering
  (ICO)"), counter-context words nearby ("explainable" near "XAI"), a text whose
  place words are all elsewhere (for an entity with a jurisdiction), and, for an
  alias listed as ambiguous, too little evidence of its own jurisdiction;
* for: a cue ("on X"), the entity named unambiguously elsewhere in the text (and
  no other person of that name), or its context words: one within
  ``context_window`` tokens, or ``min_doc_context`` distinct ones anywhere (one
  is enough after an honorific, for a capitalised name inside a sentence, or in
  a text about the entity's own jurisdiction).

The linker (:mod:`nlp._linker`) gathers the document-wide facts once per doc
(:class:`DocFacts`) and asks :meth:`SupportRules.decide` for each candidate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from nlp._components import HONORIFICS, LABEL_AMBIGUOUS, is_acronym
from nlp._evidence import DocEvidence, with_plurals

Hits = dict[str, list[tuple[int, int, str]]]


def needs_support(span: Span) -> bool:
    """Ambiguous aliases (acronyms among them), a lower-case match of a capitalised alias
    ("birds twitter"), and a one-word alias tagged as a verb ("Grok the idea") when the doc has tags."""
    if span.label_ == LABEL_AMBIGUOUS:
        return True
    if len(span) != 1:
        return False
    token = span[0]
    return (token.is_lower and token.is_alpha) or token.tag_.startswith("VB") or token.tag_ == "MD"


def bare(span: Span) -> str:
    """The alias without an honorific in front ("Ms Kendall" -> "Kendall")."""
    return span[1:].text if len(span) > 1 and span[0].text in HONORIFICS else span.text


@dataclass
class DocFacts:
    """What the linker knows about one doc before it decides its doubtful candidates."""

    evidence: DocEvidence
    hits: Hits
    sure_ids: set[str]
    competitors: dict[str, str]
    home: Mapping[str, int]
    cues: Sequence[Span] = field(default_factory=list)


class SupportRules:
    """Context and counter-context matchers for every entity, and the decision of rule 5."""

    def __init__(
        self,
        vocab: Vocab,
        make_doc: Callable[[str], Doc],
        entities: Mapping[str, Mapping[str, Any]],
        *,
        context_window: int,
        min_doc_context: int,
    ) -> None:
        self.entities = entities
        self.context_window = context_window
        self.min_doc_context = min_doc_context
        # Capitalised context terms are names ("Labour", "PM") and match as written;
        # lower-case ones ("government") match in any case, plurals too ("platforms").
        self.exact = PhraseMatcher(vocab, attr="ORTH")
        self.folded = PhraseMatcher(vocab, attr="LOWER")
        self.against = PhraseMatcher(vocab, attr="LOWER")
        for entity_id, record in entities.items():
            terms = [t for t in record.get("context", ()) if t]
            cased = [make_doc(t) for t in terms if t != t.lower()]
            lower = [make_doc(t) for t in with_plurals(t for t in terms if t == t.lower())]
            anti = [make_doc(t) for t in with_plurals(t.lower() for t in record.get("anti_context", ()))]
            if cased:
                self.exact.add(entity_id, cased)
            if lower:
                self.folded.add(entity_id, lower)
            if anti:
                self.against.add(entity_id, anti)

    def hits(self, doc: Doc) -> Hits:
        """Per entity id: (start, end, term) of each context-term match in the doc; counter-context
        matches under ``"anti:" + id``."""
        found: Hits = defaultdict(list)
        strings = doc.vocab.strings
        for prefix, matcher in (("", self.exact), ("", self.folded), ("anti:", self.against)):
            for match_id, start, end in matcher(doc):
                found[prefix + strings[match_id]].append((start, end, doc[start:end].text.lower()))
        return found

    def decide(self, cand: Span, facts: DocFacts) -> tuple[bool, str]:
        """Rule 5 for one candidate that needs support: (linked?, why)."""
        record = self.entities[cand.id_]
        evidence, home = facts.evidence, facts.home
        text = cand.text.rstrip(".")
        if is_acronym(text) and evidence.defined_otherwise(
            text, [f for f in record["forms"] if not is_acronym(f)]
        ):
            return False, f"the text spells {text} out as something else"
        if any(self._near(cand, s, e) for s, e, _ in facts.hits.get("anti:" + cand.id_, [])):
            return False, "counter-context nearby"
        jurisdiction = record.get("jurisdiction") or ""
        if jurisdiction:
            places = evidence.places
            qualified = places.qualifier(cand) == jurisdiction
            own = places.own(jurisdiction) + home.get(jurisdiction, 0)
            if not qualified and own == 0 and places.foreign(jurisdiction) >= 2:
                return False, "the text is about another jurisdiction"
            alias = bare(cand)
            listed = alias in record.get("ambiguous", ()) and cand.id_ not in facts.sure_ids
            foreign = places.foreign(jurisdiction)
            if listed and " " in alias:
                # a many-word name ("Online Safety Act", "Reform Party") is ambiguous only in where it is
                if not qualified and 3 * own < foreign:
                    return False, f"a text mostly about places other than {jurisdiction}"
                return True, f"not about another place than {jurisdiction}"
            if listed and not qualified and 3 * own < max(1, foreign):
                return False, f"too little {jurisdiction} evidence for an ambiguous name"
        if any(c.id_ == cand.id_ and c.start < cand.end and cand.start < c.end for c in facts.cues):
            return True, "cue"
        if cand.id_ in facts.sure_ids and cand.id_ not in facts.competitors:
            return True, "named unambiguously elsewhere"
        if cand.id_ in facts.competitors and cand.id_ not in facts.sure_ids:
            return False, f"the document's {cand.text!r} is {facts.competitors[cand.id_]!r}"
        # One context word is enough after an honorific ("Ms Kendall"), for a capitalised name
        # inside a sentence ("users asked Grok to..."), or in a text about the entity's own
        # jurisdiction (place words or unambiguous entities of that jurisdiction).
        own = jurisdiction and (evidence.places.own(jurisdiction) + home.get(jurisdiction, 0)) > 0
        first = cand[0]
        named = len(cand) == 1 and len(first.text) > 1 and first.is_title and not first.is_sent_start
        needed = 1 if first.text in HONORIFICS or named or own else self.min_doc_context
        supported = self._supported(cand, facts.hits.get(cand.id_, []), needed)
        return supported, "context" if supported else "no supporting context"

    def _near(self, span: Span, start: int, end: int) -> bool:
        outside = end <= span.start or start >= span.end
        return outside and start >= span.start - self.context_window and end <= span.end + self.context_window

    def _supported(self, span: Span, hits: Iterable[tuple[int, int, str]], needed: int) -> bool:
        """A context term near the mention, or ``needed`` distinct ones in the document."""
        outside = [(s, e, term) for s, e, term in hits if e <= span.start or s >= span.end]
        if any(self._near(span, s, e) for s, e, _ in outside):
            return True
        return len({term for _, _, term in outside}) >= needed
