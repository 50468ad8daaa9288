"""Saved searches, an analyst's subscription and the digest preview on the desk; the API for saved searches.

A search saved on the desk becomes a section of its owner's digest (the preview page and the digest
delivered to the outbox) and, when chosen, an immediate alert.
"""

from __future__ import annotations

from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from desk_accounts import accounts_client, add_accounts, csrf, sign_in

from regwatch.app import App, pipeline
from regwatch.models import Article

SUBSCRIPTION = {
    "name": "Alice Analyst",
    "email": "alice@example.org",
    "cadence": "daily",
    "send_time": "07:00",
    "timezone": "Europe/London",
    "keywords": "",
    "sources": "",
    "empty_day": "skip",
}


@pytest.fixture
def home(desk_home: Path) -> Path:
    add_accounts(desk_home)
    return desk_home


@pytest.fixture
def alice(home: Path) -> Any:
    with accounts_client(home) as client:
        assert sign_in(client, "alice").status_code == 303
        yield client


def subscribe(client: Any, **changes: str) -> Any:
    form = {**SUBSCRIPTION, **changes, "csrf_token": csrf(client, "/subscription")}
    return client.post("/subscription", data=form, follow_redirects=False)


def save(client: Any, name: str, alert: bool = False, **params: str) -> Any:
    form = {"name": name, **params, "csrf_token": csrf(client)}
    if alert:
        form["alert"] = "on"
    return client.post("/saved-searches", data=form, follow_redirects=False)


def outbox(home: Path) -> list[Any]:
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted((home / "outbox").glob("*.eml"))]


def text_of(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_a_saved_search_is_a_section_of_the_preview_and_of_the_delivered_digest(
    alice: Any, home: Path
) -> None:
    assert subscribe(alice).status_code == 303
    assert 'id="save-search-form"' in alice.get("/?q=grok").text
    assert 'id="save-search-form"' not in alice.get("/").text  # nothing to save without a search
    before = alice.get("/digest").text
    assert "== Grok watch ==" not in before
    response = save(alice, "Grok watch", q="grok", source="press")
    assert response.status_code == 303 and response.headers["location"].startswith("/saved-searches")
    listing = alice.get(response.headers["location"])
    assert 'id="saved-notice"' in listing.text and "Grok watch" in listing.text
    assert 'href="/?q=grok&amp;source=press"' in listing.text
    preview = alice.get("/digest")
    assert preview.status_code == 200 and "== Grok watch ==" in preview.text
    assert "Ofcom opens investigation into X over Grok" in preview.text.split("== Grok watch ==")[1]
    with App.load(home, home / "desk.yaml") as app:
        outcomes = {o.subscriber_id: o for o in pipeline.deliver_digests(app, force=True)}
    assert outcomes["alice"].status == "delivered"
    [mine] = [m for m in outbox(home) if "alice@example.org" in str(m["To"])]
    assert "== Grok watch ==" in text_of(mine)


def test_a_saved_search_marked_alert_sends_an_alert_and_one_not_marked_does_not(
    alice: Any, home: Path
) -> None:
    from web_fixtures import T0

    subscribe(alice)
    assert save(alice, "Fines", q="fine").status_code == 303
    with App.load(home, home / "desk.yaml") as app:
        assert pipeline.send_alerts(app, now=T0 + timedelta(hours=1)) == []
    assert save(alice, "Grok alert", alert=True, q="grok").status_code == 303
    with App.load(home, home / "desk.yaml") as app:
        # The matches the results showed when it was saved are not news to it.
        assert pipeline.send_alerts(app, now=T0 + timedelta(hours=1)) == []
        fresh = Article(
            url="https://fresh.example/story",
            source_id="press",
            title="Grok answers Ofcom's questions",
            body="X said Grok would answer the regulator's questions within ten working days.",
        )
        app.store.articles.upsert(fresh, seen_at=T0 + timedelta(minutes=30))
        [outcome] = pipeline.send_alerts(app, now=T0 + timedelta(hours=1))
    assert outcome.subscriber_id == "alice" and outcome.status == "sent"
    alerts = [m for m in outbox(home) if "alice@example.org" in str(m["To"])]
    assert len(alerts) == 1 and "Grok alert" in text_of(alerts[0])
    assert "Grok answers Ofcom" in text_of(alerts[0])


def test_without_a_subscription_the_saved_searches_page_says_they_reach_nobody(alice: Any) -> None:
    assert save(alice, "Grok", q="grok").status_code == 303
    page = alice.get("/saved-searches").text
    assert 'id="saved-no-subscription"' in page and "reach no digest and send no alert" in page
    assert subscribe(alice).status_code == 303
    assert 'id="saved-no-subscription"' not in alice.get("/saved-searches").text


def test_saving_needs_a_name_a_search_and_the_csrf_token(alice: Any) -> None:
    assert save(alice, "", q="grok").status_code == 400
    nothing = save(alice, "Everything")
    assert nothing.status_code == 400 and "needs a query, an entity" in nothing.text
    bad = save(alice, "Broken", q='"unclosed')
    assert bad.status_code == 400 and "is not a search" in bad.text
    assert save(alice, "Unknown source", source="nope").status_code == 400
    forged = alice.post("/saved-searches", data={"name": "x", "q": "grok"}, follow_redirects=False)
    assert forged.status_code == 403
    assert save(alice, "Grok", q="grok").status_code == 303
    again = save(alice, "Grok", q="ofcom")
    assert again.status_code == 409 and "already have a saved search" in again.text
    assert 'id="no-saved-searches"' not in alice.get("/saved-searches").text


def test_the_api_lists_saves_and_deletes_only_your_own_searches(home: Path) -> None:
    with accounts_client(home) as alice, accounts_client(home) as olly:
        sign_in(alice, "alice")
        sign_in(olly, "olly")
        headers = {"X-CSRF-Token": csrf(alice)}
        created = alice.post("/api/saved-searches", json={"name": "Fines", "query": "fine"}, headers=headers)
        assert created.status_code == 201, created.text
        search = created.json()
        assert search["owner"] == "alice" and search["origin"] == "store" and search["query"] == "fine"
        assert (
            alice.post(
                "/api/saved-searches", json={"name": "Fines", "query": "x"}, headers=headers
            ).status_code
            == 409
        )
        bad = alice.post("/api/saved-searches", json={"name": "All"}, headers=headers)
        assert bad.status_code == 400 and "needs a query" in bad.json()["error"]
        assert (
            alice.post("/api/saved-searches", json={"name": "y", "query": "y"}).status_code == 403
        )  # no token
        assert [s["name"] for s in alice.get("/api/saved-searches").json()["saved_searches"]] == ["Fines"]
        assert olly.get("/api/saved-searches").json() == {"saved_searches": []}
        olly_headers = {"X-CSRF-Token": csrf(olly)}
        assert olly.delete(f"/api/saved-searches/{search['id']}", headers=olly_headers).status_code == 404
        assert alice.delete(f"/api/saved-searches/{search['id']}").status_code == 403  # no token
        assert alice.delete(f"/api/saved-searches/{search['id']}", headers=headers).status_code == 204
        assert alice.get("/api/saved-searches").json() == {"saved_searches": []}
        assert "/api/saved-searches" in alice.get("/api/openapi.json").json()["paths"]


def test_deleting_on_the_page_removes_the_section(alice: Any) -> None:
    subscribe(alice)
    save(alice, "Grok watch", q="grok")
    page = alice.get("/saved-searches").text
    search_id = page.split('id="saved-row-')[1].split('"')[0]
    response = alice.post(
        f"/saved-searches/{search_id}/delete", data={"csrf_token": csrf(alice)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert 'id="no-saved-searches"' in alice.get("/saved-searches").text
    assert "== Grok watch ==" not in alice.get("/digest").text


# -- the subscription -----------------------------------------------------------------------


def test_an_analyst_makes_and_edits_their_subscription(alice: Any, home: Path) -> None:
    page = alice.get("/subscription")
    assert 'id="subscription-none"' in page.text and 'id="subscription-form"' in page.text
    assert 'id="digest-none"' in alice.get("/digest").text
    response = subscribe(
        alice, cadence="weekly", weekday="fri", send_time="08:30", keywords="fine OR penalty"
    )
    assert response.status_code == 303
    page = alice.get(response.headers["location"]).text
    assert 'id="subscription-saved"' in page and 'value="08:30"' in page and "fine OR penalty" in page
    with App.load(home, home / "desk.yaml") as app:
        [mine] = [s for s in app.subscribers if s.id == "alice"]
    assert (mine.email, mine.cadence, mine.weekday, mine.send_time) == (
        "alice@example.org",
        "weekly",
        4,
        "08:30",
    )
    assert mine.keywords == ("fine OR penalty",)


def test_a_bad_subscription_is_one_clear_line_and_keeps_what_was_typed(alice: Any) -> None:
    response = subscribe(alice, timezone="Mars/Olympus")
    assert response.status_code == 400
    assert "is not an IANA zone" in response.text and 'value="Mars/Olympus"' in response.text
    assert subscribe(alice, send_time="25:99").status_code == 400
    assert subscribe(alice, email="").status_code == 400
    assert 'id="subscription-none"' in alice.get("/subscription").text  # nothing was saved


def test_a_subscription_in_the_config_is_read_only_and_wins_over_the_desks(home: Path) -> None:
    with accounts_client(home) as alice:
        sign_in(alice, "alice")
        assert subscribe(alice).status_code == 303
    config = home / "desk.yaml"
    config.write_text(
        config.read_text()
        + "subscribers:\n  - id: alice\n    email: alice@config.example\n"
        + "    saved_searches: [{name: From config, query: ofcom}]\n",
        encoding="utf-8",
    )
    with accounts_client(home) as alice:
        sign_in(alice, "alice")
        page = alice.get("/subscription").text
        assert 'id="subscription-config"' in page and "is ignored while the config declares one" in page
        assert "alice@config.example" in page and 'id="subscription-form"' not in page
        assert subscribe(alice).status_code == 409
        saved = alice.get("/saved-searches").text
        assert 'id="config-saved-searches"' in saved and "From config" in saved
        names = [s["name"] for s in alice.get("/api/saved-searches").json()["saved_searches"]]
        assert names == ["From config"]
