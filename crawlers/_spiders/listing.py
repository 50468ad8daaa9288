"""The ``listing`` kind: HTML listing pages read with CSS selectors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast

from scrapy.http import Response, TextResponse

from regwatch.errors import SourceError
from regwatch.sources import ListingSelectors

from .._items import ArticleHint
from .._text import clean_text, parse_date
from .base import SourceSpider

logger = logging.getLogger(__name__)


class ListingSpider(SourceSpider):
    """HTML listing pages read with the source's :class:`~regwatch.sources.ListingSelectors`.

    Selectors are CSS (``a::attr(href)``). With ``item``, one link is taken per
    item and a ``<time datetime>`` inside it is the fallback date.
    """

    name = "regwatch-listing"
    kind = "listing"

    @property
    def selectors(self) -> ListingSelectors:
        return cast(ListingSelectors, self.source.selectors)

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            raise SourceError("listing is not an HTML page", "parse", response.url)
        selectors = self.selectors
        link_css = selectors.link
        found = 0
        if selectors.item:
            for item in response.css(selectors.item):
                link = item.css(link_css).get()
                if not link or not link.strip():
                    logger.warning(
                        "source=%s url=%s listing item without a link skipped", self.source_id, response.url
                    )
                    continue
                hint = ArticleHint(
                    title=clean_text(" ".join(item.css(selectors.title).getall())) if selectors.title else "",
                    published=parse_date(item.css(selectors.published).get())
                    if selectors.published
                    else None,
                    summary=clean_text(" ".join(item.css(selectors.summary).getall()))
                    if selectors.summary
                    else "",
                )
                found += 1
                url = self.absolute(response, link)
                request = self.article_request(url, hint) if url else None
                if request is not None:
                    yield request
        else:
            for link in response.css(link_css).getall():
                if link.strip():
                    found += 1
                    url = self.absolute(response, link)
                    request = self.article_request(url) if url else None
                    if request is not None:
                        yield request
        logger.info("source=%s url=%s listing page %d: %d links", self.source_id, response.url, page, found)
        self.found(found)
        if found == 0 and page == 1:
            raise SourceError(
                "listing has no article links (check the source's selectors)", "empty", response.url
            )
        if selectors.next:
            request = self.next_page(response, response.css(selectors.next).get(), page)
            if request is not None:
                yield request
