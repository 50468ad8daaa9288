"""Where a search's words are in a text: the spans to mark, and the sentence of a hit that shows them.

Both backends give each hit a snippet with ``[`` ``]`` around matched words
(the CLI prints it), which cannot tell a marker from a bracket in the text. A
page that marks words up needs their places instead: :func:`highlight` gives
the character spans of ``text`` that the query's words match, tokenized as the
index tokenizes (letters and digits, case and accents folded, see
``_query.tokens``), phrases as consecutive words and ``prefix*`` as a prefix;
excluded words are not marked. :func:`hit_sentence` picks the sentence of a
body that holds the most distinct search terms (the first such one), cut to a
readable length around its first mark. Callers escape the pieces between the
spans, so no markup ever comes from the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ._query import ParsedQuery, _Term, parse_query

SENTENCE_CHARS = 320  # longest hit sentence shown; a longer one is cut around its first mark
SCAN_CHARS = 200_000  # a hit sentence is looked for in this much of a body (bodies are capped higher)
_WORD = re.compile(r"[^\W_]+")
# A sentence ends at . ! ? (and any closing quotes or brackets) before white space, or at a line break.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+|\n+")


@dataclass(frozen=True)
class Highlight:
    """A piece of text and the ``(start, end)`` character spans in it that matched, in order."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()

    def pieces(self) -> list[tuple[str, bool]]:
        """The text cut at the marks: ``(piece, marked)`` in order (escape each piece to show it)."""
        out: list[tuple[str, bool]] = []
        at = 0
        for start, end in self.marks:
            if start > at:
                out.append((self.text[at:start], False))
            out.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            out.append((self.text[at:], False))
        return out


def _fold(word: str) -> list[str]:
    """The index's tokens of one word of the text (usually one; "½" gives two)."""
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))
    return _WORD.findall(folded.casefold())


def _term_words(term: _Term) -> list[str]:
    return [token for word in _WORD.findall(term.text) for token in _fold(word)]


def _positive_terms(query: str | ParsedQuery | None) -> list[tuple[list[str], bool]]:
    """The words of each term that is searched for (not excluded), with whether its last is a prefix."""
    parsed = parse_query(query) if isinstance(query, str) else query
    if parsed is None:
        return []
    terms = []
    for group in parsed.groups:
        for term in group:
            words = _term_words(term)
            if words:
                terms.append((words, term.prefix))
    return terms


def _spans(text: str, terms: list[tuple[list[str], bool]]) -> tuple[list[tuple[int, int]], set[int]]:
    """The marked spans of ``text`` and which terms (by index) matched in it."""
    tokens: list[tuple[str, int, int]] = []
    if text.isascii():  # folding is lower-casing, which keeps every offset: one pass
        tokens = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text.lower())]
    else:
        for match in _WORD.finditer(text):
            for token in _fold(match.group()):
                tokens.append((token, match.start(), match.end()))
    spans: list[tuple[int, int]] = []
    matched: set[int] = set()
    for number, (words, prefix) in enumerate(terms):
        last = len(words) - 1
        for at in range(len(tokens) - last):
            if all(
                tokens[at + i][0] == word or (prefix and i == last and tokens[at + i][0].startswith(word))
                for i, word in enumerate(words)
            ):
                spans.append((tokens[at][1], tokens[at + last][2]))
                matched.add(number)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged, matched


def highlight(text: str, query: str | ParsedQuery | None) -> Highlight:
    """``text`` with the spans the query's words match (none for an empty query)."""
    terms = _positive_terms(query)
    if not terms or not text:
        return Highlight(text)
    spans, _ = _spans(text, terms)
    return Highlight(text, tuple(spans))


def _sentences(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each sentence of ``text``, white space trimmed."""
    out: list[tuple[int, int]] = []
    at = 0
    for match in _SENTENCE_END.finditer(text):
        out.append((at, match.end()))
        at = match.end()
    out.append((at, len(text)))
    trimmed = []
    for start, end in out:
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        if piece.strip():
            trimmed.append((start + lead, start + lead + len(piece.strip())))
    return trimmed


def _cut(text: str, marks: list[tuple[int, int]], limit: int) -> Highlight:
    """At most ``limit`` characters of ``text`` around its first mark, at word boundaries, with ellipses."""
    if len(text) <= limit:
        return Highlight(text, tuple(marks))
    first = marks[0][0] if marks else 0
    start = max(0, min(first - limit // 3, len(text) - limit))
    end = min(len(text), start + limit)
    if start > 0:
        space = text.find(" ", start, first if marks else end)
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", max(start, marks[0][1] if marks else start), end)
        end = space if space > start else end
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    shift = len(prefix) - start
    kept = tuple((a + shift, b + shift) for a, b in marks if a >= start and b <= end)
    return Highlight(prefix + text[start:end] + suffix, kept)


def hit_sentence(body: str, query: str | ParsedQuery | None, limit: int = SENTENCE_CHARS) -> Highlight | None:
    """The sentence of ``body`` holding the most distinct search terms (the first of those), marked.

    None when no sentence in the first ``SCAN_CHARS`` characters holds a term (the words
    may be in the title or summary only). A cheap check on the folded sentence skips
    the ones that cannot match before they are tokenized.
    """
    terms = _positive_terms(query)
    if not terms or not body:
        return None
    text = body[:SCAN_CHARS]
    firsts = [words[0] for words, _ in terms]
    best: tuple[int, int, int, list[tuple[int, int]]] | None = None
    for start, end in _sentences(text):
        sentence = text[start:end]
        folded = " ".join(_fold(sentence)) if not sentence.isascii() else sentence.casefold()
        if not any(word in folded for word in firsts):
            continue
        spans, matched = _spans(sentence, terms)
        if spans and (best is None or len(matched) > best[0]):
            best = (len(matched), start, end, spans)
            if len(matched) == len(terms):
                break
    if best is None:
        return None
    _, start, end, spans = best
    return _cut(body[start:end], spans, limit)


def hit_highlights(title: str, summary: str, body: str, query: str) -> tuple[Highlight, Highlight | None]:
    """A hit's title with its marks, and its hit sentence: from the body, else the summary (None: neither)."""
    parsed = parse_query(query)
    sentence = hit_sentence(body, parsed) or hit_sentence(summary, parsed)
    return highlight(title, parsed), sentence
