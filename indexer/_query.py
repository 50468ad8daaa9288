"""Turning a user's search text into a safe FTS5 MATCH expression.

The syntax is the one people know from web search::

    ofcom fine             both words (AND)
    "online safety act"    a phrase
    fine OR penalty        either word; OR binds tighter than the implicit AND
    -consultation          exclude a word (NOT works too)
    regulat*               a prefix

Every word and phrase reaches FTS5 as a quoted string, so FTS5 syntax the user
did not mean (``NEAR``, ``column:``, ``^``) is just text, and what cannot be
understood (an unbalanced quote, a dangling operator, parentheses, a lone
``*``) is a QueryError that says what is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from regwatch.errors import QueryError

_OPERATORS = {"AND", "OR", "NOT"}
_WHITESPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class _Term:
    text: str
    prefix: bool = False
    excluded: bool = False
    phrase: bool = False

    def fts(self) -> str:
        quoted = '"' + self.text.replace('"', '""') + '"'
        return quoted + "*" if self.prefix else quoted


def _has_word(text: str) -> bool:
    """Whether the FTS5 tokenizer will find at least one token in ``text``."""
    return any(ch.isalnum() for ch in text)


def _scan(text: str) -> list[_Term | str]:
    """Split ``text`` into terms and the operators OR / AND / NOT."""
    items: list[_Term | str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        excluded = False
        if ch == "-" and i + 1 < n and not text[i + 1].isspace():
            excluded, i = True, i + 1
            ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError(f'unbalanced double quote in {text!r}: close the phrase with another "')
            phrase = text[i + 1 : end]
            i = end + 1
            prefix = False
            while i < n and text[i] == "*":
                prefix, i = True, i + 1
            if not _has_word(phrase):
                raise QueryError(f'the phrase "{phrase}" has no words to search for')
            if i < n and not text[i].isspace():
                raise QueryError(f'put a space after the phrase "{phrase}"')
            items.append(_Term(_WHITESPACE.sub(" ", phrase.strip()), prefix, excluded, phrase=True))
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        word = text[start:i]
        if not excluded and word in _OPERATORS:
            items.append(word)
            continue
        if "(" in word or ")" in word:
            raise QueryError(
                f"parentheses are not supported (in {word!r}): "
                'use words, "phrases", OR between alternatives and -word to exclude'
            )
        stem = word.rstrip("*")
        if "*" in stem:
            raise QueryError(f"'*' can only end a word, as in regulat* (got {word!r})")
        if not stem:
            raise QueryError("'*' must follow the start of a word, as in regulat*")
        if not _has_word(stem):
            continue  # stray punctuation such as "&" or "—": nothing FTS5 would index
        items.append(_Term(stem, prefix=len(stem) < len(word), excluded=excluded))
    return items


@dataclass(frozen=True)
class ParsedQuery:
    """What a user's search text means, for any backend: ANDed groups of ORed terms, minus exclusions."""

    groups: tuple[tuple[_Term, ...], ...]
    excluded: tuple[_Term, ...] = ()


def parse_query(text: str) -> ParsedQuery | None:
    """Parse the user's ``text`` (see the module docstring); None when there is nothing to match.

    Raises QueryError with a message a user can act on when the text cannot be understood.
    """
    items = _scan(text)
    if not items:
        if text.strip():
            raise QueryError(f"nothing to search for in {text!r}: use letters or digits")
        return None
    groups: list[list[_Term]] = []  # ANDed groups of ORed terms
    excluded: list[_Term] = []
    pending_or = pending_not = False
    for position, item in enumerate(items):
        if isinstance(item, str):
            previous = items[position - 1] if position else None
            following = items[position + 1] if position + 1 < len(items) else None
            if item == "NOT":
                if not isinstance(following, _Term) or pending_not:
                    raise QueryError("NOT must be followed by a word or phrase to exclude")
                pending_not = True
                continue
            if not isinstance(previous, _Term) or not isinstance(following, _Term):
                raise QueryError(f"{item} needs a word or phrase on both sides")
            negated = previous.excluded or (position >= 2 and items[position - 2] == "NOT")
            if item == "OR":
                if negated or following.excluded:
                    raise QueryError("OR cannot join an excluded term; exclude each word separately")
                pending_or = True
            continue  # AND is what adjacent terms mean anyway
        term = item
        if pending_not:
            term = _Term(term.text, term.prefix, True, term.phrase)
            pending_not = False
        if term.excluded:
            if pending_or:
                raise QueryError("OR cannot join an excluded term; exclude each word separately")
            excluded.append(term)
        elif pending_or and groups:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = False
    if not groups:
        raise QueryError("a search needs at least one word that is not excluded")
    return ParsedQuery(tuple(tuple(group) for group in groups), tuple(excluded))


def match_expression(text: str) -> str | None:
    """The FTS5 MATCH expression for the user's ``text``; None when there is nothing to match."""
    parsed = parse_query(text)
    if parsed is None:
        return None
    positive = " AND ".join("(" + " OR ".join(t.fts() for t in group) + ")" for group in parsed.groups)
    if not parsed.excluded:
        return positive
    return f"({positive}) NOT (" + " OR ".join(t.fts() for t in parsed.excluded) + ")"


def tokens(text: str) -> list[str]:
    """The tokens FTS5 (unicode61, remove_diacritics 2) makes of ``text``: runs of letters and
    digits, case-folded, without diacritics. The cluster's exact analyzer does the same."""
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    ).casefold()
    return _TOKEN.findall(folded)


def normalise_name(name: str) -> str:
    """The key entity names are matched on: NFKC, case-folded, single spaces."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold()


def _as_moment(value: date | datetime | str, what: str) -> date | datetime:
    if isinstance(value, date):
        return value
    try:
        text = str(value).strip()
        return datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{what} must be a date like 2024-05-31, got {value!r}") from None


def lower_bound(value: date | datetime | str, what: str = "since") -> datetime:
    """The first moment a ``since`` filter admits: a date means its start (UTC)."""
    moment = _as_moment(value, what)
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.combine(moment, time.min, tzinfo=UTC)


def upper_bound(value: date | datetime | str, what: str = "until") -> tuple[datetime, bool]:
    """The limit of an ``until`` filter and whether it is inclusive.

    A date includes its whole day (UTC), so the bound is the next midnight, exclusive
    (the last day of the calendar, 9999-12-31, has no next one: its last moment, inclusive).
    """
    moment = _as_moment(value, what)
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), True
    if moment >= date.max:
        return datetime.combine(date.max, time.max, tzinfo=UTC), True
    return datetime.combine(moment + timedelta(days=1), time.min, tzinfo=UTC), False
