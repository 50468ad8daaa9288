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

import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
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
from regwatch.models import Article, Source
from regwatch.settings import BY_NAME

from ._extract import extract_article
from ._feeds import parse_feed
from ._stats import add_error, count
from ._text import clean_authors, clean_text, html_to_text, parse_date

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

    def as_fallback(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(error class, short reason) for a failed download, classes as in ``SourceError``."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        return "http", f"HTTP {response.status}" if response is not None else "HTTP error"
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or "request ignored"
        return ("robots" if "robots" in text.lower() else "blocked"), text
    if isinstance(exc, CannotResolveHostError | twisted_errors.DNSLookupError):
        return "dns", f"cannot resolve host ({exc})"
    if isinstance(exc, DownloadConnectionRefusedError | twisted_errors.ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(exc, DownloadTimeoutError | twisted_errors.TimeoutError | twisted_errors.TCPTimedOutError):
        return "timeout", str(exc) or "timed out"
    reasons = [exc, *[getattr(r, "value", r) for r in getattr(exc, "reasons", [])]]
    if any("ssl" in type(r).__module__.lower() or "tls" in type(r).__name__.lower() for r in reasons):
        return "tls", f"TLS failure ({type(reasons[-1]).__name__}: {reasons[-1]})"
    return "other", f"{type(exc).__name__}: {exc}"


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
        **kwargs: Any,
    ) -> None:
        src = source if isinstance(source, Source) else Source.from_dict(dict(source))
        super().__init__(name=src.id, **kwargs)
        self.source = src
        self.max_pages = max_pages
        self.max_listing_pages = max(1, max_listing_pages)
        self.min_body_chars = min_body_chars
        self._article_urls: set[str] = set()
        self._limit_logged = False

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
        kwargs.setdefault(
            "min_body_chars",
            settings.getint("REGWATCH_MIN_BODY_CHARS", BY_NAME["EXTRACT_MIN_BODY_CHARS"].default),
        )
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider._on_item_error, signal=signals.item_error)
        return spider  # type: ignore[return-value]

    # --- bookkeeping ---------------------------------------------------------

    @property
    def source_id(self) -> str:
        return self.source.id

    def record_error(self, error_class: str, url: str, reason: str) -> None:
        logger.warning("source=%s url=%s %s error: %s", self.source_id, url, error_class, reason)
        add_error(self.crawler.stats, self.source_id, error_class, url, reason)

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
        return scrapy.Request(
            url,
            callback=self.parse_index,
            errback=self.index_failed,
            cb_kwargs={"page": page},
            dont_filter=page == 1,
            meta={"regwatch_role": "index"},
        )

    def parse_index(self, response: Response, page: int) -> Iterator[Any]:
        try:
            yield from self.parse_index_page(response, page)
        except SourceError as exc:
            self.record_error(exc.error_class, exc.url or response.url, str(exc))

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        raise NotImplementedError

    def index_failed(self, failure: Failure) -> None:
        error_class, reason = classify_failure(failure)
        url = failure.request.url if hasattr(failure, "request") else self.source.url  # type: ignore[attr-defined]
        self.record_error(error_class, url, f"index unavailable: {reason}")

    def next_page(self, response: Response, url: str | None, page: int) -> scrapy.Request | None:
        """The request for the next index page, unless the page limit is reached."""
        if not url or not url.strip():
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

    def article_request(self, url: str, hint: ArticleHint | None = None) -> scrapy.Request | None:
        """A request for an article page; None for a repeat or beyond CRAWL_MAX_PAGES."""
        if url in self._article_urls:
            return None
        if len(self._article_urls) >= self.max_pages:
            if not self._limit_logged:
                logger.info(
                    "source=%s url=%s not fetched: CRAWL_MAX_PAGES=%d reached",
                    self.source_id,
                    url,
                    self.max_pages,
                )
                self._limit_logged = True
            return None
        self._article_urls.add(url)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            cb_kwargs={"hint": hint or ArticleHint()},
            meta={"regwatch_role": "article"},
        )

    def parse_article(self, response: Response, hint: ArticleHint) -> Iterator[Article]:
        count(self.crawler.stats, self.source_id, "pages_fetched")
        try:
            article = extract_article(
                response.body,
                response.url,
                self.source_id,
                _charset(response),
                min_body_chars=self.min_body_chars,
                fallback=hint.as_fallback(),
                exclude=self.source.selectors.get("exclude", ""),
            )
        except ExtractionError as exc:
            self.record_error("parse", response.url, str(exc).removeprefix(f"{response.url}: "))
            return
        logger.debug("source=%s url=%s extracted %r", self.source_id, response.url, article.title)
        yield article

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        error_class, reason = classify_failure(failure)
        if error_class == "http":
            count(self.crawler.stats, self.source_id, "pages_fetched")  # downloaded, with an error status
        if error_class == "robots":
            # Policy, not failure: the site asked not to be crawled there.
            logger.info("source=%s url=%s skipped: forbidden by robots.txt", self.source_id, request.url)
            count(self.crawler.stats, self.source_id, "robots_blocked")
            return
        self.record_error(error_class, request.url, reason)


class FeedSpider(SourceSpider):
    """RSS 2.0, RSS 1.0 and Atom feeds; a malformed entry is logged and skipped."""

    name = "regwatch-feed"
    kind = "feed"

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        feed = parse_feed(response.body, response.url)
        for problem in feed.skipped:  # an entry lost: counted as an error of the source
            self.record_error("parse", response.url, f"feed {problem}; skipped")
        for problem in feed.problems:
            logger.warning("source=%s url=%s malformed feed entry: %s", self.source_id, response.url, problem)
        if not feed.entries:
            raise SourceError(f"{feed.kind} feed has no usable entries", "empty", response.url)
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


class JsonApiSpider(SourceSpider):
    """GOV.UK-search-like JSON APIs.

    ``selectors`` maps ``results``, ``link``, ``title``, ``published``, ``summary``
    (and optionally ``total``, ``start``) to dotted field paths. Links are
    resolved against the API URL. When ``total`` says there is more, the next
    page is requested with ``start``/``count`` query parameters.
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
        for position, result in enumerate(results):
            link = get_path(result, selectors.get("link", "link"))
            if not isinstance(link, str) or not link.strip():
                logger.warning(
                    "source=%s url=%s API result %d without a link skipped",
                    self.source_id,
                    response.url,
                    position,
                )
                continue
            hint = ArticleHint(
                title=html_to_text(str(get_path(result, selectors.get("title", "title")) or "")),
                summary=html_to_text(str(get_path(result, selectors.get("summary", "description")) or "")),
                published=parse_date(get_path(result, selectors.get("published", "public_timestamp"))),
                authors=clean_authors(
                    [get_path(result, selectors["authors"])] if selectors.get("authors") else []
                ),
            )
            found += 1
            request = self.article_request(response.urljoin(link.strip()), hint)
            if request is not None:
                yield request
        logger.info("source=%s url=%s API page %d: %d results", self.source_id, response.url, page, found)
        if found == 0 and page == 1:
            raise SourceError("API returned no results", "empty", response.url)
        total = get_path(data, selectors.get("total", "total"))
        start = get_path(data, selectors.get("start", "start"))
        if not isinstance(start, int):
            start = _int(url_query_parameter(response.url, "start"))
        if isinstance(total, int) and results and start + len(results) < total:
            page_size = _int(url_query_parameter(response.url, "count")) or len(results)
            next_url = add_or_replace_parameters(
                response.url, {"start": str(start + len(results)), "count": str(page_size)}
            )
            request = self.next_page(response, next_url, page)
            if request is not None:
                yield request


SPIDERS: dict[str, type[SourceSpider]] = {
    FeedSpider.kind: FeedSpider,
    ListingSpider.kind: ListingSpider,
    JsonApiSpider.kind: JsonApiSpider,
}


def spider_for(source: Source) -> type[SourceSpider]:
    """The generic spider class for a source's kind."""
    try:
        return SPIDERS[source.kind]
    except KeyError:
        raise SourceError(
            f"source {source.id!r}: unknown kind {source.kind!r} (expected one of {', '.join(SPIDERS)})",
            "other",
            source.url,
        ) from None
