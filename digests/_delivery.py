"""Delivering a rendered digest: to an SMTP server, or as a .eml file in the outbox.

Both raise :class:`~regwatch.errors.DeliveryError`; ``permanent`` tells the
caller whether retrying the same digest later can help (a 4xx reply such as 421,
a refused connection or a timeout) or not (a 5xx reply, bad credentials, an
untrusted certificate). :class:`RetryingDelivery` retries the transient ones a
bounded number of times with exponential backoff within one run
(``SMTP_RETRIES``, ``SMTP_RETRY_BACKOFF``); what still fails is left to the
caller, which keeps the digest pending for the next run.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import os
import smtplib
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from regwatch.errors import ConfigError, DeliveryError
from regwatch.models import Digest
from regwatch.private import private_subdir

logger = logging.getLogger(__name__)

TLS_MODES = ("auto", "starttls", "ssl", "none")


@runtime_checkable
class Deliverer(Protocol):
    """Sends one digest; returns where it went, raises DeliveryError."""

    def deliver(self, digest: Digest) -> str: ...


def _headers(digest: Digest) -> Message:
    return BytesParser(policy=email.policy.default).parsebytes(digest.message, headersonly=True)


def outbox_filename(digest: Digest) -> str:
    """``<period>-<subscriber>.eml``, with the subscriber id made safe for a file name."""
    safe = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in digest.subscriber_id
    )
    if safe != digest.subscriber_id or not safe:
        # Keep "a/b" and "a_b" apart: two subscribers must never share a file.
        safe = f"{safe}-{hashlib.sha1(digest.subscriber_id.encode('utf-8')).hexdigest()[:8]}"
    if digest.message_id.startswith("<alert-"):  # alerts: several a day, beside the day's digest
        return f"{digest.period.isoformat()}-{safe}-alert-{digest.message_id[7:23]}.eml"
    return f"{digest.period.isoformat()}-{safe}.eml"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a synced temp file and a rename: readers never see half a file.

    The dir is made owner-only and the file is too (mkstemp creates it 0600).
    """
    private_subdir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class OutboxDelivery:
    """Writes each digest as ``<outbox_dir>/<period>-<subscriber>.eml``.

    The file appears whole or not at all (written to a temporary file, then
    renamed). Delivering the same digest twice leaves the first file as is, so a
    retried run does not change what an analyst may already have opened.
    """

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = Path(outbox_dir)

    def __repr__(self) -> str:
        return f"OutboxDelivery({str(self.outbox_dir)!r})"

    def deliver(self, digest: Digest) -> str:
        path = self.outbox_dir / outbox_filename(digest)
        try:
            if path.exists():
                with path.open("rb") as existing_file:
                    existing = BytesParser(policy=email.policy.default).parse(existing_file, headersonly=True)
                if existing["Message-ID"] == digest.message_id:
                    logger.info("digest %s already in outbox: %s", digest.message_id, path)
                    return str(path)
                logger.warning(
                    "replacing %s: it holds %s, not %s", path, existing["Message-ID"], digest.message_id
                )
            write_atomically(path, digest.message)
        except OSError as exc:
            # Transient: an operator can fix the directory and the next run retries.
            raise DeliveryError(f"cannot write {path}: {exc}", permanent=False) from exc
        logger.info("digest %s written to %s", digest.message_id, path)
        return str(path)


class SmtpDelivery:
    """Sends digests through one SMTP server with :mod:`smtplib`.

    ``tls`` is ``auto`` (STARTTLS whenever the server offers it), ``starttls``
    (fails if the server does not offer it), ``ssl`` (TLS from the first byte,
    usually port 465) or ``none`` (never). Certificates are verified against
    ``ssl_context`` (default: the system trust store, or ``ca_file`` when given).

    The password never crosses an unencrypted connection: with a ``user`` and no
    TLS (``none``, or ``auto`` against a server without STARTTLS) the digest is
    refused, permanently, unless ``allow_plaintext_auth`` says to accept the risk
    (then each such login logs a warning). Without a ``user`` a plain
    connection is fine: a local relay.
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        tls: str = "auto",
        user: str = "",
        password: str = "",
        timeout: float = 30,
        *,
        ca_file: str = "",
        ssl_context: ssl.SSLContext | None = None,
        allow_plaintext_auth: bool = False,
    ) -> None:
        if tls not in TLS_MODES:
            raise ConfigError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, got {tls!r}")
        if not host:
            raise ConfigError("SMTP_HOST is empty: set it, or leave SMTP off to write digests to the outbox")
        self.host = host
        self.port = int(port)
        self.tls = tls
        self.user = user
        self.password = password
        self.timeout = float(timeout)
        self._ca_file = ca_file
        self._ssl_context = ssl_context
        self.allow_plaintext_auth = bool(allow_plaintext_auth)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SmtpDelivery:
        return cls(
            host=settings["SMTP_HOST"],
            port=settings["SMTP_PORT"],
            tls=str(settings["SMTP_TLS"]).strip().lower(),
            user=settings["SMTP_USER"],
            password=settings["SMTP_PASSWORD"],
            timeout=settings["SMTP_TIMEOUT"],
            ca_file=settings.get("SMTP_CA_FILE", ""),
            allow_plaintext_auth=settings.get("SMTP_ALLOW_PLAINTEXT_AUTH", False),
        )

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpDelivery({self.host!r}, {self.port}, tls={self.tls!r}, user={self.user!r})"

    @property
    def address(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context(cafile=self._ca_file or None)
        return self._ssl_context

    def _connect(self) -> tuple[smtplib.SMTP, bool]:
        """A connected client, and whether the connection is encrypted."""
        if self.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
            return client, True
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.tls == "none":
                return client, False
            client.ehlo()
            if self.tls == "auto" and not client.has_extn("starttls"):
                return client, False
            client.starttls(context=self._context())  # SMTPNotSupportedError when "starttls" is not offered
            client.ehlo()
        except BaseException:
            client.close()
            raise
        return client, True

    def _login(self, client: smtplib.SMTP, encrypted: bool, where: str) -> None:
        """Log in, only over TLS unless SMTP_ALLOW_PLAINTEXT_AUTH accepts the risk."""
        if not encrypted:
            if not self.allow_plaintext_auth:
                why = "SMTP_TLS=none" if self.tls == "none" else "the server does not offer STARTTLS"
                raise DeliveryError(
                    f"{where}: refusing to send the SMTP password for {self.user!r} without TLS ({why}): "
                    "set REGWATCH_SMTP_TLS=starttls|ssl, or REGWATCH_SMTP_ALLOW_PLAINTEXT_AUTH=true "
                    "to accept the risk",
                    permanent=True,
                )
            logger.warning(
                "%s: sending the SMTP password for %r without TLS (SMTP_ALLOW_PLAINTEXT_AUTH=true)",
                where,
                self.user,
            )
        client.login(self.user, self.password)

    def deliver(self, digest: Digest) -> str:
        headers = _headers(digest)
        senders = getaddresses([str(headers["From"] or "")])
        recipients = [addr for _, addr in getaddresses([str(headers["To"] or "")]) if addr]
        if not senders or not senders[0][1] or not recipients:
            raise DeliveryError(f"digest {digest.message_id} has no From or To address", permanent=True)
        where = f"{self.address} {digest.message_id}"
        try:
            client, encrypted = self._connect()
            with client:
                if self.user:
                    self._login(client, encrypted, where)
                refused = client.sendmail(senders[0][1], recipients, digest.message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = all(code >= 500 for code in codes)
            raise DeliveryError(f"{where}: recipients refused {exc.recipients}", permanent=permanent) from exc
        except smtplib.SMTPResponseException as exc:
            reply = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise DeliveryError(
                f"{where}: server replied {exc.smtp_code} {reply}", permanent=exc.smtp_code >= 500
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # e.g. SMTP_TLS=starttls against a server without STARTTLS: config, not luck.
            raise DeliveryError(f"{where}: {exc}", permanent=True) from exc
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"{where}: certificate not trusted: {exc.verify_message} (set REGWATCH_SMTP_CA_FILE to its CA; "
                "for a local relay without credentials, REGWATCH_SMTP_TLS=none)",
                permanent=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Refused, reset, timed out, DNS, TLS handshake cut short: try again later.
            kind = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            raise DeliveryError(f"{where}: {kind}: {exc}", permanent=False) from exc
        if refused:
            logger.warning("digest %s: some recipients refused: %s", digest.message_id, refused)
        logger.info("digest %s sent via %s to %s", digest.message_id, self.address, ", ".join(recipients))
        return where


MAX_BACKOFF = 60.0  # seconds: the longest wait between two attempts


class RetryingDelivery:
    """Retries transient :class:`DeliveryError` of another deliverer, with exponential backoff.

    At most ``retries`` retries per digest, waiting ``backoff``, then twice as
    long each time (capped at MAX_BACKOFF): a run never waits more than a bounded
    time on a server that is down. Permanent errors are raised at once. Once a
    digest has used up its retries, the next digests of the same run get one
    attempt each (the server is evidently down; they stay pending just the same)
    until one gets through.
    """

    def __init__(
        self,
        inner: Deliverer,
        retries: int = 2,
        backoff: float = 2.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        self._sleep = sleep
        self._gave_up = False

    def __repr__(self) -> str:
        return f"RetryingDelivery({self.inner!r}, retries={self.retries}, backoff={self.backoff})"

    @property
    def address(self) -> str:
        return str(getattr(self.inner, "address", repr(self.inner)))

    def deliver(self, digest: Digest) -> str:
        retries = 0 if self._gave_up else self.retries
        wait = self.backoff
        for attempt in range(retries + 1):
            try:
                location = self.inner.deliver(digest)
            except DeliveryError as exc:
                if exc.permanent:
                    raise
                if attempt == retries:
                    self._gave_up = True
                    tries = "1 attempt" if attempt == 0 else f"{attempt + 1} attempts"
                    raise DeliveryError(f"{exc} ({tries})", permanent=False) from exc
                logger.warning(
                    "digest %s: %s; retry %d of %d in %.1fs",
                    digest.message_id,
                    exc,
                    attempt + 1,
                    retries,
                    wait,
                )
                self._sleep(wait)
                wait = min(wait * 2, MAX_BACKOFF)
            else:
                self._gave_up = False
                return location
        raise AssertionError("unreachable")  # pragma: no cover


def deliverer_from_settings(settings: Mapping[str, Any], home: Path) -> Deliverer:
    """SMTP (with retries) when ``SMTP_HOST`` is set, else the outbox dir under ``home``."""
    if settings["SMTP_HOST"]:
        smtp = SmtpDelivery.from_settings(settings)
        logger.info(
            "digest delivery: SMTP %s (tls=%s, %d retries)", smtp.address, smtp.tls, settings["SMTP_RETRIES"]
        )
        return RetryingDelivery(smtp, settings["SMTP_RETRIES"], settings["SMTP_RETRY_BACKOFF"])
    outbox = OutboxDelivery(Path(home) / settings["DIGEST_OUTBOX"])
    logger.info("digest delivery: outbox %s (SMTP_HOST not set)", outbox.outbox_dir)
    return outbox
