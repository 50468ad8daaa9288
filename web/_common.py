"""What several pages share: entity links, source names, the line saying what is searched, story folding.

Everything here runs on the store thread (see ``_worker``), handed a
:class:`~web._services.DeskServices`.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from indexer import SearchHit, SearchQuery, normalise_name

from ._services import DeskServices


def entity_href(desk: DeskServices, name: str, entity_id: str | None = None) -> str:
    """The entity page of a name: a watched entity's by its id, any other's by its normalised name."""
    if entity_id:
        return "/entity/" + quote(entity_id, safe="")
    watched = desk.find_entity(name)
    if watched is not None and watched.name == name:
        return "/entity/" + quote(watched.id, safe="")
    return "/entity/" + quote(normalise_name(name), safe="")


def stamp(value: datetime | str | None, empty: str = "") -> Markup:
    """A moment for the ops pages: ``<time …>2026-01-12 08:30:05 UTC</time>`` (a narrow column wraps
    it between the day and the time, never inside either).

    The stores hand over datetimes or ISO strings (microseconds, offsets); people read
    seconds in UTC. A value that is not a time is shown as it is, escaped.
    """
    if value is None or value == "":
        return escape(empty)
    moment = value
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return escape(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return Markup('<time class="stamp" datetime="{}"><span>{}</span> <span>{}</span></time>').format(
        moment.isoformat(timespec="seconds"), moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S UTC")
    )


def source_name(desk: DeskServices, source_id: str) -> str:
    source = desk.sources.get(source_id)
    return source.name if source else source_id


@dataclass
class Scope:
    """What the desk searches: the line at the top of the search page."""

    articles: int
    first: str | None
    last: str | None
    sources: int
    backend: str

    def sentence(self) -> str:
        span = f", published {self.first} to {self.last}" if self.first and self.last else ""
        return (
            f"Searching {self.articles:,} article{'s' if self.articles != 1 else ''}{span}, "
            f"from {self.sources} configured source{'s' if self.sources != 1 else ''}, in {self.backend}."
        )


class ScopeCache:
    """The scope, computed at most once per ``seconds`` (a histogram of everything, on the store thread)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._value: tuple[float, Scope] | None = None

    def get(self, desk: DeskServices) -> Scope:
        with self._lock:
            now = time.monotonic()
            if self._value is not None and now - self._value[0] < self.seconds:
                return self._value[1]
            days = {k: v for k, v in desk.search_index.histogram(SearchQuery(), "day").items() if k}
            keys = sorted(days)
            scope = Scope(
                articles=sum(days.values()),
                first=keys[0] if keys else None,
                last=keys[-1] if keys else None,
                sources=len(desk.sources),
                backend=desk.backend_name,
            )
            self._value = (now, scope)
            return scope


@functools.lru_cache(maxsize=65_536)
def _bucket(key: str, interval: str) -> str:
    if interval == "month":
        return key[:7] + "-01"
    day = date.fromisoformat(key[:10])
    return (day - timedelta(days=day.weekday())).isoformat()


def by_interval(days: dict[str, int], interval: str) -> dict[str, int]:
    """A day histogram bucketed per week (from Monday) or month, as the backends bucket (UTC)."""
    if interval == "day":
        return {key: count for key, count in days.items() if key}
    out: dict[str, int] = {}
    for key, count in days.items():
        if key:
            bucket = _bucket(key, interval)
            out[bucket] = out.get(bucket, 0) + count
    return dict(sorted(out.items()))


def span_of(days: Iterable[str]) -> tuple[date | None, date | None]:
    keys = sorted(k for k in days if k)
    if not keys:
        return None, None
    return date.fromisoformat(keys[0][:10]), date.fromisoformat(keys[-1][:10])


@dataclass
class HitGroup:
    """A hit and the other copies of its story (folded under it in the list)."""

    hit: SearchHit
    copies: list[SearchHit] = field(default_factory=list)
    chips: list[tuple[str, str]] = field(default_factory=list)  # (name, href)

    @property
    def other_sources(self) -> list[str]:
        return sorted({copy.source for copy in self.copies if copy.source != self.hit.source})


MAX_CHIPS = 8


def fold_stories(desk: DeskServices, hits: Sequence[SearchHit]) -> list[HitGroup]:
    """The hits with the copies of each story folded under its first hit on the page.

    A later hit of a story already shown is not listed again; the copies of a story
    are every other stored member (on this page or not), read in one go.
    """
    members = desk.store.stories.members([hit.story for hit in hits if hit.story])
    groups: list[HitGroup] = []
    shown: set[str] = set()
    for hit in hits:
        if hit.story and hit.story in shown:
            continue
        if hit.story:
            shown.add(hit.story)
        copies = [m for m in members.get(hit.story, []) if m.id != hit.id]
        chips = [(name, entity_href(desk, name)) for name in hit.entities[:MAX_CHIPS]]
        groups.append(HitGroup(hit, copies, chips))
    return groups


def facet_entries(desk: DeskServices, facets: dict[str, dict[str, int]], params: Any) -> list[dict[str, Any]]:
    """The facet groups of a search page: per value its label, count, toggle URL and whether it is on."""
    others = facets.get("other_entities", {})
    labels = desk.store.articles.entity_labels(list(others)) if others else {}
    groups: list[tuple[str, str, list[tuple[str, str, int]]]] = [
        ("Watched entities", "entity", [(k, k, n) for k, n in facets.get("entities", {}).items()]),
        ("Other entities", "entity", [(k, labels.get(k, k), n) for k, n in others.items()]),
        ("Sources", "source", [(k, source_name(desk, k), n) for k, n in facets.get("sources", {}).items()]),
        ("Source types", "type", [(k, k, n) for k, n in facets.get("types", {}).items()]),
        ("Jurisdictions", "jurisdiction", [(k, k, n) for k, n in facets.get("jurisdictions", {}).items()]),
        ("Languages", "language", [(k, k, n) for k, n in facets.get("languages", {}).items()]),
    ]
    out = []
    for title, name, values in groups:
        entries = []
        for key, label, count in values:
            if name == "entity":
                on = _same_entity(desk, params.entity, key)
                url = params.url(entity="" if on else key)
            else:
                on = params.has(name, key)
                # "unknown" types and places are no filter value: no configured source says so
                url = None if key == "unknown" else params.toggled(name, key)
            entries.append({"key": key, "label": label, "count": count, "on": on, "url": url})
        out.append({"title": title, "name": name, "entries": entries})
    return out


def _same_entity(desk: DeskServices, chosen: str, key: str) -> bool:
    """Whether the entity filter ``chosen`` (a name, alias or id as typed) is the facet value ``key``."""
    if not chosen:
        return False
    watched = desk.find_entity(chosen)
    if watched is not None:
        return watched.name == key
    return normalise_name(chosen) == key
