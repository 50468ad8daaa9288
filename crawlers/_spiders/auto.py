"""The ``auto`` kind: a site followed by what it declares, discovered through the crawl itself.

On its first crawl, when what it learned stops yielding, or when its record
changes, an ``auto`` source is *discovered*, in this order (the first that
holds wins):

1. the record's own hints (``selectors.feed``, ``selectors.sitemap``), then the
   feeds the page declares (``<link rel="alternate">``), then the conventional
   feed addresses of common site engines (``_discover``): a feed is accepted
   only when it parses with dated entries (a comments feed never);
2. sitemaps: the ``Sitemap:`` lines of ``robots.txt`` and ``/sitemap.xml``,
   indexes followed (news sitemaps first), entries kept under the source's
   section and within the look-back; a sitemap of a whole site must be a
   news sitemap;
3. a listing: the page's article links found by structure (``_links``).

A sitemap's entries or a listing's links are trusted only once the first few
pages (CRAWL_DISCOVER_CHECK_PAGES) include three that extract as articles
(distinct, with CRAWL_DISCOVER_MIN_BODY_CHARS of body), or every entry of a
sitemap listing fewer: a wrong guess costs an ``empty`` status, never junk
articles. Those pages are the run's first articles, not fetched twice.

Every request goes through the crawl's middlewares like any other: the SSRF
guard, robots.txt, the size limit, AutoThrottle and retries. What was chosen,
with why and what was turned down, goes to the stats as a
:class:`~regwatch.models.Discovery` (``regwatch/<id>/discovery``); the parent
stores it in the source state and hands it back next run, which then follows
it directly (conditional GETs included) and discovers again only when it stops
yielding: a feed or sitemap that is gone (404/410) or no longer parses or lists
anything of the section, a pattern that matches nothing on the page.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from regwatch.errors import ExtractionError, SourceError
from regwatch.models import Article, Discovery, Source, utcnow
from regwatch.settings import BY_NAME
from regwatch.sources import AutoSelectors

from .._discover import (
    FeedLink,
    conventional_feeds,
    declared_feeds,
    document_kind,
    in_section,
    robots_sitemaps,
    robots_url,
    root_sitemap_url,
    section_of,
)
from .._extract_pool import Extractor, acquire_extractor, release_extractor
from .._failures import classify_failure
from .._feeds import ParsedFeed, parse_feed
from .._health import blocked_reason
from .._http import charset, header
from .._items import ArticleHint
from .._links import LinkPattern, ListedLink, learn_link_groups, links_matching
from .._sitemaps import ParsedSitemap, SitemapEntry, parse_sitemap
from .._stats import count, set_index_error, stat_key
from .._urls import canonical_url
from ..settings import crawl_setting
from .base import SourceSpider
from .feed import follow_feed
from .sitemap import follow_sitemap, newest_first

logger = logging.getLogger(__name__)

TRUST_MIN_ARTICLES = 3  # the rule: a discovered pattern is trusted on three articles
SHOWN_ITEMS = 5  # the first items a discovery reports, for `regwatch sources add`
REDISCOVER_CLASSES = ("empty", "parse")  # what "stopped yielding" means for a followed index
GONE = (404, 410)


@dataclass
class _Check:
    """Pages of a candidate sitemap or listing being fetched to see whether they are articles."""

    method: str
    address: str
    reason: str
    links: list[ListedLink]
    required: int
    next_step: Callable[[], Iterator[Any]]
    pattern: LinkPattern | None = None
    pending: int = 0
    good: list[tuple[Response, ListedLink, Article]] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)  # (url, why it is not an article)


class AutoSpider(SourceSpider):
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
        self.page: Response | None = None  # the source's page, read by a discovery
        self.steps: deque[Callable[[], Iterator[Any]]] = deque()
        self.queue: deque[tuple[str, str, str]] = deque()  # (kind, url, why) to fetch in turn
        self.on_exhausted: Callable[[], Iterator[Any]] = self._next_step
        self.tried: set[str] = set()
        self.rejected: list[str] = []
        self.sitemaps: list[tuple[str, ParsedSitemap, str]] = []  # (url, document, why) of one round
        self.check: _Check | None = None
        self._extractor: Extractor | None = None

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
        if not links and page == 1:
            raise SourceError(
                f"the learned link pattern {self.pattern.shape} matches nothing", "empty", response.url
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
        gone = isinstance(failure.value, HttpError) and failure.value.response.status in GONE
        first = request is not None and request.cb_kwargs.get("page", 1) == 1
        if (
            self.known
            and not self.rediscovered
            and first
            and gone
            and not request.meta.get("regwatch_discovery")
        ):
            return list(self.rediscover(f"HTTP {failure.value.response.status}"))
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
        self.rediscovered, self.plan, self.pattern = True, None, None
        self.section = section_of(self.source.url, self.hints.get("section", ""))
        yield self.page_request()

    # --- discovery: the page, then each step in turn ----------------------------------

    def read_page(self, response: Response) -> Iterator[Any]:
        self.page = response
        kind = document_kind(response.body, header(response, "Content-Type"))
        if kind in ("feed", "sitemap"):
            # The address is itself a feed or a sitemap: its entries are the whole site's.
            self.section = section_of(self.source.url, self.hints.get("section", "/"))
            self.sitemaps = []
            self.on_exhausted = self._choose_sitemap if kind == "sitemap" else self._next_step
            self.steps.extend([self._step_conventional_feeds, self._step_sitemaps, self._step_listing])
            yield from self._answered(response, kind, f"the source's address is a {kind}")
            return
        if kind != "html":
            self.rejected.append(f"{response.url}: neither a web page, a feed nor a sitemap")
        self.steps.extend(
            [
                self._step_hinted_feed,
                self._step_hinted_sitemap,
                self._step_declared_feeds,
                self._step_conventional_feeds,
                self._step_sitemaps,
                self._step_listing,
            ]
        )
        yield from self._next_step()

    def _next_step(self) -> Iterator[Any]:
        while self.steps:
            outputs = list(self.steps.popleft()())
            if outputs:
                yield from outputs
                return
        yield from self._nothing_found()

    def _fetch(
        self, candidates: list[tuple[str, str, str]], then: Callable[[], Iterator[Any]]
    ) -> Iterator[Any]:
        self.queue.extend(candidates)
        self.on_exhausted = then
        yield from self._advance()

    def _advance(self) -> Iterator[Any]:
        """Ask for the next candidate in the queue; when none is left, go on as the step said."""
        while self.queue:
            kind, url, why = self.queue.popleft()
            if url in self.tried:
                continue
            self.tried.add(url)
            yield scrapy.Request(
                url,
                callback=self._candidate_answered,
                errback=self._candidate_failed,
                dont_filter=True,
                cb_kwargs={"kind": kind, "why": why},
                meta={"regwatch_role": "discovery", "regwatch_key": canonical_url(url)},
            )
            return
        yield from self.on_exhausted()

    def _step_hinted_feed(self) -> Iterator[Any]:
        if self.hints.get("feed"):
            yield from self._fetch(
                [("feed", self.hints["feed"], "the record's feed address")], self._next_step
            )

    def _step_hinted_sitemap(self) -> Iterator[Any]:
        if self.hints.get("sitemap"):
            self.sitemaps = []
            yield from self._fetch(
                [("sitemap", self.hints["sitemap"], "the record's sitemap")], self._choose_sitemap
            )

    def _step_declared_feeds(self) -> Iterator[Any]:
        if self.page is None:
            return
        candidates = []
        for link in declared_feeds(self.page.body, self.page.url):
            if link.is_comments:
                self.rejected.append(f"{link.url}: a comments feed")
                continue
            candidates.append(("feed", link.url, _declared_why(link, self.page.url)))
        yield from self._fetch(candidates, self._next_step)

    def _step_conventional_feeds(self) -> Iterator[Any]:
        candidates = [
            ("feed", url, "a conventional feed address")
            for url in conventional_feeds(self.source.url, self.section)
        ]
        yield from self._fetch(candidates, self._next_step)

    def _step_sitemaps(self) -> Iterator[Any]:
        self.sitemaps = []
        yield from self._fetch([("robots", robots_url(self.source.url), "robots.txt")], self._choose_sitemap)

    def _step_listing(self) -> Iterator[Any]:
        if self.page is None or document_kind(self.page.body, header(self.page, "Content-Type")) != "html":
            return
        groups = learn_link_groups(self.page.body, self.page.url, self.section)
        if not groups:
            self.rejected.append(f"{self.page.url}: no group of links on the page looks like articles")
        yield from self._try_groups(groups)

    def _try_groups(self, groups: list[Any]) -> Iterator[Any]:
        if not groups:
            yield from self._next_step()
            return
        group, rest = groups[0], groups[1:]
        assert self.page is not None
        yield from self._start_check(
            _Check(
                "listing",
                self.page.url,
                f"links {group.pattern.shape} learned from the page's structure ({group.evidence})",
                group.links,
                TRUST_MIN_ARTICLES,
                partial(self._try_groups, rest),
                group.pattern,
            )
        )

    # --- candidates' answers --------------------------------------------------------------

    def _candidate_answered(self, response: Response, kind: str, why: str) -> Iterator[Any]:
        yield from self._answered(response, kind, why)

    def _answered(self, response: Response, kind: str, why: str) -> Iterator[Any]:
        blocked = blocked_reason(response.body, header(response, "Content-Type"))
        if blocked:
            self.rejected.append(f"{response.url}: {blocked}")
        elif kind == "feed":
            feed, problem = self._judge_feed(response)
            if feed is not None:
                dated = sum(1 for e in feed.entries if e.published or e.updated)
                self._decide(
                    "feed",
                    response.url,
                    f"{why}; {_count(len(feed.entries), 'entry', 'entries')}, {dated} dated",
                    items=[_item(e.title, e.published or e.updated, e.link) for e in feed.entries],
                    title=self._page_title() or feed.title,
                )
                self._remember_index(response)  # the next run asks for it conditionally
                yield from follow_feed(self, response, feed)
                return
            self.rejected.append(f"{response.url}: {problem}")
        elif kind == "robots":
            lines = robots_sitemaps(response.text if isinstance(response, TextResponse) else "", response.url)
            self.queue.extend(("sitemap", url, "listed by robots.txt") for url in lines)
            self.queue.append(("sitemap", root_sitemap_url(self.source.url), "the conventional /sitemap.xml"))
        elif kind == "sitemap":
            self._read_sitemap(response, why)
        yield from self._advance()

    def _candidate_failed(self, failure: Failure) -> list[Any]:
        request = failure.request  # type: ignore[attr-defined]
        error_class, reason = classify_failure(failure)
        self.rejected.append(
            f"{request.url}: {reason}" + (" (robots.txt)" if error_class == "robots" else "")
        )
        return list(self._advance())

    def _judge_feed(self, response: Response) -> tuple[ParsedFeed | None, str]:
        """The feed, if it parses with dated entries; else why not."""
        if document_kind(response.body, header(response, "Content-Type")) != "feed":
            return None, "not a feed"
        try:
            feed = parse_feed(response.body, response.url)
        except SourceError as exc:
            return None, str(exc).removeprefix(f"{response.url}: ")
        dated = sum(1 for entry in feed.entries if entry.published or entry.updated)
        if not feed.entries:
            return None, f"{feed.kind} feed with no usable entries"
        if dated * 2 < len(feed.entries):
            return None, f"{feed.kind} feed with {len(feed.entries)} entries, {dated} of them dated"
        return feed, ""

    def _read_sitemap(self, response: Response, why: str) -> None:
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except SourceError as exc:
            self.rejected.append(f"{response.url}: {str(exc).removeprefix(f'{response.url}: ')}")
            return
        if sitemap.kind == "urlset":
            self.sitemaps.append((response.url, sitemap, why))
            return
        children = sorted(
            sitemap.entries, key=lambda e: e.lastmod.timestamp() if e.lastmod else 0.0, reverse=True
        )
        children.sort(key=lambda e: "news" not in e.loc.lower())  # news sitemaps first, newest first
        via = f"{why}, via the index {response.url}"
        self.queue.extendleft(
            reversed([("sitemap", child.loc, via) for child in children[: self.max_listing_pages]])
        )

    def _in_section(self, entry: SitemapEntry) -> bool:
        return in_section(entry.loc, _host(self.source.url), self.section)

    def _recent(self, entry: SitemapEntry) -> bool:
        """Within the look-back by its publication date, else its lastmod (undated: kept)."""
        when = entry.published or entry.lastmod
        return self.cutoff is None or when is None or when >= self.cutoff

    def _choose_sitemap(self) -> Iterator[Any]:
        found = sorted(self.sitemaps, key=lambda doc: not doc[1].is_news)  # news sitemaps first
        self.sitemaps = []
        yield from self._try_sitemaps(found)

    def _try_sitemaps(self, candidates: list[tuple[str, ParsedSitemap, str]]) -> Iterator[Any]:
        while candidates:
            (url, sitemap, why), rest = candidates[0], candidates[1:]
            candidates = rest
            kind = "news sitemap" if sitemap.is_news else "sitemap"
            if self.section == "/" and not sitemap.is_news:
                self.rejected.append(
                    f"{url}: an ordinary sitemap of the whole site (give the news section's address)"
                )
                continue
            entries = [e for e in sitemap.entries if self._in_section(e)]
            if not entries:
                self.rejected.append(f"{url}: {kind} lists nothing under {self.section}")
                continue
            recent = [e for e in entries if self._recent(e)]
            if not recent:
                self.rejected.append(f"{url}: {kind} lists nothing under {self.section} within the look-back")
                continue
            links = [ListedLink(e.loc, e.title, e.published) for e in newest_first(recent)]
            yield from self._start_check(
                _Check(
                    "sitemap",
                    url,
                    f"{kind} {why}; {len(recent)} entries under {self.section}",
                    links,
                    min(TRUST_MIN_ARTICLES, len(links)),
                    partial(self._try_sitemaps, rest),
                )
            )
            return
        yield from self._next_step()

    # --- checking that a candidate's pages are articles --------------------------------------

    def _start_check(self, check: _Check) -> Iterator[Any]:
        todo = check.links[: self.check_pages]
        if len(todo) < check.required:
            self.rejected.append(f"{check.address}: {check.reason}: only {len(todo)} pages to check")
            yield from check.next_step()
            return
        self.check, check.pending = check, len(todo)
        for link in todo:
            yield scrapy.Request(
                link.url,
                callback=self._checked,
                errback=self._check_failed,
                dont_filter=True,
                cb_kwargs={"link": link},
                meta={"regwatch_role": "discovery", "regwatch_key": canonical_url(link.url)},
            )

    async def _checked(self, response: Response, link: ListedLink) -> Any:
        check = self.check
        assert check is not None
        article, problem = await self._article(response, link)
        if article is not None:
            check.good.append((response, link, article))
        else:
            check.bad.append((link.url, problem))
        check.pending -= 1
        if check.pending == 0:
            for output in self._check_done(check):
                yield output

    def _check_failed(self, failure: Failure) -> list[Any]:
        check = self.check
        assert check is not None
        request = failure.request  # type: ignore[attr-defined]
        check.bad.append((request.url, classify_failure(failure)[1]))
        check.pending -= 1
        return list(self._check_done(check)) if check.pending == 0 else []

    async def _article(self, response: Response, link: ListedLink) -> tuple[Article | None, str]:
        blocked = blocked_reason(response.body, header(response, "Content-Type"))
        if blocked:
            return None, blocked
        if self._extractor is None:
            self._extractor = acquire_extractor(crawl_setting(self.crawler.settings, "CRAWL_EXTRACT_WORKERS"))
        try:
            article = await self._extractor.extract(
                response.body,
                response.url,
                self.source_id,
                charset(response),
                min_body_chars=self.min_article_chars,
                fallback=ArticleHint(title=link.title, published=link.published).as_fallback(),
                local_timezone=self.source.local_timezone,
            )
        except ExtractionError as exc:
            return None, str(exc).removeprefix(f"{response.url}: ")
        if self.page is not None and article.url == canonical_url(self.page.url):
            return None, "it is the listing page itself"
        return article, ""

    def _check_done(self, check: _Check) -> Iterator[Any]:
        self.check = None
        good, seen = [], set()
        for response, link, article in check.good:
            if article.url not in seen and article.content_hash not in seen:
                seen.update((article.url, article.content_hash))
                good.append((response, link, article))
        checked = len(check.good) + len(check.bad)
        if len(good) < check.required:
            why = f"; first problem: {check.bad[0][0]}: {check.bad[0][1]}" if check.bad else ""
            self.rejected.append(
                f"{check.address}: {check.reason}: {len(good)} of {checked} checked pages extract as articles{why}"
            )
            yield from check.next_step()
            return
        titles = {link.url: (article.title, article.published) for _, link, article in good}
        items = [_item(*titles.get(link.url, (link.title, link.published)), link.url) for link in check.links]
        self.pattern = check.pattern
        self._decide(
            check.method,
            check.address,
            f"{check.reason}; {len(good)} of {checked} checked pages extract as articles",
            pattern=check.pattern,
            items=items,
        )
        self.found(len(check.links))
        for _, link, _ in check.good:
            self._article_urls.add(canonical_url(link.url))
        for url, _ in check.bad:
            self._article_urls.add(canonical_url(url))
        for response, link, _ in good:
            yield from self._checked_page(response, link)
        for link in check.links:
            request = self.article_request(link.url, ArticleHint(title=link.title, published=link.published))
            if request is not None:
                yield request
        if check.method == "listing" and self.page is not None:
            self.page.meta["regwatch_no_validators"] = False
            self._remember_index(self.page)
            yield from self._next_listing_page(self.page, 1)

    def _checked_page(self, response: Response, link: ListedLink) -> Iterator[Any]:
        """A checked page as the run's article (not fetched twice); a probe keeps nothing."""
        dated = link.published
        if self.probe:
            return
        if self.cutoff is not None and dated is not None and dated < self.cutoff:
            count(self.crawler.stats, self.source_id, "too_old")
            return
        count(self.crawler.stats, self.source_id, "pages_fetched")
        yield self.fetched_page(
            response, canonical_url(response.url), ArticleHint(title=link.title, published=dated)
        )

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
        self.crawler.stats.set_value(stat_key(self.source_id, "discovery"), self.plan.to_dict())
        logger.info("source=%s url=%s discovered: %s", self.source_id, self.source.url, self.plan.describe())

    def _nothing_found(self) -> Iterator[Any]:
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
        set_index_error(
            self.crawler.stats, self.source_id, "empty", self.source.url, f"nothing to follow: {reason}"
        )
        return iter(())


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


def _declared_why(link: FeedLink, page: str) -> str:
    title = f' title="{link.title}"' if link.title else ""
    return f'declared by <link rel="alternate" type="{link.type}"{title}> on {page}'


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _item(title: str, published: Any, url: str) -> dict[str, str]:
    return {"title": title or "", "published": published.isoformat() if published else "", "url": url}
