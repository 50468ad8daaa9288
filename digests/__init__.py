"""Digests: select what a subscriber watches, render it, and deliver it exactly once.

``select_articles`` picks and ranks, ``build_digest`` renders one
multipart/alternative message per subscriber and period (Jinja2 templates in
``digests/templates``), and a :class:`Deliverer` sends it: ``SmtpDelivery``
when ``SMTP_HOST`` is set (wrapped in ``RetryingDelivery``), else
``OutboxDelivery`` writing ``.eml`` files.

Delivery lives here too, built from plain parts so it runs the same under the
CLI, the scheduler or a test:

- ``_periods``: when a digest is due (``due_period``, ``local_period``) and the
  one cadence-to-weekdays mapping (``send_days``) the scheduler's trigger reads;
- ``DigestBuilder``: each subscriber's next digest, from the digest ledger and
  the stored articles (``preview`` builds without sending);
- ``DigestDelivery``: the exactly-once protocol (a lock, pending digests resent
  byte for byte from the ``Spool``, the ledger row written before and after each
  attempt; what a crash between the SMTP server's acceptance and the ledger's
  record does, one identical resend, is in ``_exactly_once``);
- ``AlertDelivery``: immediate alerts (``alert_hits``, ``build_alert``), once per
  article by the alert ledger.

The ledgers are the store's: delivery talks to them through the Protocols of
``_protocols`` (``DigestLedger``, ``AlertLedger``, ``ArticleReader``) and never
imports ``indexer``; their record types are ``regwatch.models``'.
"""

from digests._alerts import AlertDelivery, AlertHit, AlertOutcome, alert_hits, build_alert, due_hits
from digests._delivery import (
    Deliverer,
    OutboxDelivery,
    RetryingDelivery,
    SmtpDelivery,
    deliverer_from_settings,
)
from digests._exactly_once import NOTHING_NEW_LOCATION, DigestDelivery, DigestOutcome, delivery_lock
from digests._next import DigestBuilder, DigestPreview, select_subscribers
from digests._periods import due_period, local_period, send_days, send_time
from digests._protocols import AlertLedger, ArticleReader, DigestLedger
from digests._render import build_digest, render_preview
from digests._select import AlsoReported, DigestItem, select_articles
from digests._spool import Spool

__all__ = [
    "NOTHING_NEW_LOCATION",
    "AlertDelivery",
    "AlertHit",
    "AlertLedger",
    "AlertOutcome",
    "AlsoReported",
    "ArticleReader",
    "Deliverer",
    "DigestBuilder",
    "DigestDelivery",
    "DigestItem",
    "DigestLedger",
    "DigestOutcome",
    "DigestPreview",
    "OutboxDelivery",
    "RetryingDelivery",
    "SmtpDelivery",
    "Spool",
    "alert_hits",
    "build_alert",
    "build_digest",
    "deliverer_from_settings",
    "delivery_lock",
    "due_hits",
    "due_period",
    "local_period",
    "render_preview",
    "select_articles",
    "select_subscribers",
    "send_days",
    "send_time",
]
