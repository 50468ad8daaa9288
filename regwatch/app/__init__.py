"""The top-level wiring: what runs the stages, which no stage imports.

``context`` (:class:`App`: home, config and the components it opens),
``pipeline`` (the order of the stages), ``scheduler`` (and ``leader``, one scheduler
leading among hosts on PostgreSQL), ``worker`` (one of many sharing the work through
PostgreSQL), ``cli`` and ``commands`` (the ``regwatch`` command; ``sources_add`` with
``config_file``, ``users``, ``store_commands``), ``subscribers`` (the config's and the
desk's, merged), ``source_health`` (how `regwatch sources` shows health), ``desk`` (the
web desk's services), ``demo`` with the bundled ``sample_site``, and ``cluster_demo``.
The README's "How it fits together" is the same map. The shared ground the stages may
import is the rest of ``regwatch``: models, sources, settings, errors, config, private.
"""

from regwatch.app.context import App

__all__ = ["App"]
