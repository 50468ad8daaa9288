"""Checking that a discovered sitemap's or listing's pages are articles before trusting it.

A candidate (:class:`Check`) is trusted once its first pages
(CRAWL_DISCOVER_CHECK_PAGES at most) include three that extract as articles:
distinct pages whose body has CRAWL_DISCOVER_MIN_BODY_CHARS characters at least,
and that are not the listing itself; a sitemap listing fewer than three
entries needs them all. The pages are extracted by the crawl's extraction
workers; those that pass are the run's first articles (not fetched twice). A
candidate that fails costs its pages, never an article: the next one is tried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from regwatch.errors import ExtractionError
from regwatch.models import Article, utcnow

from .._extract_pool import Extractor, acquire_extractor
from .._failures import classify_failure
from .._health import blocked_reason
from .._http import charset, header
from .._items import ArticleHint
from .._links import LinkPattern, ListedLink
from .._stats import count
from .._urls import canonical_url
from ..settings import crawl_setting
from .base import SourceSpider

logger = logging.getLogger(__name__)

TRUST_MIN_ARTICLES = 3  # a discovered pattern is trusted on three articles


@dataclass
class Check:
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

    @property
    def label(self) -> str:
        """The candidate in a line: its learned pattern, if any, and why it was tried."""
        return f"links {self.pattern.shape} {self.reason}" if self.pattern else self.reason


class ArticleChecks(SourceSpider):
    """The checking half of an ``auto`` spider (see the module docstring)."""

    check_pages: int
    min_article_chars: int
    page: Response | None  # the source's page, when a discovery read it
    pattern: LinkPattern | None
    check: Check | None
    rejected: list[str]  # every candidate turned down, with why
    _extractor: Extractor | None

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
        raise NotImplementedError

    def _next_listing_page(self, response: Response, page: int) -> Iterator[Any]:
        raise NotImplementedError

    def _start_check(self, check: Check) -> Iterator[Any]:
        todo = check.links[: self.check_pages]
        if len(todo) < check.required:
            self.rejected.append(f"{check.address}: {check.label}: only {len(todo)} pages to check")
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
        check.bad.append((request.url, classify_failure(failure).reason))
        check.pending -= 1
        return list(self._check_done(check)) if check.pending == 0 else []

    async def _article(self, response: Response, link: ListedLink) -> tuple[Article | None, str]:
        blocked = blocked_reason(response.body, header(response, "Content-Type"))
        if blocked:
            return None, blocked
        if self._extractor is None:
            self._extractor = acquire_extractor(crawl_setting(self.crawler.settings, "CRAWL_EXTRACT_WORKERS"))
        override = self.source.selectors.override_on(utcnow().date())  # as the extraction pipeline reads it
        try:
            article = await self._extractor.extract(
                response.body,
                response.url,
                self.source_id,
                charset(response),
                min_body_chars=self.min_article_chars,
                fallback=ArticleHint(title=link.title, published=link.published).as_fallback(),
                exclude=override.exclude,
                body_css=override.body,
                local_timezone=self.source.local_timezone,
            )
        except ExtractionError as exc:
            return None, str(exc).removeprefix(f"{response.url}: ")
        if self.page is not None and article.url == canonical_url(self.page.url):
            return None, "it is the listing page itself"
        return article, ""

    def _check_done(self, check: Check) -> Iterator[Any]:
        self.check = None
        good: list[Any] = []
        seen: set[str] = set()
        for response, link, article in check.good:
            if article.url not in seen and article.content_hash not in seen:
                seen.update((article.url, article.content_hash))
                good.append((response, link, article))
        checked = len(check.good) + len(check.bad)
        if len(good) < check.required:
            why = f"; first problem: {check.bad[0][0]}: {check.bad[0][1]}" if check.bad else ""
            self.rejected.append(
                f"{check.address}: {check.label}: {len(good)} of {checked} checked pages extract as articles{why}"
            )
            yield from check.next_step()
            return
        titles = {link.url: (article.title, article.published) for _, link, article in good}
        items = [item(*titles.get(link.url, (link.title, link.published)), link.url) for link in check.links]
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


def item(title: str, published: Any, url: str) -> dict[str, str]:
    """One of the first items a discovery reports."""
    return {"title": title or "", "published": published.isoformat() if published else "", "url": url}
