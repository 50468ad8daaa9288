"""A desk URL's query string and the search it means, both ways.

The parameters are named like ``regwatch search``'s options: ``q`` (the
query text, same syntax), ``entity``, ``source``, ``type``, ``jurisdiction``,
``language`` (the last three repeatable), ``since``, ``until`` (YYYY-MM-DD),
``sort`` (relevance, newest), then the page's own: ``page``, ``interval``
(day, week, month; empty: chosen from the dates) and ``measure`` (count,
share). Compare numbers them (``q1``, ``entity1``… ``q4``).

:class:`SearchParams` keeps what the URL said, as text: a bad value is reported
when the search is built (:meth:`SearchParams.search_query` raises QueryError
with what to type instead), so the page can show the message beside the form
that holds the mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from indexer import SearchQuery
from regwatch.errors import QueryError
from regwatch.models import Entity

SORTS = ("relevance", "newest")
INTERVALS = ("day", "week", "month")
MEASURES = ("count", "share")
MULTI = ("type", "jurisdiction", "language")
FILTERS = ("entity", "source", "type", "jurisdiction", "language", "since", "until")
MAX_QUERY_CHARS = 2_000  # a query longer than this is refused (the CLI bounds its input too)
MAX_PAGE = 100_000


@dataclass(frozen=True)
class SearchParams:
    """One search as a URL states it (see the module docstring); values as typed."""

    q: str = ""
    entity: str = ""
    source: str = ""
    type: tuple[str, ...] = ()
    jurisdiction: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    sort: str = "relevance"
    page: str = "1"
    interval: str = ""
    measure: str = "count"

    @classmethod
    def from_query(cls, params: Any, suffix: str = "") -> SearchParams:
        """From a request's query parameters (a Starlette ``QueryParams`` or a dict of lists)."""

        def many(name: str) -> tuple[str, ...]:
            values = (
                params.getlist(name + suffix) if hasattr(params, "getlist") else params.get(name + suffix, [])
            )
            values = [values] if isinstance(values, str) else list(values)
            return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))

        def one(name: str, default: str = "") -> str:
            values = many(name)
            return values[-1] if values else default

        return cls(
            q=" ".join(v for v in many("q")),
            entity=one("entity"),
            source=one("source"),
            type=many("type"),
            jurisdiction=many("jurisdiction"),
            language=many("language"),
            since=one("since"),
            until=one("until"),
            sort=one("sort", "relevance"),
            page=one("page", "1"),
            interval=one("interval"),
            measure=one("measure", "count"),
        )

    # -- validated values ------------------------------------------------------------

    @property
    def page_number(self) -> int:
        if not self.page.isdigit() or not 1 <= int(self.page) <= MAX_PAGE:
            raise QueryError(f"page must be a whole number from 1 to {MAX_PAGE:,}, got {self.page!r}")
        return int(self.page)

    def checked_interval(self) -> str:
        if self.interval and self.interval not in INTERVALS:
            raise QueryError(f"interval must be one of {', '.join(INTERVALS)}, got {self.interval!r}")
        return self.interval

    def checked_measure(self) -> str:
        if self.measure not in MEASURES:
            raise QueryError(f"measure must be one of {', '.join(MEASURES)}, got {self.measure!r}")
        return self.measure

    def dates(self) -> tuple[date | None, date | None]:
        return _date(self.since, "since"), _date(self.until, "until")

    def search_query(
        self,
        find_entity: Callable[[str], Entity | None],
        *,
        limit: int,
        offset: int = 0,
        highlight: bool = False,
        text: bool = True,
        entity: bool = True,
    ) -> SearchQuery:
        """The search these parameters mean; QueryError (a message to show) for a bad value.

        ``entity`` is read as the CLI reads ``--entity``: a watched entity's id, name or
        alias means that entity; any other name is an unwatched entity's. ``text`` and
        ``entity`` False leave those out (the share of all articles counts against the
        rest of the filters).
        """
        if len(self.q) > MAX_QUERY_CHARS:
            raise QueryError(f"the query is {len(self.q):,} characters long; at most {MAX_QUERY_CHARS:,}")
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, got {self.sort!r}")
        since, until = self.dates()
        name = self.entity if entity else ""
        if name:
            watched = find_entity(name)
            name = watched.name if watched else name
        return SearchQuery(
            text=self.q if text else "",
            entity=name or None,
            source=self.source or None,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
            source_types=self.type,
            jurisdictions=self.jurisdiction,
            languages=self.language,
            sort=self.sort,
            highlight=highlight,
        )

    # -- URLs ------------------------------------------------------------------------

    @property
    def filtered(self) -> bool:
        return any(getattr(self, name) for name in FILTERS)

    @property
    def empty(self) -> bool:
        return not self.q and not self.filtered

    def pairs(self, suffix: str = "", *, page: bool = True) -> list[tuple[str, str]]:
        """The query-string pairs of these parameters, defaults left out, in a stable order."""
        out: list[tuple[str, str]] = []
        for name, default in _DEFAULTS:
            value = getattr(self, name)
            if value == default or (name == "page" and not page):
                continue
            if isinstance(value, tuple):
                out += [(name + suffix, one) for one in value]
            else:
                out.append((name + suffix, value))
        return out

    def url(self, path: str = "/", **changes: Any) -> str:
        """The URL of these parameters with ``changes``; any change but the page's goes to page 1.

        The page number belongs to the search page: other paths (exports, chart numbers) get none.
        """
        if changes and "page" not in changes:
            changes["page"] = "1"
        params = replace(self, **{k: _as_field(k, v) for k, v in changes.items()})
        query = urlencode(params.pairs(page=path == "/"))
        return f"{path}?{query}" if query else path

    def toggled(self, name: str, value: str, path: str = "/") -> str:
        """The URL with filter ``name`` set to ``value``, or without it when it already is."""
        if name in MULTI:
            current = getattr(self, name)
            new = tuple(v for v in current if v != value) if value in current else (*current, value)
            return self.url(path, **{name: new})
        return self.url(path, **{name: "" if getattr(self, name) == value else value})

    def has(self, name: str, value: str) -> bool:
        current = getattr(self, name)
        return value in current if isinstance(current, tuple) else current == value


_DEFAULTS: tuple[tuple[str, Any], ...] = tuple((item.name, item.default) for item in fields(SearchParams))


def _as_field(name: str, value: Any) -> Any:
    if name in MULTI:
        return tuple(value) if not isinstance(value, str) else ((value,) if value else ())
    return "" if value is None else str(value)


def _date(text: str, what: str) -> date | None:
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{what} must be a date like 2024-05-31, got {text!r}") from None


def _words(text: str) -> list[str]:
    """The words of a simple-mode field, as plain words: no quotes, parentheses or operators."""
    out = []
    for word in text.replace('"', " ").replace("(", " ").replace(")", " ").split():
        word = word.lstrip("-")
        if word.upper() in {"AND", "OR", "NOT"}:
            word = word.lower()  # a word, not an operator (search is case-insensitive)
        if word.strip("*"):
            out.append(word)
    return out


def compose_query(
    all_words: str = "", exact: str = "", any_words: str = "", none_words: str = "", base: str = ""
) -> str:
    """The query text the simple mode's fields mean: ``base`` (a query typed already), then
    all of these words, "the exact phrase", (any OR of OR these) and -none -of -these.

    OR binds tighter than the implicit AND, so ``a b x OR y`` is a and b and (x or y).
    """
    parts = [base.strip()] if base.strip() else []
    parts += _words(all_words)
    phrase = " ".join(exact.replace('"', " ").split())
    if phrase:
        parts.append(f'"{phrase}"')
    alternatives = _words(any_words)
    if alternatives:
        parts.append(" OR ".join(alternatives))
    parts += [f"-{word}" for word in _words(none_words)]
    return " ".join(parts)


SIMPLE_FIELDS = ("all", "exact", "any", "none")


def simple_mode_query(params: Mapping[str, str]) -> str | None:
    """The query the simple-mode fields of a request compose, or None when none was filled."""
    if not any((params.get(name) or "").strip() for name in SIMPLE_FIELDS):
        return None
    return compose_query(
        params.get("all", ""),
        params.get("exact", ""),
        params.get("any", ""),
        params.get("none", ""),
        base=params.get("q", ""),
    )


def auto_interval(first: date | None, last: date | None) -> str:
    """Day for a span up to three months, week up to two years, else month."""
    if first is None or last is None:
        return "day"
    days = (last - first).days
    return "day" if days <= 92 else "week" if days <= 731 else "month"


def join(values: Iterable[str]) -> str:
    return ", ".join(values)
