"""Digests: select the articles a subscriber watches, render them, deliver the email.

``select_articles`` picks and ranks, ``build_digest`` renders one
multipart/alternative message per subscriber and period (Jinja2 templates in
``digests/templates``), and a :class:`Deliverer` sends it: ``SmtpDelivery``
when ``SMTP_HOST`` is set (wrapped in ``RetryingDelivery``), else
``OutboxDelivery`` writing ``.eml`` files. The ``Spool`` keeps the exact bytes
of each digest until it is delivered, so a retry resends the same message.
``alert_hits``/``build_alert`` make immediate alerts, ``AlertLedger`` keeps them
exactly once. The ledger protocol, and what a crash between the SMTP server's
acceptance and the ledger's record does (one identical resend), are in
``regwatch.app.pipeline``.
"""

from digests._alerts import AlertHit, AlertLedger, alert_hits, build_alert, due_hits
from digests._delivery import (
    Deliverer,
    OutboxDelivery,
    RetryingDelivery,
    SmtpDelivery,
    deliverer_from_settings,
)
from digests._render import build_digest, render_preview
from digests._select import AlsoReported, DigestItem, select_articles
from digests._spool import Spool

__all__ = [
    "AlertHit",
    "AlertLedger",
    "AlsoReported",
    "Deliverer",
    "DigestItem",
    "OutboxDelivery",
    "RetryingDelivery",
    "SmtpDelivery",
    "Spool",
    "alert_hits",
    "build_alert",
    "build_digest",
    "deliverer_from_settings",
    "due_hits",
    "render_preview",
    "select_articles",
]
