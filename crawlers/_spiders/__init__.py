"""One generic spider per source kind, each built from a :class:`~regwatch.models.Source` record.

Every spider fetches the source's index (a feed, an HTML listing, a sitemap or
a JSON search API), follows it to the article pages and yields each as a
:class:`~crawlers.FetchedPage` item, which the extraction item pipeline turns
into an :class:`~regwatch.models.Article`; what the index says about an entry
(date, summary, authors) goes with it as the fallback for what the page lacks.
Failures are counted per source (see ``_stats``) and never abort the crawl: a
failing article page costs one error, a failing index one error with its class.

``base`` holds what every kind shares; each kind is one module (``feed``,
``listing``, ``sitemap``, ``json_api``, ``auto``) registered in :data:`SPIDERS`.
``auto`` discovers which of the others' ways of reading a site fits, and follows it.
"""

from __future__ import annotations

from regwatch.errors import SourceError
from regwatch.models import Source

from .._items import ArticleHint
from .auto import AutoSpider
from .base import SourceSpider
from .feed import FeedSpider
from .json_api import JsonApiSpider
from .listing import ListingSpider
from .sitemap import SitemapSpider

__all__ = [
    "SPIDERS",
    "ArticleHint",
    "AutoSpider",
    "FeedSpider",
    "JsonApiSpider",
    "ListingSpider",
    "SitemapSpider",
    "SourceSpider",
    "spider_for",
]


SPIDERS: dict[str, type[SourceSpider]] = {
    FeedSpider.kind: FeedSpider,
    SitemapSpider.kind: SitemapSpider,
    ListingSpider.kind: ListingSpider,
    JsonApiSpider.kind: JsonApiSpider,
    AutoSpider.kind: AutoSpider,
}


def spider_for(source: Source) -> type[SourceSpider]:
    """The generic spider class for a source's kind (its record was checked when it was built)."""
    try:
        spider = SPIDERS[source.kind]
    except KeyError:
        raise SourceError(
            f"source {source.id!r}: unknown kind {source.kind!r} (expected one of {', '.join(SPIDERS)})",
            "other",
            source.url,
        ) from None
    return spider
