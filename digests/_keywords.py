"""Subscriber keywords: search-style words and phrases matched in Python.

A keyword is a little search: its words are ANDed, ``"a phrase"`` must appear
as consecutive words, ``prefix*`` matches any word starting with ``prefix``
and ``-word`` (or ``-"a phrase"``) must not appear. Matching is on casefolded, NFKC-normalised words of the title,
summary and body, so punctuation and case never matter ("Online-Safety Act"
matches ``"online safety act"``). It deliberately mirrors the index's query
syntax without depending on the index: a digest must not change because the
search backend did.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

_WORD_RE = re.compile(r"\w+")
_TERM_RE = re.compile(r'(-?)"([^"]*)"|(\S+)')


def words(text: str) -> list[str]:
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text or "").casefold())


@dataclass(frozen=True)
class _Term:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False  # the last word is a prefix
    excluded: bool = False  # must not appear


@dataclass(frozen=True)
class Keyword:
    """One parsed keyword; ``text`` is what the subscriber wrote."""

    text: str
    terms: tuple[_Term, ...]

    def matches(self, haystack: _Text) -> bool:
        required = [term for term in self.terms if not term.excluded]
        return bool(required) and all(haystack.has(term) != term.excluded for term in self.terms)


@cache
def parse_keyword(text: str) -> Keyword:
    """Parse ``text``; a keyword without any word matches nothing."""
    terms: list[_Term] = []
    for match in _TERM_RE.finditer(text):
        minus, phrase, bare = match.groups()
        if phrase is not None:
            found = words(phrase)
            if found:
                terms.append(_Term(tuple(found), excluded=bool(minus)))
            continue
        excluded = bare.startswith("-") and len(bare) > 1
        bare = bare[1:] if excluded else bare
        prefix = bare.endswith("*")
        found = words(bare)
        if not found:
            continue
        # "online-safety" is the phrase "online safety", as the tokenizer splits it.
        terms.append(_Term(tuple(found), prefix=prefix, excluded=excluded))
    return Keyword(text=text, terms=tuple(terms))


class _Text:
    """The words of one text, for repeated term lookups."""

    def __init__(self, text: str) -> None:
        self.words = words(text)
        self._set = frozenset(self.words)
        self._joined = f" {' '.join(self.words)} "

    def has(self, term: _Term) -> bool:
        if len(term.words) == 1 and not term.prefix:
            return term.words[0] in self._set
        if not term.prefix:
            return f" {' '.join(term.words)} " in self._joined
        head = " ".join(term.words)
        return f" {head}" in self._joined


@dataclass
class KeywordHits:
    """Which keywords an article matches, and which of them in its title."""

    matched: list[str]
    in_title: list[str]


def match_keywords(keywords: tuple[str, ...], title: str, summary: str, body: str) -> KeywordHits:
    if not keywords:
        return KeywordHits([], [])
    everything = _Text(f"{title}\n{summary}\n{body}")
    title_text = _Text(title)
    matched, in_title = [], []
    for text in keywords:
        keyword = parse_keyword(text)
        if keyword.matches(everything):
            matched.append(text)
            if keyword.matches(title_text):
                in_title.append(text)
    return KeywordHits(matched, in_title)
