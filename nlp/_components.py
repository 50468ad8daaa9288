"""spaCy components: the watchlist ruler and the watchlist linker.

``regwatch_watchlist_ruler`` is spaCy's :class:`SpanRuler` fed with patterns
generated from the watchlist (:func:`watchlist_patterns`). It writes every
candidate to ``doc.spans["regwatch_candidates"]`` with one of three labels:

* ``WATCH``: an alias that names the entity on its own ("Ofcom", "Twitter");
* ``WATCH_AMBIGUOUS``: an alias that needs support ("X", "Kendall");
* ``WATCH_BLOCK``: a phrase in which an alias is *not* the entity ("Malcolm X");
* ``WATCH_ROLE``: a dated role title of a person ("Technology Secretary").

``regwatch_linker`` then decides which candidates are the watched entity and
writes them to ``doc.ents`` with ``kb_id_`` set to the watchlist id and the
watchlist type (upper case) as label, replacing the model's overlapping
entities (so "Grok" is a PRODUCT, not a PERSON). Its rules, in order:

1. a candidate inside a blocker of the same entity is dropped ("Malcolm X", "X-ray");
2. overlapping candidates: the longest wins ("Sir Keir Starmer" over "Keir");
3. a person's alias inside a longer name the model found is someone else
   ("Kendall" in "Kendall Jenner", "Starmer" in "Victoria Starmer"); that name
   becomes a *competitor* for the document's other bare mentions;
4. an ambiguous candidate (or a one-word alias in lower case, or tagged as a
   verb) is linked when the document names the entity unambiguously elsewhere
   and has no competitor, otherwise only when context words of the entity occur
   within ``context_window`` tokens, or ``min_doc_context`` distinct ones anywhere;
5. a role title on its own ("the Prime Minister") is the person who held it on
   the doc's date (``doc._.regwatch_date``, default today), unless it is a title
   before a name ("Prime Minister Keir Starmer"), qualified ("former", "Shadow"),
   of somewhere else ("Prime Minister of Canada") or overlaps a watched name.

Both components keep their data in the pipeline (``to_disk``/``from_disk``), so
a saved pipeline tags exactly as the one that was built.
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import srsly
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span
from spacy.util import SimpleFrozenList, ensure_path

if TYPE_CHECKING:
    from nlp._watchlist import Watchlist, WatchlistEntry

logger = logging.getLogger(__name__)

CANDIDATES_KEY = "regwatch_candidates"
LABEL_SURE = "WATCH"
LABEL_AMBIGUOUS = "WATCH_AMBIGUOUS"
LABEL_BLOCK = "WATCH_BLOCK"
LABEL_ROLE = "WATCH_ROLE"
ROLE_ID_PREFIX = "role:"
DATE_EXT = "regwatch_date"
if not Doc.has_extension(DATE_EXT):
    Doc.set_extension(DATE_EXT, default=None)
# A role title right after these is not the current holder ("former Prime Minister").
ROLE_BLOCKERS = frozenset(
    {"former", "ex", "shadow", "deputy", "then", "late", "previous", "future", "next", "acting", "junior"}
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


def _variants(token: str, case_sensitive: bool) -> list[str]:
    """Spellings one pattern token accepts: both apostrophes; upper case for case-sensitive tokens."""
    forms = [token] if case_sensitive else [token.lower()]
    for a, b in (APOSTROPHES, APOSTROPHES[::-1]):
        forms += [f.replace(a, b) for f in forms if a in f]
    if case_sensitive:
        forms += [f.upper() for f in forms]
    return list(dict.fromkeys(forms))


def _token_spec(token: str, case_sensitive: bool) -> dict[str, Any]:
    attr = "ORTH" if case_sensitive else "LOWER"
    forms = _variants(token, case_sensitive)
    return {attr: forms[0] if len(forms) == 1 else {"IN": forms}}


def _phrase_patterns(
    phrase: str, case_sensitive: bool, make_doc: Callable[[str], Doc]
) -> list[list[dict[str, Any]]]:
    """Token patterns for ``phrase`` as the tokenizer splits it.

    The tokenizer keeps a full stop on what looks like an initial ("access to
    X.", "Malcolm X."), so a second pattern matches that token too; the tagger
    drops the stop from the mention.
    """
    tokens = [t.text for t in make_doc(phrase)]
    patterns = [[_token_spec(t, case_sensitive) for t in tokens]]
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


def watchlist_patterns(watchlist: Watchlist, make_doc: Callable[[str], Doc]) -> list[dict[str, Any]]:
    """SpanRuler patterns (``{"label", "pattern", "id"}``) for every alias and blocker.

    ``make_doc`` is the pipeline's tokenizer, so each alias is split exactly as
    article text will be ("Musk's" is "Musk" + "'s": the possessive needs no pattern).
    """
    patterns: list[dict[str, Any]] = []
    for entry in watchlist:
        for form in entry.surface_forms:
            case_sensitive = is_case_sensitive(entry, form)
            tokens = [t.text for t in make_doc(form)]
            label = LABEL_AMBIGUOUS if form in entry.ambiguous else LABEL_SURE
            for pattern in _phrase_patterns(form, case_sensitive, make_doc):
                patterns.append({"label": label, "pattern": pattern, "id": entry.id})
                if entry.entity.type == "person" and tokens[0] not in HONORIFICS:
                    titled = [{"ORTH": {"IN": list(HONORIFICS)}}, *pattern]  # "Sir Keir Starmer", "Mr Musk"
                    patterns.append({"label": label, "pattern": titled, "id": entry.id})
        for role in entry.roles:
            for pattern in _phrase_patterns(role.title, False, make_doc):
                patterns.append({"label": LABEL_ROLE, "pattern": pattern, "id": role_id(role.title)})
        for blocker in entry.blockers:
            if isinstance(blocker, str):
                for pattern in _phrase_patterns(blocker, False, make_doc):
                    patterns.append({"label": LABEL_BLOCK, "pattern": pattern, "id": entry.id})
            else:
                patterns.append({"label": LABEL_BLOCK, "pattern": [dict(t) for t in blocker], "id": entry.id})
    return patterns


def role_id(title: str) -> str:
    """The ruler id of a role title: one id per title, whoever holds it."""
    return ROLE_ID_PREFIX + " ".join(title.casefold().split())


def linker_records(watchlist: Watchlist) -> list[dict[str, Any]]:
    """What the linker keeps per entity: id, canonical name, type, context terms and dated roles."""
    return [
        {
            "id": e.id,
            "name": e.entity.name,
            "type": e.entity.type,
            "context": list(e.context_terms()),
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


def _held(role: dict[str, Any], day: date) -> bool:
    start, until = role.get("from"), role.get("until")
    return (not start or date.fromisoformat(start) <= day) and (not until or day < date.fromisoformat(until))


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

    def add_patterns(self, patterns: list[dict[str, Any]]) -> None:  # type: ignore[override]
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

    def match(self, doc: Doc) -> list[Span]:  # type: ignore[override]
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


# --- the linker -------------------------------------------------------------------


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


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
        self._context_matchers: tuple[PhraseMatcher, PhraseMatcher] | None = None
        self._warned_empty = False

    # data -------------------------------------------------------------------------

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Any]] | None = None,
        *,
        nlp: Language | None = None,
        entities: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Load the entity records (see :func:`linker_records`)."""
        self.set_entities(entities)

    def set_entities(self, entities: Iterable[dict[str, Any]]) -> None:
        self.entities = {str(e["id"]): dict(e) for e in entities}
        self._warned_empty = False
        self.roles: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for entity_id, record in self.entities.items():
            for role in record.get("roles") or ():
                self.roles[role_id(role["title"])].append((entity_id, role))
        # Capitalised context terms are names ("Labour", "PM") and match as written;
        # lower-case ones ("government") match in any case.
        exact = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        folded = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for entity_id, record in self.entities.items():
            terms = [t for t in record.get("context", ()) if t]
            cased = [self.nlp.make_doc(t) for t in terms if t != t.lower()]
            lower_terms = [t for t in terms if t == t.lower()]
            # Plain plurals too ("platform" also matches "platforms"); no lemmatizer needed.
            lower_terms += [t + "s" for t in lower_terms if " " not in t and not t.endswith("s")]
            lower = [self.nlp.make_doc(t) for t in dict.fromkeys(lower_terms)]
            if cased:
                exact.add(entity_id, cased)
            if lower:
                folded.add(entity_id, lower)
        self._context_matchers = (exact, folded)

    def to_bytes(self, *, exclude: Iterable[str] = SimpleFrozenList()) -> bytes:
        return srsly.json_dumps(list(self.entities.values())).encode("utf-8")

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = SimpleFrozenList()) -> WatchlistLinker:
        self.set_entities(srsly.json_loads(data))
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_jsonl(path / "entities.jsonl", list(self.entities.values()))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> WatchlistLinker:
        self.set_entities(srsly.read_jsonl(ensure_path(path) / "entities.jsonl"))
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
        blocks = [c for c in candidates if c.label_ == LABEL_BLOCK]
        kept = [
            c
            for c in candidates
            if c.label_ not in (LABEL_BLOCK, LABEL_ROLE)
            and c.id_ in self.entities
            and not any(b.id_ == c.id_ and _overlaps(b, c) for b in blocks)
        ]
        kept = self._longest(kept)
        kept += self._role_mentions(doc, [c for c in candidates if c.label_ == LABEL_ROLE], kept)
        kept.sort(key=lambda s: s.start)
        kept, competitors = self._drop_other_peoples_names(doc, kept)

        sure_ids = {c.id_ for c in kept if not self._needs_support(c)}
        context = self._context_hits(doc)
        linked: list[Span] = []
        for cand in kept:
            entity_id = cand.id_
            if self._needs_support(cand):
                supported = self._supported(cand, context.get(entity_id, []), doc)
                if entity_id in sure_ids and entity_id not in competitors:
                    ok, why = True, "named unambiguously elsewhere"
                elif entity_id in competitors and entity_id not in sure_ids:
                    ok, why = False, f"the document's {cand.text!r} is {competitors[entity_id]!r}"
                else:
                    ok, why = supported, "context" if supported else "no supporting context"
                logger.debug(
                    "%s: %r at %d -> %s? %s (%s)", self.name, cand.text, cand.start_char, entity_id, ok, why
                )
                if not ok:
                    continue
            record = self.entities[entity_id]
            linked.append(Span(doc, cand.start, cand.end, label=record["type"].upper(), kb_id=entity_id))
        return linked

    def _role_mentions(self, doc: Doc, roles: Sequence[Span], names: Sequence[Span]) -> list[Span]:
        """Role-only mentions ("the Technology Secretary") as the holder on the doc's date.

        Not when the role is a title before a name ("Prime Minister Keir
        Starmer", "former Prime Minister Boris Johnson"), qualified ("Shadow
        Technology Secretary"), or overlaps another watched name.
        """
        if not roles:
            return []
        day = getattr(doc._, DATE_EXT) or date.today()
        people = [e for e in doc.ents if e.label_ == "PERSON"]
        found: list[Span] = []
        for span in self._longest(roles):
            if any(_overlaps(span, n) for n in names) or any(_overlaps(span, f) for f in found):
                continue
            before = doc[span.start - 1] if span.start > 0 else None
            after = doc[span.end] if span.end < len(doc) else None
            if before is not None and before.lower_ in ROLE_BLOCKERS:
                continue
            if after is not None and (
                any(n.start == span.end for n in names) or any(p.start <= span.end < p.end for p in people)
            ):
                continue  # a title before a name: the name is the mention
            if after is not None and after.lower_ == "of" and " of " not in span.text.lower():
                continue  # "the Prime Minister of Australia"
            holders = [eid for eid, role in self.roles.get(span.id_, ()) if _held(role, day)]
            if len(holders) != 1:
                logger.debug("%s: role %r on %s has %d holders", self.name, span.text, day, len(holders))
                continue
            found.append(Span(doc, span.start, span.end, label=LABEL_SURE, span_id=holders[0]))
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
        """Rule 3: drop a person's alias that is part of a longer name the model found."""
        people = [e for e in doc.ents if e.label_ == "PERSON"]
        kept: list[Span] = []
        competitors: dict[str, str] = {}
        for span in spans:
            if self.entities[span.id_]["type"] == "person":
                other = next((e for e in people if self._extends_name(e, span)), None)
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

    @staticmethod
    def _needs_support(span: Span) -> bool:
        """Ambiguous aliases, a lower-case match of a capitalised alias ("birds twitter"), and a
        one-word alias tagged as a verb ("Grok the idea") when the doc has tags."""
        if span.label_ == LABEL_AMBIGUOUS:
            return True
        if len(span) != 1:
            return False
        token = span[0]
        return (token.is_lower and token.is_alpha) or token.tag_.startswith("VB") or token.tag_ == "MD"

    def _context_hits(self, doc: Doc) -> dict[str, list[tuple[int, int, str]]]:
        """Per entity id: (start, end, term) of each context-term match in the doc."""
        hits: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        if self._context_matchers is None:
            return hits
        for matcher in self._context_matchers:
            for match_id, start, end in matcher(doc):
                hits[self.nlp.vocab.strings[match_id]].append((start, end, doc[start:end].text.lower()))
        return hits

    def _supported(self, span: Span, hits: list[tuple[int, int, str]], doc: Doc) -> bool:
        """Rule 4: a context term near the mention, or enough distinct ones in the document."""
        outside = [(s, e, term) for s, e, term in hits if e <= span.start or s >= span.end]
        low, high = span.start - self.context_window, span.end + self.context_window
        if any(s >= low and e <= high for s, e, _ in outside):
            return True
        return len({term for _, _, term in outside}) >= self.min_doc_context

    def _write_ents(self, doc: Doc, linked: list[Span]) -> None:
        """Linked spans replace overlapping model entities; the other model entities stay."""
        others = [e for e in doc.ents if not any(_overlaps(e, s) for s in linked)]
        if self.merge_org_gpe:
            others = [self._org_with_country(doc, e, linked) for e in others]
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
