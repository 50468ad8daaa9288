"""What a site declares about itself, read for an ``auto`` source's discovery.

Pure functions over fetched bodies (the spider in ``_spiders/auto.py`` does the
fetching, through the crawl's own guards): the feeds a page declares with
``<link rel="alternate">``, the conventional feed addresses of common site
engines, the ``Sitemap:`` lines of ``robots.txt``, what kind of document an
answer is, and the *section* of a source: the path prefix its articles live
under, which sitemap entries must start with.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import lxml.html
from lxml import etree

from ._jsonfeed import looks_like_json_feed
from ._text import document_base, join_url

# <link rel="alternate" type=...> values that announce a feed (plain application/json is a
# WordPress REST link to the page's own JSON, not a feed).
FEED_LINK_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
# Where common site engines serve a feed: WordPress (/feed/), Drupal and Jekyll (/rss.xml,
# /atom.xml), Squarespace (?format=rss). Tried under the section, then at the site's root.
CONVENTIONAL_FEED_PATHS = ("feed/", "rss.xml", "atom.xml")
SQUARESPACE_FEED_QUERY = "format=rss"
ROOT_SITEMAP_PATH = "/sitemap.xml"


@dataclass(frozen=True)
class FeedLink:
    """A feed a page declares: its address, MIME type and title."""

    url: str
    type: str = ""
    title: str = ""

    @property
    def is_comments(self) -> bool:
        """A comments feed (WordPress declares one beside the posts' feed): replies, not articles."""
        return "comments" in self.title.lower() or "/comments/" in urlsplit(self.url).path.lower()


def section_of(url: str, declared: str = "") -> str:
    """The path prefix a source's articles live under: ``declared``, else the URL's own path.

    ``https://x.org/news/`` → ``/news/``; ``https://x.org/news`` → ``/news/``;
    ``https://x.org/news/index.html`` → ``/news/``; the home page → ``/``.
    """
    if declared:
        return declared if declared.endswith("/") else declared + "/"
    path = urlsplit(url).path or "/"
    if path.endswith("/"):
        return path
    last = path.rsplit("/", 1)[-1]
    if "." in last:  # a file (index.html, news.php): its folder
        return path[: len(path) - len(last)]
    return path + "/"


def same_site(host: str, other: str) -> bool:
    """Two host names of one site: equal once a leading ``www.`` is set aside."""
    return host.lower().removeprefix("www.") == other.lower().removeprefix("www.")


def in_section(url: str, host: str, section: str) -> bool:
    """Whether ``url`` is on ``host``'s site and its path starts with ``section``."""
    split = urlsplit(url)
    path = split.path or "/"
    prefix = section.rstrip("/")
    within = section == "/" or path == prefix or path.startswith(prefix + "/")
    return split.scheme in ("http", "https") and same_site(split.hostname or "", host) and within


def declared_feeds(html: str | bytes, page_url: str) -> list[FeedLink]:
    """The feeds a page declares with ``<link rel="alternate" type="…">``, in document order."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, etree.ParserError):
        return []
    base = document_base(doc, page_url)
    found: list[FeedLink] = []
    seen: set[str] = set()
    for link in doc.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or kind not in FEED_LINK_TYPES:
            continue
        url = join_url(base, link.get("href", ""))
        if url is not None and urlsplit(url).scheme in ("http", "https") and url not in seen:
            seen.add(url)
            found.append(FeedLink(url, kind, " ".join((link.get("title") or "").split())))
    return found


def conventional_feeds(page_url: str, section: str) -> list[str]:
    """Feed addresses common site engines use, under the section first, then at the root."""
    split = urlsplit(page_url)
    origin = f"{split.scheme}://{split.netloc}"
    prefixes = [section] if section == "/" else [section, "/"]
    urls = [origin + prefix + path for prefix in prefixes for path in CONVENTIONAL_FEED_PATHS]
    query = f"{split.query}&{SQUARESPACE_FEED_QUERY}" if split.query else SQUARESPACE_FEED_QUERY
    urls.insert(len(CONVENTIONAL_FEED_PATHS), urlunsplit((split.scheme, split.netloc, split.path, query, "")))
    return list(dict.fromkeys(urls))


def robots_url(page_url: str) -> str:
    split = urlsplit(page_url)
    return f"{split.scheme}://{split.netloc}/robots.txt"


def root_sitemap_url(page_url: str) -> str:
    split = urlsplit(page_url)
    return f"{split.scheme}://{split.netloc}{ROOT_SITEMAP_PATH}"


def robots_sitemaps(text: str, robots: str) -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt (any group, any case), as absolute URLs, in order."""
    found: list[str] = []
    for line in text.splitlines():
        name, _, value = line.split("#", 1)[0].partition(":")
        if name.strip().lower() == "sitemap" and value.strip():
            url = join_url(robots, value)
            if url is not None and urlsplit(url).scheme in ("http", "https") and url not in found:
                found.append(url)
    return found


def document_kind(body: bytes, content_type: str = "") -> str:
    """``feed``, ``sitemap``, ``html`` or ``other``: what an answer is, by its first bytes and type."""
    head = body.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:4096].lower()
    if looks_like_json_feed(body):
        return "feed"
    if head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf", b"<urlset", b"<sitemapindex")):
        if b"<urlset" in head or b"<sitemapindex" in head:
            return "sitemap"
        if b"<rss" in head or b"<feed" in head or b"<rdf" in head:
            return "feed"
        return "other"
    if "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "other"
