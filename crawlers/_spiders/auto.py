"""The ``auto`` kind: a site followed by what it declares, discovered through the crawl itself.

On its first crawl, when what it follows stops yielding, or when its record
changes, an ``auto`` source is *discovered* (``_discovery``: its hints, the
feeds its page declares, conventional feed addresses, robots.txt and
/sitemap.xml sitemaps, then article links learned from the page; a sitemap
or listing is trusted once three of its pages extract as articles,
``_checks``). Every request goes through the crawl's middlewares like any
other: the SSRF guard, robots.txt, the size limit, AutoThrottle and retries.

What was chosen, with why and what was turned down, goes to the stats as a
:class:`~regwatch.models.Discovery` (``regwatch/<id>/discovery``); the parent
stores it in the source state and hands it back next run, which follows it
directly (conditional GETs included) and discovers again only when it stops
yielding: a feed or sitemap that is gone (404/410), no longer parses or lists
nothing of the section, a learned pattern that matches fewer than three links on the
page (it was learned on three at least: the page changed).
When nothing at all is found the run fails with class ``empty``: a wrong
guess costs an empty status, never junk articles.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, cast

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from regwatch.errors import SourceError
from regwatch.models import CrawlFailure, Discovery, Source, utcnow
from regwatch.settings import BY_NAME
from regwatch.sources import AutoSelectors

from .._discover import document_kind, section_of
from .._extract_pool import release_extractor
from .._http import header
from .._items import ArticleHint
from .._links import MIN_GROUP_LINKS, LinkPattern, links_matching
from .._stats import set_index_failure, stat_key
from .._urls import canonical_url
from ..settings import crawl_setting
from ._checks import TRUST_MIN_ARTICLES
from ._discovery import DiscoverySteps
from .feed import follow_feed
from .sitemap import follow_sitemap

logger = logging.getLogger(__name__)

SHOWN_ITEMS = 5  # the first items a discovery reports, for `regwatch sources add`
REDISCOVER_CLASSES = ("empty", "parse")  # what "stopped yielding" means for a followed index
GONE = (404, 410)


class AutoSpider(DiscoverySteps):
    """A source given by its address alone (see the module docstring)."""

    name = "regwatch-auto"
    kind = "auto"

    def __init__(
        self,
        source: Source | Mapping[str, Any],
        discovery: Mapping[str, Any] | None = None,
        check_pages: int = BY_NAME["CRAWL_DISCOVER_CHECK_PAGES"].default,
        min_article_chars: int = BY_NAME["CRAWL_DISCOVER_MIN_BODY_CHARS"].default,
        **kwargs: Any,
    ) -> None:
        super().__init__(source, **kwargs)
        self.check_pages = max(TRUST_MIN_ARTICLES, check_pages)
        self.min_article_chars = min_article_chars
        self.hints = {
            key: value
            for key, value in cast(AutoSelectors, self.source.selectors).to_dict().items()
            if key in ("feed", "sitemap", "section")
        }
        self.known = self._usable(Discovery.from_dict(discovery) if discovery else None)
        self.section = (
            self.known.section if self.known else section_of(self.source.url, self.hints.get("section", ""))
        )
        self.plan: Discovery | None = self.known  # what this run follows
        self.pattern = LinkPattern.from_dict(self.known.pattern) if self.known else None
        self.rediscovered = False
        self.page = None
        # The discovery's state (declared in DiscoverySteps and ArticleChecks).
        self.steps = deque()
        self.queue = deque()
        self.on_exhausted = self._next_step
        self.tried = set()
        self.rejected = []
        self.sitemaps = []
        self.check = None
        self.finished = False
        self._extractor = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> AutoSpider:
        kwargs.setdefault("check_pages", crawl_setting(crawler.settings, "CRAWL_DISCOVER_CHECK_PAGES"))
        kwargs.setdefault(
            "min_article_chars", crawl_setting(crawler.settings, "CRAWL_DISCOVER_MIN_BODY_CHARS")
        )
        return cast(AutoSpider, super().from_crawler(crawler, *args, **kwargs))

    def _usable(self, known: Discovery | None) -> Discovery | None:
        """A stored discovery still valid for this record (same address and hints, something found)."""
        if known is None or not known.found or not known.address:
            return None
        if known.source_url != self.source.url or known.hints != self.hints:
            logger.info(
                "source=%s url=%s record changed since its discovery: discovering again",
                self.source_id,
                self.source.url,
            )
            return None
        if known.method == "listing" and LinkPattern.from_dict(known.pattern) is None:
            return None
        return known

    def closed(self, reason: str) -> None:
        if self._extractor is not None:
            self._extractor = None
            release_extractor()

    # --- start, and following what is known ---------------------------------------------

    async def start(self) -> Any:
        if self.known is not None:
            logger.info(
                "source=%s url=%s auto source follows its %s %s",
                self.source_id,
                self.source.url,
                self.known.method,
                self.known.address,
            )
            yield self.index_request(self.known.address, page=1)
        else:
            logger.info(
                "source=%s url=%s auto source: discovering how to follow it", self.source_id, self.source.url
            )
            yield self.page_request()

    def page_request(self) -> scrapy.Request:
        """The source's own page, read in full (never conditionally) for a discovery."""
        self.tried.add(self.source.url)
        return scrapy.Request(
            self.source.url,
            callback=self.parse_index,
            errback=self.index_failed,
            cb_kwargs={"page": 1},
            dont_filter=True,
            meta={
                "regwatch_role": "index",
                "regwatch_key": canonical_url(self.source.url),
                "regwatch_discovery": True,
            },
        )

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        if response.meta.get("regwatch_discovery"):
            response.meta["regwatch_no_validators"] = True  # kept only if the page is the listing followed
            yield from self.read_page(response)
            return
        try:
            yield from self.follow(response, page)
        except SourceError as exc:
            if page != 1 or self.rediscovered or exc.error_class not in REDISCOVER_CLASSES:
                raise
            response.meta["regwatch_no_validators"] = True
            yield from self.rediscover(str(exc).removeprefix(f"{response.url}: "))

    def follow(self, response: Response, page: int) -> Iterator[Any]:
        """Read an index page of the method this run follows."""
        method = self.plan.method if self.plan else ""
        if method == "feed":
            yield from follow_feed(self, response)
        elif method == "sitemap":
            yield from follow_sitemap(self, response, page, keep=self._in_section)
        elif method == "listing" and self.pattern is not None:
            yield from self.follow_listing(response, page)

    def follow_listing(self, response: Response, page: int) -> Iterator[Any]:
        assert self.pattern is not None
        links = links_matching(response.body, response.url, self.pattern)
        if page == 1 and len(links) < MIN_GROUP_LINKS:
            # It was learned on three links of this page at least: fewer means the page changed
            # (a redesign, or old links left in a sidebar), so it is learned again.
            matched = (
                f"matches only {len(links)} link{'s' if len(links) > 1 else ''}"
                if links
                else "matches nothing"
            )
            raise SourceError(
                f"the learned link pattern {self.pattern.shape} {matched}", "empty", response.url
            )
        self.found(len(links))
        logger.info(
            "source=%s url=%s listing page %d: %d links", self.source_id, response.url, page, len(links)
        )
        for link in links:
            request = self.article_request(link.url, ArticleHint(title=link.title, published=link.published))
            if request is not None:
                yield request
        yield from self._next_listing_page(response, page)

    def _next_listing_page(self, response: Response, page: int) -> Iterator[Any]:
        if isinstance(response, TextResponse):
            href = response.css("a[rel~=next]::attr(href), link[rel~=next]::attr(href)").get()
            request = self.next_page(response, href, page)
            if request is not None:
                yield request

    def index_failed(self, failure: Failure) -> Any:
        request = getattr(failure, "request", None)
        error = failure.value
        status = error.response.status if isinstance(error, HttpError) else None
        if (
            self.known
            and not self.rediscovered
            and request is not None
            and request.cb_kwargs.get("page", 1) == 1
            and status in GONE
            and not request.meta.get("regwatch_discovery")
        ):
            return list(self.rediscover(f"HTTP {status}"))
        return super().index_failed(failure)

    def rediscover(self, why: str) -> Iterator[Any]:
        assert self.plan is not None
        logger.warning(
            "source=%s url=%s its %s %s stopped yielding (%s): discovering again",
            self.source_id,
            self.source.url,
            self.plan.method,
            self.plan.address,
            why,
        )
        self.rejected.append(f"{self.plan.address}: followed until now, stopped yielding ({why})")
        self.rediscovered, self.plan, self.pattern, self.finished = True, None, None, False
        self.section = section_of(self.source.url, self.hints.get("section", ""))
        yield self.page_request()

    # --- the outcome ---------------------------------------------------------------------

    def _page_title(self) -> str:
        if (
            isinstance(self.page, TextResponse)
            and document_kind(self.page.body, header(self.page, "Content-Type")) == "html"
        ):
            return " ".join((self.page.css("title::text").get() or "").split())
        return ""

    def _decide(
        self,
        method: str,
        address: str,
        reason: str,
        *,
        pattern: LinkPattern | None = None,
        items: list[dict[str, str]],
        title: str = "",
    ) -> None:
        self.plan = Discovery(
            method=method,
            address=address,
            reason=reason,
            title=title or self._page_title(),
            source_url=self.source.url,
            section=self.section,
            pattern=pattern.to_dict() if pattern else {},
            hints=dict(self.hints),
            rejected=list(self.rejected),
            items=items[:SHOWN_ITEMS],
            discovered_at=utcnow(),
        )
        self.finished = True
        self.crawler.stats.set_value(stat_key(self.source_id, "discovery"), self.plan.to_dict())
        logger.info("source=%s url=%s discovered: %s", self.source_id, self.source.url, self.plan.describe())

    def _nothing_found(self) -> Iterator[Any]:
        if self.finished:
            return iter(())
        self.finished = True
        reason = "no dated feed, no sitemap of its section and no listing whose links extract as articles"
        found = Discovery(
            method="",
            reason=reason,
            source_url=self.source.url,
            section=self.section,
            hints=dict(self.hints),
            rejected=list(self.rejected),
            discovered_at=utcnow(),
        )
        self.crawler.stats.set_value(stat_key(self.source_id, "discovery"), found.to_dict())
        for rejected in self.rejected:
            logger.info(
                "source=%s url=%s discovery turned down %s", self.source_id, self.source.url, rejected
            )
        self.record_error("empty", self.source.url, f"nothing to follow: {reason}")
        set_index_failure(
            self.crawler.stats,
            self.source_id,
            CrawlFailure("empty", self.source.url, f"nothing to follow: {reason}"),
        )
        return iter(())
