"""Sentences everywhere, dependency parses only where they are needed.

``regwatch_sentencizer`` is spaCy's rule-based :class:`Sentencizer` that also
starts a sentence after a line break (a title has no full stop; paragraphs are
lines).

``regwatch_trigger_parser`` runs the model's shared tok2vec, tagger and parser
(disabled in the main pipeline) only on sentences that contain a trigger word
(see :data:`nlp._actions.TRIGGER_FORMS`): in news text that is one sentence in
five or ten, and those three components are half of the stock pipeline's time
(the NER has a tok2vec of its own). Each such sentence is copied into its own
Doc, analysed, and kept in ``doc._.regwatch_parses`` as ``(start,
sentence_doc)`` pairs; :func:`parsed_sentences` yields them, or a fully parsed
doc's own sentences, to the components that read dependencies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span

from nlp._mentions import ROLE_NOUNS

logger = logging.getLogger(__name__)

PARSES_EXT = "regwatch_parses"
if not Doc.has_extension(PARSES_EXT):
    Doc.set_extension(PARSES_EXT, default=None)


class LineSentencizer(Sentencizer):  # type: ignore[misc]  # a Cython class spaCy ships untyped
    """The rule-based sentencizer, plus a sentence start after every line break."""

    def predict(self, docs: Iterable[Doc]) -> list[list[bool]]:
        docs = list(docs)
        guesses: list[list[bool]] = super().predict(docs)
        for doc, guess in zip(docs, guesses, strict=True):
            for i in tokens_at(doc, (m.start() for m in _LINE_BREAK.finditer(doc.text))):
                # the token holding the line break, then the first one that is not space
                j = i + 1
                while j < len(doc) and doc[j].is_space:
                    j += 1
                if j < len(doc):
                    guess[j] = True
            for i in tokens_at(doc, (m.start() for m in _GLUED_STOP.finditer(doc.text))):
                if _ends_sentence(doc, i):
                    guess[i + 1] = True
        return guesses


_LINE_BREAK = re.compile(r"\n+")
# The tokenizer keeps the full stop on a capital letter ("into X. Then"), as on an initial.
_GLUED_STOP = re.compile(r"(?<![\w.])[A-Z]\.(?=\s)")
_INITIAL = re.compile(r"^[A-Z]\.$")
_OPENING_QUOTES = frozenset({'"', "\u201c", "\u2018"})


def _ends_sentence(doc: Doc, i: int) -> bool:
    """Whether "X." at ``i`` ends a sentence: not a run of initials ("J. K."), and followed by a
    quote or a capitalised function word ("The", "It"), not a surname ("George W. Bush")."""
    if i + 1 >= len(doc) or not _INITIAL.match(doc[i].text):
        return False
    after = doc[i + 1]
    if (i > 0 and _INITIAL.match(doc[i - 1].text)) or _INITIAL.match(after.text):
        return False
    return after.text in _OPENING_QUOTES or (after.is_title and after.is_stop)


def tokens_at(doc: Doc, offsets: Iterable[int]) -> list[int]:
    """The index of the token holding (or, in trailing whitespace, preceding) each character offset."""
    offsets = list(offsets)
    if not offsets or not len(doc):
        return []
    starts = doc.to_array("IDX")
    return [int(i) for i in numpy.searchsorted(starts, offsets, side="right") - 1 if i >= 0]


@Language.factory(
    "regwatch_sentencizer",
    default_config={"punct_chars": None, "overwrite": True},
)
def make_sentencizer(nlp: Language, name: str, punct_chars: list[str] | None, overwrite: bool) -> Sentencizer:
    """Sentence boundaries from punctuation and line breaks."""
    return LineSentencizer(name, punct_chars=punct_chars, overwrite=overwrite, scorer=None)


def parsed_sentences(doc: Doc) -> Iterator[tuple[int, Span]]:
    """``(offset, sentence)`` with a dependency parse: ``offset + token.i`` is the token in ``doc``.

    A fully parsed doc yields its own sentences (offset 0); otherwise the
    sentences ``regwatch_trigger_parser`` parsed.
    """
    if doc.has_annotation("DEP"):
        for sent in doc.sents:
            yield 0, sent
        return
    for start, sentence in getattr(doc._, PARSES_EXT) or ():
        yield start, sentence[:]


class TriggerParser:
    """Parses only the sentences that contain a trigger word, with the model's own parser."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        components: Sequence[str],
        triggers: Sequence[str],
        qualified: Mapping[str, Sequence[str]] | None = None,
        need_entity: bool = True,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.component_names = tuple(components)
        self.triggers = frozenset(t.lower() for t in triggers)
        # words that are triggers only with a qualifier in the sentence ("legal action")
        self.qualified = {k.lower(): frozenset(q.lower() for q in v) for k, v in (qualified or {}).items()}
        self._trigger_ids = numpy.array(
            sorted(nlp.vocab.strings.add(w) for w in self.triggers), dtype="uint64"
        )
        self._qualified_ids = {
            nlp.vocab.strings.add(w): {nlp.vocab.strings.add(q) for q in qs}
            for w, qs in self.qualified.items()
        }
        # A sentence is only worth parsing when it names someone who could be the actor.
        self.need_entity = need_entity
        self._role_ids = numpy.array(sorted(nlp.vocab.strings.add(w) for w in ROLE_NOUNS), dtype="uint64")
        self._word_ids = numpy.array(
            sorted({*self._trigger_ids.tolist(), *self._qualified_ids}), dtype="uint64"
        )
        self._components: list[Any] | None = None

    def _model_components(self) -> list[Any]:
        """The model's components to run on trigger sentences (empty, with a warning, if missing)."""
        if self._components is None:
            try:
                self._components = [self.nlp.get_pipe(name) for name in self.component_names]
            except KeyError as exc:
                logger.warning("%s: %s is not in the pipeline; no sentence will be parsed", self.name, exc)
                self._components = []
        return self._components

    def wanted(self, doc: Doc) -> list[Span]:
        """The sentences of ``doc`` that contain a trigger word (vectorised: most tokens are not)."""
        lowers = doc.to_array("LOWER")
        hits = numpy.flatnonzero(numpy.isin(lowers, self._word_ids))
        sentences: dict[int, Span] = {}
        ent_starts = numpy.array([e.start for e in doc.ents], dtype="int64")
        for i in hits.tolist():
            sent = doc[i].sent
            if sent.start in sentences:
                continue
            words = lowers[sent.start : sent.end]
            if (
                self.need_entity
                and not ((ent_starts >= sent.start) & (ent_starts < sent.end)).any()
                and not numpy.isin(words, self._role_ids).any()
            ):
                continue  # nobody named, not even "the regulator": no actor to report
            if numpy.isin(words, self._trigger_ids).any() or any(
                word in self._qualified_ids and not self._qualified_ids[word].isdisjoint(words.tolist())
                for word in set(words.tolist())
            ):
                sentences[sent.start] = sent
        return list(sentences.values())

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for batch in batches(docs, batch_size):
            self._parse(batch)
            yield from batch

    def _parse(self, docs: list[Doc]) -> None:
        if all(d.has_annotation("DEP") for d in docs):
            return
        components = self._model_components()
        jobs: list[tuple[Doc, int, Doc]] = []
        for doc in docs:
            if doc.has_annotation("DEP"):
                continue
            setattr(doc._, PARSES_EXT, [])
            if components:
                jobs.extend((doc, sent.start, self._sentence_doc(sent)) for sent in self.wanted(doc))
        if not jobs:
            return
        sentences: Iterable[Doc] = [job[2] for job in jobs]
        for component in components:
            sentences = component.pipe(sentences, batch_size=len(jobs))
        for (doc, start, _), sentence in zip(jobs, sentences, strict=True):
            getattr(doc._, PARSES_EXT).append((start, sentence))

    def _sentence_doc(self, sent: Span) -> Doc:
        """A fresh Doc of the sentence's tokens, re-tokenized from its text: much cheaper than
        ``Span.as_doc`` (which copies every annotation) and the same tokens, as the tokenizer
        splits at whitespace first; ``as_doc`` if the tokens ever differ."""
        fresh = self.nlp.make_doc(sent.text)
        if len(fresh) != len(sent):
            return sent.as_doc()
        return fresh


def batches(docs: Iterable[Doc], size: int) -> Iterator[list[Doc]]:
    batch: list[Doc] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@Language.factory(
    "regwatch_trigger_parser",
    default_config={
        "components": ["tok2vec", "tagger", "parser"],
        "triggers": None,
        "qualified": None,
        "need_entity": True,
    },
)
def make_trigger_parser(
    nlp: Language,
    name: str,
    components: list[str],
    triggers: list[str] | None,
    qualified: dict[str, list[str]] | None,
    need_entity: bool,
) -> TriggerParser:
    """Tags and dependency parses for the sentences with a trigger word (default: the action triggers)."""
    if triggers is None:
        from nlp._actions import QUALIFIED_NOUNS, TRIGGER_FORMS

        triggers = sorted(TRIGGER_FORMS - set(QUALIFIED_NOUNS))
        qualified = {k: sorted(v) for k, v in QUALIFIED_NOUNS.items()} if qualified is None else qualified
    return TriggerParser(
        nlp, name, components=components, triggers=triggers, qualified=qualified, need_entity=need_entity
    )
