"""The ``sitemap`` kind: XML sitemaps, Google News sitemaps and sitemap indexes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast

from scrapy.http import Response

from regwatch.errors import SourceError
from regwatch.sources import SitemapSelectors

from .._items import ArticleHint
from .._sitemaps import parse_sitemap
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
        sitemap = parse_sitemap(response.body, response.url)
        if sitemap.kind == "sitemapindex":
            # An unchanged index says nothing about its child sitemaps: always read it in full.
            response.meta["regwatch_no_validators"] = True
            wanted = self.selectors.follow
            children = [e for e in sitemap.entries if wanted in e.loc]
            children.sort(key=lambda e: e.lastmod.timestamp() if e.lastmod else 0.0, reverse=True)
            if not children:
                raise SourceError("sitemap index lists no sitemaps to follow", "empty", response.url)
            for child in children[: self.max_listing_pages]:
                yield self.index_request(child.loc, page + 1)
            return
        if not sitemap.entries:
            raise SourceError("sitemap lists no URLs", "empty", response.url)
        self.found(len(sitemap.entries))
        logger.info("source=%s url=%s sitemap: %d URLs", self.source_id, response.url, len(sitemap.entries))

        def newest(entry: Any) -> float:
            when = entry.published or entry.lastmod
            return when.timestamp() if when else 0.0

        for entry in sorted(sitemap.entries, key=newest, reverse=True):
            hint = ArticleHint(
                title=entry.title, published=entry.published, updated=entry.lastmod, tags=entry.keywords
            )
            request = self.article_request(entry.loc, hint)
            if request is not None:
                yield request
