"""Delivering digests: .eml files in the outbox, and a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email.policy
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ports import refused_port

from digests import (
    Deliverer,
    OutboxDelivery,
    RetryingDelivery,
    SmtpDelivery,
    build_digest,
    deliverer_from_settings,
)
from regwatch.errors import DeliveryError
from regwatch.models import Article, Digest, Subscriber, TaggedEntity
from regwatch.settings import Settings

PERIOD = date(2026, 1, 12)
NOW = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)


def make_digest(now: datetime = NOW, subscriber_id: str = "ana") -> Digest:
    ofcom = TaggedEntity(
        name="Ofcom", type="regulator", entity_id="ofcom", count=3, in_title=True, salience=0.9
    )
    article = Article(
        url="https://www.ofcom.org.uk/news/x-investigation",
        source_id="ofcom",
        title="Ofcom launches investigation into X",
        body="Ofcom has opened an investigation into X under the Online Safety Act.",
        published=NOW - timedelta(hours=20),
        fetched_at=NOW - timedelta(hours=19),
        entities=[ofcom],
    )
    subscriber = Subscriber(id=subscriber_id, name="Ana Analyst", email="ana@example.org")
    digest = build_digest(subscriber, [article], PERIOD, sender="regwatch <regwatch@reg.example>", now=now)
    assert digest is not None
    return digest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Recorder:
    """aiosmtpd handler: records envelopes, or answers RCPT/DATA with a canned reply."""

    rcpt_reply: str = ""
    data_reply: str = ""
    envelopes: list[Envelope] = field(default_factory=list)
    encrypted: list[bool] = field(default_factory=list)  # per accepted message: was the session TLS?

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        self.encrypted.append(getattr(session, "ssl", None) is not None)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


@dataclass
class Tls:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    """A self-signed certificate for 127.0.0.1, made with cryptography."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regwatch test SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    paths = Tls(tmp_path / "cert.pem", tmp_path / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def received_message(recorder: Recorder) -> email.message.EmailMessage:
    message = email.message_from_bytes(recorder.envelopes[0].original_content, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


# --- Outbox -----------------------------------------------------------------


def test_outbox_writes_a_parseable_eml(tmp_path: Path) -> None:
    digest = make_digest()
    location = OutboxDelivery(tmp_path / "outbox").deliver(digest)
    assert location == str(tmp_path / "outbox" / "2026-01-12-ana.eml")
    with open(location, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    assert message["Message-ID"] == digest.message_id
    assert message["Subject"] == digest.subject
    assert "Ofcom launches investigation into X" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["2026-01-12-ana.eml"]  # no temp files


def test_outbox_leaves_an_existing_copy_of_the_same_message_alone(tmp_path: Path) -> None:
    outbox = OutboxDelivery(tmp_path)
    first = make_digest(now=NOW)
    resend = make_digest(now=NOW + timedelta(hours=2))  # same Message-ID, different Date and bytes
    assert first.message != resend.message
    path = Path(outbox.deliver(first))
    assert outbox.deliver(resend) == str(path)
    assert path.read_bytes() == first.message
    assert len(list(tmp_path.iterdir())) == 1


def test_outbox_file_name_is_safe_for_any_subscriber_id(tmp_path: Path) -> None:
    outbox = OutboxDelivery(tmp_path)
    location = Path(outbox.deliver(make_digest(subscriber_id="../ana/smith")))
    assert location.parent == tmp_path
    assert location.name.startswith("2026-01-12-.._ana_smith-") and location.suffix == ".eml"
    lookalike = Path(outbox.deliver(make_digest(subscriber_id=".._ana_smith")))
    assert lookalike.name == "2026-01-12-.._ana_smith.eml"
    assert len(list(tmp_path.iterdir())) == 2


def test_outbox_that_cannot_be_written_is_a_transient_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the outbox dir should be")
    with pytest.raises(DeliveryError) as raised:
        OutboxDelivery(blocker).deliver(make_digest())
    assert raised.value.permanent is False


# --- SMTP -------------------------------------------------------------------


def test_smtp_delivers_exactly_one_message(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    digest = make_digest()
    location = SmtpDelivery("127.0.0.1", port, timeout=5).deliver(digest)
    assert location == f"smtp://127.0.0.1:{port} {digest.message_id}"
    assert len(recorder.envelopes) == 1
    envelope = recorder.envelopes[0]
    assert envelope.mail_from == "regwatch@reg.example"
    assert envelope.rcpt_tos == ["ana@example.org"]
    message = received_message(recorder)
    assert message["Message-ID"] == digest.message_id
    assert message.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    ("hook", "reply", "permanent"),
    [
        ("data_reply", "550 5.7.1 Message rejected as spam", True),
        ("rcpt_reply", "550 5.1.1 No such user", True),
        ("rcpt_reply", "451 4.7.1 Greylisted, try again later", False),
        ("data_reply", "452 4.3.1 Insufficient system storage", False),
    ],
)
def test_smtp_rejections_map_to_permanent_or_transient(
    smtp_server: tuple[Recorder, int], hook: str, reply: str, permanent: bool
) -> None:
    recorder, port = smtp_server
    setattr(recorder, hook, reply)
    with pytest.raises(DeliveryError) as raised:
        SmtpDelivery("127.0.0.1", port, timeout=5).deliver(make_digest())
    assert raised.value.permanent is permanent
    assert reply.split()[0] in str(raised.value)
    assert recorder.envelopes == []


def test_connection_refused_is_transient() -> None:
    with pytest.raises(DeliveryError) as raised:
        SmtpDelivery("127.0.0.1", refused_port(), timeout=5).deliver(make_digest())
    assert raised.value.permanent is False


def test_server_that_never_greets_times_out_as_transient() -> None:
    with socket.socket() as silent:  # accepts connections in the kernel backlog, never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(DeliveryError) as raised:
            SmtpDelivery("127.0.0.1", port, timeout=0.3).deliver(make_digest())
    assert raised.value.permanent is False
    assert "timed out" in str(raised.value)


def test_starttls_delivers_over_a_verified_connection(tls: Tls) -> None:
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=tls.server_context(),
        require_starttls=True,
    )
    controller.start()
    try:
        SmtpDelivery(
            "127.0.0.1", controller.port, tls="starttls", timeout=5, ssl_context=tls.client_context()
        ).deliver(make_digest())
    finally:
        controller.stop()
    assert len(recorder.envelopes) == 1


def test_untrusted_certificate_is_permanent(tls: Tls) -> None:
    recorder = Recorder()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(), tls_context=tls.server_context()
    )
    controller.start()
    try:
        system_trust = ssl.create_default_context()  # does not know the self-signed cert
        with pytest.raises(DeliveryError) as raised:
            SmtpDelivery(
                "127.0.0.1", controller.port, tls="starttls", timeout=5, ssl_context=system_trust
            ).deliver(make_digest())
    finally:
        controller.stop()
    assert raised.value.permanent is True
    assert recorder.envelopes == []


def test_implicit_tls_with_ca_file(tls: Tls) -> None:
    recorder = Recorder()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(), ssl_context=tls.server_context()
    )
    controller.start()
    try:
        SmtpDelivery("127.0.0.1", controller.port, tls="ssl", timeout=5, ca_file=str(tls.cert)).deliver(
            make_digest()
        )
    finally:
        controller.stop()
    assert len(recorder.envelopes) == 1


def test_starttls_against_a_server_without_it_is_permanent(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    with pytest.raises(DeliveryError) as raised:
        SmtpDelivery("127.0.0.1", port, tls="starttls", timeout=5).deliver(make_digest())
    assert raised.value.permanent is True
    assert recorder.envelopes == []


@dataclass
class PasswordCheck:
    """aiosmtpd authenticator: accepts ana/s3cret, and records every attempt."""

    attempts: list[bytes] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.attempts.append(bytes(getattr(auth_data, "password", b"")))
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"ana",
            b"s3cret",
        )
        return AuthResult(success=ok, handled=False)


@contextmanager
def auth_server(tls: Tls | None = None) -> Iterator[tuple[Recorder, PasswordCheck, int]]:
    """aiosmtpd requiring AUTH: over STARTTLS with ``tls``, else on a plain connection."""
    recorder, check = Recorder(), PasswordCheck()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=check,
        auth_required=True,
        auth_require_tls=tls is not None,
        tls_context=tls.server_context() if tls else None,
    )
    controller.start()
    try:
        yield recorder, check, controller.port
    finally:
        controller.stop()


@pytest.mark.parametrize(("password", "delivered"), [("s3cret", True), ("wrong", False)])
def test_smtp_login_goes_over_starttls_by_default(tls: Tls, password: str, delivered: bool) -> None:
    with auth_server(tls) as (recorder, check, port):
        delivery = SmtpDelivery(
            "127.0.0.1", port, user="ana", password=password, timeout=5, ssl_context=tls.client_context()
        )
        assert delivery.tls == "auto"
        assert "s3cret" not in repr(delivery)
        if delivered:
            delivery.deliver(make_digest())
        else:
            with pytest.raises(DeliveryError) as raised:
                delivery.deliver(make_digest())
            assert raised.value.permanent is True
    assert len(recorder.envelopes) == (1 if delivered else 0)
    assert recorder.encrypted == ([True] if delivered else [])
    assert set(check.attempts) == {password.encode()}  # smtplib may try PLAIN, then LOGIN


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("tls_mode", ["auto", "none"])
def test_the_password_is_never_sent_without_tls(tls_mode: str) -> None:
    with auth_server() as (recorder, check, port):
        delivery = SmtpDelivery("127.0.0.1", port, tls=tls_mode, user="ana", password="s3cret", timeout=5)
        with pytest.raises(DeliveryError) as raised:
            delivery.deliver(make_digest())
    assert raised.value.permanent is True
    message = str(raised.value)
    assert "refusing to send the SMTP password for 'ana' without TLS" in message
    assert "REGWATCH_SMTP_TLS=starttls|ssl" in message
    assert "REGWATCH_SMTP_ALLOW_PLAINTEXT_AUTH=true" in message
    assert check.attempts == [] and recorder.envelopes == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_plaintext_auth_when_allowed_is_logged_as_a_warning_every_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with auth_server() as (recorder, check, port), caplog.at_level(logging.WARNING, "digests"):
        delivery = SmtpDelivery(
            "127.0.0.1", port, user="ana", password="s3cret", timeout=5, allow_plaintext_auth=True
        )
        delivery.deliver(make_digest())
        delivery.deliver(make_digest(subscriber_id="bob"))
    assert len(recorder.envelopes) == 2 and recorder.encrypted == [False, False]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("digests")
    ]
    assert len(warnings) == 2
    assert "sending the SMTP password for 'ana' without TLS (SMTP_ALLOW_PLAINTEXT_AUTH=true)" in warnings[0]
    assert "s3cret" not in caplog.text


def test_without_credentials_a_relay_without_starttls_is_fine(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    SmtpDelivery("127.0.0.1", port, timeout=5).deliver(make_digest())
    assert recorder.encrypted == [False]


def test_auto_uses_starttls_whenever_the_server_offers_it(tls: Tls) -> None:
    recorder = Recorder()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(), tls_context=tls.server_context()
    )
    controller.start()
    try:
        SmtpDelivery("127.0.0.1", controller.port, timeout=5, ssl_context=tls.client_context()).deliver(
            make_digest()
        )
    finally:
        controller.stop()
    assert recorder.encrypted == [True]


def test_tls_settings_default_to_auto_and_refuse_plaintext_auth(tmp_path: Path) -> None:
    settings = Settings(env={}, config={"SMTP_HOST": "127.0.0.1", "SMTP_USER": "ana"})
    assert (settings["SMTP_TLS"], settings["SMTP_ALLOW_PLAINTEXT_AUTH"]) == ("auto", False)
    smtp = SmtpDelivery.from_settings(settings)
    assert (smtp.tls, smtp.allow_plaintext_auth) == ("auto", False)
    env = {"REGWATCH_SMTP_TLS": "STARTTLS", "REGWATCH_SMTP_ALLOW_PLAINTEXT_AUTH": "true"}
    smtp = SmtpDelivery.from_settings(Settings(env=env, config={"SMTP_HOST": "127.0.0.1"}))
    assert (smtp.tls, smtp.allow_plaintext_auth) == ("starttls", True)


# --- From settings ----------------------------------------------------------


def test_without_smtp_host_digests_go_to_the_outbox_under_home(tmp_path: Path) -> None:
    deliverer = deliverer_from_settings(Settings(env={}), tmp_path)
    assert isinstance(deliverer, OutboxDelivery) and isinstance(deliverer, Deliverer)
    assert Path(deliverer.deliver(make_digest())).parent == tmp_path / "outbox"


def test_smtp_settings_from_the_environment_are_used(
    smtp_server: tuple[Recorder, int], tmp_path: Path
) -> None:
    recorder, port = smtp_server
    settings = Settings(
        config={"SMTP_HOST": "mail.invalid", "SMTP_TIMEOUT": 5},
        env={"REGWATCH_SMTP_HOST": "127.0.0.1", "REGWATCH_SMTP_PORT": str(port)},
    )
    deliverer = deliverer_from_settings(settings, tmp_path)
    assert isinstance(deliverer, RetryingDelivery) and isinstance(deliverer.inner, SmtpDelivery)
    assert deliverer.retries == 2
    deliverer.deliver(make_digest())
    assert len(recorder.envelopes) == 1
    assert not (tmp_path / "outbox").exists()


# --- Retries within a run ---------------------------------------------------


def test_transient_failures_are_retried_with_doubling_bounded_waits(
    smtp_server: tuple[Recorder, int],
) -> None:
    recorder, port = smtp_server
    recorder.data_reply = "421 4.3.2 Try later"
    waits: list[float] = []
    delivery = RetryingDelivery(
        SmtpDelivery("127.0.0.1", port, timeout=5), retries=7, backoff=10, sleep=waits.append
    )
    with pytest.raises(DeliveryError) as raised:
        delivery.deliver(make_digest())
    assert raised.value.permanent is False and "(8 attempts)" in str(raised.value)
    assert waits == [10, 20, 40, 60, 60, 60, 60]  # doubling, capped at a minute
    # The server is evidently down: the next digest of this run gets one attempt, no waits.
    with pytest.raises(DeliveryError, match=r"\(1 attempt\)"):
        delivery.deliver(make_digest(subscriber_id="bob"))
    assert len(waits) == 7
    recorder.data_reply = ""
    delivery.deliver(make_digest(subscriber_id="cy"))  # one success and retries are back
    recorder.data_reply = "421 4.3.2 Try later"
    with pytest.raises(DeliveryError, match=r"\(8 attempts\)"):
        delivery.deliver(make_digest(subscriber_id="dee"))
    assert len(recorder.envelopes) == 1


def test_permanent_failures_are_not_retried(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.rcpt_reply = "550 5.1.1 No such user"
    waits: list[float] = []
    delivery = RetryingDelivery(SmtpDelivery("127.0.0.1", port, timeout=5), retries=3, sleep=waits.append)
    with pytest.raises(DeliveryError) as raised:
        delivery.deliver(make_digest())
    assert raised.value.permanent is True and waits == []
