"""Header injection: scraped text never forges a header of a digest or an alert.

The end-to-end test crawls a hostile page (``tests/data/hostile_site``, a
test-only site, so the demo's figures stay as they are) with the real spider,
tags it with the real tagger and delivers the alert to aiosmtpd on 127.0.0.1.
The page names ``Smith-=?UTF-8?Q?=0D=0AReply-To:_attacker@evil.example?=-Jones
Ltd``: on Python 3.11.7 the email package decodes that encoded word and writes
its CR LF raw (CVE-2024-6923), which used to add a Reply-To header.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from cli_helpers import Cli
from crawl_fixtures import serve_pages
from test_digest_alerts import CONFIG, NOW, investigation_article
from test_digest_delivery import free_port, make_digest
from test_digest_ledger import Server, store_articles

import digests._alerts
import digests._headers
from digests._headers import (
    MessageHeaders,
    UnsafeMessageError,
    header_mismatch,
    header_text,
    message_headers,
    new_message,
    render_message,
)
from regwatch.app import App
from regwatch.app.pipeline import deliver_digests, send_alerts
from regwatch.models import Action

HOSTILE_SITE = Path(__file__).parent / "data" / "hostile_site"
HOSTILE_TARGET = "Smith-=?UTF-8?Q?=0D=0AReply-To:_attacker@evil.example?=-Jones Ltd"
EXPECTED_HEADERS = [
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
]


# --- the neutraliser -----------------------------------------------------------------


def test_encoded_word_starts_are_broken_so_nothing_is_decoded_into_a_header() -> None:
    assert "=?" not in header_text(HOSTILE_TARGET)
    assert header_text(HOSTILE_TARGET) == "Smith-= ?UTF-8?Q?=0D=0AReply-To:_attacker@evil.example?=-Jones Ltd"
    assert header_text("a=?=?b") == "a= ?= ?b"


@pytest.mark.parametrize(
    "control",
    ["\r", "\n", "\r\n", "\t", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"],
)
def test_every_control_character_becomes_a_space(control: str) -> None:
    assert header_text(f"Ofcom{control}Bcc: x@evil.example") == "Ofcom Bcc: x@evil.example"


def test_bidi_controls_are_dropped_and_cannot_rejoin_an_encoded_word() -> None:
    assert header_text("fined \u202eevil\u202c Ltd") == "fined evil Ltd"
    assert "=?" not in header_text("=\u200e?utf-8?q?=0D=0ABcc:_x@evil.example?=")


def test_ordinary_text_is_left_alone() -> None:
    assert header_text("  Ofcom opened an investigation into X — “Grok” ") == (
        "Ofcom opened an investigation into X — “Grok”"
    )


# --- the parse-back check --------------------------------------------------------------


def raw_message(subject: str) -> tuple[EmailMessage, MessageHeaders]:
    """A message built without the neutraliser, as a gap in it would build one, and its intent."""
    intended = MessageHeaders(
        subject=subject,
        sender=Address("regwatch", addr_spec="regwatch@reg.example"),
        to=Address("Ana", addr_spec="ana@example.org"),
        date=format_datetime(NOW),
        message_id="<alert-test@regwatch>",
    )
    message = new_message(intended)
    message.set_content("body")
    return message, intended


def test_a_message_whose_headers_spill_over_is_refused_with_the_reason() -> None:
    message, intended = raw_message(f"regwatch alert — ICO fined {HOSTILE_TARGET}")
    with pytest.raises(UnsafeMessageError) as raised:
        render_message(message, intended)
    assert raised.value.permanent is True
    assert "<alert-test@regwatch> refused, not sent" in str(raised.value)
    # 3.11.7 writes the header and the parse-back sees Reply-To; a fixed Python refuses to write it.
    assert "unexpected: reply-to" in str(raised.value) or "would not stay one header" in str(raised.value)


def test_a_decoded_line_break_in_the_subject_is_refused_even_when_safely_encoded() -> None:
    # Here the generator keeps the CR LF inside an encoded word: no header is forged, but the
    # subject does not read back as the text meant, so it is refused just the same.
    message, intended = raw_message(f"regwatch — {HOSTILE_TARGET}")
    with pytest.raises(UnsafeMessageError, match="Subject reads back as"):
        render_message(message, intended)


def test_a_lost_to_header_is_a_mismatch() -> None:
    built, intended = raw_message("Hello")
    data = built.as_bytes(policy=email.policy.SMTP).replace(b"To: Ana <ana@example.org>\r\n", b"")
    assert header_mismatch(built, data, intended).endswith("(missing: to)")


def test_a_changed_subject_or_recipient_is_a_mismatch() -> None:
    built, intended = raw_message("Hello")
    data = built.as_bytes(policy=email.policy.SMTP)
    assert header_mismatch(built, data, intended) == ""
    assert "Subject reads back as 'Hullo'" in header_mismatch(
        built, data.replace(b"Hello", b"Hullo"), intended
    )
    other = data.replace(b"ana@example.org", b"eve@evil.example")
    assert "To reads back as 'Ana <eve@evil.example>'" in header_mismatch(built, other, intended)


def test_a_recipient_address_that_is_not_one_address_is_refused() -> None:
    with pytest.raises(UnsafeMessageError, match="recipient"):
        message_headers(
            subject="s",
            sender="regwatch <r@reg.example>",
            recipient_name="Ana",
            recipient_email="ana@example.org, eve@evil.example",
            date="d",
            message_id="<m@regwatch>",
        )


def test_a_neutralised_message_reads_back_as_built() -> None:
    digest = make_digest()
    message = email.message_from_bytes(digest.message, policy=email.policy.default)
    assert list(message.keys()) == EXPECTED_HEADERS


# --- refused messages are failed, the run goes on ------------------------------------------


@pytest.fixture
def smtp() -> Iterator[tuple[Server, int]]:
    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def no_neutraliser(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gap in the neutraliser: the parse-back check is all that stands in the way."""
    for module in (digests._headers, digests._alerts, digests._render):
        monkeypatch.setattr(module, "header_text", lambda text: text or "")


def open_app(home: Path, tmp_path: Path, port: int, config_text: str = CONFIG) -> App:
    config = tmp_path / "alerts.yaml"
    config.write_text(config_text, encoding="utf-8")
    overrides = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_RETRIES": 0, "SMTP_TIMEOUT": 5}
    return App.load(home, config, overrides=overrides)


def received(handler: Server) -> list[EmailMessage]:
    messages = [email.message_from_bytes(m, policy=email.policy.default) for m in handler.accepted]
    return [m for m in messages if isinstance(m, EmailMessage)]


@pytest.mark.usefixtures("no_neutraliser")
def test_a_refused_alert_is_recorded_failed_and_the_next_subscriber_still_gets_theirs(
    home: Path, tmp_path: Path, smtp: tuple[Server, int]
) -> None:
    handler, port = smtp
    # cy watches X only: their alert names "Ofcom opened an investigation into X", nothing scraped.
    config = CONFIG.replace(
        "{id: cy, name: Cy, email: cy@example.org}",
        "{id: cy, name: Cy, email: cy@example.org, entities: [X], alerts: true}",
    )
    hostile = investigation_article("hostile")
    hostile.actions.insert(0, Action("Ofcom", "fine", HOSTILE_TARGET, "ofcom", None, "Ofcom fined ..."))
    with open_app(home, tmp_path, port, config) as app:
        store_articles(app, hostile)
        outcomes = {o.subscriber_id: o for o in send_alerts(app, now=NOW)}
        assert send_alerts(app, now=NOW + timedelta(hours=2)) == []  # failed: not tried again
        assert set(app.store.alert_ledger.known("ana").values()) == {"failed"}
    assert (outcomes["ana"].status, outcomes["cy"].status) == ("failed", "sent")
    assert "refused, not sent" in outcomes["ana"].error
    [message] = received(handler)
    assert message["To"].addresses[0].addr_spec == "cy@example.org"
    assert "Reply-To" not in message


@pytest.mark.usefixtures("no_neutraliser")
def test_a_refused_digest_is_recorded_failed_and_not_sent(
    home: Path, tmp_path: Path, smtp: tuple[Server, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = smtp
    monkeypatch.setattr(digests._render, "subject_for", lambda *args: f"regwatch — {HOSTILE_TARGET}")
    with open_app(home, tmp_path, port) as app:
        store_articles(app, investigation_article())
        outcomes = {o.subscriber_id: o for o in deliver_digests(app, now=NOW, force=True)}
        record = app.store.digest_ledger.get("ana", outcomes["ana"].period)
    assert outcomes["ana"].status == "failed" and "refused, not sent" in outcomes["ana"].error
    assert record is not None and record.status == "failed" and "refused" in record.error
    assert handler.accepted == []


# --- end to end: a real crawl of the hostile page, the real tagger, a real SMTP server -------------


@pytest.fixture
def hostile_site() -> Iterator[str]:
    published = datetime.now(UTC) - timedelta(hours=2)
    pages = {}
    for path, name, kind in (
        ("/feed.xml", "feed.xml", "application/rss+xml"),
        ("/news/ico-fines-smith-jones.html", "ico-fines-smith-jones.html", "text/html; charset=utf-8"),
    ):
        text = (HOSTILE_SITE / name).read_text(encoding="utf-8")
        text = text.replace("{recent}", format_datetime(published)).replace(
            "{recent_iso}", published.isoformat()
        )
        pages[path] = (kind, text)
    with serve_pages(pages) as (base, _server):
        yield base


@pytest.mark.slow
def test_a_hostile_page_through_a_real_crawl_and_alert_forges_no_header(
    home: Path, hostile_site: str, smtp: tuple[Server, int]
) -> None:
    handler, port = smtp
    config = home / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "id": "wire",
                        "name": "Compliance Wire",
                        "kind": "feed",
                        "url": f"{hostile_site}/feed.xml",
                    }
                ],
                "subscribers": [
                    {
                        "id": "ana",
                        "name": "Ana",
                        "email": "ana@example.org",
                        "entities": ["ICO"],
                        "alerts": True,
                    }
                ],
                "settings": {
                    "CRAWL_OBEY_ROBOTS": False,
                    "CRAWL_RETRIES": 0,
                    "CRAWL_ALLOWED_HOSTS": hostile_site,
                    "CRAWL_EXTRACT_WORKERS": 0,
                    "SMTP_HOST": "127.0.0.1",
                    "SMTP_PORT": port,
                    "SMTP_RETRIES": 0,
                    "SMTP_TIMEOUT": 5,
                },
            }
        ),
        encoding="utf-8",
    )
    summary = Cli(home=home, config=config).json("crawl")
    assert [(a["subscriber"], a["status"]) for a in summary["alerts"]] == [("ana", "sent")], summary
    [message] = received(handler)
    assert list(message.keys()) == EXPECTED_HEADERS
    assert "Reply-To" not in message
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [("Ana", "ana@example.org")]
    assert message["Subject"] == (
        "regwatch alert — Information Commissioner's Office fined "
        "Smith-= ?UTF-8?Q?=0D=0AReply-To:_attacker@evil.example?=-Jones Ltd"
    )
