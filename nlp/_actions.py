"""``regwatch_actions``: regulatory actions (actor → action → target) from dependency patterns.

A sentence is read when it holds a trigger word (:data:`TRIGGERS`); its parse
(see :mod:`nlp._parse`) gives the roles:

* a trigger verb ("Ofcom *fined* TikTok", "X was *fined* by the ICO",
  "Ofcom is *investigating* X"): the actor is its subject (or the passive
  agent), the target its object (or passive subject; "block access *to* X"
  reaches through "access"). A verb with no subject of its own inherits its
  governor's ("Ofcom moved to fine X").
* a trigger noun governed by an opening verb ("Ofcom *launched an
  investigation* into X", "the ICO *issued a fine* against TikTok", "An
  investigation was opened by Ofcom"), or owned by its actor ("Ofcom's
  investigation into X"): the target is the object of into/against/of/on/over/to.

Precision over recall: nothing is reported when the trigger or a word it hangs
from is negated ("no investigation is planned", "did not fine"), conditional
("if"), modal (would, could, may, might, should) or only wished for
(consider, threaten, urge, call for, expect, ask). An action needs an actor;
actors and targets are resolved to watched entities where possible
(:class:`nlp._mentions.Mentions`). Results go to ``doc._.regwatch_actions``
as :class:`regwatch.models.Action`, one per (actor, action, target).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from nlp._mentions import Mentions, Ref, normalise_name, watched_records
from nlp._parse import parsed_sentences
from regwatch.models import ACTION_TYPES, Action

ACTIONS_EXT = "regwatch_actions"
if not Doc.has_extension(ACTIONS_EXT):
    Doc.set_extension(ACTIONS_EXT, default=None)


def _forms(words: str) -> frozenset[str]:
    return frozenset(words.split())


# action type -> (verb forms, noun forms); no lemmatizer runs, so every inflection is listed.
TRIGGERS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "investigation": (
        _forms("investigate investigates investigated investigating probe probes probed probing"),
        _forms("investigation investigations probe probes inquiry inquiries enquiry enquiries"),
    ),
    "fine": (
        _forms("fine fines fined fining penalise penalised penalises penalize penalized penalizes"),
        _forms("fine fines penalty penalties"),
    ),
    "ban": (
        _forms(
            "ban bans banned banning block blocks blocked blocking prohibit prohibits prohibited outlaw outlawed"
        ),
        _forms("ban bans prohibition blocking"),
    ),
    "consultation": (
        _forms("consult consults consulted consulting"),
        _forms("consultation consultations"),
    ),
    "guidance": (
        _forms(""),
        _forms("guidance guidelines code codes"),
    ),
    "court_action": (
        _forms("sue sues sued suing"),
        _forms("lawsuit lawsuits proceedings injunction injunctions action challenge review claim"),
    ),
}
assert set(TRIGGERS) <= set(ACTION_TYPES)
# Nouns that only count with a qualifier ("legal action", "judicial review", "code of practice").
QUALIFIED_NOUNS: Mapping[str, frozenset[str]] = {
    "action": frozenset({"legal", "court", "enforcement"}),
    "challenge": frozenset({"legal", "court", "judicial"}),
    "review": frozenset({"judicial"}),
    "claim": frozenset({"legal", "court"}),
    "code": frozenset({"practice", "conduct"}),
    "codes": frozenset({"practice", "conduct"}),
}
TRIGGER_FORMS: frozenset[str] = frozenset(f for verbs, nouns in TRIGGERS.values() for f in verbs | nouns)
# Verbs that start, publish or impose what a trigger noun names.
OPENING_VERBS = frozenset(
    {
        "open", "opens", "opened", "opening", "launch", "launches", "launched", "launching", "begin", "begins",
        "began", "begun", "start", "starts", "started", "announce", "announces", "announced", "issue",
        "issues", "issued", "impose", "imposes", "imposed", "publish", "publishes", "published", "bring",
        "brings", "brought", "file", "files", "filed", "take", "takes", "took", "taken", "hand", "hands",
        "handed", "slap", "slapped", "levy", "levied", "unveil", "unveiled", "seek", "sought", "win", "won",
        "confirm", "confirmed", "order", "ordered", "set", "release", "released", "update", "updated",
        "finalise", "finalised", "lodge", "lodged", "commence", "commenced",
    }
)  # fmt: skip
# Governors that make an action only possible, asked for or threatened.
HEDGES = frozenset(
    {
        "consider", "considers", "considering", "considered", "threaten", "threatens", "threatened",
        "urge", "urges", "urged", "call", "calls", "called", "demand", "demands", "demanded", "ask", "asks",
        "asked", "expect", "expects", "expected", "want", "wants", "wanted", "could", "would", "may",
        "might", "should", "possible", "possibility", "whether", "support", "rule", "ruled", "refuse",
        "refused", "deny", "denied", "avoid", "avoided", "face", "faces", "facing",
    }
)  # fmt: skip
MODALS = frozenset({"would", "could", "may", "might", "should", "can", "must"})
TARGET_PREPS = frozenset({"into", "against", "of", "on", "over", "to", "for", "in"})
NOUN_TAGS = frozenset({"NN", "NNS"})
RELATIVE_TAGS = frozenset({"WDT", "WP", "WP$"})
PHRASE_PREPS = frozenset({"into", "on", "against", "to"})
PHRASE_INNER_PREPS = frozenset({"of", "for", "in", "on", "about"})  # kept in a target phrase
MAX_TARGET_TOKENS = 10
MAX_SENTENCE_CHARS = 400  # an Action keeps its sentence for display; a run-on "sentence" is cut


def action_type(token: Token) -> str | None:
    """The action a trigger token names (verb or noun form, by its tag), or None."""
    lower = token.lower_
    is_verb = token.tag_.startswith("VB")
    is_noun = token.tag_ in NOUN_TAGS
    for kind, (verbs, nouns) in TRIGGERS.items():
        if is_verb and lower in verbs:
            return kind
        if is_noun and lower in nouns:
            qualifiers = QUALIFIED_NOUNS.get(lower)
            if qualifiers is not None and not _qualified(token, qualifiers):
                continue
            return kind
    return None


def _qualified(token: Token, qualifiers: frozenset[str]) -> bool:
    if any(c.lower_ in qualifiers for c in token.lefts):
        return True
    return any(c.dep_ == "prep" and any(g.lower_ in qualifiers for g in c.children) for c in token.rights)


def hedged(token: Token) -> bool:
    """Negated, conditional, modal or wished for: the trigger or a word it hangs from says so.

    The first of two coordinated clauses does not speak for the second ("Ofcom did
    not fine X, but it opened an investigation"): its own modifiers are skipped.
    """
    node = token
    own_clause = True
    for _ in range(12):
        if own_clause:
            for child in node.children:
                if child.dep_ == "neg" or (child.dep_ == "det" and child.lower_ == "no"):
                    return True
                if child.dep_ == "aux" and child.lower_ in MODALS:
                    return True
                if child.dep_ == "mark" and child.lower_ in ("if", "unless", "whether"):
                    return True
        if node.i != token.i and own_clause and node.lower_ in HEDGES:
            return True
        if node.head.i == node.i:
            break
        own_clause = node.dep_ != "conj"
        node = node.head
    return False


class ActionExtractor:
    """Writes :class:`Action` records for the trigger words of parsed sentences."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.nlp = nlp
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        setattr(doc._, ACTIONS_EXT, [])
        sentences = list(parsed_sentences(doc))
        if not sentences:
            return doc
        mentions = Mentions(doc, watched_records(self.nlp))
        found: dict[tuple[str, str, str], Action] = {}
        for offset, sentence in sentences:
            for action in self.sentence_actions(sentence, offset, mentions):
                key = (action.actor_entity_id or action.actor, action.action, _target_key(action))
                found.setdefault(key, action)
        # "launched an investigation into X to investigate whether...": the targetless one adds nothing.
        targeted = {(actor, kind) for actor, kind, target in found if target}
        actions = [a for (actor, kind, target), a in found.items() if target or (actor, kind) not in targeted]
        setattr(doc._, ACTIONS_EXT, actions)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)

    def sentence_actions(self, sentence: Span, offset: int, mentions: Mentions) -> Iterator[Action]:
        text = " ".join(sentence.text.split())
        if len(text) > MAX_SENTENCE_CHARS:
            text = text[: MAX_SENTENCE_CHARS - 1].rstrip() + "\u2026"
        for token in sentence:
            kind = action_type(token)
            if kind is None or hedged(token):
                continue
            if token.tag_.startswith("VB"):
                roles = self._verb_roles(token, offset, mentions)
            else:
                roles = self._noun_roles(token, offset, mentions)
            if roles is None:
                continue
            actor, target = roles
            yield Action(
                actor=actor.name,
                action=kind,
                target=target.name if target else "",
                actor_entity_id=actor.entity_id,
                target_entity_id=target.entity_id if target else None,
                sentence=text,
            )

    # roles -------------------------------------------------------------------------

    def _verb_roles(self, verb: Token, offset: int, mentions: Mentions) -> tuple[Ref, Ref | None] | None:
        children = list(verb.children)
        passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in children)
        if passive:
            agents = [g for c in children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
            actor = self._first(agents, offset, mentions)
            target = self._first([c for c in children if c.dep_ == "nsubjpass"], offset, mentions)
        else:
            actor = self._subject(verb, offset, mentions)
            objects = [c for c in children if c.dep_ in ("dobj", "dative")]
            if verb.dep_ == "relcl" and any(o.tag_ in RELATIVE_TAGS for o in objects):
                objects = [verb.head]  # "X, which Ofcom is investigating": the noun "which" stands for
            target = self._target_of_objects(objects, offset, mentions)
        if target is None:
            target = self._prep_target(verb, offset, mentions)
        if target is None:
            # "investigating whether X does enough": the subject of the clause
            clauses = [c for c in children if c.dep_ == "ccomp" and any(m.dep_ == "mark" for m in c.children)]
            subjects = [g for c in clauses for g in c.children if g.dep_ in ("nsubj", "nsubjpass")]
            target = self._first(subjects, offset, mentions)
        if actor is None:
            return None
        return actor, (None if target == actor else target)

    def _noun_roles(self, noun: Token, offset: int, mentions: Mentions) -> tuple[Ref, Ref | None] | None:
        owners = [c for c in noun.children if c.dep_ in ("poss", "compound") and c.i < noun.i]
        actor = self._first(owners, offset, mentions, watched_only=True)
        governor = noun.head
        if actor is None:
            if noun.dep_ in ("dobj", "nsubjpass", "conj") and governor.lower_ in OPENING_VERBS:
                if noun.dep_ == "nsubjpass":
                    agents = [g for c in governor.children if c.dep_ == "agent" for g in c.children]
                    actor = self._first(agents, offset, mentions)
                else:
                    actor = self._subject(governor, offset, mentions)
            if actor is None:
                return None
        target = self._prep_target(noun, offset, mentions)
        if target is None and governor.i != noun.i and governor.lower_ in OPENING_VERBS:
            target = self._prep_target(governor, offset, mentions)
        if target is not None and target == actor:
            target = None
        return actor, target

    def _subject(self, verb: Token, offset: int, mentions: Mentions) -> Ref | None:
        node = verb
        for _ in range(4):
            subjects = [c for c in node.children if c.dep_ in ("nsubj", "csubj")]
            pronoun_only = subjects and all(c.lower_ in ("it", "they") for c in subjects)
            if subjects and not (pronoun_only and node.dep_ == "conj"):
                return self._first(subjects, offset, mentions)
            # no subject, or "..., but it opened": the governing clause's subject
            if node.dep_ not in ("xcomp", "advcl", "conj", "ccomp") or node.head.i == node.i:
                return self._first(subjects, offset, mentions) if subjects else None
            node = node.head
        return None

    def _first(
        self, tokens: Iterable[Token], offset: int, mentions: Mentions, watched_only: bool = False
    ) -> Ref | None:
        refs = [r for r in (self._ref(t, offset, mentions) for t in tokens) if r is not None]
        if watched_only:
            refs = [r for r in refs if r.entity_id]
        watched = [r for r in refs if r.entity_id]
        best = watched or refs
        return best[0] if best else None

    @staticmethod
    def _ref(token: Token, offset: int, mentions: Mentions) -> Ref | None:
        """The entity a (head) token names, or its proper-noun phrase."""
        ref = mentions.resolve(offset + token.i)
        if ref is not None:
            return ref
        if token.tag_ in ("NNP", "NNPS"):
            words = [c for c in token.lefts if c.dep_ == "compound" and c.tag_ in ("NNP", "NNPS")]
            name = normalise_name(" ".join(t.text for t in (*words, token)))
            return Ref(name) if name else None
        return None

    def _target_of_objects(self, objects: list[Token], offset: int, mentions: Mentions) -> Ref | None:
        target = self._first(objects, offset, mentions)
        if target is not None:
            return target
        for obj in objects:  # "block access to X", "fined the owner of X"
            found = self._prep_target(obj, offset, mentions)
            if found is not None:
                return found
        return self._phrase(objects[0]) if objects else None

    def _prep_target(self, head: Token, offset: int, mentions: Mentions) -> Ref | None:
        for prep in (c for c in head.children if c.dep_ == "prep" and c.lower_ in TARGET_PREPS):
            objects = [g for g in prep.children if g.dep_ in ("pobj", "pcomp")]
            # "on Monday", "in March": when, not what
            objects = [g for g in objects if mentions.doc[offset + g.i].ent_type_ not in ("DATE", "TIME")]
            for obj in objects:
                ref = self._ref(obj, offset, mentions) or self._watched_in(obj, offset, mentions)
                if ref is not None:
                    return ref
            if objects and prep.lower_ in PHRASE_PREPS:
                return self._phrase(objects[0])
        return None

    @staticmethod
    def _watched_in(token: Token, offset: int, mentions: Mentions) -> Ref | None:
        for t in token.subtree:
            ent = mentions.entity_at(offset + t.i)
            if ent is not None and ent.kb_id_:
                return mentions.ref_of_ent(ent)
        return None

    @staticmethod
    def _phrase(token: Token) -> Ref | None:
        """A noun phrase for a target that names no entity: the head, its left modifiers and its of/for/in
        phrases ("only a handful of small sites"); a clause keeps its words ("protecting children from ...")."""
        if token.tag_ in RELATIVE_TAGS or token.tag_ == "PRP":
            return None
        if token.dep_ == "pcomp" or token.tag_.startswith("VB"):
            words = list(token.subtree)
        else:
            words = [*(t for left in token.lefts for t in left.subtree), token]
            for child in token.rights:
                if child.dep_ == "prep" and child.lower_ in PHRASE_INNER_PREPS:
                    words += list(child.subtree)
            words = sorted(set(words), key=lambda t: t.i)
        words = [t for t in words if not t.is_punct][:MAX_TARGET_TOKENS]
        while words and words[0].lower_ in ("a", "an", "the"):
            words = words[1:]
        text = normalise_name("".join(t.text_with_ws for t in words))
        return Ref(text) if text else None


def _target_key(action: Action) -> str:
    return action.target_entity_id or action.target


@Language.factory("regwatch_actions")
def make_actions(nlp: Language, name: str) -> ActionExtractor:
    """Regulatory actions (investigation, fine, ban, consultation, guidance, court action)."""
    return ActionExtractor(nlp, name)
