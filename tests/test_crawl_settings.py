"""Each crawl setting has one name: the row's in regwatch/settings.py, inside the crawl as outside it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from scrapy.utils.test import get_crawler

from crawlers import FeedSpider
from crawlers.settings import REGWATCH_CRAWL_SETTINGS, SCRAPY_NAMES, scrapy_settings
from regwatch.models import Source, utcnow
from regwatch.settings import BY_NAME, Settings

CRAWLERS = Path(__file__).resolve().parent.parent / "crawlers"
SOURCE = Source(id="press", name="Press", kind="feed", url="https://news.example.org/feed.xml")


def test_regwatchs_own_crawl_settings_reach_scrapy_under_their_own_names() -> None:
    values = scrapy_settings(Settings(env={}, overrides={"CRAWL_MAX_PAGES": 7, "CRAWL_LOOKBACK_DAYS": 3}))
    assert (values["CRAWL_MAX_PAGES"], values["CRAWL_LOOKBACK_DAYS"]) == (7, 3)
    for name in REGWATCH_CRAWL_SETTINGS:
        assert name in BY_NAME
        assert name in values or name == "CRAWL_CONTACT", name  # the contact goes into USER_AGENT
    # Scrapy's own knobs under Scrapy's name only; no second name for any setting.
    assert values["DOWNLOAD_TIMEOUT"] == BY_NAME["CRAWL_TIMEOUT"].default and "CRAWL_TIMEOUT" not in values
    assert not set(SCRAPY_NAMES) & set(REGWATCH_CRAWL_SETTINGS)
    assert not [name for name in values if name.startswith("REGWATCH_")]


def test_the_spider_reads_its_limits_by_those_names_and_defaults_from_the_row() -> None:
    values = scrapy_settings(Settings(env={}, overrides={"CRAWL_MAX_PAGES": 7, "CRAWL_LOOKBACK_DAYS": 3}))
    spider = FeedSpider.from_crawler(get_crawler(FeedSpider, settings_dict=values), source=SOURCE)
    assert spider.max_pages == 7
    assert spider.cutoff is not None and abs(spider.cutoff - (utcnow() - timedelta(days=3))) < timedelta(
        minutes=5
    )

    bare = FeedSpider.from_crawler(get_crawler(FeedSpider), source=SOURCE)
    assert bare.max_pages == BY_NAME["CRAWL_MAX_PAGES"].default
    assert bare.max_listing_pages == BY_NAME["CRAWL_MAX_LISTING_PAGES"].default


def test_no_crawl_component_reads_a_setting_under_another_name() -> None:
    """``REGWATCH_*`` Scrapy settings are values of one crawl, never a second name for a setting."""
    found = {
        name
        for path in CRAWLERS.rglob("*.py")
        for name in re.findall(r"[\"'](REGWATCH_[A-Z_]+)[\"']", path.read_text(encoding="utf-8"))
    }
    # the union of the sources' allowed hosts; the store's path, for the caller's store pipeline;
    # a PostgreSQL store's URL and the factory of its pacer, for the fleet's politeness (crawlers._fleet)
    assert found <= {
        "REGWATCH_CONNECT_ALLOWED_HOSTS",
        "REGWATCH_DB_PATH",
        "REGWATCH_STORE_URL",
        "REGWATCH_DOMAIN_PACER",
        "REGWATCH_CRAWL_PARENT_PID",  # the worker's pid: the crawl dies with it (crawlers._parent_watch)
    }
