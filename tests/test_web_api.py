"""The JSON API: /api/search answers what `regwatch search --json` prints, on both backends; facets,
timeline, articles, entities, the OpenAPI document; exports of the current search."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli
from web_fixtures import desk_client, id_of

# (CLI arguments, the same search as API parameters)
SAME_SEARCHES: list[tuple[list[str], dict[str, Any]]] = [
    (["grok"], {"q": "grok"}),
    (["ofcom", "-fines"], {"q": "ofcom -fines"}),
    (['"formal investigation"'], {"q": '"formal investigation"'}),
    (["invest*", "--sort", "newest"], {"q": "invest*", "sort": "newest"}),
    (["--entity", "Office of Communications"], {"entity": "Office of Communications"}),
    (["--entity", "boris johnson"], {"entity": "boris johnson"}),
    (["grok", "--type", "news", "--type", "government"], {"q": "grok", "type": ["news", "government"]}),
    (["--jurisdiction", "EU", "--language", "fr"], {"jurisdiction": "EU", "language": "fr"}),
    (["--since", "2026-01-06", "--until", "2026-01-25"], {"since": "2026-01-06", "until": "2026-01-25"}),
    (
        ["--source", "ofcom-news", "--limit", "1", "--offset", "1"],
        {"source": "ofcom-news", "limit": 1, "offset": 1},
    ),
    (["ofcom", "--facets", "week"], {"q": "ofcom", "facets": "week"}),
    (["", "--facets", "day", "--sort", "newest"], {"facets": "day", "sort": "newest"}),
]


def assert_api_answers_as_the_cli(cli: Cli, client: Any) -> None:
    for args, params in SAME_SEARCHES:
        printed = cli.json("search", *args)
        answered = client.get("/api/search", params=params)
        assert answered.status_code == 200, (params, answered.text)
        assert answered.json() == printed, args
        assert printed["total"] > 0, args


def test_api_search_answers_exactly_what_the_cli_prints(desk_home: Path, client: Any) -> None:
    assert_api_answers_as_the_cli(Cli(desk_home, desk_home / "desk.yaml"), client)


def test_api_search_takes_a_page_as_the_page_does(client: Any) -> None:
    by_offset = client.get("/api/search", params={"sort": "newest", "limit": 2, "offset": 2}).json()
    by_page = client.get("/api/search", params={"sort": "newest", "limit": 2, "page": 2}).json()
    assert by_page == by_offset and len(by_page["hits"]) == 2


def test_a_bad_api_request_is_a_400_with_the_reason(client: Any) -> None:
    for params, message in [
        ({"q": '"open'}, "unbalanced double quote"),
        ({"q": "grok", "since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"sort": "best"}, "sort"),
        ({"facets": "year"}, "facets"),
    ]:
        answered = client.get("/api/search", params=params)
        assert answered.status_code == 400, params
        assert message in answered.json()["error"], (params, answered.json())


def test_api_facets_and_timeline(client: Any) -> None:
    facets = client.get("/api/facets", params={"q": "grok"}).json()
    assert facets["facets"]["entities"]["Grok"] == 4
    assert facets["facets"]["other_entities"] == {"acme social": 1, "boris johnson": 1}
    assert facets["labels"] == {"acme social": "Acme Social", "boris johnson": "Boris Johnson"}
    timeline = client.get("/api/timeline", params={"q": "grok", "interval": "month"}).json()
    assert timeline == {
        "interval": "month",
        "counts": {"2026-01-01": 4},
        "all": {"2026-01-01": 5, "2026-02-01": 1},
    }


def test_api_article_and_entities(client: Any) -> None:
    article = client.get(f"/api/articles/{id_of('investigation')}").json()
    assert article["title"] == "Ofcom opens investigation into X over Grok"
    assert article["story_members"] == [id_of("investigation"), id_of("investigation-copy")]
    assert article["actions"][0]["action"] == "investigation"
    assert client.get("/api/articles/0000000000000000").status_code == 404
    watched = client.get("/api/entities").json()["watched"]
    assert {"id": "ofcom", "name": "Ofcom"}.items() <= next(e for e in watched if e["id"] == "ofcom").items()
    ofcom = client.get("/api/entities/ofcom").json()
    assert (ofcom["name"], ofcom["watched"], ofcom["articles"]) == ("Ofcom", True, 4)
    assert ofcom["entities"]["Grok"] == 3 and "Ofcom" not in ofcom["entities"]
    boris = client.get("/api/entities/boris%20johnson").json()
    assert (boris["name"], boris["watched"], boris["articles"]) == ("Boris Johnson", False, 1)
    moved = client.get("/api/entities/Office%20of%20Communications", follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == "/api/entities/ofcom"


def test_the_openapi_document_describes_the_api(client: Any) -> None:
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    for path in (
        "/api/search",
        "/api/facets",
        "/api/timeline",
        "/api/articles/{article_id}",
        "/api/entities",
    ):
        assert "get" in paths[path], path
    names = {p["name"] for p in paths["/api/search"]["get"]["parameters"]}
    assert names >= {"q", "entity", "source", "type", "jurisdiction", "language", "since", "until", "sort"}
    assert not any(path.startswith(("/article/", "/entity/", "/static")) for path in paths)


def rows_of_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_exports_hold_the_api_rows_every_hit_streamed(client: Any) -> None:
    api = client.get("/api/search", params={"q": "grok OR fine", "limit": 1000}).json()
    exported = client.get("/export.csv", params={"q": "grok OR fine"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert (
        exported.headers["x-regwatch-total"] == exported.headers["x-regwatch-exported"] == str(api["total"])
    )
    rows = rows_of_csv(exported.text)
    assert [row["id"] for row in rows] == [hit["id"] for hit in api["hits"]]
    for row, hit in zip(rows, api["hits"], strict=True):
        assert row["title"] == hit["title"] and row["url"] == hit["url"] and row["story"] == hit["story"]
        assert row["entities"].split("; ") == hit["entities"] or (
            row["entities"] == "" and hit["entities"] == []
        )
        assert row["published"] == (hit["published"] or "")
    as_json = client.get("/export.json", params={"q": "grok OR fine"}).json()
    assert as_json["hits"] == api["hits"] and as_json["total"] == api["total"]


def test_exports_stop_at_the_cap_and_say_so(desk_home: Path) -> None:
    with desk_client(desk_home, WEB_EXPORT_MAX_ROWS=2) as client:
        exported = client.get("/export.json", params={"sort": "newest"})
        data = exported.json()
        assert (data["total"], data["exported"], data["cap"], len(data["hits"])) == (6, 2, 2, 2)
        assert exported.headers["x-regwatch-exported"] == "2"
        page = client.get("/?sort=newest").text
        assert "Export the first 2:" in page


def test_exports_read_page_after_page(desk_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web._export.EXPORT_PAGE", 2)
    with desk_client(desk_home) as client:
        rows = rows_of_csv(client.get("/export.csv", params={"sort": "newest"}).text)
        api = client.get("/api/search", params={"sort": "newest"}).json()
        assert [row["id"] for row in rows] == [hit["id"] for hit in api["hits"]] and len(rows) == 6


def test_a_csv_cell_a_spreadsheet_would_run_is_quoted(client: Any) -> None:
    from web._export import csv_cell

    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_cell("@cmd") == "'@cmd"
    assert csv_cell("Ofcom") == "Ofcom" and csv_cell(["a", "b"]) == "a; b" and csv_cell(None) == ""


def test_a_bad_export_query_is_an_error_not_a_broken_file(client: Any) -> None:
    answered = client.get("/export.csv", params={"q": '"open'})
    assert answered.status_code == 400 and "unbalanced" in answered.text
    assert client.get("/export.json", params={"q": '"open'}).json()["error"].startswith("unbalanced")


def test_json_of_the_export_is_valid_even_when_empty(client: Any) -> None:
    data = json.loads(client.get("/export.json", params={"q": "nothingmatchesthis"}).text)
    assert data == {"total": 0, "exported": 0, "cap": 10_000, "hits": []}
