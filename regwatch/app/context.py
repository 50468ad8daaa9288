"""The run context: home dir, config and lazily opened components.

Every CLI command and scheduler job builds one :class:`App`; components (the
store, the watchlist, the spaCy tagger, the deliverer) are created on first use
so a command pays only for what it needs.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regwatch.config import Config, load_config, resolve_home
from regwatch.errors import ConfigError
from regwatch.private import private_dir, private_subdir

if TYPE_CHECKING:
    from digests import Deliverer
    from indexer import ClusterIndex, SearchIndex, Store
    from nlp import Tagger, Watchlist

logger = logging.getLogger(__name__)


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
        return self.home / self.settings["INDEX_DB_NAME"]

    @property
    def outbox(self) -> Path:
        return self.home / self.settings["DIGEST_OUTBOX"]

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
