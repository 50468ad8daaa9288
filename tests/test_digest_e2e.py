"""End to end: `regwatch demo` with the SMTP server down keeps the digest pending; `digest --send` sends it once.

SMTP settings come from the environment (REGWATCH_SMTP_HOST/PORT) as in
production; the server is aiosmtpd on 127.0.0.1, started only after the demo.
"""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cli_helpers import Cli
from test_digest_delivery import free_port
from test_digest_ledger import Server

pytestmark = pytest.mark.slow


def test_demo_with_smtp_down_keeps_the_digest_pending_and_digest_send_delivers_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    for name, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_TIMEOUT": "5",
        "SMTP_RETRIES": "1",
        "SMTP_RETRY_BACKOFF": "0.05",
    }.items():
        monkeypatch.setenv(f"REGWATCH_{name}", value)
    monkeypatch.delenv("REGWATCH_CONFIG", raising=False)
    home = tmp_path / "demo"

    demo = Cli()("demo", "--out", str(home), expect=75)  # EX_TEMPFAIL: retry later
    assert "Traceback" not in demo.output
    [line] = [line for line in demo.stdout.splitlines() if line.startswith("digest policy-desk")]
    period = line.split()[2].rstrip(":")
    assert f"digest policy-desk {period}: pending (smtp://127.0.0.1:{port}" in line
    assert "ConnectionRefusedError" in line and "(2 attempts)" in line
    assert f"next: regwatch --home {home} --config {home / 'demo.yaml'} digest --send" in demo.stdout
    assert not (home / "outbox").exists()

    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        cli = Cli(home=home, config=home / "demo.yaml")
        # Only the demo's period: past midnight, the new day's digest is due too (with nothing new in it).
        rows = json.loads(cli("digest", "--send", "--json").stdout)
        sent = [row for row in rows if row["period"] == period]
        assert [(row["subscriber"], row["status"]) for row in sent] == [("policy-desk", "delivered")]
        assert sent[0]["items"] >= 5
        again = json.loads(cli("digest", "--send", "--json").stdout)
        assert "delivered" not in {row["status"] for row in again}  # nothing is sent twice
        if all(row["period"] == period for row in rows + again):  # the day has not turned meanwhile
            assert [row["status"] for row in again] == ["already-delivered"]
            text = cli("digest", "--send").stdout
            assert f"policy-desk {period}: already-delivered smtp://127.0.0.1:{port}" in text
    finally:
        controller.stop()

    [message_bytes] = handler.accepted
    message = email.message_from_bytes(message_bytes, policy=email.policy.default)
    assert message["Message-ID"] == f"<digest-policy-desk-{period}@regwatch>"
    assert message["To"].addresses[0].addr_spec == "policy-desk@example.org"
    assert message.get_content_type() == "multipart/alternative"
