"""The run context: home dir, config and lazily opened components.

Every CLI command and scheduler job builds one :class:`App`; components (the
store, the watchlist, the spaCy tagger, the deliverer, digest and alert
delivery) are created on first use, from the settings, so a command pays only
for what it needs.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regwatch.config import Config, load_config, resolve_home
from regwatch.errors import ConfigError
from regwatch.models import Subscriber
from regwatch.private import private_dir, private_subdir, redact_url

if TYPE_CHECKING:
    from digests import AlertDelivery, Deliverer, DigestBuilder, DigestDelivery
    from indexer import ClusterIndex, SearchIndex, Store
    from nlp import Tagger, Watchlist
    from regwatch.app.subscribers import Subscribers

logger = logging.getLogger(__name__)

DIGEST_LOCK_FILE = "digests.lock"  # in the home dir: one sender of digests and alerts at a time


class App:
    """Home dir + config + components, shared by one command or job."""

    def __init__(self, home: Path, config: Config) -> None:
        self.home = home
        self.config = config
        self.settings = config.settings

    @classmethod
    def load(
        cls,
        home: str | Path | None,
        config_path: str | Path | None,
        overrides: dict[str, Any] | None = None,
        text_substitutions: dict[str, str] | None = None,
    ) -> App:
        """Resolve the home dir and load the config (None: REGWATCH_CONFIG or defaults)."""
        import os

        if config_path is None and os.environ.get("REGWATCH_CONFIG"):
            config_path = os.environ["REGWATCH_CONFIG"]
        config = load_config(
            Path(config_path) if config_path else None,
            overrides=overrides,
            text_substitutions=text_substitutions,
        )
        resolved = resolve_home(home)
        try:
            if home or os.environ.get("REGWATCH_HOME"):
                private_dir(resolved)  # created 0700; an existing dir named by the user is left as it is
            else:
                private_subdir(resolved)  # the per-user data dir is regwatch's own: tightened too
        except OSError as exc:
            raise ConfigError(f"cannot create home dir {resolved}: {exc.strerror}") from None
        return cls(resolved, config)

    @property
    def db_path(self) -> Path:
        return self.home / str(self.settings["INDEX_DB_NAME"])

    @property
    def store_engine(self) -> str:
        """The store's engine as the settings name it ("postgresql" when STORE_URL is set, else "sqlite")."""
        return "postgresql" if str(self.settings["STORE_URL"]).strip() else "sqlite"

    @property
    def store_location(self) -> str:
        """Where the store is, as it may be shown: the SQLite file, or STORE_URL with its password masked."""
        if self.store_engine == "sqlite":
            return str(self.db_path)
        return redact_url(str(self.settings["STORE_URL"]).strip())

    @property
    def outbox(self) -> Path:
        return self.home / str(self.settings["DIGEST_OUTBOX"])

    @cached_property
    def store(self) -> Store:
        from indexer import Store

        # The configured sources: search's source-type and jurisdiction filters.
        return Store.from_settings(self.settings, self.home, {s.id: s for s in self.config.sources})

    @property
    def uses_cluster(self) -> bool:
        return bool(str(self.settings["INDEX_URL"]).strip())

    @cached_property
    def cluster(self) -> ClusterIndex:
        """The search cluster of INDEX_URL (ConfigError when none is set)."""
        from indexer import ClusterIndex

        if not self.uses_cluster:
            raise ConfigError(
                "no search cluster is configured: set REGWATCH_INDEX_URL (e.g. http://127.0.0.1:9200)"
            )
        return ClusterIndex.from_settings(self.settings, self.store, {s.id: s for s in self.config.sources})

    @property
    def search_index(self) -> SearchIndex:
        """What answers searches: the cluster when INDEX_URL is set, else the store's own search."""
        return self.cluster if self.uses_cluster else self.store.search

    @cached_property
    def watchlist(self) -> Watchlist:
        from nlp import load_watchlist

        return load_watchlist(
            files=self.config.watchlist_files,
            inline=self.config.watchlist,
            include_default=self.settings["NLP_INCLUDE_DEFAULT_WATCHLIST"],
            inline_origin=str(self.config.path or "config"),
        )

    @cached_property
    def tagger(self) -> Tagger:
        from nlp import Tagger

        return Tagger.from_settings(self.settings, self.watchlist)

    @cached_property
    def deliverer(self) -> Deliverer:
        from digests import deliverer_from_settings

        return deliverer_from_settings(self.settings, self.home)

    def merged_subscribers(self, store: Store | None = None) -> Subscribers:
        """The config's subscribers and the desk's, with their saved searches (see ``subscribers``).

        ``store``: read from this one instead of the App's (another thread's, say).
        """
        from regwatch.app.subscribers import merge_subscribers

        store = store or self.store
        return merge_subscribers(
            self.config.subscribers, store.subscriptions.all(), store.saved_searches.all()
        )

    @property
    def subscribers(self) -> list[Subscriber]:
        """Everyone who gets digests and alerts: read afresh, the desk may have changed them."""
        return self.merged_subscribers().all

    def resolve_subscriber(self, subscriber: Subscriber) -> Subscriber:
        """The subscriber with their entity names and aliases mapped to the watchlist's canonical names.

        An entity that is not on the watchlist is dropped with a warning. A saved search's
        entity that is on it is named canonically too (any other stays an unwatched name).
        """
        canonical: list[str] = []
        for name in subscriber.entities:
            entity = self.watchlist.find(name)
            if entity is None:
                logger.warning("subscriber %s watches %r, which is not on the watchlist", subscriber.id, name)
                continue
            canonical.append(entity.name)
        searches = []
        for search in subscriber.saved_searches:
            entity = self.watchlist.find(search.entity) if search.entity else None
            searches.append(replace(search, entity=entity.name) if entity else search)
        return replace(subscriber, entities=tuple(canonical), saved_searches=tuple(searches))

    @cached_property
    def digest_builder(self) -> DigestBuilder:
        from digests import DigestBuilder

        return DigestBuilder(
            self.store.digest_ledger,
            self.store.articles,
            sender=self.settings["DIGEST_SENDER"],
            max_items=self.settings["DIGEST_MAX_ITEMS"],
            sources={s.id: s for s in self.config.sources},
            resolve=self.resolve_subscriber,
        )

    @cached_property
    def digest_delivery(self) -> DigestDelivery:
        from digests import DigestDelivery, Spool

        return DigestDelivery(
            self.digest_builder,
            self.store.digest_ledger,
            deliverer=self.deliverer,
            spool=Spool(self.home / self.settings["DIGEST_SPOOL"]),
            lock_path=self.home / DIGEST_LOCK_FILE,
        )

    @cached_property
    def alert_delivery(self) -> AlertDelivery:
        from digests import AlertDelivery

        return AlertDelivery(
            self.store.alert_ledger,
            self.store.articles,
            deliverer=self.deliverer,
            lock_path=self.home / DIGEST_LOCK_FILE,
            sender=self.settings["DIGEST_SENDER"],
            lookback=timedelta(hours=self.settings["ALERT_LOOKBACK"]),
            min_interval=timedelta(minutes=self.settings["ALERT_MIN_INTERVAL"]),
            max_items=self.settings["ALERT_MAX_ITEMS"],
            sources={s.id: s for s in self.config.sources},
            resolve=self.resolve_subscriber,
        )

    def close(self) -> None:
        if "cluster" in self.__dict__:
            self.cluster.close()
            del self.__dict__["cluster"]
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
