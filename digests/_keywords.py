"""Subscriber keywords: search-style words and phrases matched in Python.

A keyword is a little search: its words are ANDed, ``"a phrase"`` must appear
as consecutive words, ``prefix*`` matches any word starting with ``prefix``,
``a OR b`` either (OR binds tighter than the implicit AND, as in search: ``grok
ofcom OR ico`` is grok and either regulator) and ``-word``, ``NOT word`` (or
``-"a phrase"``) must not appear. Matching is on casefolded, NFKC-normalised words of the title,
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
    """One parsed keyword; ``text`` is what the subscriber wrote.

    ``groups`` are ANDed, the terms of a group ORed; ``excluded`` terms must not appear.
    """

    text: str
    groups: tuple[tuple[_Term, ...], ...]
    excluded: tuple[_Term, ...] = ()

    def matches(self, haystack: _Text) -> bool:
        return (
            bool(self.groups)
            and all(any(haystack.has(term) for term in group) for group in self.groups)
            and not any(haystack.has(term) for term in self.excluded)
        )


_OPERATORS = ("OR", "NOT", "AND")


@cache
def parse_keyword(text: str) -> Keyword:
    """Parse ``text``; a keyword without any word matches nothing.

    Lenient where search would refuse: an operator with nothing to join is ignored.
    """
    groups: list[list[_Term]] = []
    excluded: list[_Term] = []
    pending_or = pending_not = False
    for match in _TERM_RE.finditer(text):
        minus, phrase, bare = match.groups()
        if bare in _OPERATORS:
            pending_or = bare == "OR" and bool(groups)
            pending_not = bare == "NOT"
            continue
        if phrase is not None:
            found = words(phrase)
            term = _Term(tuple(found), excluded=bool(minus)) if found else None
        else:
            negated = bare.startswith("-") and len(bare) > 1
            bare = bare[1:] if negated else bare
            found = words(bare)
            # "online-safety" is the phrase "online safety", as the tokenizer splits it.
            term = _Term(tuple(found), prefix=bare.endswith("*"), excluded=negated) if found else None
        if term is None:
            continue
        if pending_not or term.excluded:
            excluded.append(term)
        elif pending_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = pending_not = False
    return Keyword(text=text, groups=tuple(tuple(g) for g in groups), excluded=tuple(excluded))


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
