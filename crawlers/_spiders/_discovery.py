"""Discovering how to follow a site: its page, then each way of reading it in turn.

The order (the first that holds wins): the record's hints (``selectors.feed``,
``selectors.sitemap``); the feeds the page declares by ``<link
rel="alternate">``; the conventional feed addresses of common site engines;
the sitemaps robots.txt lists and ``/sitemap.xml`` (indexes followed, news
sitemaps first, entries kept under the source's section and within the
look-back; a whole site's sitemap must be a news sitemap); then the page's
article links, learned from its structure (``_links``). A feed is accepted
when it parses with dated entries (at least half of them dated; a comments
feed never); a sitemap or a listing once its pages pass the check of
``_checks``. Candidates are fetched one at a time, each through the crawl's
middlewares; every one turned down is noted with why.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from regwatch.errors import SourceError

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
from .._failures import classify_failure
from .._feeds import ParsedFeed, parse_feed
from .._health import blocked_reason
from .._http import header
from .._links import ListedLink, learn_link_groups
from .._sitemaps import ParsedSitemap, SitemapEntry, parse_sitemap
from .._urls import canonical_url
from ._checks import TRUST_MIN_ARTICLES, ArticleChecks, Check, item
from .feed import follow_feed
from .sitemap import newest_first


class DiscoverySteps(ArticleChecks):
    """The discovering half of an ``auto`` spider (see the module docstring)."""

    hints: dict[str, str]
    section: str
    steps: deque[Callable[[], Iterator[Any]]]
    queue: deque[tuple[str, str, str]]  # (kind, url, why) to fetch in turn
    on_exhausted: Callable[[], Iterator[Any]]
    tried: set[str]
    rejected: list[str]
    sitemaps: list[tuple[str, ParsedSitemap, str]]  # (url, document, why) of one round
    finished: bool  # a method was chosen, or nothing was found

    def _nothing_found(self) -> Iterator[Any]:
        raise NotImplementedError

    @property
    def site_url(self) -> str:
        """The source's page where it answered (after redirects), else its address."""
        return self.page.url if self.page is not None else self.source.url

    def _page_title(self) -> str:
        raise NotImplementedError

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
        """Run the next step that asks for something; nothing left to try: nothing found.

        A step asks for its first candidate, or (all of them tried already) goes
        on to the steps after it itself; when that ended the discovery
        (``finished``), nothing more is tried.
        """
        while self.steps and not self.finished:
            outputs = list(self.steps.popleft()())
            if outputs or self.finished:
                yield from outputs
                return
        if not self.finished:
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
            for url in conventional_feeds(self.site_url, self.section)
        ]
        yield from self._fetch(candidates, self._next_step)

    def _step_sitemaps(self) -> Iterator[Any]:
        self.sitemaps = []
        yield from self._fetch([("robots", robots_url(self.site_url), "robots.txt")], self._choose_sitemap)

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
            Check(
                "listing",
                self.page.url,
                f"learned from the page's structure ({group.evidence})",
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
                    items=[item(e.title, e.published or e.updated, e.link) for e in feed.entries],
                    title=self._page_title() or feed.title,
                )
                response.meta["regwatch_no_validators"] = False  # the source's own page may be the feed
                self._remember_index(response)  # the next run asks for it conditionally
                yield from follow_feed(self, response, feed)
                return
            self.rejected.append(f"{response.url}: {problem}")
        elif kind == "robots":
            lines = robots_sitemaps(response.text if isinstance(response, TextResponse) else "", response.url)
            self.queue.extend(("sitemap", url, "listed by robots.txt") for url in lines)
            self.queue.append(("sitemap", root_sitemap_url(self.site_url), "the conventional /sitemap.xml"))
        elif kind == "sitemap":
            self._read_sitemap(response, why)
        yield from self._advance()

    def _candidate_failed(self, failure: Failure) -> list[Any]:
        request = failure.request  # type: ignore[attr-defined]
        failed = classify_failure(failure)
        self.rejected.append(
            f"{request.url}: {failed.reason}" + (" (robots.txt)" if failed.error_class == "robots" else "")
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
        return in_section(entry.loc, _host(self.site_url), self.section)

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
                Check(
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


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _declared_why(link: FeedLink, page: str) -> str:
    title = f' title="{link.title}"' if link.title else ""
    return f'declared by <link rel="alternate" type="{link.type}"{title}> on {page}'


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
