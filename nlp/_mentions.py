"""Who a token refers to: the shared resolver of the quote and action components.

:class:`Mentions` indexes a processed doc's entities once and answers "which
entity is token *i* part of?", including three cheap forms of coreference:

* a pronoun ("he", "she") is the nearest person named before it, "it" the
  nearest watched organisation (regulator, platform, company...);
* a role noun ("the regulator", "the watchdog", "the platform") is the nearest
  watched entity of that type named before it;
* "an Ofcom spokesperson", "X's owner" speak for the entity in front of them.

Watched entities resolve to their canonical name and id; the model's other
PERSON/ORG/NORP/GPE entities to their normalised text, with no id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

PERSON_PRONOUNS = frozenset({"he", "she", "him", "her"})
# Role nouns -> the watched entity types they may stand for.
ROLE_NOUNS: Mapping[str, tuple[str, ...]] = {
    "regulator": ("regulator",),
    "watchdog": ("regulator",),
    "authority": ("regulator",),
    "commission": ("regulator",),
    "platform": ("platform",),
    "site": ("platform",),
    "app": ("platform",),
    "network": ("platform",),
    "company": ("company", "platform"),
    "firm": ("company", "platform"),
    "chatbot": ("product",),
    "department": ("government_body",),
    "party": ("party",),
}
# Nouns that speak for the entity right in front of them ("an Ofcom spokesperson").
SPOKES_NOUNS = frozenset(
    {"spokesperson", "spokesman", "spokeswoman", "representative", "statement", "source", "sources"}
)
UNWATCHED_SPEAKER_LABELS = frozenset({"PERSON", "ORG", "NORP", "GPE"})
_POSSESSIVE = re.compile(r"(?:['\u2019]s|s['\u2019])$")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)


def normalise_name(text: str) -> str:
    """ "the Home Office's " -> "Home Office": whitespace, leading "the", possessive, stray punctuation."""
    name = " ".join(text.split())
    name = _LEADING_THE.sub("", name)
    if _POSSESSIVE.search(name):
        name = name[:-2] if name[-2] in "'\u2019" else name[:-1]
    return name.strip(" \"'\u2018\u2019\u201c\u201d.,;:")


@dataclass(frozen=True)
class Ref:
    """An entity a token refers to: canonical name and watchlist id, or the text and no id."""

    name: str
    entity_id: str | None = None
    type: str = ""


def watched_records(nlp: Language) -> dict[str, dict[str, Any]]:
    """The entity records (id -> {name, type, ...}) of the pipeline's watchlist linker, if any."""
    for _, component in nlp.pipeline:
        entities = getattr(component, "entities", None)
        if isinstance(entities, dict) and getattr(component, "candidates_key", None):
            return entities
    return {}


class Mentions:
    """Resolves token positions of one doc to the entities they name."""

    def __init__(self, doc: Doc, records: Mapping[str, Mapping[str, Any]]) -> None:
        self.doc = doc
        self.records = records
        self.ents: list[Span] = list(doc.ents)
        self._at: dict[int, Span] = {}
        for ent in self.ents:
            for i in range(ent.start, ent.end):
                self._at[i] = ent

    def ref_of_ent(self, ent: Span) -> Ref | None:
        if ent.kb_id_ and ent.kb_id_ in self.records:
            record = self.records[ent.kb_id_]
            return Ref(str(record["name"]), ent.kb_id_, str(record.get("type", "")))
        if ent.label_ in UNWATCHED_SPEAKER_LABELS:
            name = normalise_name(ent.text)
            if name.lower() in ROLE_NOUNS:  # "the Commission", "the Regulator": who was named before
                types = ROLE_NOUNS[name.lower()]
                earlier = self._nearest_before(
                    ent.start, lambda r: r.entity_id is not None and r.type in types
                )
                if earlier is not None:
                    return earlier
            return Ref(name, None, ent.label_) if name else None
        return None

    def entity_at(self, i: int) -> Span | None:
        return self._at.get(i)

    def resolve(self, i: int) -> Ref | None:
        """The entity token ``i`` names or stands for, or None."""
        if not 0 <= i < len(self.doc):
            return None
        ent = self._at.get(i)
        if ent is not None:
            return self.ref_of_ent(ent)
        token = self.doc[i]
        lower = token.lower_
        if lower in SPOKES_NOUNS:
            # "an Ofcom spokesperson", "X's statement"
            j = i - 1
            while j >= 0 and self.doc[j].lower_ in ("'s", "\u2019s", "'", "\u2019"):
                j -= 1
            if j >= 0 and j in self._at:
                return self.ref_of_ent(self._at[j])
            # "a spokesperson for Ofcom"
            if i + 2 < len(self.doc) and self.doc[i + 1].lower_ in ("for", "at", "of"):
                return self.resolve(i + 2)
            return None
        if lower in PERSON_PRONOUNS:
            return self._nearest_before(i, lambda ref: ref.type in ("person", "PERSON"))
        if lower == "it":  # "it opened an investigation", "“…,” it said": the last watched organisation
            return self._nearest_before(i, lambda ref: ref.entity_id is not None and ref.type != "person")
        common = token.tag_ not in ("NNP", "NNPS") if token.tag_ else token.is_lower
        if lower in ROLE_NOUNS and common:
            types = ROLE_NOUNS[lower]
            return self._nearest_before(i, lambda ref: ref.entity_id is not None and ref.type in types)
        return None

    def _nearest_before(self, i: int, accept: Any) -> Ref | None:
        for ent in reversed(self.ents):
            if ent.end > i:
                continue
            ref = self.ref_of_ent(ent)
            if ref is not None and accept(ref):
                return ref
        return None
