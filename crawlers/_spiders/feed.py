"""The ``feed`` kind: RSS 2.0, RSS 1.0, Atom and JSON Feed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from regwatch.errors import SourceError

from .._feeds import ParsedFeed, parse_feed
from .._health import feed_content_problem
from .._http import header
from .._items import ArticleHint
from .base import SourceSpider

logger = logging.getLogger(__name__)


class FeedSpider(SourceSpider):
    """RSS 2.0, RSS 1.0, Atom and JSON Feed; a malformed entry is logged and skipped."""

    name = "regwatch-feed"
    kind = "feed"

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        yield from follow_feed(self, response)


def follow_feed(spider: SourceSpider, response: Response, feed: ParsedFeed | None = None) -> Iterator[Any]:
    """A feed's article requests (``feed``: the document already parsed from ``response``).

    Raises SourceError (``empty``) for an answer that is not a feed, has no
    usable entries, or none with a date; an entry without a link is one error.
    """
    if feed is None:
        not_a_feed = feed_content_problem(response.body, header(response, "Content-Type"))
        if not_a_feed:
            raise SourceError(not_a_feed, "empty", response.url)
        feed = parse_feed(response.body, response.url)
    for problem in feed.skipped:  # an entry lost: counted as an error of the source
        spider.record_error("parse", response.url, f"feed {problem}; skipped")
    for problem in feed.problems:
        logger.warning("source=%s url=%s malformed feed entry: %s", spider.source_id, response.url, problem)
    if not feed.entries:
        raise SourceError(f"{feed.kind} feed has no usable entries", "empty", response.url)
    spider.found(len(feed.entries))
    if not any(entry.published or entry.updated for entry in feed.entries):
        raise SourceError(
            f"{feed.kind} feed has {len(feed.entries)} entries but none with a date", "empty", response.url
        )
    logger.info(
        "source=%s url=%s %s feed: %d entries", spider.source_id, response.url, feed.kind, len(feed.entries)
    )
    for entry in feed.entries:
        hint = ArticleHint(
            title=entry.title,
            summary=entry.summary,
            published=entry.published,
            updated=entry.updated,
            # Atom makes <author> mandatory, so feeds fill it with the publisher's name:
            # only RSS and JSON Feed bylines (optional, so meant) stand in for a page without one.
            authors=entry.authors if feed.kind != "atom" else [],
            tags=entry.tags,
        )
        request = spider.article_request(entry.link, hint)
        if request is not None:
            yield request
