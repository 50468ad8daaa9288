"""One generic spider per source kind, each built from a :class:`~regwatch.models.Source` record.

Every spider fetches the source's index (a feed, an HTML listing or a JSON
search API), follows it to the article pages and yields
:class:`~regwatch.models.Article` items made by :func:`extract_article`; what the
index says about an entry (date, summary, authors) is the fallback for what the
page itself lacks. Failures are counted per source (see ``_stats``) and never
abort the crawl: a failing article page costs one error, a failing index one
error with its class.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors
from twisted.python.failure import Failure
from w3lib.url import add_or_replace_parameters, url_query_parameter

from regwatch.errors import ExtractionError, SourceError
from regwatch.models import Article, Source, utcnow
from regwatch.settings import BY_NAME

from ._extract_pool import Extractor, shared_extractor
from ._feeds import parse_feed
from ._govuk import ContentItem, content_item_article, parse_content_item
from ._health import blocked_reason, feed_content_problem
from ._ledger import FetchRecord, validators_from
from ._overrides import extraction_override, override_versions
from ._sitemaps import parse_sitemap
from ._ssrf import SSRF_REFUSAL, connect_refusal
from ._stats import add_error, count, set_index_error, stat_key
from ._text import clean_authors, clean_text, html_to_text, parse_date
from ._urls import canonical_url

logger = logging.getLogger(__name__)


@dataclass
class ArticleHint:
    """What an index (feed entry, listing item, API result) says about an article."""

    title: str = ""
    summary: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    section: str = ""

    def as_fallback(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(error class, short reason) for a failed download, classes as in ``SourceError``."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        if response is None:
            return "http", "HTTP error"
        blocked = blocked_reason(response.body, _header(response, "Content-Type"))
        if blocked:
            return "blocked", f"HTTP {response.status}: {blocked}"
        location = _header(response, "Location")
        if 300 <= response.status < 400 and location:
            return "http", f"HTTP {response.status}: redirect to {location[:120]} not followed (not http(s))"
        return "http", f"HTTP {response.status}"
    text = str(exc)
    if (isinstance(exc, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in text) or (
        # Scrapy cancels a download that outgrows the limit, with an empty message when
        # the size was not announced; nothing else cancels a download in a running crawl.
        isinstance(exc, DownloadCancelledError) and ("larger than download max size" in text or not text)
    ):
        # Scrapy drops these (scrapy issue 6616): count and report them as the size limit's doing.
        size = re.search(r"(\d{1,20}) (?:bytes|B compressed)", text)
        got = f" (got {size.group(1)} bytes before it stopped)" if size else ""
        return "too_large", f"response dropped: bigger than CRAWL_MAX_BYTES{got}"
    if isinstance(exc, IgnoreRequest) and "redirections" in text:
        return "http", f"redirect loop ({text})"
    if isinstance(exc, IgnoreRequest):
        text = text or "request ignored"
        return ("robots" if "robots" in text.lower() else "blocked"), text
    if isinstance(exc, CannotResolveHostError | twisted_errors.DNSLookupError):
        request = getattr(failure, "request", None)
        refused = connect_refusal(urlsplit(request.url).hostname or "") if request is not None else ""
        if refused:  # it did resolve, to an address the resolver would not connect to
            return "blocked", f"{SSRF_REFUSAL}: {refused}"
        return "dns", f"cannot resolve host ({exc})"
    if isinstance(exc, DownloadConnectionRefusedError | twisted_errors.ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(exc, DownloadTimeoutError | twisted_errors.TimeoutError | twisted_errors.TCPTimedOutError):
        return "timeout", str(exc) or "timed out"
    reasons = [exc, *[getattr(r, "value", r) for r in getattr(exc, "reasons", [])]]
    if any("ssl" in type(r).__module__.lower() or "tls" in type(r).__name__.lower() for r in reasons):
        return "tls", f"TLS failure ({type(reasons[-1]).__name__}: {reasons[-1]})"
    return "other", f"{type(exc).__name__}: {exc}"


def _header(response: Response, name: str) -> str:
    value = response.headers.get(name.encode("ascii"), b"") or b""
    return value.decode("latin-1").strip()


def _charset(response: Response) -> str | None:
    """The charset of the Content-Type header, if any."""
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


class SourceSpider(scrapy.Spider):
    """Base of the generic spiders: index → article pages → ``Article`` items."""

    name = "regwatch-source"
    kind: ClassVar[str] = ""

    def __init__(
        self,
        source: Source | Mapping[str, Any],
        max_pages: int = BY_NAME["CRAWL_MAX_PAGES"].default,
        max_listing_pages: int = BY_NAME["CRAWL_MAX_LISTING_PAGES"].default,
        min_body_chars: int = BY_NAME["EXTRACT_MIN_BODY_CHARS"].default,
        jsonld_max_chars: int = BY_NAME["EXTRACT_JSONLD_MAX_CHARS"].default,
        max_body_chars: int = BY_NAME["EXTRACT_MAX_BODY_CHARS"].default,
        validators: Mapping[str, Mapping[str, Any]] | None = None,
        probe: bool = False,
        lookback_days: int = BY_NAME["CRAWL_LOOKBACK_DAYS"].default,
        extract: bool = True,
        extractor: Extractor | None = None,
        **kwargs: Any,
    ) -> None:
        src = source if isinstance(source, Source) else Source.from_dict(dict(source))
        super().__init__(name=src.id, **kwargs)
        self.source = src
        self.max_pages = max_pages
        self.max_listing_pages = max(1, max_listing_pages)
        self.min_body_chars = min_body_chars
        self.jsonld_max_chars = jsonld_max_chars
        self.max_body_chars = max_body_chars
        # canonical URL -> ETag/Last-Modified from the fetch ledger, for conditional GETs
        self.validators = validators_from(validators)
        self.probe = probe  # fetch the index only: count what it lists, follow nothing
        self.extract = extract
        self.extractor = extractor or Extractor(0)  # from_crawler: the crawl process's shared one
        # The version of the source's extraction override valid today (a redesign dates a new one);
        # spider_for() has refused a source whose overrides do not parse.
        self.override = extraction_override(src.selectors, utcnow().date())
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
        settings = crawler.settings
        kwargs.setdefault(
            "max_pages", settings.getint("REGWATCH_MAX_PAGES", BY_NAME["CRAWL_MAX_PAGES"].default)
        )
        kwargs.setdefault(
            "max_listing_pages",
            settings.getint("REGWATCH_MAX_LISTING_PAGES", BY_NAME["CRAWL_MAX_LISTING_PAGES"].default),
        )
        # Off only in `make bench-crawl`'s baseline run: fetch and count pages, extract nothing.
        kwargs.setdefault("extract", settings.getbool("REGWATCH_EXTRACT_ENABLED", True))
        kwargs.setdefault(
            "lookback_days",
            settings.getint("REGWATCH_LOOKBACK_DAYS", BY_NAME["CRAWL_LOOKBACK_DAYS"].default),
        )
        kwargs.setdefault(
            "min_body_chars",
            settings.getint("REGWATCH_MIN_BODY_CHARS", BY_NAME["EXTRACT_MIN_BODY_CHARS"].default),
        )
        kwargs.setdefault(
            "jsonld_max_chars",
            settings.getint("REGWATCH_JSONLD_MAX_CHARS", BY_NAME["EXTRACT_JSONLD_MAX_CHARS"].default),
        )
        kwargs.setdefault(
            "max_body_chars",
            settings.getint("REGWATCH_MAX_BODY_CHARS", BY_NAME["EXTRACT_MAX_BODY_CHARS"].default),
        )
        kwargs.setdefault(
            "extractor",
            shared_extractor(
                settings.getint("REGWATCH_EXTRACT_WORKERS", BY_NAME["CRAWL_EXTRACT_WORKERS"].default)
            ),
        )
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider._on_item_error, signal=signals.item_error)
        return spider  # type: ignore[return-value]

    # --- bookkeeping ---------------------------------------------------------

    @property
    def source_id(self) -> str:
        return self.source.id

    def record_error(self, error_class: str, url: str, reason: str, failure: Failure | None = None) -> None:
        """Count one error of this source and log it: one WARNING line; its traceback at DEBUG (``-v``)."""
        logger.warning("source=%s url=%s %s error: %s", self.source_id, url, error_class, reason)
        if failure is not None and logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "source=%s url=%s %s error, in full:\n%s",
                self.source_id,
                url,
                error_class,
                failure.getTraceback(),
            )
        add_error(self.crawler.stats, self.source_id, error_class, url, reason)
        if error_class == "too_large":
            count(self.crawler.stats, self.source_id, "too_large")

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
            blocked = blocked_reason(response.body, _header(response, "Content-Type"))
            if blocked:
                raise SourceError(blocked, "blocked", response.url)
            yield from self.parse_index_page(response, page)
            self._remember_index(response)
        except SourceError as exc:
            url = exc.url or response.url
            reason = str(exc).removeprefix(f"{url}: ")
            self.record_error(exc.error_class, url, reason)
            if page == 1:
                set_index_error(self.crawler.stats, self.source_id, exc.error_class, url, reason)

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        raise NotImplementedError

    def _remember_index(self, response: Response) -> None:
        """Keep a parsed index page's validators for :meth:`settled_index_records`."""
        etag, last_modified = _header(response, "ETag"), _header(response, "Last-Modified")
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
        error_class, reason = classify_failure(failure)
        request = getattr(failure, "request", None)
        url = request.url if request is not None else self.source.url
        self.record_error(error_class, url, f"index unavailable: {reason}", failure)
        if request is None or request.cb_kwargs.get("page", 1) == 1:
            set_index_error(
                self.crawler.stats, self.source_id, error_class, url, f"index unavailable: {reason}"
            )

    def found(self, n: int) -> None:
        """Count entries the index listed (the source's volume, followed or not)."""
        count(self.crawler.stats, self.source_id, "items_found", n)

    def past_lookback(self, dates: list[datetime | None]) -> bool:
        """True when an index page's entries are all dated before the look-back: read no further.

        An undated entry keeps paging on (it may be recent); CRAWL_MAX_LISTING_PAGES still bounds it.
        """
        cutoff = self.cutoff
        return cutoff is not None and bool(dates) and all(d is not None and d < cutoff for d in dates)

    def next_page(self, response: Response, url: str | None, page: int) -> scrapy.Request | None:
        """The request for the next index page, unless the page limit is reached."""
        if not url or not url.strip() or self.probe:
            return None
        url = response.urljoin(url.strip())
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

    def article_answered(self, response: Response) -> tuple[str, FetchRecord | None, bool]:
        """Settle an article request: (ledger key, the 304's fetch record or None, whether to read it).

        A 304 is counted as ``not_modified``, anything else (a 2xx: others are
        errors) as ``pages_fetched``; a page is read unless extraction is off or
        it is a bot wall (recorded as ``blocked``).
        """
        key = response.meta.get("regwatch_key") or canonical_url(response.url)
        self._in_flight.discard(key)
        if response.status != 304:
            count(self.crawler.stats, self.source_id, "pages_fetched")
            return key, None, self.extract and not self.blocked(response)
        # Unchanged since the ledger's validators: nothing to download or store.
        count(self.crawler.stats, self.source_id, "not_modified")
        logger.debug("source=%s url=%s not modified", self.source_id, response.url)
        known = self.validators.get(key)
        return (
            key,
            FetchRecord(
                key,
                self.source_id,
                304,
                _header(response, "ETag") or (known.etag if known else ""),
                _header(response, "Last-Modified") or (known.last_modified if known else ""),
            ),
            False,
        )

    def article_found(
        self, response: Response, key: str, article: Article
    ) -> Iterator[Article | FetchRecord]:
        """Yield an extracted article, then its fetch record for the ledger.

        A page read in place of another answer (a Content API item without body
        text) is recorded as that answer (``regwatch_record_as``: its key and
        validators), so the next run asks the API conditionally and stops at its 304.
        """
        logger.debug("source=%s url=%s extracted %r", self.source_id, response.url, article.title)
        yield article
        key, etag, last_modified = response.meta.get("regwatch_record_as") or (
            key,
            _header(response, "ETag"),
            _header(response, "Last-Modified"),
        )
        # After the article: the ledger pipeline records it only once the article is stored.
        yield FetchRecord(
            key, self.source_id, response.status, etag, last_modified, article.url, article.content_hash
        )

    def blocked(self, response: Response) -> bool:
        """True (and recorded) when an article answer is a bot wall."""
        reason = blocked_reason(response.body, _header(response, "Content-Type"))
        if reason:
            self.record_error("blocked", response.url, reason)
        return bool(reason)

    async def parse_article(
        self, response: Response, hint: ArticleHint
    ) -> AsyncIterator[Article | FetchRecord]:
        key, not_modified, readable = self.article_answered(response)
        if not_modified is not None:
            yield not_modified
        if not readable:
            return
        try:
            # In a worker process when there are spare cores (see _extract_pool): meanwhile
            # the crawl goes on fetching and storing.
            article = await self.extractor.extract(
                response.body,
                response.url,
                self.source_id,
                _charset(response),
                min_body_chars=self.min_body_chars,
                jsonld_max_chars=self.jsonld_max_chars,
                max_body_chars=self.max_body_chars,
                fallback=hint.as_fallback(),
                exclude=self.override.exclude,
                body_css=self.override.body,
                local_timezone=self.source.local_timezone,
            )
        except ExtractionError as exc:
            self.record_error("parse", response.url, str(exc).removeprefix(f"{response.url}: "))
            return
        for found in self.article_found(response, key, article):
            yield found

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self._in_flight.discard(request.meta.get("regwatch_key") or canonical_url(request.url))
        error_class, reason = classify_failure(failure)
        redirects = request.meta.get("redirect_urls") or []
        if redirects and redirects[0] != request.url:
            # Report the page the index linked, and where its redirects led.
            reason = f"{reason} (redirected to {request.url})"
            request = request.replace(url=redirects[0])
        if error_class == "robots":
            # Policy, not failure: the site asked not to be crawled there.
            logger.info("source=%s url=%s skipped: forbidden by robots.txt", self.source_id, request.url)
            count(self.crawler.stats, self.source_id, "robots_blocked")
            return
        self.record_error(error_class, request.url, reason, failure)


class FeedSpider(SourceSpider):
    """RSS 2.0, RSS 1.0 and Atom feeds; a malformed entry is logged and skipped."""

    name = "regwatch-feed"
    kind = "feed"

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        not_a_feed = feed_content_problem(response.body, _header(response, "Content-Type"))
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


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def get_path(data: Any, path: str) -> Any:
    """Follow a dotted path (``results``, ``meta.total``, ``organisations.0.slug``) into JSON data."""
    current = data
    for part in path.split(".") if path else []:
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            current = current[index] if -len(current) <= index < len(current) else None
        else:
            return None
    return current


_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z0-9_.\-]+)(?:\|(date|path))?\}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _template_value(text: str, template_filter: str | None) -> str:
    """One filled template field, URL-quoted; "" when the filter refuses the value."""
    if template_filter == "date":
        day = _ISO_DAY.match(text)
        parsed = None if day else parse_date(text)
        return day.group(0) if day else (parsed.date().isoformat() if parsed else "")
    if template_filter == "path":
        # A path on the site itself ("/government/news/x"): slashes kept; a full URL is refused.
        return quote(text, safe="/") if text.startswith("/") and not text.startswith("//") else ""
    return quote(text, safe="")


def fill_link_template(template: str, result: Any) -> str | None:
    """A URL built from one API result: ``{dotted.path}`` fields, URL-quoted.

    ``{path|date}`` keeps the ``YYYY-MM-DD`` day of a timestamp as the publisher
    wrote it (no timezone shift); ``{path|path}`` takes a site path
    (``/government/news/x``) with its slashes, and refuses anything else (a full
    URL to another site). None when a field is missing, empty or refused, so a
    result that cannot be linked is skipped, not turned into a wrong URL.
    """
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = get_path(result, match.group(1))
        text = "" if value is None or isinstance(value, Mapping | list) else str(value).strip()
        filled = _template_value(text, match.group(2)) if text else ""
        missing = missing or not filled
        return filled

    url = _TEMPLATE_FIELD.sub(fill, template)
    return None if missing else url


class JsonApiSpider(SourceSpider):
    """JSON search APIs (GOV.UK search, the Federal Register, Parliament's written statements).

    ``selectors`` maps ``results``, ``link``, ``title``, ``published``, ``summary``
    (and optionally ``authors``, ``total``, ``start``) to dotted field paths. Links
    are resolved against the API URL. An API whose results carry no page URL gets
    ``link_template`` instead (``https://site/detail/{value.dateMade|date}/{value.uin}``),
    filled from each result's dotted paths.

    Paging: when ``total`` says there is more, the next page is asked for with an
    offset and a page-size query parameter, ``offset_param``/``size_param``
    (default ``start``/``count`` as GOV.UK's search API; ``skip``/``take`` for
    Parliament's APIs), within CRAWL_MAX_LISTING_PAGES, and not past a page whose
    every result is dated before the look-back.

    ``content_api`` is a template like ``link_template``
    (``https://www.gov.uk/api/content{link|path}``): each result is then read from
    GOV.UK's Content API instead of its HTML page (see ``_govuk``), and a result
    the template cannot be filled for is read from its page as usual.
    """

    name = "regwatch-json-api"
    kind = "json_api"

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        selectors = self.source.selectors
        try:
            data = json.loads(response.body)
        except ValueError as exc:
            raise SourceError(f"API answer is not JSON ({exc})", "parse", response.url) from None
        results = get_path(data, selectors.get("results", "results"))
        if not isinstance(results, list):
            raise SourceError(
                f"API answer has no list at {selectors.get('results', 'results')!r}", "parse", response.url
            )
        found = 0
        dates: list[datetime | None] = []
        for position, result in enumerate(results):
            hint = self._hint(result)
            dates.append(hint.published)
            link = self._link(response, position, result)
            if link is None:
                continue
            found += 1
            request = self._follow(response.urljoin(link), result, hint)
            if request is not None:
                yield request
        logger.info("source=%s url=%s API page %d: %d results", self.source_id, response.url, page, found)
        self.found(found)
        if found == 0 and page == 1:
            raise SourceError("API returned no results", "empty", response.url)
        if self.past_lookback(dates):
            logger.info(
                "source=%s url=%s not following page %d: every result is older than the look-back",
                self.source_id,
                response.url,
                page + 1,
            )
            return
        request = self.next_page(response, self._next_url(response, data, len(results)), page)
        if request is not None:
            yield request

    def _hint(self, result: Any) -> ArticleHint:
        selectors = self.source.selectors
        return ArticleHint(
            title=html_to_text(str(get_path(result, selectors.get("title", "title")) or "")),
            summary=html_to_text(str(get_path(result, selectors.get("summary", "description")) or "")),
            published=parse_date(get_path(result, selectors.get("published", "public_timestamp"))),
            authors=clean_authors(
                [get_path(result, selectors["authors"])] if selectors.get("authors") else []
            ),
        )

    def _link(self, response: Response, position: int, result: Any) -> str | None:
        """The result's page link (from ``link`` or ``link_template``); None, logged, when it has none."""
        template = self.source.selectors.get("link_template")
        link = (
            fill_link_template(template, result)
            if template
            else get_path(result, self.source.selectors.get("link", "link"))
        )
        if isinstance(link, str) and link.strip():
            return link.strip()
        logger.warning(
            "source=%s url=%s API result %d without a link skipped", self.source_id, response.url, position
        )
        return None

    def _follow(self, page_url: str, result: Any, hint: ArticleHint) -> scrapy.Request | None:
        """The request for one result: its Content API item when configured, else its page."""
        template = self.source.selectors.get("content_api")
        api_url = fill_link_template(template, result) if template else None
        if api_url is None:
            if template:
                logger.info(
                    "source=%s url=%s no Content API path for this result: reading its page",
                    self.source_id,
                    page_url,
                )
            return self.article_request(page_url, hint)
        return self.article_request(api_url, hint, callback=self.parse_content_item)

    def _next_url(self, response: Response, data: Any, page_results: int) -> str | None:
        """The next page's URL when ``total`` says there is more, else None."""
        selectors = self.source.selectors
        offset_param = selectors.get("offset_param", "start")
        size_param = selectors.get("size_param", "count")
        total = get_path(data, selectors.get("total", "total"))
        offset = get_path(data, selectors.get("start", "start"))
        if not isinstance(offset, int):
            offset = _int(url_query_parameter(response.url, offset_param))
        if not isinstance(total, int) or not page_results or offset + page_results >= total:
            return None
        page_size = _int(url_query_parameter(response.url, size_param)) or page_results
        return add_or_replace_parameters(
            response.url, {offset_param: str(offset + page_results), size_param: str(page_size)}
        )

    def parse_content_item(self, response: Response, hint: ArticleHint) -> Iterator[Any]:
        """A Content API answer: the article built from the item, or its page when it has no body."""
        key, not_modified, readable = self.article_answered(response)
        if not_modified is not None:
            yield not_modified
        if not readable:
            return
        try:
            item = parse_content_item(response.body, response.url)
            if not item.body_html:
                yield from self._page_instead(response, key, item, hint)
                return
            article = content_item_article(
                item,
                response.url,
                self.source_id,
                min_body_chars=self.min_body_chars,
                max_body_chars=self.max_body_chars,
                fallback_published=hint.published,
            )
        except ExtractionError as exc:
            self.record_error("parse", response.url, str(exc).removeprefix(f"{response.url}: "))
            return
        yield from self.article_found(response, key, article)

    def _page_instead(
        self, response: Response, key: str, item: ContentItem, hint: ArticleHint
    ) -> Iterator[scrapy.Request]:
        """The HTML page of an item whose format keeps its text outside ``details.body``.

        The page goes through the normal extraction, with what the item says as its
        fallback, and is recorded in the ledger as the API answer it stands in for.
        """
        logger.info(
            "source=%s url=%s %s item has no body text: reading its page %s",
            self.source_id,
            response.url,
            item.document_type or "content",
            item.page_url,
        )
        page_hint = ArticleHint(
            title=item.title,
            summary=item.summary,
            published=item.published or hint.published,
            updated=item.updated,
            tags=item.tags,
            section=item.section,
        )
        request = self.article_request(item.page_url, page_hint, lookback=False)
        if request is not None:
            etag, last_modified = _header(response, "ETag"), _header(response, "Last-Modified")
            request.meta["regwatch_record_as"] = (key, etag, last_modified)
            yield request


class SitemapSpider(SourceSpider):
    """XML sitemaps and Google News sitemaps; a sitemap index is followed to its sitemaps.

    The newest entries come first (by publication date, else lastmod), so
    CRAWL_MAX_PAGES keeps the recent ones; dated entries before the look-back
    are skipped without a request. ``selectors.follow`` (a substring) limits
    which child sitemaps of an index are followed, e.g. ``news``.
    """

    name = "regwatch-sitemap"
    kind = "sitemap"

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        sitemap = parse_sitemap(response.body, response.url)
        if sitemap.kind == "sitemapindex":
            # An unchanged index says nothing about its child sitemaps: always read it in full.
            response.meta["regwatch_no_validators"] = True
            wanted = self.source.selectors.get("follow", "")
            children = [e for e in sitemap.entries if wanted in e.loc]
            children.sort(key=lambda e: e.lastmod.timestamp() if e.lastmod else 0.0, reverse=True)
            if not children:
                raise SourceError("sitemap index lists no sitemaps to follow", "empty", response.url)
            for child in children[: self.max_listing_pages]:
                yield self.index_request(child.loc, page + 1)
            return
        if not sitemap.entries:
            raise SourceError("sitemap lists no URLs", "empty", response.url)
        self.found(len(sitemap.entries))
        logger.info("source=%s url=%s sitemap: %d URLs", self.source_id, response.url, len(sitemap.entries))

        def newest(entry: Any) -> float:
            when = entry.published or entry.lastmod
            return when.timestamp() if when else 0.0

        for entry in sorted(sitemap.entries, key=newest, reverse=True):
            hint = ArticleHint(
                title=entry.title, published=entry.published, updated=entry.lastmod, tags=entry.keywords
            )
            request = self.article_request(entry.loc, hint)
            if request is not None:
                yield request


SPIDERS: dict[str, type[SourceSpider]] = {
    FeedSpider.kind: FeedSpider,
    SitemapSpider.kind: SitemapSpider,
    ListingSpider.kind: ListingSpider,
    JsonApiSpider.kind: JsonApiSpider,
}


def spider_for(source: Source) -> type[SourceSpider]:
    """The generic spider class for a source's kind; SourceError for a record it cannot crawl."""
    try:
        spider = SPIDERS[source.kind]
    except KeyError:
        raise SourceError(
            f"source {source.id!r}: unknown kind {source.kind!r} (expected one of {', '.join(SPIDERS)})",
            "other",
            source.url,
        ) from None
    try:
        override_versions(source.selectors)
    except ValueError as exc:
        raise SourceError(f"source {source.id!r}: {exc}", "other", source.url) from None
    return spider
