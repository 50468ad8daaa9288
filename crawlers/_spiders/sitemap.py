"""The ``sitemap`` kind: XML sitemaps, Google News sitemaps and sitemap indexes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, cast

from scrapy.http import Response

from regwatch.errors import SourceError
from regwatch.sources import SitemapSelectors

from .._items import ArticleHint
from .._sitemaps import ParsedSitemap, SitemapEntry, parse_sitemap
from .base import SourceSpider

logger = logging.getLogger(__name__)


class SitemapSpider(SourceSpider):
    """XML sitemaps and Google News sitemaps; a sitemap index is followed to its sitemaps.

    The newest entries come first (by publication date, else lastmod), so
    CRAWL_MAX_PAGES keeps the recent ones; dated entries before the look-back
    are skipped without a request. ``selectors.follow`` (a substring) limits
    which child sitemaps of an index are followed, e.g. ``news``.
    """

    name = "regwatch-sitemap"
    kind = "sitemap"

    @property
    def selectors(self) -> SitemapSelectors:
        return cast(SitemapSelectors, self.source.selectors)

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        yield from follow_sitemap(self, response, page, follow=self.selectors.follow)


def newest_first(entries: list[SitemapEntry]) -> list[SitemapEntry]:
    """Entries by publication date, else lastmod, newest first (undated last)."""

    def newest(entry: SitemapEntry) -> float:
        when = entry.published or entry.lastmod
        return when.timestamp() if when else 0.0

    return sorted(entries, key=newest, reverse=True)


def follow_sitemap(
    spider: SourceSpider,
    response: Response,
    page: int,
    *,
    follow: str = "",
    keep: Callable[[SitemapEntry], bool] | None = None,
    sitemap: ParsedSitemap | None = None,
) -> Iterator[Any]:
    """A sitemap's article requests, or an index's child sitemaps (those whose address has ``follow``).

    ``keep`` picks the entries that belong to the source (an ``auto`` source's
    section); ``sitemap`` is the document already parsed from ``response``.
    Raises SourceError (``empty``) when nothing is listed.
    """
    sitemap = sitemap or parse_sitemap(response.body, response.url)
    if sitemap.kind == "sitemapindex":
        # An unchanged index says nothing about its child sitemaps: always read it in full.
        response.meta["regwatch_no_validators"] = True
        children = [e for e in sitemap.entries if follow in e.loc]
        children.sort(key=lambda e: e.lastmod.timestamp() if e.lastmod else 0.0, reverse=True)
        if not children:
            raise SourceError("sitemap index lists no sitemaps to follow", "empty", response.url)
        for child in children[: spider.max_listing_pages]:
            yield spider.index_request(child.loc, page + 1)
        return
    entries = [e for e in sitemap.entries if keep is None or keep(e)]
    if not entries:
        raise SourceError(
            "sitemap lists no URLs" + (" of this source's section" if sitemap.entries else ""),
            "empty",
            response.url,
        )
    spider.found(len(entries))
    logger.info("source=%s url=%s sitemap: %d URLs", spider.source_id, response.url, len(entries))
    for entry in newest_first(entries):
        request = spider.article_request(entry.loc, sitemap_hint(entry))
        if request is not None:
            yield request


def sitemap_hint(entry: SitemapEntry) -> ArticleHint:
    """What a sitemap says about its URL: a news sitemap's title, dates and keywords."""
    return ArticleHint(
        title=entry.title, published=entry.published, updated=entry.lastmod, tags=entry.keywords
    )
