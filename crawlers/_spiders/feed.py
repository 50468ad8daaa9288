"""The ``feed`` kind: RSS 2.0, RSS 1.0 and Atom feeds."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from regwatch.errors import SourceError

from .._feeds import parse_feed
from .._health import feed_content_problem
from .._http import header
from .._items import ArticleHint
from .base import SourceSpider

logger = logging.getLogger(__name__)


class FeedSpider(SourceSpider):
    """RSS 2.0, RSS 1.0 and Atom feeds; a malformed entry is logged and skipped."""

    name = "regwatch-feed"
    kind = "feed"

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        not_a_feed = feed_content_problem(response.body, header(response, "Content-Type"))
        if not_a_feed:
            raise SourceError(not_a_feed, "empty", response.url)
        feed = parse_feed(response.body, response.url)
        for problem in feed.skipped:  # an entry lost: counted as an error of the source
            self.record_error("parse", response.url, f"feed {problem}; skipped")
        for problem in feed.problems:
            logger.warning("source=%s url=%s malformed feed entry: %s", self.source_id, response.url, problem)
        if not feed.entries:
            raise SourceError(f"{feed.kind} feed has no usable entries", "empty", response.url)
        self.found(len(feed.entries))
        if not any(entry.published or entry.updated for entry in feed.entries):
            raise SourceError(
                f"{feed.kind} feed has {len(feed.entries)} entries but none with a date",
                "empty",
                response.url,
            )
        logger.info(
            "source=%s url=%s %s feed: %d entries", self.source_id, response.url, feed.kind, len(feed.entries)
        )
        for entry in feed.entries:
            hint = ArticleHint(
                title=entry.title,
                summary=entry.summary,
                published=entry.published,
                updated=entry.updated,
                # Atom makes <author> mandatory, so feeds fill it with the publisher's name:
                # only RSS bylines (optional, so meant) stand in for a page without one.
                authors=entry.authors if feed.kind != "atom" else [],
                tags=entry.tags,
            )
            request = self.article_request(entry.link, hint)
            if request is not None:
                yield request
