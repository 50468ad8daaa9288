"""The items a crawl passes from its spiders through its item pipelines.

- :class:`FetchedPage` (spider → :class:`~crawlers.ExtractPipeline`): one article
  page's answer with what the index said about it (:class:`ArticleHint`), the
  source record, and the page's fetch record, not yet tied to an article.
- :class:`ExtractedArticle` (``ExtractPipeline`` → the store): the
  :class:`~regwatch.models.Article` read from that page together with its
  completed fetch record. They travel as one item so the record can never reach
  the fetch ledger before its article: the store records it only once the
  article is stored, so a failed store or a crash costs a refetch, never an article.
- :class:`~crawlers.FetchRecord` on its own: a page that answered 304 (nothing
  to read) and, at spider close, the index pages' records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from regwatch.models import Article, Source

from ._govuk import ContentItem
from ._ledger import FetchRecord


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


@dataclass
class FetchedPage:
    """An article page as fetched: what the extraction pipeline turns into an Article.

    ``record`` is the page's fetch record without its article (ledger key,
    status, validators); ``content_item`` is set instead of ``body`` for a GOV.UK
    Content API answer, which the spider has already parsed (an item without body
    text sends it to the page instead).
    """

    source: Source = field(repr=False)
    url: str  # the URL that answered (after redirects)
    hint: ArticleHint = field(repr=False)
    record: FetchRecord = field(repr=False)
    body: bytes = field(default=b"", repr=False)
    content_type: str = ""
    charset: str | None = None
    content_item: ContentItem | None = field(default=None, repr=False)

    @property
    def source_id(self) -> str:
        return self.source.id


@dataclass(frozen=True)
class ExtractedArticle:
    """An article read from a fetched page, and that page's fetch record (recorded after the article)."""

    article: Article
    fetch_record: FetchRecord = field(repr=False)

    @property
    def source_id(self) -> str:
        return self.article.source_id

    @property
    def url(self) -> str:
        return self.article.url
