"""``regwatch_linker``: which watchlist candidates of a doc are the watched entity.

It writes the linked mentions to ``doc.ents`` with ``kb_id_`` set to the
watchlist id and the watchlist type (upper case) as label, replacing the
model's overlapping entities (so "Grok" is a PRODUCT, not a PERSON). The
candidates come from the ruler (:mod:`nlp._components`); the rules, in order:

1. a candidate inside a blocker of the same entity is dropped ("Malcolm X", "X-ray");
2. overlapping candidates: the longest wins ("Sir Keir Starmer" over "Keir");
3. a person's alias inside a longer name is someone else ("Kendall" in "Kendall
   Jenner", "Starmer GA" in a reference list); that name becomes a *competitor*
   for the document's other bare mentions;
4. any other alias inside a longer proper name is someone else's too ("Kids
   Online Safety Act", "the National Reform Party", "CMA CGM"), and a mention
   qualified by another jurisdiction is not the entity ("Australia's Online
   Safety Act", "the Reform Party of the United States"), nor a law name
   followed by another year ("Online Safety Act 2021");
5. a candidate that needs support (an ambiguous alias, an acronym, a lower-case
   or verb-like use of a name) is linked only with support from the text: see
   :mod:`nlp._support` for what counts for and against it;
6. a role title on its own ("the Technology Secretary") is the person who held
   it on the doc's date (``doc._.regwatch_date``, default today), unless it is a
   title before a name or in apposition to one ("Technology Secretary, Michelle
   Donelan"), qualified ("former", "Shadow"), of somewhere else ("Spain's prime
   minister", "the Prime Minister of Canada"), in a text about elsewhere, no
   particular holder ("a prime minister", "Britain's first Labour prime
   minister"), someone else's ("Mr Sharaa's prime minister"), or a capacity
   ("Liz Truss resigned after 49 days as prime minister", "when he became prime
   minister") in a text that does not name the holder;
7. a coreference noun ("the Commission") is the entity when the text is about
   its jurisdiction (place words or the entity named) and names no other body
   of that kind ("the Electoral Commission", "the Commission on Human Rights");
8. an acronym ("OSA") is not linked where the text names its entity in full and
   links none of those names (another country's "Online Safety Act (OSA)").
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import srsly
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import SimpleFrozenList

from nlp._components import (
    CANDIDATES_KEY,
    DATE_EXT,
    HONORIFICS,
    LABEL_AMBIGUOUS,
    LABEL_BLOCK,
    LABEL_COREF,
    LABEL_CUE,
    LABEL_ROLE,
    LABEL_SURE,
    NAME_SUFFIXES,
    ROLE_BLOCKERS,
    ROLE_WORDS,
    is_acronym,
    role_id,
)
from nlp._evidence import (
    COREF_BREAKERS,
    POSSESSIVES,
    DocEvidence,
    Places,
    cited_initials,
    in_apposition,
    inside_other_name,
    load_jurisdictions,
    names_other_body,
    noise,
    place_matcher,
    predicative_role,
)
from nlp._support import DocFacts, SupportRules, needs_support

logger = logging.getLogger(__name__)

YEAR = re.compile(r"^(1[89]|20)\d\d$")


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _held(role: dict[str, Any], day: date) -> bool:
    start, until = role.get("from"), role.get("until")
    return (not start or date.fromisoformat(start) <= day) and (not until or day < date.fromisoformat(until))


class WatchlistLinker:
    """Links watchlist candidates to canonical ids and writes them to ``doc.ents``."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        candidates_key: str,
        context_window: int,
        min_doc_context: int,
        merge_org_gpe: bool,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.candidates_key = candidates_key
        self.context_window = context_window
        self.min_doc_context = min_doc_context
        self.merge_org_gpe = merge_org_gpe
        self.entities: dict[str, dict[str, Any]] = {}
        self.jurisdictions: dict[str, list[str]] = {}
        self.roles: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.support = SupportRules(
            nlp.vocab, nlp.make_doc, {}, context_window=context_window, min_doc_context=min_doc_context
        )
        self._places: PhraseMatcher | None = None
        self._warned_empty = False

    # data -------------------------------------------------------------------------

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Any]] | None = None,
        *,
        nlp: Language | None = None,
        entities: Sequence[dict[str, Any]] = (),
        jurisdictions: dict[str, list[str]] | None = None,
    ) -> None:
        """Load the entity records (see ``linker_records``) and the place words per jurisdiction
        (default: ``nlp/data/jurisdictions.yaml``)."""
        self.set_entities(entities, load_jurisdictions() if jurisdictions is None else jurisdictions)

    def set_entities(
        self, entities: Iterable[dict[str, Any]], jurisdictions: dict[str, list[str]] | None = None
    ) -> None:
        self.entities = {str(e["id"]): dict(e) for e in entities}
        if jurisdictions is not None:
            self.jurisdictions = {str(k): list(v) for k, v in jurisdictions.items()}
        self._warned_empty = False
        self.roles = defaultdict(list)
        for entity_id, record in self.entities.items():
            for role in record.get("roles") or ():
                self.roles[role_id(role["title"])].append((entity_id, role))
        self.support = SupportRules(
            self.nlp.vocab,
            self.nlp.make_doc,
            self.entities,
            context_window=self.context_window,
            min_doc_context=self.min_doc_context,
        )
        self._places = place_matcher(self.nlp.vocab, self.jurisdictions, self.nlp.make_doc)

    def to_bytes(self, *, exclude: Iterable[str] = SimpleFrozenList()) -> bytes:
        data = {"entities": list(self.entities.values()), "jurisdictions": self.jurisdictions}
        text: str = srsly.json_dumps(data)
        return text.encode("utf-8")

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = SimpleFrozenList()) -> WatchlistLinker:
        loaded = srsly.json_loads(data)
        if isinstance(loaded, list):  # saved before jurisdictions existed
            loaded = {"entities": loaded, "jurisdictions": load_jurisdictions()}
        self.set_entities(loaded["entities"], loaded["jurisdictions"])
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> None:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        srsly.write_jsonl(folder / "entities.jsonl", list(self.entities.values()))
        srsly.write_json(folder / "jurisdictions.json", self.jurisdictions)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> WatchlistLinker:
        folder = Path(path)
        places = folder / "jurisdictions.json"
        jurisdictions = srsly.read_json(places) if places.exists() else load_jurisdictions()
        self.set_entities(srsly.read_jsonl(folder / "entities.jsonl"), jurisdictions)
        return self

    # processing ---------------------------------------------------------------------

    def __call__(self, doc: Doc) -> Doc:
        if not self.entities and not self._warned_empty:
            self._warned_empty = True
            message = f"{self.name}: no watchlist entities; nothing will be linked"
            logger.warning(message)
            warnings.warn(message, UserWarning, stacklevel=2)
        candidates = list(doc.spans[self.candidates_key]) if self.candidates_key in doc.spans else []
        linked = self.link(doc, candidates) if self.entities else []
        self._write_ents(doc, linked)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)

    def link(self, doc: Doc, candidates: Sequence[Span]) -> list[Span]:
        """The linked spans (label = watchlist type, kb_id = entity id) for ``candidates``."""
        by_label: dict[str, list[Span]] = defaultdict(list)
        for cand in candidates:
            by_label[cand.label_].append(cand)
        blocks, cues = by_label[LABEL_BLOCK], by_label[LABEL_CUE]
        kept = [
            c
            for c in (*by_label[LABEL_SURE], *by_label[LABEL_AMBIGUOUS])
            if c.id_ in self.entities and not any(b.id_ == c.id_ and _overlaps(b, c) for b in blocks)
        ]
        kept = self._longest(kept)
        evidence = DocEvidence(doc, self._places)
        kept += self._role_mentions(doc, by_label[LABEL_ROLE], kept, evidence)
        kept.sort(key=lambda s: s.start)
        kept, competitors = self._drop_other_peoples_names(doc, kept)
        candidates_named = kept
        kept = [c for c in kept if self._own_name(c, evidence)]

        sure = [c for c in kept if not needs_support(c)]
        home: dict[str, int] = defaultdict(int)
        for cand in sure:
            home[self.entities[cand.id_].get("jurisdiction") or ""] += 1
        facts = DocFacts(
            evidence, self.support.hits(doc), {c.id_ for c in sure}, competitors, home, cues, sure
        )
        linked: list[Span] = []
        for cand in kept:
            entity_id = cand.id_
            if needs_support(cand):
                ok, why = self.support.decide(cand, facts)
                logger.debug(
                    "%s: %r at %d -> %s? %s (%s)", self.name, cand.text, cand.start_char, entity_id, ok, why
                )
                if not ok:
                    continue
            record = self.entities[entity_id]
            linked.append(Span(doc, cand.start, cand.end, label=record["type"].upper(), kb_id=entity_id))
        linked += self._coreferences(doc, by_label[LABEL_COREF], linked, evidence, home)
        linked = acronyms_as_named(linked, candidates_named)
        return sorted(linked, key=lambda s: s.start)

    def _own_name(self, cand: Span, evidence: DocEvidence) -> bool:
        """Rule 4: not part of another name, not qualified by another place, not another year's law."""
        record = self.entities[cand.id_]
        if record["type"] != "person" and inside_other_name(cand, evidence.places, needs_support(cand)):
            logger.debug("%s: %r is part of a longer name", self.name, cand.text)
            return False
        jurisdiction = record.get("jurisdiction") or ""
        if jurisdiction:
            qualifier = evidence.places.qualifier(cand)
            if qualifier and qualifier != jurisdiction:
                logger.debug("%s: %r is qualified by %s", self.name, cand.text, qualifier)
                return False
        doc = cand.doc
        if record["type"] == "law" and cand.end < len(doc) and YEAR.match(doc[cand.end].text):
            years = {w for form in record["forms"] for w in form.split() if YEAR.match(w)}
            if years and doc[cand.end].text not in years:
                return False  # a law known by its year, followed by another year: another law
        return True

    def _role_mentions(
        self, doc: Doc, roles: Sequence[Span], names: Sequence[Span], evidence: DocEvidence
    ) -> list[Span]:
        """Rule 6: role-only mentions ("the Technology Secretary") as the holder on the doc's date."""
        if not roles:
            return []
        day = getattr(doc._, DATE_EXT) or date.today()
        people = [e for e in doc.ents if e.label_ == "PERSON"]
        found: list[Span] = []
        for span in self._longest(roles):
            if any(_overlaps(span, n) for n in names) or any(_overlaps(span, f) for f in found):
                continue
            after = doc[span.end] if span.end < len(doc) else None
            if _qualified_role(span, evidence.places):
                continue  # "former Prime Minister", "a former British prime minister"
            if after is not None and (
                any(n.start == span.end for n in names) or any(p.start <= span.end < p.end for p in people)
            ):
                continue  # a title before a name: the name is the mention
            if after is not None and after.lower_ == "of" and " of " not in span.text.lower():
                continue  # "the Prime Minister of Australia"
            if in_apposition(span, people, names):
                continue  # "Technology Secretary, Michelle Donelan": someone named, maybe not the holder
            holders = [eid for eid, role in self.roles.get(span.id_, ()) if _held(role, day)]
            if len(holders) != 1:
                logger.debug("%s: role %r on %s has %d holders", self.name, span.text, day, len(holders))
                continue
            if predicative_role(span) and not any(n.id_ == holders[0] for n in names):
                continue  # "Liz Truss resigned after 49 days as prime minister": not the holder's text
            jurisdiction = self.entities[holders[0]].get("jurisdiction") or ""
            if jurisdiction and not self._about(span, jurisdiction, evidence):
                continue
            found.append(Span(doc, span.start, span.end, label=LABEL_SURE, span_id=holders[0]))
        return found

    def _about(self, span: Span, jurisdiction: str, evidence: DocEvidence) -> bool:
        """Whether a generic mention can be of ``jurisdiction``: not qualified by another place,
        not in a text whose place words are all elsewhere."""
        places = evidence.places
        qualifier = places.qualifier(span)
        if qualifier:
            return qualifier == jurisdiction
        return places.own(jurisdiction) > 0 or places.foreign(jurisdiction) < 2

    def _coreferences(
        self,
        doc: Doc,
        corefs: Sequence[Span],
        linked: Sequence[Span],
        evidence: DocEvidence,
        home: dict[str, int],
    ) -> list[Span]:
        """Rule 7: "the Commission" as the watched body it stands for, when nothing else can be."""
        found: list[Span] = []
        for span in corefs:
            if span.id_ not in self.entities or any(_overlaps(span, s) for s in (*linked, *found)):
                continue
            if span.end < len(doc) and doc[span.end].lower_ in COREF_BREAKERS:
                continue
            record = self.entities[span.id_]
            jurisdiction = record.get("jurisdiction") or ""
            named = any(s.kb_id_ == span.id_ for s in linked)
            if jurisdiction:
                own = evidence.places.own(jurisdiction) + home.get(jurisdiction, 0)
                if not (named or own) or not self._about(span, jurisdiction, evidence):
                    continue
            if names_other_body(doc, span, linked):
                continue
            head = span[1:]  # "the" + noun: the mention is the noun
            found.append(Span(doc, head.start, head.end, label=record["type"].upper(), kb_id=span.id_))
        return found

    @staticmethod
    def _longest(spans: Sequence[Span]) -> list[Span]:
        """Non-overlapping spans, longest first, unambiguous before ambiguous on ties."""
        ordered = sorted(spans, key=lambda s: (-(s.end - s.start), s.label_ != LABEL_SURE, s.start))
        taken: list[Span] = []
        seen: set[int] = set()
        for span in ordered:
            if not seen.intersection(range(span.start, span.end)):
                taken.append(span)
                seen.update(range(span.start, span.end))
        return sorted(taken, key=lambda s: s.start)

    def _drop_other_peoples_names(self, doc: Doc, spans: list[Span]) -> tuple[list[Span], dict[str, str]]:
        """Rule 3: drop a person's alias that is part of a longer name (the model's PERSON
        span, or a surname followed by initials as in a reference list: "Starmer GA")."""
        people = [e for e in doc.ents if e.label_ == "PERSON"]
        kept: list[Span] = []
        competitors: dict[str, str] = {}
        for span in spans:
            if self.entities[span.id_]["type"] == "person":
                other = next((e for e in people if self._extends_name(e, span)), None)
                if other is None and cited_initials(span):
                    other = doc[span.start : span.end + 1]
                if other is not None:
                    competitors.setdefault(span.id_, other.text)
                    logger.debug("%s: %r is part of %r, not %s", self.name, span.text, other.text, span.id_)
                    continue
            kept.append(span)
        return kept, competitors

    @staticmethod
    def _extends_name(ent: Span, span: Span) -> bool:
        """Whether the model's PERSON ``ent`` makes one-word ``span`` part of another name.

        Only a name word right next to the alias counts, and not a title or a role
        ("Technology Secretary Kendall", "Liz Kendall MP" are still Liz Kendall).
        """
        if len(span) != 1 or not _overlaps(ent, span):
            return False
        doc = span.doc
        neighbours = [doc[i] for i in (span.start - 1, span.end) if ent.start <= i < ent.end]
        return any(
            t.is_alpha
            and (t.is_title or t.is_upper)
            and t.text not in NAME_SUFFIXES
            and t.text not in HONORIFICS
            and t.lower_ not in ROLE_WORDS
            for t in neighbours
        )

    def _write_ents(self, doc: Doc, linked: list[Span]) -> None:
        """Linked spans replace overlapping model entities; the other model entities stay, but for
        noise: a lone word on a line of its own (a heading such as "Background" taken for a
        name) and the country names every article carries ("UK", "EU", "US")."""
        others = [e for e in doc.ents if not any(_overlaps(e, s) for s in linked)]
        if self.merge_org_gpe:
            others = [self._org_with_country(doc, e, linked) for e in others]
        others = [e for e in others if not noise(e)]
        doc.ents = sorted([*linked, *others], key=lambda s: s.start)

    @staticmethod
    def _org_with_country(doc: Doc, ent: Span, linked: list[Span]) -> Span:
        """ "Politics UK", "Amazon UK": a country code after a bare proper noun names an ORG, not a place."""
        if ent.label_ != "GPE" or ent.text not in {"UK", "U.K.", "US", "U.S.", "EU"} or ent.start == 0:
            return ent
        prev = doc[ent.start - 1]
        proper = prev.tag_ in ("NNP", "NNPS") if prev.tag_ else prev.is_alpha and not prev.is_stop
        if not proper or not prev.is_title or prev.ent_type_ or prev.is_sent_start:
            return ent
        if any(_overlaps(doc[prev.i : prev.i + 1], s) for s in linked):
            return ent
        return Span(doc, prev.i, ent.end, label="ORG")


def acronyms_as_named(linked: list[Span], named: Sequence[Span]) -> list[Span]:
    """Rule 8: an acronym means what the text's full name for it means. Where the text names the
    entity in full and links none of those names (Sri Lanka's "Online Safety Act (OSA)"), its
    acronym is that other thing too ("The OSA, by contrast, ...")."""
    full_linked = {s.kb_id_ for s in linked if not is_acronym(s.text.rstrip("."))}
    full_named = {c.id_ for c in named if not is_acronym(c.text.rstrip("."))}
    return [
        s
        for s in linked
        if not is_acronym(s.text.rstrip(".")) or s.kb_id_ in full_linked or s.kb_id_ not in full_named
    ]


# Before a role title, words that make it no particular holder: "a prime minister", "one prime
# minister after another", "every prime minister since Thatcher".
INDEFINITE = frozenset({"a", "an", "one", "another", "any", "every", "each", "no"})


def _qualified_role(span: Span, places: Places, reach: int = 3) -> bool:
    """A role title after "former", "shadow", "deputy", "first"... within the few words before it
    ("former Prime Minister", "a former British prime minister", "Britain's first Labour prime
    minister"), after an indefinite article or quantifier ("the power of a prime minister"), or
    after the possessive of a name that is not a place ("Mr Sharaa's prime minister")."""
    doc = span.doc
    for i in range(span.start - 1, max(-1, span.start - reach - 1), -1):
        token = doc[i]
        if token.lower_ in ROLE_BLOCKERS or token.lower_ in INDEFINITE:
            return True
        if token.text in POSSESSIVES and i > 0 and doc[i - 1].text[:1].isupper():
            return i - 1 not in places.at  # a place's own ("Britain's") is left to its jurisdiction
        if not token.is_alpha or token.lower_ == "the":
            return False
    return False


@Language.factory(
    "regwatch_linker",
    default_config={
        "candidates_key": CANDIDATES_KEY,
        "context_window": 40,
        "min_doc_context": 2,
        "merge_org_gpe": True,
    },
)
def make_watchlist_linker(
    nlp: Language,
    name: str,
    candidates_key: str,
    context_window: int,
    min_doc_context: int,
    merge_org_gpe: bool,
) -> WatchlistLinker:
    """Links watchlist candidates; entity records are loaded in ``initialize``."""
    return WatchlistLinker(
        nlp,
        name,
        candidates_key=candidates_key,
        context_window=context_window,
        min_doc_context=min_doc_context,
        merge_org_gpe=merge_org_gpe,
    )
