"""regwatch's crawl stage: Scrapy spiders built from source records, and article extraction.

- :func:`run_crawl` crawls sources in a subprocess and returns per-source
  :class:`~regwatch.models.CrawlStats`. One generic spider per source kind
  (:data:`SPIDERS`: ``feed``, ``listing``, ``json_api``, ``sitemap``, ``auto``; one module
  each in ``_spiders/``) reads the index and yields a :class:`FetchedPage` per
  article page; ``json_api`` can read each result from GOV.UK's Content API (``_govuk``).
  ``auto`` discovers how to follow a site from its address (its declared feeds,
  robots.txt sitemaps, or article links learned by structure: ``_discover``,
  ``_links``) inside the crawl, through the same guards, and reports the
  :class:`~regwatch.models.Discovery` in its stats.
- :class:`ExtractPipeline` (an item pipeline, first in the crawl's
  ``ITEM_PIPELINES``) turns each page into an :class:`ExtractedArticle`: the
  :class:`~regwatch.models.Article` made by :func:`extract_article` (JSON-LD,
  OpenGraph and meta tags, trafilatura body) with the page's :class:`FetchRecord`,
  in worker processes that live as long as the spiders. A store pipeline comes after it.
- :func:`next_health` is source health, one pure function: a source's previous
  :class:`~regwatch.models.SourceHealthState` and a run's stats in, the next
  state, whether the run failed and the events to log out (failure score,
  disable, low volume; :class:`HealthPolicy` holds the limits);
  :func:`blocked_reason` spots bot walls.
- :class:`FetchRecord` items (an article page's inside its ExtractedArticle, a
  304's alone; index pages' at spider close, once all they listed is settled)
  feed the fetch ledger; :class:`Validators` make the next fetch conditional
  (an index's 304: nothing new).
- A source's selectors are its kind's schema (:mod:`regwatch.sources`, checked
  when the config loads), the extraction override (``exclude``/``body``, dated
  versions ``body@YYYY-MM-DD`` for a redesign) included.
- Politeness: Scrapy's per-domain concurrency and delay (CRAWL_* settings), the
  SSRF guard and Retry-After-aware retries (``_middlewares``); with a PostgreSQL
  store, one per-domain limit, delay and Retry-After for every crawl process,
  through the store's :class:`~regwatch.models.DomainPacer` (``_fleet``).
- :func:`count` and :func:`add_error` are the stats contract item pipelines use:
  ``regwatch/<source_id>/<name>`` counters (the counter fields of
  :class:`~regwatch.models.CrawlStats`) and :class:`~regwatch.models.CrawlFailure`
  values in ``regwatch/<source_id>/failures``.
"""

from __future__ import annotations

from ._extract import extract_article, extract_file
from ._feeds import FeedEntry, ParsedFeed, parse_feed
from ._health import (
    HealthEvent,
    HealthPolicy,
    HealthTransition,
    blocked_reason,
    hard_failure_of,
    next_health,
    run_failed,
)
from ._items import ExtractedArticle, FetchedPage
from ._ledger import FetchRecord, Validators
from ._pipelines import ExtractPipeline
from ._runner import run_crawl
from ._sitemaps import ParsedSitemap, SitemapEntry, parse_sitemap
from ._spiders import (
    SPIDERS,
    AutoSpider,
    FeedSpider,
    JsonApiSpider,
    ListingSpider,
    SitemapSpider,
    SourceSpider,
    spider_for,
)
from ._stats import add_error, count, crawl_stats_from, stat_key
from ._urls import canonical_url

__all__ = [
    "SPIDERS",
    "AutoSpider",
    "ExtractPipeline",
    "ExtractedArticle",
    "FeedEntry",
    "FeedSpider",
    "FetchRecord",
    "FetchedPage",
    "HealthEvent",
    "HealthPolicy",
    "HealthTransition",
    "JsonApiSpider",
    "ListingSpider",
    "ParsedFeed",
    "ParsedSitemap",
    "SitemapEntry",
    "SitemapSpider",
    "SourceSpider",
    "Validators",
    "add_error",
    "blocked_reason",
    "canonical_url",
    "count",
    "crawl_stats_from",
    "extract_article",
    "extract_file",
    "hard_failure_of",
    "next_health",
    "parse_feed",
    "parse_sitemap",
    "run_crawl",
    "run_failed",
    "spider_for",
    "stat_key",
]
