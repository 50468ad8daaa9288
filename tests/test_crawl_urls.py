"""URL canonicalisation: one identity per article page, whatever variant a feed or page linked."""

from __future__ import annotations

import pytest

from crawlers import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/news/a?utm_source=rss&utm_medium=feed", "https://example.org/news/a"),
        ("https://example.org/news/a?id=7&fbclid=xyz&gclid=1", "https://example.org/news/a?id=7"),
        (
            "https://www.theguardian.com/tech/2026/jan/x?CMP=share_btn_link",
            "https://www.theguardian.com/tech/2026/jan/x",
        ),
        (
            "https://www.bbc.co.uk/news/articles/c1?at_medium=RSS&at_campaign=rss",
            "https://www.bbc.co.uk/news/articles/c1",
        ),
        ("https://example.org/news/a#comments", "https://example.org/news/a"),
        ("https://example.org/news/a/", "https://example.org/news/a"),
        ("https://example.org/", "https://example.org/"),
        ("HTTPS://Example.ORG:443/news/a", "https://example.org/news/a"),
        ("http://example.org:8080/news/a", "http://example.org:8080/news/a"),
        ("https://m.bbc.co.uk/news/technology-1", "https://www.bbc.co.uk/news/technology-1"),
        ("https://mobile.example.co.uk/story", "https://www.example.co.uk/story"),
        (
            "https://amp.theguardian.com/politics/2026/jan/x",
            "https://www.theguardian.com/politics/2026/jan/x",
        ),
        ("https://example.org/news/a/amp", "https://example.org/news/a"),
        ("https://example.org/news/a.amp", "https://example.org/news/a"),
        ("https://example.org/amp/news/a", "https://example.org/news/a"),
        ("https://example.org/news/a?amp=1", "https://example.org/news/a"),
        ("https://example.org/news/a?outputType=amp", "https://example.org/news/a"),
        ("https://example.org/search?q=b&page=2", "https://example.org/search?page=2&q=b"),
    ],
)
def test_variants_of_a_page_share_one_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/news/amplifier-review",  # "amp" inside a word is not an AMP marker
        "https://example.org/news/a?amp=full",  # a value that is not an AMP switch is kept
        "https://m.example/news",  # a two-label host is not a mobile alias
        "https://example.org/news?id=42",
    ],
)
def test_a_url_without_variant_markers_keeps_its_identity(url: str) -> None:
    assert canonical_url(canonical_url(url)) == canonical_url(url)
    assert canonical_url(url).split("//", 1)[1].split("?")[0] == url.split("//", 1)[1].split("?")[0]


def test_non_web_urls_come_back_as_given() -> None:
    assert canonical_url("mailto:press@example.org") == "mailto:press@example.org"
