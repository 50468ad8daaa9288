"""``regwatch_window_ner``: the model's NER, run only on text that can hold a name.

Every entity regwatch keeps (PERSON, ORG, GPE, LAW, NORP and the watched ones)
contains a word that starts with a capital letter. So the model's ``ner``
(disabled in the main pipeline) runs on *windows*: each capitalised token with
``context`` tokens either side, overlapping windows merged. A capitalised stop
word ("The", "It" opening a sentence) does not open a window on its own; all
capitals ("US", "WHO") do. Nor does a token that the watchlist ruler (which
runs first) marks as an unambiguous watched name (``skip_labels``: "Ofcom"),
unless a blocker covers it: the linker replaces the model's entity there
anyway, and a capitalised neighbour still opens a window that shows the name
to the model.

The windows of a doc are joined by line breaks into one shorter text, tokenized
again (the tokenizer splits at whitespace first, so a window's tokens are the
doc's), recognised, and the entities mapped back by character offset. With
``context`` at least the reach of the model's convolutions (4 tokens in the
``en_core_web_*`` models) a capitalised word is seen as in the whole doc, so
the names found are the same (measured: identical entities, quotes and actions
on the gold sets and 400 benchmark texts); what is lost are lower-case entities
far from any name ("last week", "£5m"), labels regwatch drops. A doc mostly
covered by windows (``max_share``) is recognised whole, as the stock pipeline
would.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy
from spacy.attrs import IS_STOP, IS_TITLE
from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp._components import CANDIDATES_KEY, LABEL_BLOCK, LABEL_SURE
from nlp._parse import batches

logger = logging.getLogger(__name__)

WINDOW_SEPARATOR = "\n"


class WindowNER:
    """Runs a (disabled) NER component only on the windows around capitalised tokens."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        component: str,
        context: int,
        max_share: float,
        spans_key: str = CANDIDATES_KEY,
        skip_labels: Sequence[str] = (LABEL_SURE,),
        block_labels: Sequence[str] = (LABEL_BLOCK,),
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.component = component
        self.context = max(0, int(context))
        self.max_share = max_share
        self.spans_key = spans_key
        self.skip_labels = frozenset(skip_labels)
        self.block_labels = frozenset(block_labels)
        self._ner: Any = None
        self._missing = False

    def _model_ner(self) -> Any:
        if self._ner is None and not self._missing:
            try:
                self._ner = self.nlp.get_pipe(self.component)
            except KeyError:
                self._missing = True
                logger.warning(
                    "%s: no %r in the pipeline; only watched entities will be tagged",
                    self.name,
                    self.component,
                )
        return self._ner

    def windows(self, doc: Doc) -> list[tuple[int, int]]:
        """Token ranges ``[start, end)`` around each capitalised token, merged when they touch."""
        if not len(doc):
            return []
        capital = numpy.fromiter((t.text[:1].isupper() for t in doc), dtype=bool, count=len(doc))
        flags = doc.to_array([IS_TITLE, IS_STOP])
        capital &= ~((flags[:, 0] == 1) & (flags[:, 1] == 1))
        if self.skip_labels and self.spans_key in doc.spans:
            known = numpy.zeros(len(doc), dtype=bool)
            blocked = numpy.zeros(len(doc), dtype=bool)
            for span in doc.spans[self.spans_key]:
                if span.label_ in self.skip_labels:
                    known[span.start : span.end] = True
                elif span.label_ in self.block_labels:
                    blocked[span.start : span.end] = True
            capital &= ~(known & ~blocked)
        ranges: list[tuple[int, int]] = []
        for i in numpy.flatnonzero(capital).tolist():
            start, end = max(0, i - self.context), min(len(doc), i + self.context + 1)
            if ranges and start <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], end)
            else:
                ranges.append((start, end))
        return ranges

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for batch in batches(docs, batch_size):
            self._recognise(batch)
            yield from batch

    def _recognise(self, docs: list[Doc]) -> None:
        ner = self._model_ner()
        if ner is None:
            return
        whole: list[Doc] = []
        parts: list[tuple[Doc, list[tuple[int, int, int]], Doc]] = []
        for doc in docs:
            ranges = self.windows(doc)
            covered = sum(end - start for start, end in ranges)
            if covered >= self.max_share * len(doc):
                whole.append(doc)
            elif ranges:
                text, offsets = self._joined(doc, ranges)
                parts.append((doc, offsets, self.nlp.make_doc(text)))
            else:
                doc.ents = []
        for _ in ner.pipe([*whole, *(short for _, _, short in parts)], batch_size=len(docs)):
            pass
        for doc, offsets, short in parts:
            doc.ents = self._mapped(doc, offsets, short)

    @staticmethod
    def _joined(doc: Doc, ranges: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int, int]]]:
        """The windows' text joined by line breaks, and ``(start in joined, start in doc, length)``."""
        text = doc.text  # built from the tokens on every access
        pieces: list[str] = []
        offsets: list[tuple[int, int, int]] = []
        position = 0
        for start, end in ranges:
            begin, last = doc[start], doc[end - 1]
            piece = text[begin.idx : last.idx + len(last.text)]
            offsets.append((position, begin.idx, len(piece)))
            pieces.append(piece)
            position += len(piece) + len(WINDOW_SEPARATOR)
        return WINDOW_SEPARATOR.join(pieces), offsets

    @staticmethod
    def _mapped(doc: Doc, offsets: list[tuple[int, int, int]], short: Doc) -> list[Span]:
        """The short doc's entities as spans of ``doc`` (one crossing a separator is dropped)."""
        spans: list[Span] = []
        starts = [joined for joined, _, _ in offsets]
        for ent in short.ents:
            n = int(numpy.searchsorted(starts, ent.start_char, side="right")) - 1
            joined, original, length = offsets[n]
            if ent.end_char > joined + length:
                continue
            shift = original - joined
            span = doc.char_span(ent.start_char + shift, ent.end_char + shift, label=ent.label_)
            if span is not None:
                spans.append(span)
        return spans


@Language.factory(
    "regwatch_window_ner",
    default_config={
        "component": "ner",
        "context": 4,
        "max_share": 0.95,
        "spans_key": CANDIDATES_KEY,
        "skip_labels": [LABEL_SURE],
        "block_labels": [LABEL_BLOCK],
    },
)
def make_window_ner(
    nlp: Language,
    name: str,
    component: str,
    context: int,
    max_share: float,
    spans_key: str,
    skip_labels: list[str],
    block_labels: list[str],
) -> WindowNER:
    """The model's NER (``component``, disabled) on windows of ``context`` tokens around capitalised
    words that are not already watched names (``skip_labels`` spans in ``doc.spans[spans_key]``)."""
    return WindowNER(
        nlp,
        name,
        component=component,
        context=context,
        max_share=max_share,
        spans_key=spans_key,
        skip_labels=skip_labels,
        block_labels=block_labels,
    )
