"""The sample site's HTTP server: content types, 404s, robots.txt, conditional GET, the search API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message

import pytest

from regwatch.app.sample_site import DEMO_CONFIG, EXPECTED, SAMPLE_SITE_DIR, serve_sample_site

DSIT = "department-for-science-innovation-and-technology"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_sample_site() as url:
        yield url


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_the_site_its_config_and_manifest_ship_with_the_package() -> None:
    assert SAMPLE_SITE_DIR.is_dir()
    assert DEMO_CONFIG.is_file() and EXPECTED.is_file()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/ledger/rss.xml", "application/rss+xml"),
        ("/wire/atom.xml", "application/atom+xml"),
        ("/regulator/statements.atom", "application/atom+xml"),
        ("/regulator/news/", "text/html; charset=utf-8"),
        ("/ledger/2026/01/starmer-boycotting-x-over-grok-deepfakes.html", "text/html; charset=utf-8"),
        ("/government/news/technology-secretary-statement-on-x-and-grok", "text/html; charset=utf-8"),
        (f"/api/search.json?filter_organisations={DSIT}&count=10", "application/json"),
        ("/robots.txt", "text/plain; charset=utf-8"),
    ],
)
def test_each_shape_is_served_with_its_content_type(base_url: str, path: str, content_type: str) -> None:
    status, headers, body = fetch(base_url + path)
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert int(headers["Content-Length"]) == len(body) > 0


def test_placeholders_are_replaced_with_the_real_base_url(base_url: str) -> None:
    _, _, body = fetch(base_url + "/ledger/rss.xml")
    text = body.decode("utf-8")
    assert "{base_url}" not in text
    assert f"<link>{base_url}/ledger/2026/01/" in text


def test_a_missing_page_is_a_real_404_with_an_html_body(base_url: str) -> None:
    status, headers, body = fetch(base_url + "/ledger/2026/01/council-tax-rise-withdrawn.html")
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"Page not found" in body


def test_paths_cannot_escape_the_site_directory(base_url: str) -> None:
    status, _, _ = fetch(base_url + "/../../__init__.py")
    assert status == 404
    status, _, _ = fetch(base_url + "/ledger/%2e%2e/%2e%2e/__init__.py")
    assert status == 404


def test_robots_txt_disallows_private_and_names_the_sitemap_index(base_url: str) -> None:
    _, _, body = fetch(base_url + "/robots.txt")
    assert body.decode().splitlines() == [
        "User-agent: *",
        "Disallow: /private/",
        "",
        f"Sitemap: {base_url}/sitemaps/index.xml",
    ]


def test_a_directory_without_its_slash_redirects(base_url: str) -> None:
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(base_url + "/regulator/news", timeout=10)
    assert caught.value.code == 301
    assert caught.value.headers["Location"] == "/regulator/news/"


def test_conditional_get_with_the_etag_gives_304(base_url: str) -> None:
    url = base_url + "/wire/atom.xml"
    status, headers, _ = fetch(url)
    assert status == 200
    etag = headers["ETag"]
    status, headers304, body = fetch(url, {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers304["ETag"] == etag
    status, _, _ = fetch(url, {"If-None-Match": '"something-else"'})
    assert status == 200


def test_conditional_get_with_last_modified_gives_304(base_url: str) -> None:
    url = base_url + "/regulator/news/investigation-into-x-grok.html"
    _, headers, _ = fetch(url)
    status, _, _ = fetch(url, {"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304
    status, _, _ = fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert status == 200


def test_head_sends_headers_without_a_body(base_url: str) -> None:
    status, headers, body = fetch(base_url + "/ledger/rss.xml", method="HEAD")
    assert status == 200
    assert body == b""
    assert int(headers["Content-Length"]) > 0


def test_the_mislabelled_page_is_sent_with_the_wrong_charset(base_url: str) -> None:
    status, headers, body = fetch(base_url + "/wire/stories/brussels-weighs-interim-measures-against-x.html")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=windows-1252"
    text = body.decode("utf-8")  # the bytes really are UTF-8
    assert "José Martínez" in text
    assert "Jos\u00c3\u00a9" in body.decode("cp1252", errors="replace")  # what trusting the header gives


def test_search_api_filters_by_organisation(base_url: str) -> None:
    _, _, body = fetch(f"{base_url}/api/search.json?filter_organisations={DSIT}&count=10")
    data = json.loads(body)
    assert data["total"] == 5
    assert data["start"] == 0
    assert len(data["results"]) == 5
    for result in data["results"]:
        assert DSIT in [o["slug"] for o in result["organisations"]]
        assert result["link"].startswith("/government/news/")
        assert result["public_timestamp"].endswith("+00:00")
    stamps = [r["public_timestamp"] for r in data["results"]]
    assert stamps == sorted(stamps, reverse=True)


def test_search_api_paginates_with_count_and_start(base_url: str) -> None:
    pages = []
    for start in (0, 2, 4, 6):
        _, _, body = fetch(f"{base_url}/api/search.json?filter_organisations={DSIT}&count=2&start={start}")
        data = json.loads(body)
        assert data["start"] == start
        assert data["total"] == 5
        pages.append([r["link"] for r in data["results"]])
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    links = [link for page in pages for link in page]
    assert len(set(links)) == 5


def test_search_api_gives_nothing_for_an_unknown_organisation(base_url: str) -> None:
    _, _, body = fetch(f"{base_url}/api/search.json?filter_organisations=ministry-of-magic")
    assert json.loads(body) == {"results": [], "total": 0, "start": 0}


def test_search_api_without_a_filter_lists_every_department(base_url: str) -> None:
    _, _, body = fetch(f"{base_url}/api/search.json?count=50")
    data = json.loads(body)
    assert data["total"] == 7
    slugs = {o["slug"] for r in data["results"] for o in r["organisations"]}
    assert "department-of-health-and-social-care" in slugs


def test_every_search_result_has_a_content_api_item_at_its_path(base_url: str) -> None:
    _, _, body = fetch(f"{base_url}/api/search.json?count=50")
    for result in json.loads(body)["results"]:
        status, headers, raw = fetch(f"{base_url}/api/content{result['link']}")
        item = json.loads(raw)
        assert (status, headers["Content-Type"]) == (200, "application/json")
        assert item["base_path"] == result["link"] and item["title"] == result["title"]
        assert item["document_type"] == result["format"] and item["details"]["body"].startswith("<")
        assert "{base_url}" not in raw.decode("utf-8")


def test_search_api_rejects_a_bad_count(base_url: str) -> None:
    status, headers, body = fetch(f"{base_url}/api/search.json?count=ten")
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert "error" in json.loads(body)


def test_each_server_gets_its_own_port_and_base_url() -> None:
    with serve_sample_site() as first, serve_sample_site() as second:
        assert first != second
        _, _, body = fetch(second + "/regulator/statements.atom")
        assert second.encode() in body and first.encode() not in body
