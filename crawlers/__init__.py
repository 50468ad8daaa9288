"""regwatch's crawl stage: Scrapy spiders built from source records, and article extraction.

- :func:`extract_article` / :func:`extract_file` turn a page into an
  :class:`~regwatch.models.Article` (JSON-LD, OpenGraph and meta tags, trafilatura body).
- :func:`run_crawl` crawls sources in a subprocess and returns per-source
  :class:`~regwatch.models.CrawlStats`; one generic spider per source kind
  (:data:`SPIDERS`: ``feed``, ``listing``, ``json_api``, ``sitemap``) yields ``Article`` items;
  ``json_api`` can read each result from GOV.UK's Content API (``_govuk``).
- :func:`assess_health` turns a run's stats into the source's next health
  state (failure score, disable, low volume); :func:`blocked_reason` spots bot walls.
- :class:`FetchRecord` items (one per article page fetched, after its Article;
  index pages' at spider close, once all they listed is settled) feed the fetch
  ledger; :class:`Validators` make the next fetch conditional (an index's 304: nothing new).
- A source's extraction override (``selectors.exclude``/``body``, dated versions
  ``body@YYYY-MM-DD`` for a redesign) is data, read by ``_overrides``.
- :func:`count` and :func:`add_error` are the stats contract item pipelines use:
  ``regwatch/<source_id>/<name>`` counters and ``regwatch/<source_id>/error_messages``.
"""

from __future__ import annotations

from ._extract import extract_article, extract_file
from ._feeds import FeedEntry, ParsedFeed, parse_feed
from ._health import HealthVerdict, assess_health, blocked_reason, error_class_of, hard_failure_of
from ._ledger import FetchRecord, Validators
from ._runner import run_crawl
from ._sitemaps import ParsedSitemap, SitemapEntry, parse_sitemap
from ._spiders import (
    SPIDERS,
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
    "FeedEntry",
    "FeedSpider",
    "FetchRecord",
    "HealthVerdict",
    "JsonApiSpider",
    "ListingSpider",
    "ParsedFeed",
    "ParsedSitemap",
    "SitemapEntry",
    "SitemapSpider",
    "SourceSpider",
    "Validators",
    "add_error",
    "assess_health",
    "blocked_reason",
    "canonical_url",
    "count",
    "crawl_stats_from",
    "error_class_of",
    "extract_article",
    "extract_file",
    "hard_failure_of",
    "parse_feed",
    "parse_sitemap",
    "run_crawl",
    "spider_for",
    "stat_key",
]
