"""regwatch's crawl stage: Scrapy spiders built from source records, and article extraction.

- :func:`extract_article` / :func:`extract_file` turn a page into an
  :class:`~regwatch.models.Article` (JSON-LD, OpenGraph and meta tags, trafilatura body).
- :func:`run_crawl` crawls sources in a subprocess and returns per-source
  :class:`~regwatch.models.CrawlStats`; one generic spider per source kind
  (:data:`SPIDERS`: ``feed``, ``listing``, ``json_api``) yields ``Article`` items.
- :func:`count` and :func:`add_error` are the stats contract item pipelines use:
  ``regwatch/<source_id>/<name>`` counters and ``regwatch/<source_id>/error_messages``.
"""

from __future__ import annotations

from ._extract import extract_article, extract_file
from ._feeds import FeedEntry, ParsedFeed, parse_feed
from ._runner import run_crawl
from ._spiders import SPIDERS, FeedSpider, JsonApiSpider, ListingSpider, SourceSpider, spider_for
from ._stats import add_error, count, crawl_stats_from, stat_key

__all__ = [
    "SPIDERS",
    "FeedEntry",
    "FeedSpider",
    "JsonApiSpider",
    "ListingSpider",
    "ParsedFeed",
    "SourceSpider",
    "add_error",
    "count",
    "crawl_stats_from",
    "extract_article",
    "extract_file",
    "parse_feed",
    "run_crawl",
    "spider_for",
    "stat_key",
]
