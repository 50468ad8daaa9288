"""The ``listing`` kind: HTML listing pages read with CSS selectors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response, TextResponse

from regwatch.errors import SourceError

from .._text import clean_text, parse_date
from .base import ArticleHint, SourceSpider

logger = logging.getLogger(__name__)


class ListingSpider(SourceSpider):
    """HTML listing pages: ``selectors`` has ``link`` and optionally ``item``, ``next``, ``title``, ``published``.

    Selectors are CSS (``a::attr(href)``). With ``item``, one link is taken per
    item and a ``<time datetime>`` inside it is the fallback date.
    """

    name = "regwatch-listing"
    kind = "listing"

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            raise SourceError("listing is not an HTML page", "parse", response.url)
        selectors = self.source.selectors
        link_css = selectors.get("link", "a::attr(href)")
        found = 0
        if selectors.get("item"):
            for item in response.css(selectors["item"]):
                link = item.css(link_css).get()
                if not link or not link.strip():
                    logger.warning(
                        "source=%s url=%s listing item without a link skipped", self.source_id, response.url
                    )
                    continue
                title_css = selectors.get("title")
                date_css = selectors.get("published", "time::attr(datetime)")
                hint = ArticleHint(
                    title=clean_text(" ".join(item.css(title_css).getall())) if title_css else "",
                    published=parse_date(item.css(date_css).get()),
                    summary=clean_text(" ".join(item.css(selectors["summary"]).getall()))
                    if selectors.get("summary")
                    else "",
                )
                found += 1
                request = self.article_request(response.urljoin(link.strip()), hint)
                if request is not None:
                    yield request
        else:
            for link in response.css(link_css).getall():
                if link.strip():
                    found += 1
                    request = self.article_request(response.urljoin(link.strip()))
                    if request is not None:
                        yield request
        logger.info("source=%s url=%s listing page %d: %d links", self.source_id, response.url, page, found)
        self.found(found)
        if found == 0 and page == 1:
            raise SourceError(
                "listing has no article links (check the source's selectors)", "empty", response.url
            )
        next_css = selectors.get("next")
        if next_css:
            request = self.next_page(response, response.css(next_css).get(), page)
            if request is not None:
                yield request
