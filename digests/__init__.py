"""Digests: select the articles a subscriber watches, render them, deliver the email.

``select_articles`` picks and ranks, ``build_digest`` renders one
multipart/alternative message per subscriber and period (Jinja2 templates in
``digests/templates``), and a :class:`Deliverer` sends it: ``SmtpDelivery``
when ``SMTP_HOST`` is set, else ``OutboxDelivery`` writing ``.eml`` files.
"""

from digests._delivery import Deliverer, OutboxDelivery, SmtpDelivery, deliverer_from_settings
from digests._render import build_digest, render_preview
from digests._select import AlsoReported, DigestItem, select_articles

__all__ = [
    "AlsoReported",
    "Deliverer",
    "DigestItem",
    "OutboxDelivery",
    "SmtpDelivery",
    "build_digest",
    "deliverer_from_settings",
    "render_preview",
    "select_articles",
]
