"""Saved searches in digests and alerts: does an article match one?

A saved search (``regwatch.models.SavedSearch``, made on the web desk or
declared in the config) is matched here in Python, as subscriber keywords are:
its query in the search syntax (``digests._keywords``), its entity (a watched
entity by id or canonical name, after the wiring's ``resolve``; any other by its
normalised name), its source, source types and jurisdictions (the configured
sources'), languages and dates (published, else fetched; whole UTC days). A
digest must not change because the search backend did, so the index is not asked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime

from digests._keywords import _Text, parse_keyword
from regwatch.models import Article, SavedSearch, Source

_SPACES = re.compile(r"\s+")


def _name_key(name: str) -> str:
    """Entity names compare as the index compares them: NFKC, case-folded, single spaces."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold()


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _day(article: Article) -> date:
    return _utc(article.published or article.fetched_at).date()


def fetched_since_saved(search: SavedSearch, article: Article) -> bool:
    """Whether ``article`` was fetched after ``search`` was saved: only those are news to its alert.

    A search saved on the desk would otherwise alert at once about every match of the last
    ``ALERT_LOOKBACK`` hours, articles its owner has just seen in the results. A search
    declared in the config has no saving time and alerts over the whole look-back.
    """
    return search.created_at is None or _utc(article.fetched_at) >= _utc(search.created_at)


def _mentions(article: Article, entity: str) -> bool:
    key = _name_key(entity)
    for tagged in article.entities:
        if tagged.entity_id and key in (tagged.entity_id.casefold(), tagged.name.casefold()):
            return True
        if _name_key(tagged.name) == key:
            return True
    return False


def saved_search_matches(search: SavedSearch, article: Article, source: Source | None) -> bool:
    """Whether ``article`` (from ``source``, None when it is not configured) matches ``search``."""
    if search.source and article.source_id != search.source:
        return False
    if search.source_types and (source is None or source.type not in search.source_types):
        return False
    if search.jurisdictions:
        places = {j.casefold() for j in search.jurisdictions}
        if source is None or source.jurisdiction.casefold() not in places:
            return False
    if search.languages and (article.language or "").lower() not in search.languages:
        return False
    if search.since or search.until:
        day = _day(article).isoformat()
        if (search.since and day < search.since) or (search.until and day > search.until):
            return False
    if search.entity and not _mentions(article, search.entity):
        return False
    if search.query:
        return parse_keyword(search.query).matches(
            _Text(f"{article.title}\n{article.summary}\n{article.body}")
        )
    return True


def matching_searches(
    searches: Sequence[SavedSearch], article: Article, source: Source | None, *, alerts_only: bool = False
) -> list[SavedSearch]:
    """The saved searches ``article`` matches, in the order given.

    With ``alerts_only``, those that alert and were saved before the article was fetched.
    """
    return [
        search
        for search in searches
        if (not alerts_only or (search.alert and fetched_since_saved(search, article)))
        and saved_search_matches(search, article, source)
    ]
