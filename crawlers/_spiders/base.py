"""The base of every generic spider: index → article pages, with what they share.

A kind's spider (one module each beside this one) only reads its index: it
turns a feed, listing, sitemap or API page into :meth:`SourceSpider.article_request`
calls and the next index page. Everything else lives here, once: the first
index request and its conditional GET, the look-back and page caps
(``CRAWL_LOOKBACK_DAYS``, ``CRAWL_MAX_PAGES``, ``CRAWL_MAX_LISTING_PAGES``), one
request per canonical URL, 304 and bot-wall handling, error counting per source,
and the index pages' fetch records kept until everything they listed is settled.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from regwatch.errors import ErrorClass, SourceError
from regwatch.models import CrawlFailure, Source, utcnow
from regwatch.settings import BY_NAME

from .._failures import classify_failure
from .._govuk import ContentItem
from .._health import blocked_reason
from .._http import charset, header
from .._items import ArticleHint, FetchedPage
from .._ledger import FetchRecord, validators_from
from .._stats import count, record_error, set_index_failure, stat_key
from .._text import join_url
from .._urls import canonical_url
from ..settings import crawl_setting

logger = logging.getLogger(__name__)


class SourceSpider(scrapy.Spider):
    """Base of the generic spiders: index → article pages → ``FetchedPage`` items (read by ``ExtractPipeline``)."""

    name = "regwatch-source"
    kind: ClassVar[str] = ""

    def __init__(
        self,
        source: Source | Mapping[str, Any],
        max_pages: int = BY_NAME["CRAWL_MAX_PAGES"].default,
        max_listing_pages: int = BY_NAME["CRAWL_MAX_LISTING_PAGES"].default,
        validators: Mapping[str, Mapping[str, Any]] | None = None,
        probe: bool = False,
        lookback_days: int = BY_NAME["CRAWL_LOOKBACK_DAYS"].default,
        **kwargs: Any,
    ) -> None:
        src = source if isinstance(source, Source) else Source.from_dict(dict(source))
        super().__init__(name=src.id, **kwargs)
        self.source = src
        self.max_pages = max_pages
        self.max_listing_pages = max(1, max_listing_pages)
        # canonical URL -> ETag/Last-Modified from the fetch ledger, for conditional GETs
        self.validators = validators_from(validators)
        self.probe = probe  # fetch the index only: count what it lists, follow nothing
        # Entries dated before this are skipped without a request (None: no look-back limit).
        self.cutoff = utcnow() - timedelta(days=lookback_days) if lookback_days > 0 else None
        self._article_urls: set[str] = set()  # canonical URLs requested in this run
        self._limit_logged = False
        # Index pages' validators wait here until every article they listed is settled: recording
        # them earlier would let a crash (or a failed article) hide those articles behind a 304.
        self._index_records: dict[str, FetchRecord] = {}
        self._in_flight: set[str] = set()  # article requests without an answer yet
        self._cut_short = False  # CRAWL_MAX_PAGES left listed articles unfetched

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        for arg, name in (
            ("max_pages", "CRAWL_MAX_PAGES"),
            ("max_listing_pages", "CRAWL_MAX_LISTING_PAGES"),
            ("lookback_days", "CRAWL_LOOKBACK_DAYS"),
        ):
            kwargs.setdefault(arg, crawl_setting(crawler.settings, name))
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider._on_item_error, signal=signals.item_error)
        return spider

    # --- bookkeeping ---------------------------------------------------------

    @property
    def source_id(self) -> str:
        return self.source.id

    def record_error(self, error_class: ErrorClass, url: str, reason: str) -> None:
        """Count one error of this source and log it: one WARNING line."""
        self.record_failure(CrawlFailure(error_class, url, reason))

    def record_failure(self, failure: CrawlFailure, traceback: Failure | None = None) -> None:
        """Count one failure of this source and log it: one WARNING line; its traceback at DEBUG (``-v``)."""
        record_error(self.crawler.stats, self.source_id, failure, traceback)

    def _on_spider_error(self, failure: Failure, response: Response, spider: scrapy.Spider) -> None:
        """A callback raised: count it for this source; Scrapy carries on with the other requests."""
        if spider is self:
            exc = failure.value
            self.record_error("other", response.url, f"{type(exc).__name__}: {exc}")

    def _on_item_error(self, item: Any, response: Response, spider: scrapy.Spider, failure: Failure) -> None:
        """An item pipeline raised: the article is lost, so it is an error of this source."""
        if spider is self:
            exc = failure.value
            url = getattr(item, "url", "") or (response.url if response is not None else self.source.url)
            self.record_error("other", url, f"item pipeline failed: {type(exc).__name__}: {exc}")

    # --- index ---------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        logger.info("source=%s url=%s crawl of %s source starts", self.source_id, self.source.url, self.kind)
        yield self.index_request(self.source.url, page=1)

    def index_request(self, url: str, page: int) -> scrapy.Request:
        key = canonical_url(url)
        # A probe checks the source as it is now: it never asks "changed since?".
        known = None if self.probe else self.validators.get(key)
        return scrapy.Request(
            url,
            callback=self.parse_index,
            errback=self.index_failed,
            cb_kwargs={"page": page},
            dont_filter=page == 1,
            headers=known.headers() if known else None,
            meta={"regwatch_role": "index", "regwatch_key": key, "handle_httpstatus_list": [304]},
        )

    def parse_index(self, response: Response, page: int) -> Iterator[Any]:
        if page == 1 and response.meta.get("download_latency") is not None:
            latency_ms = round(float(response.meta["download_latency"]) * 1000)
            self.crawler.stats.set_value(stat_key(self.source_id, "index_latency_ms"), latency_ms)
        if response.status == 304:
            # The index is as it was when every article it listed was settled: nothing new.
            count(self.crawler.stats, self.source_id, "index_not_modified")
            logger.info("source=%s url=%s index not modified: nothing new", self.source_id, response.url)
            return
        try:
            blocked = blocked_reason(response.body, header(response, "Content-Type"))
            if blocked:
                raise SourceError(blocked, "blocked", response.url)
            yield from self.parse_index_page(response, page)
            self._remember_index(response)
        except SourceError as exc:
            url = exc.url or response.url
            failure = CrawlFailure(exc.error_class, url, str(exc).removeprefix(f"{url}: "))
            self.record_failure(failure)
            if page == 1:
                set_index_failure(self.crawler.stats, self.source_id, failure)

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        raise NotImplementedError

    def _remember_index(self, response: Response) -> None:
        """Keep a parsed index page's validators for :meth:`settled_index_records`."""
        etag, last_modified = header(response, "ETag"), header(response, "Last-Modified")
        if self.probe or not (etag or last_modified) or response.meta.get("regwatch_no_validators"):
            return
        key = response.meta.get("regwatch_key") or canonical_url(response.url)
        digest = hashlib.sha256(response.body).hexdigest()
        self._index_records[key] = FetchRecord(
            key, self.source_id, response.status, etag, last_modified, "", digest, index=True
        )

    def settled_index_records(self) -> list[FetchRecord]:
        """The index pages' fetch records, if this run settled everything they listed.

        Called by the store pipeline when the spider closes. Settled: no article
        request is still unanswered (a crash or a shutdown never gets here, or
        leaves some), none failed, none was left out by CRAWL_MAX_PAGES. Then a
        304 on the next run rightly means "nothing new"; otherwise the next run
        reads the index in full again, so nothing listed is ever hidden by a 304.
        """
        if not self._index_records:
            return []
        errors = int(self.crawler.stats.get_value(stat_key(self.source_id, "errors"), 0) or 0)
        unsettled = (
            f"{len(self._in_flight)} article request(s) unanswered"
            if self._in_flight
            else f"{errors} error(s)"
            if errors
            else "CRAWL_MAX_PAGES left articles unfetched"
            if self._cut_short
            else ""
        )
        if unsettled:
            logger.info(
                "source=%s url=%s index validators not kept (%s): the next run reads the index in full",
                self.source_id,
                self.source.url,
                unsettled,
            )
            return []
        return list(self._index_records.values())

    def index_failed(self, failure: Failure) -> None:
        classified = classify_failure(failure)
        request = getattr(failure, "request", None)
        failed = replace(
            classified,
            url=classified.url or self.source.url,
            reason=f"index unavailable: {classified.reason}",
        )
        self.record_failure(failed, failure)
        if request is None or request.cb_kwargs.get("page", 1) == 1:
            set_index_failure(self.crawler.stats, self.source_id, failed)

    def found(self, n: int) -> None:
        """Count entries the index listed (the source's volume, followed or not)."""
        count(self.crawler.stats, self.source_id, "items_found", n)

    def past_lookback(self, dates: list[datetime | None]) -> bool:
        """True when an index page's entries are all dated before the look-back: read no further.

        An undated entry keeps paging on (it may be recent); CRAWL_MAX_LISTING_PAGES still bounds it.
        """
        cutoff = self.cutoff
        return cutoff is not None and bool(dates) and all(d is not None and d < cutoff for d in dates)

    def absolute(self, response: Response, link: str) -> str | None:
        """``link`` made absolute against the response (its ``<base>`` too); None, logged, for a
        malformed address ("http://[abc"), so one bad link never stops the page's others."""
        try:
            base = response.urljoin("")  # the page's <base>, else its own address
        except ValueError:
            base = response.url  # a malformed <base>
        url = join_url(base, link)
        if url is None:
            logger.warning(
                "source=%s url=%s skipping malformed link %r", self.source_id, response.url, link[:200]
            )
        return url

    def next_page(self, response: Response, url: str | None, page: int) -> scrapy.Request | None:
        """The request for the next index page, unless the page limit is reached."""
        if not url or not url.strip() or self.probe:
            return None
        url = self.absolute(response, url)
        if url is None:
            return None
        if page >= self.max_listing_pages:
            logger.info(
                "source=%s url=%s not following page %d: CRAWL_MAX_LISTING_PAGES=%d",
                self.source_id,
                url,
                page + 1,
                self.max_listing_pages,
            )
            return None
        return self.index_request(url, page + 1)

    # --- articles ------------------------------------------------------------

    def article_request(
        self,
        url: str,
        hint: ArticleHint | None = None,
        *,
        callback: Callable[..., Any] | None = None,
        lookback: bool = True,
    ) -> scrapy.Request | None:
        """A request for an article page; None for a repeat, too old, or beyond CRAWL_MAX_PAGES.

        Repeats are judged by :func:`canonical_url` (tracking parameters, AMP and
        mobile variants are one page); a page the ledger knows is asked for
        conditionally and may answer 304. ``callback`` reads the answer
        (default :meth:`parse_article`); ``lookback=False`` skips the date check,
        for a page asked for in place of an article already judged recent.
        """
        key = canonical_url(url)
        if key in self._article_urls or self.probe:
            return None
        dated = hint.published or hint.updated if hint else None
        if lookback and self.cutoff is not None and dated is not None and dated < self.cutoff:
            logger.debug(
                "source=%s url=%s skipped: dated %s, before the look-back", self.source_id, url, dated
            )
            count(self.crawler.stats, self.source_id, "too_old")
            return None
        if len(self._article_urls) >= self.max_pages:
            self._cut_short = True
            if not self._limit_logged:
                logger.info(
                    "source=%s url=%s not fetched: CRAWL_MAX_PAGES=%d reached",
                    self.source_id,
                    url,
                    self.max_pages,
                )
                self._limit_logged = True
            return None
        self._article_urls.add(key)
        self._in_flight.add(key)
        known = self.validators.get(key)
        return scrapy.Request(
            url,
            callback=callback or self.parse_article,
            errback=self.article_failed,
            dont_filter=True,  # repeats are judged above; a redirect loop must end in an error, not silence
            headers=known.headers() if known else None,
            cb_kwargs={"hint": hint or ArticleHint()},
            meta={"regwatch_role": "article", "regwatch_key": key, "handle_httpstatus_list": [304]},
        )

    def article_answered(self, response: Response) -> tuple[str, FetchRecord | None]:
        """Settle an article request: (its ledger key, the fetch record of a 304, else None).

        A 304 is counted as ``not_modified``, anything else (a 2xx: others are
        errors) as ``pages_fetched``.
        """
        key = response.meta.get("regwatch_key") or canonical_url(response.url)
        self._in_flight.discard(key)
        if response.status != 304:
            count(self.crawler.stats, self.source_id, "pages_fetched")
            return key, None
        # Unchanged since the ledger's validators: nothing to download or store.
        count(self.crawler.stats, self.source_id, "not_modified")
        logger.debug("source=%s url=%s not modified", self.source_id, response.url)
        known = self.validators.get(key)
        return key, FetchRecord(
            key,
            self.source_id,
            304,
            header(response, "ETag") or (known.etag if known else ""),
            header(response, "Last-Modified") or (known.last_modified if known else ""),
        )

    def fetched_page(
        self, response: Response, key: str, hint: ArticleHint, content_item: ContentItem | None = None
    ) -> FetchedPage:
        """The item for the extraction pipeline: the page (or its parsed Content API item) and its record.

        A page read in place of another answer (a Content API item without body
        text) is recorded as that answer (``regwatch_record_as``: its key and
        validators), so the next run asks the API conditionally and stops at its 304.
        """
        key, etag, last_modified = response.meta.get("regwatch_record_as") or (
            key,
            header(response, "ETag"),
            header(response, "Last-Modified"),
        )
        return FetchedPage(
            source=self.source,
            url=response.url,
            hint=hint,
            record=FetchRecord(key, self.source_id, response.status, etag, last_modified),
            body=b"" if content_item is not None else response.body,
            content_type=header(response, "Content-Type"),
            charset=charset(response),
            content_item=content_item,
        )

    def blocked(self, response: Response) -> bool:
        """True (and recorded) when an answer is a bot wall."""
        reason = blocked_reason(response.body, header(response, "Content-Type"))
        if reason:
            self.record_error("blocked", response.url, reason)
        return bool(reason)

    def parse_article(self, response: Response, hint: ArticleHint) -> Iterator[FetchedPage | FetchRecord]:
        """An article page's answer: its 304 record, or the page for the extraction pipeline."""
        key, not_modified = self.article_answered(response)
        if not_modified is not None:
            yield not_modified
            return
        yield self.fetched_page(response, key, hint)

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self._in_flight.discard(request.meta.get("regwatch_key") or canonical_url(request.url))
        failed = classify_failure(failure)
        redirects = request.meta.get("redirect_urls") or []
        if redirects and redirects[0] != request.url:
            # Report the page the index linked, and where its redirects led.
            failed = replace(
                failed, url=redirects[0], reason=f"{failed.reason} (redirected to {request.url})"
            )
        if failed.error_class == "robots":
            # Policy, not failure: the site asked not to be crawled there.
            logger.info("source=%s url=%s skipped: forbidden by robots.txt", self.source_id, failed.url)
            count(self.crawler.stats, self.source_id, "robots_blocked")
            return
        self.record_failure(failed, failure)
