"""The top-level wiring: what runs the stages, which no stage imports.

``context`` (:class:`App`: home, config and the components it opens),
``pipeline`` (the order of the stages), ``scheduler``, ``worker`` (one of many sharing
the work through PostgreSQL), ``cli`` and ``commands``
(the ``regwatch`` command), ``source_health`` (how `regwatch sources` shows
health), ``demo`` and the bundled ``sample_site``. The shared ground the stages
may import is the rest of ``regwatch``: models, settings, errors, config, private.
"""

from regwatch.app.context import App

__all__ = ["App"]
