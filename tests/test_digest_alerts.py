"""Immediate alerts: within one crawl cycle, rate-limited, exactly once, through a real SMTP server."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from test_digest_delivery import free_port
from test_digest_ledger import Server, store_articles

from digests import alert_hits
from regwatch.app import App
from regwatch.app.pipeline import send_alerts
from regwatch.models import Action, Article, Source, Subscriber, TaggedEntity

CONFIG = """
sources:
  - {id: ofcom, name: Ofcom, kind: feed, url: "http://127.0.0.1:9/o.xml", type: regulator, jurisdiction: UK}
  - {id: press, name: Politics Daily, kind: feed, url: "http://127.0.0.1:9/p.xml"}
subscribers:
  - {id: ana, name: Ana, email: ana@example.org, entities: [Ofcom, X], alerts: true}
  - {id: bob, name: Bob, email: bob@example.org, alert_searches: ['"online safety act" enforcement']}
  - {id: cy, name: Cy, email: cy@example.org}
settings:
  ALERT_MIN_INTERVAL: 60
"""
NOW = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)


def ofcom_tag() -> TaggedEntity:
    return TaggedEntity("Ofcom", "regulator", ["Ofcom"], "ofcom", 2, 0, True, 0.9)


def x_tag() -> TaggedEntity:
    return TaggedEntity("X", "platform", ["X"], "x", 3, 0, True, 0.8)


def investigation_article(slug: str = "probe", seen: datetime = NOW - timedelta(minutes=20)) -> Article:
    return Article(
        url=f"https://press.example/{slug}",
        source_id="press",
        title=f"Ofcom opens investigation into X ({slug})",
        body="Ofcom has opened an investigation into X over Grok images, the regulator said on Monday.",
        published=seen,
        fetched_at=seen,
        entities=[ofcom_tag(), x_tag()],
        actions=[
            Action("Ofcom", "investigation", "X", "ofcom", "x", "Ofcom has opened an investigation into X.")
        ],
    )


def enforcement_statement(source_id: str = "ofcom", slug: str = "update") -> Article:
    return Article(
        url=f"https://{source_id}.example/{slug}",
        source_id=source_id,
        title="Online safety: enforcement update",
        body="Our enforcement of the Online Safety Act continues, with new programmes on age checks.",
        published=NOW - timedelta(minutes=30),
        fetched_at=NOW - timedelta(minutes=30),
        entities=[ofcom_tag()],
    )


@pytest.fixture(autouse=True)
def _store_engine(store_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here on each store engine: the App (and the crawl subprocess) read it from the environment."""
    for name, value in store_settings.items():
        monkeypatch.setenv(f"REGWATCH_{name}", value)


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
def app(home: Path, tmp_path: Path, smtp: tuple[Server, int]) -> Iterator[App]:
    config = tmp_path / "alerts.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    overrides = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[1], "SMTP_RETRIES": 0, "SMTP_TIMEOUT": 5}
    with App.load(home, config, overrides=overrides) as loaded:
        yield loaded


def recipients(handler: Server) -> list[str]:
    return [
        email.message_from_bytes(m, policy=email.policy.default)["To"].addresses[0].addr_spec
        for m in handler.accepted
    ]


def test_a_watched_entity_with_a_detected_action_alerts_once(app: App, smtp: tuple[Server, int]) -> None:
    handler, _ = smtp
    store_articles(app, investigation_article())
    [outcome] = send_alerts(app, now=NOW)
    assert (outcome.subscriber_id, outcome.status, outcome.items) == ("ana", "sent", 1)
    assert send_alerts(app, now=NOW + timedelta(hours=2)) == []  # the same article never alerts twice
    [message] = [email.message_from_bytes(m, policy=email.policy.default) for m in handler.accepted]
    assert message["Subject"] == "regwatch alert — Ofcom opened an investigation into X"
    assert "https://press.example/probe" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_saved_search_alerts_on_a_regulator_statement_only(app: App, smtp: tuple[Server, int]) -> None:
    handler, _ = smtp
    store_articles(app, enforcement_statement("press", "press-copy"))
    assert send_alerts(app, now=NOW) == []  # press coverage matching the search: no alert
    store_articles(app, enforcement_statement("ofcom"))
    [outcome] = send_alerts(app, now=NOW)
    assert (outcome.subscriber_id, outcome.status) == ("bob", "sent")
    assert recipients(handler) == ["bob@example.org"]
    subject = email.message_from_bytes(handler.accepted[0], policy=email.policy.default)["Subject"]
    assert subject == 'regwatch alert — matches “"online safety act" enforcement”'


def test_alerts_are_rate_limited_and_what_waits_is_sent_later(app: App, smtp: tuple[Server, int]) -> None:
    handler, _ = smtp
    store_articles(app, investigation_article("first"))
    assert [o.items for o in send_alerts(app, now=NOW)] == [1]
    store_articles(app, investigation_article("second", seen=NOW + timedelta(minutes=5)))
    store_articles(app, investigation_article("third", seen=NOW + timedelta(minutes=6)))
    assert send_alerts(app, now=NOW + timedelta(minutes=10)) == []  # within ALERT_MIN_INTERVAL
    [later] = send_alerts(app, now=NOW + timedelta(minutes=61))
    assert later.items == 2
    assert len(handler.accepted) == 2
    assert b"(+1 more)" in handler.accepted[1]


def test_an_alert_that_cannot_be_sent_goes_out_on_the_next_cycle(home: Path, tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "alerts.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    overrides = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_RETRIES": 0, "SMTP_TIMEOUT": 5}
    with App.load(home, config, overrides=overrides) as app:
        store_articles(app, investigation_article())
        assert [o.status for o in send_alerts(app, now=NOW)] == ["pending"]
    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with App.load(home, config, overrides=overrides) as app:
            assert [o.status for o in send_alerts(app, now=NOW + timedelta(minutes=15))] == ["sent"]
            assert send_alerts(app, now=NOW + timedelta(hours=3)) == []
    finally:
        controller.stop()
    assert recipients(handler) == ["ana@example.org"]


def test_alerts_without_smtp_land_in_the_outbox_beside_the_digest(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "alerts.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with App.load(home, config) as app:
        store_articles(app, investigation_article())
        send_alerts(app, now=NOW)
        [path] = list(app.outbox.glob("*.eml"))
    assert path.name.startswith("2026-01-12-ana-alert-")


def test_an_action_between_unwatched_parties_does_not_alert() -> None:
    subscriber = Subscriber("ana", "Ana", "ana@example.org", entities=("Ofcom",), alerts=True)
    other = investigation_article()
    other.actions = [Action("CMA", "fine", "Acme")]
    sources = {"press": Source("press", "Politics Daily", "feed", "https://p.example")}
    assert alert_hits(subscriber, [other], sources) == []
    assert [h.reason for h in alert_hits(subscriber, [investigation_article()], sources)] == [
        "Ofcom opened an investigation into X"
    ]


def test_alert_settings_in_config(tmp_path: Path) -> None:
    from regwatch.config import load_config
    from regwatch.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    subs: dict[str, Any] = {s.id: s for s in load_config(path, env={}).subscribers}
    assert subs["ana"].alerts and not subs["cy"].alerts
    assert subs["bob"].alert_searches == ('"online safety act" enforcement',)
    path.write_text(CONFIG.replace("alerts: true", "alerts: sometimes"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\(subscriber 'ana'\): alerts must be true or false"):
        load_config(path, env={})
