"""Rule 5 of the linker: whether a candidate that could name something else has support.

A candidate *needs support* when its alias is listed as ambiguous or is an
acronym ("X", "Kendall", "ICO"), or when it is written in lower case or tagged
as a verb ("grok the idea"). :class:`SupportRules` weighs what the document
says about it, in this order:

* against: the acronym spelled out as something else ("initial coin offering
  (ICO)"), counter-context words nearby ("explainable" near "XAI"), a text whose
  place words are all elsewhere (for an entity with a jurisdiction), and, for an
  alias listed as ambiguous, too little evidence of its own jurisdiction;
* for, decisively: a cue ("on X"), the entity named unambiguously elsewhere in
  the text (and no other person of that name), or a regulatory action (a
  watched regulator acting on it, "Ofcom fined Grok", "an investigation into
  Grok by Ofcom"; or a regulator candidate acting, "ICO fines HelloFresh",
  "reprimanded by ICO");
* weighed: as many distinct counter-context words anywhere in the text as
  context words is against; otherwise a context word within ``context_window``
  tokens, or ``min_doc_context`` distinct ones anywhere, is for. Watched
  entities named unambiguously in the text that share one of its ``domains``
  count as context words there ("Meta" for "ICO", both data protection), though
  not as nearby ones. One is enough after an honorific, for a word used as a
  name (capitalised inside a sentence, a speaker's label "Grok:", a possessive
  "the ICO's", a verb of saying "the ICO said"), or in a text about the
  entity's own jurisdiction.

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

from nlp._actions import OPENING_VERBS, TRIGGERS
from nlp._components import HONORIFICS, LABEL_AMBIGUOUS, is_acronym
from nlp._evidence import DocEvidence, with_plurals

Hit = tuple[int, int, str]  # start and end token, and the term or entity matched
Hits = dict[str, list[Hit]]

# What a regulator does to someone, every inflection (no lemmatizer runs): the action
# extractor's investigation, fine, ban and court verbs, and a regulator's lesser sanctions.
ACTION_VERBS = frozenset(
    {v for kind in ("investigation", "fine", "ban", "court_action") for v in TRIGGERS[kind][0]}
    | {"reprimand", "reprimands", "reprimanded", "sanction", "sanctions", "sanctioned", "censure"}
    | {"censured", "warn", "warns", "warned", "order", "orders", "ordered", "summon", "summoned"}
)
# Nouns of such an action, which name their target after a preposition ("an investigation into X").
ACTION_NOUNS = frozenset(
    {n for kind in ("investigation", "fine", "ban") for n in TRIGGERS[kind][1]}
    | {"reprimand", "reprimands", "lawsuit", "proceedings", "case", "complaint", "action", "decision"}
)
ACTION_PREPS = frozenset({"into", "against", "on", "over", "of", "to"})
# Words that may stand between an actor and its verb ("the ICO has now fined").
AUXILIARIES = frozenset(
    {"has", "have", "had", "will", "would", "is", "are", "was", "were", "be", "been", "being", "also"}
    | {"now", "already", "today", "yesterday", "formally", "recently", "then", "could", "may", "must"}
)
PASSIVE = frozenset({"is", "are", "was", "were", "be", "been", "being"})
# After a word, what makes it a name: a speaker's label ("Grok: Sure"), a possessive, a verb of saying.
NAME_MARKS = frozenset({":", "'s", "\u2019s"})
SPEECH_VERBS = frozenset(
    {"said", "says", "told", "tells", "replied", "replies", "answered", "answers", "responded", "responds"}
    | {"wrote", "writes", "added", "explained", "explains", "warned", "announced", "announces", "confirmed"}
)
ACTION_REACH = 8  # tokens between a regulator and the one it acts on


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
    sure: Sequence[Span] = field(default_factory=list)


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
        self.domains = {eid: frozenset(record.get("domains") or ()) for eid, record in entities.items()}
        self.context_window = context_window
        self.min_doc_context = min_doc_context
        # Capitalised context terms are names ("Labour", "PM") and match as written;
        # lower-case ones ("government") match in any case, plurals too ("platforms"). A role
        # title is a title however a paper capitalises it ("Mr Kyle, the business secretary").
        self.exact = PhraseMatcher(vocab, attr="ORTH")
        self.folded = PhraseMatcher(vocab, attr="LOWER")
        self.against = PhraseMatcher(vocab, attr="LOWER")
        titles = {
            role["title"].casefold() for record in entities.values() for role in record.get("roles", ())
        }
        for entity_id, record in entities.items():
            terms = [t for t in record.get("context", ()) if t]
            cased = [make_doc(t) for t in terms if t != t.lower() and t.casefold() not in titles]
            lower = [
                make_doc(t.lower())
                for t in with_plurals(t for t in terms if t == t.lower() or t.casefold() in titles)
            ]
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
        if self._regulatory_action(cand, facts.sure):
            return True, "a regulator acts on it, or it acts as one"
        # One context word is enough after an honorific ("Ms Kendall"), for a word used as a name
        # ("users asked Grok to...", "Grok: Sure", "the ICO's conference"), or in a text about the
        # entity's own jurisdiction (place words or unambiguous entities of that jurisdiction).
        at_home = bool(jurisdiction) and (evidence.places.own(jurisdiction) + home.get(jurisdiction, 0)) > 0
        named = name_like(cand)
        needed = 1 if cand[0].text in HONORIFICS or named or at_home else self.min_doc_context
        context, related = facts.hits.get(cand.id_, []), self._related(cand, facts.sure)
        against = len({term for _, _, term in facts.hits.get("anti:" + cand.id_, [])})
        if against and against >= distinct([*context, *related], cand):
            return False, "as much counter-context as context in the text"
        supported = self._supported(cand, context, related, needed)
        return supported, "context" if supported else "no supporting context"

    def _related(self, cand: Span, sure: Sequence[Span]) -> list[Hit]:
        """Watched entities named unambiguously in the doc that share a domain with the candidate's
        ("Ofcom" for "Grok": both online safety), as context hits of their own."""
        domains = self.domains.get(cand.id_)
        if not domains:
            return []
        return [
            (s.start, s.end, "entity:" + s.id_)
            for s in sure
            if s.id_ != cand.id_ and domains & self.domains.get(s.id_, frozenset())
        ]

    def _regulatory_action(self, cand: Span, sure: Sequence[Span]) -> bool:
        """A watched regulator acting on the candidate in its sentence ("Ofcom fined Grok", "an
        investigation into X by Ofcom"), or a regulator candidate acting ("ICO fines HelloFresh",
        "reprimanded by the ICO", "the CMA opened an investigation")."""
        regulators = [
            s for s in sure if s.id_ != cand.id_ and self.entities.get(s.id_, {}).get("type") == "regulator"
        ]
        if any(acted_on(cand, regulator) for regulator in regulators):
            return True
        return self.entities[cand.id_].get("type") == "regulator" and acts(cand)

    def _near(self, span: Span, start: int, end: int) -> bool:
        outside = end <= span.start or start >= span.end
        return outside and start >= span.start - self.context_window and end <= span.end + self.context_window

    def _supported(self, span: Span, context: Sequence[Hit], related: Sequence[Hit], needed: int) -> bool:
        """A context term near the mention, or ``needed`` distinct context terms and related
        entities in the document (an entity of the same domain is a topic, not a sense: "Ofcom"
        two lines up does not make "Grok the idea" the chatbot)."""
        if any(self._near(span, s, e) for s, e, _ in context):
            return True
        return distinct([*context, *related], span) >= needed


def distinct(hits: Iterable[Hit], span: Span) -> int:
    """How many different terms ``hits`` holds outside ``span``; terms that overlap ("data
    protection" and "data", "Musk" and the entity Elon Musk) count once."""
    outside = sorted(
        ((s, e, term) for s, e, term in hits if e <= span.start or s >= span.end),
        key=lambda hit: (hit[0], hit[0] - hit[1]),
    )
    terms: set[str] = set()
    end = -1
    for start, stop, term in outside:
        if start >= end:
            terms.add(term)
        end = max(end, stop)
    return len(terms)


def name_like(cand: Span) -> bool:
    """Whether a one-word candidate is used as a name, where its other sense would be a common
    word ("grok" the verb, "ico" the file type): capitalised inside a sentence ("users asked Grok
    to..."), or, capitalised or in capitals, a speaker's label, a possessive or the subject of a
    verb of saying ("Grok: Sure", "the ICO's annual conference", "the ICO said")."""
    doc, first = cand.doc, cand[0]
    if len(cand) != 1 or len(first.text) < 2 or not (first.is_title or first.is_upper):
        return False
    if first.is_title and not first.is_sent_start:
        return True
    following = doc[cand.end] if cand.end < len(doc) else None
    return following is not None and (following.text in NAME_MARKS or following.lower_ in SPEECH_VERBS)


def acted_on(cand: Span, regulator: Span) -> bool:
    """``regulator`` does something to ``cand`` in one sentence: "Ofcom fined Grok", "Ofcom opened
    an investigation into Grok", "Grok was fined by Ofcom"."""
    doc = cand.doc
    if cand.sent.start != regulator.sent.start:
        return False
    if regulator.end <= cand.start <= regulator.end + ACTION_REACH:
        between = doc[regulator.end : cand.start]
        if any(t.lower_ in ACTION_VERBS for t in between):
            return True
        nouns = [t for t in between if t.lower_ in ACTION_NOUNS]
        return bool(nouns) and any(t.lower_ in ACTION_PREPS and t.i > nouns[0].i for t in between)
    if cand.end <= regulator.start <= cand.end + ACTION_REACH:
        return agent_of(doc, regulator.start) and any(
            t.lower_ in ACTION_VERBS for t in doc[cand.end : regulator.start]
        )
    return False


def acts(cand: Span) -> bool:
    """A regulator candidate as the one acting: "ICO fines HelloFresh", "the CMA has opened an
    investigation", "reprimanded by the ICO" (not "the ICO was banned")."""
    doc = cand.doc
    i, passive = cand.end, False
    while i < len(doc) and i < cand.end + 3 and doc[i].lower_ in AUXILIARIES:
        passive = passive or doc[i].lower_ in PASSIVE
        i += 1
    if i < len(doc):
        verb = doc[i].lower_
        if verb in ACTION_VERBS and not (passive and verb.endswith("ed")):
            return True
        if verb in OPENING_VERBS and not passive:
            following = doc[i + 1 : i + 4]
            if any(t.lower_ in ACTION_NOUNS for t in following):
                return True
    j = cand.start - 1
    if j >= 0 and doc[j].lower_ == "the":
        j -= 1
    return j >= 1 and doc[j].lower_ == "by" and doc[j - 1].lower_ in ACTION_VERBS


def agent_of(doc: Doc, start: int) -> bool:
    """Whether the span at ``start`` is a passive's agent: "by Ofcom", "by the ICO"."""
    i = start - 1
    if i >= 0 and doc[i].lower_ == "the":
        i -= 1
    return i >= 0 and doc[i].lower_ == "by"
