"""Extraction as a Scrapy item pipeline: each fetched page becomes its Article.

The spiders fetch; :class:`ExtractPipeline` reads. It takes every
:class:`~crawlers._items.FetchedPage` a spider yields and returns an
:class:`~crawlers._items.ExtractedArticle` (the Article and the page's completed
fetch record) for the pipelines after it, a store first of all; anything else
passes through untouched. A page that is a bot wall, or whose extraction fails,
is one error of its source (``blocked``, ``parse``) and goes no further.

Extraction runs in the crawl process's worker pool (``_extract_pool``): the
pipeline takes the pool when its spider opens and gives it back when it
closes, so the workers live exactly as long as a spider needs them. Meanwhile
the crawl goes on fetching and storing. Switching the pipeline off
(``{"crawlers.ExtractPipeline": None}``) leaves a crawl that fetches and
counts pages only, as ``make bench-crawl``'s baseline does.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, NoReturn

from scrapy.exceptions import DropItem

from regwatch.errors import ErrorClass, ExtractionError
from regwatch.models import Article, CrawlFailure, utcnow
from regwatch.settings import BY_NAME
from regwatch.sources import ExtractionOverride

from ._extract_pool import Extractor, acquire_extractor, release_extractor
from ._govuk import content_item_article
from ._health import blocked_reason
from ._items import ExtractedArticle, FetchedPage
from ._stats import StatsLike, record_error
from .settings import crawl_setting

logger = logging.getLogger(__name__)


class ExtractPipeline:
    """Scrapy item pipeline: :class:`FetchedPage` → :class:`ExtractedArticle` (see the module docstring)."""

    def __init__(
        self,
        stats: StatsLike,
        *,
        workers: int = BY_NAME["CRAWL_EXTRACT_WORKERS"].default,
        min_body_chars: int = BY_NAME["EXTRACT_MIN_BODY_CHARS"].default,
        jsonld_max_chars: int = BY_NAME["EXTRACT_JSONLD_MAX_CHARS"].default,
        max_body_chars: int = BY_NAME["EXTRACT_MAX_BODY_CHARS"].default,
    ) -> None:
        self.stats = stats
        self.workers = workers
        self.min_body_chars = min_body_chars
        self.jsonld_max_chars = jsonld_max_chars
        self.max_body_chars = max_body_chars
        self.extractor: Extractor | None = None  # between open_spider and close_spider
        # source id -> the version of its extraction override valid on the crawl's day
        self._overrides: dict[str, ExtractionOverride] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        settings = crawler.settings
        return cls(
            crawler.stats,
            workers=crawl_setting(settings, "CRAWL_EXTRACT_WORKERS"),
            min_body_chars=crawl_setting(settings, "EXTRACT_MIN_BODY_CHARS"),
            jsonld_max_chars=crawl_setting(settings, "EXTRACT_JSONLD_MAX_CHARS"),
            max_body_chars=crawl_setting(settings, "EXTRACT_MAX_BODY_CHARS"),
        )

    def open_spider(self) -> None:
        self.extractor = acquire_extractor(self.workers)

    def close_spider(self) -> None:
        if self.extractor is not None:
            self.extractor = None
            release_extractor()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        try:
            article = await self._article(item)
        except ExtractionError as exc:
            self._drop(item, "parse", str(exc).removeprefix(f"{item.url}: "))
        except _Blocked as exc:
            self._drop(item, "blocked", str(exc))
        logger.debug("source=%s url=%s extracted %r", item.source_id, item.url, article.title)
        record = dataclasses.replace(item.record, article_url=article.url, content_hash=article.content_hash)
        return ExtractedArticle(article, record)

    async def _article(self, page: FetchedPage) -> Article:
        if page.content_item is not None:  # a Content API item: its body is HTML already isolated
            return content_item_article(
                page.content_item,
                page.url,
                page.source_id,
                min_body_chars=self.min_body_chars,
                max_body_chars=self.max_body_chars,
                fallback_published=page.hint.published,
            )
        blocked = blocked_reason(page.body, page.content_type)
        if blocked:
            raise _Blocked(blocked)
        extractor = self.extractor or _INLINE  # _INLINE: used without a spider (no open_spider)
        override = self._override(page)
        # In a worker process when there are spare cores (see _extract_pool).
        return await extractor.extract(
            page.body,
            page.url,
            page.source_id,
            page.charset,
            min_body_chars=self.min_body_chars,
            jsonld_max_chars=self.jsonld_max_chars,
            max_body_chars=self.max_body_chars,
            fallback=page.hint.as_fallback(),
            exclude=override.exclude,
            body_css=override.body,
            local_timezone=page.source.local_timezone,
        )

    def _override(self, page: FetchedPage) -> ExtractionOverride:
        """The version of the source's extraction override valid today (a redesign dates a new one)."""
        override = self._overrides.get(page.source_id)
        if override is None:
            override = page.source.selectors.override_on(utcnow().date())
            self._overrides[page.source_id] = override
        return override

    def _drop(self, page: FetchedPage, error_class: ErrorClass, reason: str) -> NoReturn:
        failure = CrawlFailure(error_class, page.url, reason)
        record_error(self.stats, page.source_id, failure)
        # Counted and logged above, once: Scrapy's own "Dropped" line only with -v.
        raise DropItem(failure.message, log_level="DEBUG")


_INLINE = Extractor(0)


class _Blocked(Exception):
    """A page that is a bot wall or an empty app shell, not an article."""
