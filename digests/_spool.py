"""The spool: each digest being delivered, as the exact bytes that are sent.

A digest is written here before the first attempt and removed once it is
delivered or failed for good. A digest still pending (the SMTP server was down)
is sent again from its spooled bytes, so every attempt carries the same
Message-ID, Date and items: a recipient (or a mail client deduplicating by
Message-ID) can never see two different versions of one digest.
"""

from __future__ import annotations

import email.policy
import logging
from datetime import date
from email.parser import BytesParser
from pathlib import Path

from digests._delivery import outbox_filename, write_atomically
from regwatch.models import Digest

logger = logging.getLogger(__name__)


class Spool:
    """``<dir>/<period>-<subscriber>.eml``, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"Spool({str(self.directory)!r})"

    def _path(self, subscriber_id: str, period: date) -> Path:
        probe = Digest(subscriber_id=subscriber_id, period=period, subject="", message_id="", message=b"")
        return self.directory / outbox_filename(probe)

    def save(self, digest: Digest) -> Path:
        path = self._path(digest.subscriber_id, digest.period)
        write_atomically(path, digest.message)
        return path

    def load(self, subscriber_id: str, period: date, message_id: str) -> bytes | None:
        """The spooled message of (subscriber, period) if it is the one with ``message_id``."""
        path = self._path(subscriber_id, period)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        headers = BytesParser(policy=email.policy.default).parsebytes(data, headersonly=True)
        if headers["Message-ID"] != message_id:
            logger.warning(
                "spooled %s holds %s, not %s; ignoring it", path, headers["Message-ID"], message_id
            )
            return None
        return data

    def discard(self, subscriber_id: str, period: date) -> None:
        self._path(subscriber_id, period).unlink(missing_ok=True)
