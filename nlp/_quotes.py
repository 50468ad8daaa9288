"""``regwatch_quotes``: direct quotes and who said them, from token rules (no parser needed).

A quote is the text between curly (“…”) or straight ("…") double quotes
within one paragraph; a quote still open at the end of a paragraph ends there
(newspapers reopen it in the next paragraph). Its speaker is found, in order:

1. after it, in the same sentence: ``“…,” Ofcom said``, ``“…,” said Farage``,
   ``“…,” the regulator said`` (the speaker phrase before the speech verb, or
   the one right after it);
2. before it, in the same sentence: the nearest speech verb before the opening
   mark with a speaker right in front of it (``Farage said the government
   risks “…”``, ``Ofcom said: “…”``; an intervening ``, adding:`` falls back
   to the earlier verb);
3. a paragraph that opens with a quote and names nobody continues the previous
   paragraph's speaker.

Speakers resolve through :class:`nlp._mentions.Mentions` (watched entities to
their canonical name and id, "he"/"she" to the nearest person, "the
regulator" to the nearest watched regulator). A quote with no speaker (a scare
quote, "it has been reported") is not reported. Results go to
``doc._.regwatch_quotes`` as :class:`regwatch.models.Quote`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc, Token

from nlp._mentions import Mentions, Ref, watched_records
from nlp._parse import tokens_at
from regwatch.models import Quote

QUOTES_EXT = "regwatch_quotes"
if not Doc.has_extension(QUOTES_EXT):
    Doc.set_extension(QUOTES_EXT, default=None)

OPENING = frozenset({"\u201c", "\u201e", "\u00ab"})
CLOSING = frozenset({"\u201d", "\u00bb"})
STRAIGHT = '"'
SPEECH_VERBS = frozenset(
    {
        "say", "says", "said", "saying", "tell", "tells", "told", "telling", "add", "adds", "added", "adding",
        "warn", "warns", "warned", "warning", "state", "states", "stated", "claim", "claims", "claimed",
        "insist", "insists", "insisted", "argue", "argues", "argued", "confirm", "confirms", "confirmed",
        "confirming", "announce", "announced", "explain", "explains", "explained", "write", "writes",
        "wrote", "declare", "declared", "admit", "admits", "admitted", "acknowledged", "continued",
        "remarked", "commented", "replied", "responded", "posted", "tweeted", "stressed", "noted",
        "urged", "vowed", "pledged",
    }
)  # fmt: skip
# Forms that are as often nouns: without a tagger they do not count.
NOUN_LIKE = frozenset({"state", "states", "claim", "claims", "warning", "write", "writes", "posted", "noted"})
_QUOTE_CHARS = re.compile('["\u201c\u201d\u201e\u00ab\u00bb]')
_MARKS = re.compile('["\u201c\u201d\u201e\u00ab\u00bb\n]')
SENTENCE_END = frozenset({".", "!", "?", ";"})
SPEAKER_SKIP = frozenset({"the", "a", "an", "its", "his", "her", "their", "this"})
WINDOW = 12


def is_speech_verb(token: Token) -> bool:
    """A form of say, tell, add, warn...: as tagged when the doc has tags, else by its form."""
    if token.lower_ not in SPEECH_VERBS:
        return False
    if token.tag_:
        return token.tag_.startswith("VB")
    return token.lower_ not in NOUN_LIKE


@dataclass
class _Raw:
    open_i: int  # the opening mark
    end_i: int  # the closing mark (or the line break that ended it)
    paragraph: int
    starts_paragraph: bool


class QuoteExtractor:
    """Finds quotes and attributes them to a speaker."""

    def __init__(self, nlp: Language, name: str, *, min_words: int) -> None:
        self.nlp = nlp
        self.name = name
        self.min_words = min_words

    def __call__(self, doc: Doc) -> Doc:
        quotes: list[Quote] = []
        setattr(doc._, QUOTES_EXT, quotes)
        raws = list(self.find_quotes(doc)) if _QUOTE_CHARS.search(doc.text) else []
        if not raws:
            return doc
        mentions = Mentions(doc, watched_records(self.nlp))
        previous: tuple[int, Ref] | None = None  # (paragraph, speaker) of the last attributed quote
        inside = {i for raw in raws for i in range(raw.open_i, raw.end_i + 1)}
        for raw in raws:
            speaker = self._after(doc, raw, mentions, inside) or self._before(doc, raw, mentions, inside)
            if speaker is None and raw.starts_paragraph and previous and previous[0] == raw.paragraph - 1:
                speaker = previous[1]
            if speaker is None:
                continue
            previous = (raw.paragraph, speaker)
            span = doc[raw.open_i + 1 : raw.end_i]
            text = " ".join(span.text.split()).strip().rstrip(",;:").rstrip()
            if len(text.split()) < self.min_words:
                continue
            quotes.append(Quote(text, speaker.name, speaker.entity_id, span.start_char))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)

    @staticmethod
    def find_quotes(doc: Doc) -> Iterator[_Raw]:
        """Quote spans, visiting only the tokens at quote marks and line breaks."""
        paragraph = 0
        open_i: int | None = None
        starts_paragraph = False
        marks = sorted(set(tokens_at(doc, (m.start() for m in _MARKS.finditer(doc.text)))))
        for i in marks:
            token = doc[i]
            text = token.text
            if token.is_space and "\n" in text:
                if open_i is not None and i - open_i > 1:
                    yield _Raw(open_i, i, paragraph, starts_paragraph)
                open_i = None
                paragraph += 1
            elif open_i is None and (text in OPENING or text == STRAIGHT):
                open_i = i
                starts_paragraph = i == 0 or (doc[i - 1].is_space and "\n" in doc[i - 1].text)
            elif open_i is not None and (text in CLOSING or text == STRAIGHT):
                if i - open_i > 1:
                    yield _Raw(open_i, i, paragraph, starts_paragraph)
                open_i = None
        if open_i is not None and len(doc) - open_i > 1:
            yield _Raw(open_i, len(doc), paragraph, starts_paragraph)

    # attribution ------------------------------------------------------------------

    def _after(self, doc: Doc, raw: _Raw, mentions: Mentions, inside: set[int]) -> Ref | None:
        if raw.end_i >= len(doc) or doc[raw.end_i].is_space:
            return None  # ended by a line break: nothing follows in the paragraph
        first = raw.end_i + 1
        seen_words = 0
        for i in range(first, min(first + WINDOW, len(doc))):
            token = doc[i]
            if i in inside or (token.is_space and "\n" in token.text) or token.text in SENTENCE_END:
                return None
            if is_speech_verb(token):
                if seen_words == 0:  # “…,” said Farage / said the regulator
                    return self._speaker_from(doc, i + 1, mentions, forward=True)
                return self._speaker_from(doc, i - 1, mentions, forward=False)
            if not token.is_punct:
                seen_words += 1
        return None

    def _before(self, doc: Doc, raw: _Raw, mentions: Mentions, inside: set[int]) -> Ref | None:
        start = doc[raw.open_i].sent.start if doc.has_annotation("SENT_START") else 0
        for i in range(raw.open_i - 1, start - 1, -1):
            token = doc[i]
            if token.is_space and "\n" in token.text:
                return None
            if i in inside:
                continue
            if is_speech_verb(token):
                speaker = self._speaker_from(doc, i - 1, mentions, forward=False)
                if speaker is not None:
                    return speaker
        return None

    @staticmethod
    def _speaker_from(doc: Doc, i: int, mentions: Mentions, *, forward: bool) -> Ref | None:
        """The speaker phrase starting (forward) or ending (backward) at token ``i``."""
        if forward:
            while i < len(doc) and doc[i].lower_ in SPEAKER_SKIP:
                i += 1
            # "said Ofcom's chief executive": the first token naming someone
            for j in range(i, min(i + 4, len(doc))):
                ref = mentions.resolve(j)
                if ref is not None:
                    return ref
                if doc[j].is_punct:
                    break
            return None
        # "Ofcom, which opened the inquiry on Monday, said": skip one parenthetical
        if 0 <= i < len(doc) and doc[i].text == ",":
            j = i - 1
            while j >= 0 and doc[j].text != "," and not doc[j].is_space:
                j -= 1
            if j > 0 and doc[j].text == ",":
                ref = mentions.resolve(j - 1)
                if ref is not None:
                    return ref
            return None
        return mentions.resolve(i)


@Language.factory("regwatch_quotes", default_config={"min_words": 1})
def make_quotes(nlp: Language, name: str, min_words: int) -> QuoteExtractor:
    """Direct quotes with their speakers."""
    return QuoteExtractor(nlp, name, min_words=min_words)
