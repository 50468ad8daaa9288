"""Who gets digests and alerts: the config's subscribers and those made on the web desk, merged.

Subscribers come from two places: the YAML config (read-only on the desk) and
the store (``store.subscriptions``, made and edited on the desk). Saved searches
likewise: a config subscriber's ``saved_searches`` and the store's
(``store.saved_searches``, by owner). Every delivery (digests, alerts, the
scheduler's jobs, previews) reads the merge made here:

- config subscribers first, in the config's order, then the store's by id;
- a store subscriber whose id is a config subscriber's is left out: the config
  wins (logged, and the desk says so on that analyst's subscription page);
- each subscriber gets the saved searches owned by their id, the config's first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from regwatch.models import SavedSearch, Subscriber

logger = logging.getLogger(__name__)


@dataclass
class Subscribers:
    """The merged list, and the ids of store subscribers the config's shadow."""

    all: list[Subscriber]
    shadowed: list[str] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # id -> "config" | "store"


def merge_subscribers(
    config: Sequence[Subscriber], stored: Sequence[Subscriber], searches: Sequence[SavedSearch]
) -> Subscribers:
    """See the module docstring."""
    by_owner: dict[str, list[SavedSearch]] = {}
    for search in searches:
        by_owner.setdefault(search.owner, []).append(search)
    merged: list[Subscriber] = []
    origin: dict[str, str] = {}
    for subscriber in config:
        origin[subscriber.id] = "config"
        extra = tuple(by_owner.get(subscriber.id, ()))
        merged.append(replace(subscriber, saved_searches=subscriber.saved_searches + extra))
    shadowed = []
    for subscriber in stored:
        if subscriber.id in origin:
            shadowed.append(subscriber.id)
            logger.warning(
                "subscriber %s made on the desk is ignored: the config declares one with that id (the config wins)",
                subscriber.id,
            )
            continue
        origin[subscriber.id] = "store"
        merged.append(replace(subscriber, saved_searches=tuple(by_owner.get(subscriber.id, ()))))
    return Subscribers(merged, shadowed, origin)
