"""The ``json_api`` kind: JSON search APIs, and GOV.UK's Content API for each result."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import scrapy
from scrapy.http import Response
from w3lib.url import add_or_replace_parameters, url_query_parameter

from regwatch.errors import ExtractionError, SourceError
from regwatch.sources import JsonApiSelectors

from .._govuk import ContentItem, parse_content_item
from .._http import header
from .._items import ArticleHint
from .._json_paths import fill_link_template, get_path, int_or_zero
from .._text import clean_authors, html_to_text, parse_date
from .base import SourceSpider

logger = logging.getLogger(__name__)


class JsonApiSpider(SourceSpider):
    """JSON search APIs (GOV.UK search, the Federal Register, Parliament's written statements).

    The source's :class:`~regwatch.sources.JsonApiSelectors` map ``results``,
    ``link``, ``title``, ``published``, ``summary`` (and optionally ``authors``,
    ``total``, ``start``) to dotted field paths. Links
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

    @property
    def selectors(self) -> JsonApiSelectors:
        return cast(JsonApiSelectors, self.source.selectors)

    def parse_index_page(self, response: Response, page: int) -> Iterator[Any]:
        try:
            data = json.loads(response.body)
        except ValueError as exc:
            raise SourceError(f"API answer is not JSON ({exc})", "parse", response.url) from None
        results = get_path(data, self.selectors.results)
        if not isinstance(results, list):
            raise SourceError(f"API answer has no list at {self.selectors.results!r}", "parse", response.url)
        found = 0
        dates: list[datetime | None] = []
        for position, result in enumerate(results):
            hint = self._hint(result)
            dates.append(hint.published)
            link = self._link(response, position, result)
            if link is None:
                continue
            found += 1
            url = self.absolute(response, link)
            request = self._follow(url, result, hint) if url else None
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
        selectors = self.selectors
        return ArticleHint(
            title=html_to_text(str(get_path(result, selectors.title) or "")),
            summary=html_to_text(str(get_path(result, selectors.summary) or "")),
            published=parse_date(get_path(result, selectors.published)),
            authors=clean_authors([get_path(result, selectors.authors)] if selectors.authors else []),
        )

    def _link(self, response: Response, position: int, result: Any) -> str | None:
        """The result's page link (from ``link`` or ``link_template``); None, logged, when it has none."""
        template = self.selectors.link_template
        link = fill_link_template(template, result) if template else get_path(result, self.selectors.link)
        if isinstance(link, str) and link.strip():
            return link.strip()
        logger.warning(
            "source=%s url=%s API result %d without a link skipped", self.source_id, response.url, position
        )
        return None

    def _follow(self, page_url: str, result: Any, hint: ArticleHint) -> scrapy.Request | None:
        """The request for one result: its Content API item when configured, else its page."""
        template = self.selectors.content_api
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
        selectors = self.selectors
        offset_param, size_param = selectors.offset_param, selectors.size_param
        total = get_path(data, selectors.total)
        offset = get_path(data, selectors.start)
        if not isinstance(offset, int):
            offset = int_or_zero(url_query_parameter(response.url, offset_param))
        if not isinstance(total, int) or not page_results or offset + page_results >= total:
            return None
        page_size = int_or_zero(url_query_parameter(response.url, size_param)) or page_results
        return add_or_replace_parameters(
            response.url, {offset_param: str(offset + page_results), size_param: str(page_size)}
        )

    def parse_content_item(self, response: Response, hint: ArticleHint) -> Iterator[Any]:
        """A Content API answer: the item for the extraction pipeline, or its page when it has no body."""
        key, not_modified = self.article_answered(response)
        if not_modified is not None:
            yield not_modified
            return
        if self.blocked(response):
            return
        try:
            item = parse_content_item(response.body, response.url)
        except ExtractionError as exc:
            self.record_error("parse", response.url, str(exc).removeprefix(f"{response.url}: "))
            return
        if not item.body_html:
            yield from self._page_instead(response, key, item, hint)
            return
        yield self.fetched_page(response, key, hint, content_item=item)

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
            etag, last_modified = header(response, "ETag"), header(response, "Last-Modified")
            request.meta["regwatch_record_as"] = (key, etag, last_modified)
            yield request
