"""The desk's safety: every scraped or typed string shows as text, the CSP and other headers, only
http(s) links, no state-changing GET, loopback only without accounts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from web_fixtures import id_of

PROBE_TAGS = re.compile(r"<script\b|<img\b", re.I)  # a raw tag; escaped ones read &lt;script


def visible(html: str) -> str:
    """The page without the desk's own script tags (the only ones allowed)."""
    return re.sub(r'<script src="/static/[^"]+" defer></script>', "", html)


def test_an_xss_probe_typed_into_the_query_shows_as_text(client: Any) -> None:
    for url in (
        "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/?q=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E",
        "/?q=fine&entity=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/?q=%22%3Cscript%3Ealert",  # a bad query: the message quotes it
        "/compare?q1=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/entity/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ):
        response = client.get(url)
        body = visible(response.text)
        assert "<script>" not in body and not PROBE_TAGS.search(body), url
        assert "&lt;script&gt;" in body or "&lt;img" in body or response.status_code == 404, url


def test_an_xss_probe_stored_in_an_article_shows_as_text_everywhere(client: Any) -> None:
    probe = id_of("probe")
    for url in (
        "/?q=markup",
        "/?q=fine&sort=newest",
        f"/article/{probe}",
        "/entity/" + "%3Cscript%3Ealert(%22xss%22)%3C%2Fscript%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        "/?q=markup&entity="
        + "%3Cscript%3Ealert(%22xss%22)%3C%2Fscript%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    ):
        response = client.get(url)
        assert response.status_code in {200, 307}, (url, response.status_code)
        body = visible(response.text)
        assert not PROBE_TAGS.search(body), url
        assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in body, url
    article = client.get(f"/article/{probe}").text
    assert "<p>Second paragraph &amp; more &lt;b&gt;bold&lt;/b&gt;.</p>" in article


def test_a_hit_sentence_marks_words_inside_escaped_text(client: Any) -> None:
    body = client.get("/?q=markup").text
    assert "Body with <mark>markup</mark> &lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in body


def test_only_http_links_to_originals_are_rendered(client: Any) -> None:
    for url in ("/?q=markup", f"/article/{id_of('probe')}", "/entity/ofcom"):
        html = client.get(url).text
        assert "javascript:" not in html.replace("javascript:alert(1)</dd>", ""), url
        for href in re.findall(r'<a [^>]*href="([^"]+)"', html):
            assert href.startswith(("/", "https://", "http://", "#")), (url, href)
        for tag in re.findall(r'<a [^>]*href="https?://[^"]+"[^>]*>', html):
            assert 'rel="noopener noreferrer"' in tag, tag


def test_every_response_carries_the_security_headers(client: Any) -> None:
    for url in (
        "/",
        "/?q=%22bad",
        "/api/search?q=grok",
        "/static/desk.css",
        "/nowhere",
        "/export.csv?q=grok",
    ):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["server-timing"].startswith("app;dur=")


def test_pages_have_no_inline_script_or_style(client: Any) -> None:
    for url in ("/?q=grok", f"/article/{id_of('investigation')}", "/entity/ofcom", "/compare?q1=grok&q2=x"):
        html = client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert "<style" not in html and " style=" not in html, url
        assert not re.search(r"<[^>]*\son[a-z]+=", html), url  # no event handler attribute in any tag


def test_no_route_changes_state_on_get_and_unknown_methods_are_refused(client: Any) -> None:
    from fastapi.routing import APIRoute

    for route in client.app.routes:
        if isinstance(route, APIRoute):
            assert route.methods <= {"GET", "HEAD"}, route.path  # this part of the desk only reads
    assert client.post("/?q=grok").status_code == 405
    assert client.delete(f"/api/articles/{id_of('fine')}").status_code == 405


def test_every_route_depends_on_the_current_user(client: Any) -> None:
    from web import current_user

    assert any(dependency.dependency is current_user for dependency in client.app.router.dependencies)
    client.app.dependency_overrides[current_user] = lambda: (_ for _ in ()).throw(PermissionError("no"))
    with pytest.raises(PermissionError):
        client.get("/api/entities")
    client.app.dependency_overrides.clear()
