"""XML sitemaps (sitemaps.org 0.9), Google News sitemaps and sitemap indexes, read with lxml.

A ``<urlset>`` gives article URLs with what it says about them: ``<lastmod>``,
and in a news sitemap ``<news:publication_date>`` and ``<news:title>``, so old
URLs can be skipped before any request. A ``<sitemapindex>`` lists further
sitemaps (newest first in practice); the spider follows a few of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from regwatch.errors import SourceError

from ._text import clean_text, join_url, parse_date
from ._xml import local_name as _local
from ._xml import parse_xml_root


@dataclass
class SitemapEntry:
    """One URL a sitemap lists, with its dates and the News sitemap's title and keywords."""

    loc: str
    lastmod: datetime | None = None
    published: datetime | None = None  # news:publication_date
    title: str = ""  # news:title
    keywords: list[str] = field(default_factory=list)


@dataclass
class ParsedSitemap:
    """A parsed sitemap: a ``urlset`` of pages or a ``sitemapindex`` of further sitemaps."""

    kind: str  # urlset | sitemapindex
    entries: list[SitemapEntry]

    @property
    def is_news(self) -> bool:
        """A Google News sitemap: its entries carry a publication date or a news title."""
        return any(entry.published or entry.title for entry in self.entries)


def _child_text(element: etree._Element, name: str) -> str:
    for child in element.iter():
        if _local(child.tag) == name and child is not element:
            return clean_text("".join(child.itertext()))
    return ""


# The sitemaps.org limit on an uncompressed sitemap: a gzipped one is read up to this size.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024


def parse_sitemap(body: bytes, url: str) -> ParsedSitemap:
    """Parse a sitemap or sitemap index fetched from ``url`` (gzipped or not); SourceError when it is neither."""
    if body[:2] == b"\x1f\x8b":  # sitemap.xml.gz, served as a file rather than with Content-Encoding
        from scrapy.utils.gz import gunzip

        try:
            body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
        except (OSError, EOFError, ValueError) as exc:
            raise SourceError(f"{url}: unreadable gzipped sitemap ({exc})", "parse", url) from None
    root = parse_xml_root(body, url, "sitemap")
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise SourceError(f"{url}: not a sitemap (root element <{kind or '?'}>)", "parse", url)
    item = "url" if kind == "urlset" else "sitemap"
    entries = []
    for node in root:
        if _local(node.tag) != item:
            continue
        raw = _child_text(node, "loc")
        loc = join_url(url, raw) if raw else None
        if loc is None:
            continue  # no address, or a malformed one: that entry alone is skipped
        keywords = _child_text(node, "keywords")
        entries.append(
            SitemapEntry(
                loc=loc,
                lastmod=parse_date(_child_text(node, "lastmod")),
                published=parse_date(_child_text(node, "publication_date")),
                title=_child_text(node, "title"),
                keywords=[k.strip() for k in keywords.split(",") if k.strip()],
            )
        )
    return ParsedSitemap(kind=kind, entries=entries)
