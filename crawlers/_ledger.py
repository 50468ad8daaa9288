"""The fetch ledger as the crawl sees it: validators in, fetch records out.

The crawl subprocess never opens the store. The parent passes, per source, the
validators it knows (:class:`Validators` by canonical URL); a spider sends them
as ``If-None-Match`` / ``If-Modified-Since`` so an unchanged page answers 304
without a body. Every article page fetched gets a :class:`FetchRecord`: a
304's travels alone, a page's with the ``Article`` read from it (the extraction
pipeline's ``ExtractedArticle``), and the store's pipeline writes it only once
that article is stored, so a crash between the two costs a refetch, never an article.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Validators:
    """What a server said last time, to ask "changed since?" with a conditional GET."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Validators:
        return cls(etag=str(data.get("etag") or ""), last_modified=str(data.get("last_modified") or ""))


@dataclass(frozen=True)
class FetchRecord:
    """One article page fetch: a Scrapy item for the ledger pipeline.

    ``url`` is the canonical form of the requested URL (the ledger key);
    ``status`` the HTTP status (304: not modified, nothing else to store);
    ``article_url``/``content_hash`` name the Article stored from it (200 only).
    ``index`` marks an index page (feed, listing, API page): its ``content_hash``
    is the body's, it has no article, and it is recorded only when the spider
    closes with everything it listed settled (``settled_index_records``).
    """

    url: str
    source_id: str
    status: int
    etag: str = ""
    last_modified: str = ""
    article_url: str = ""
    content_hash: str = ""
    index: bool = False

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validators_from(data: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Validators]:
    """``{url: {"etag": …, "last_modified": …}}`` (the job file's form) as ``{url: Validators}``."""
    return {url: Validators.from_dict(v) for url, v in (data or {}).items() if isinstance(v, Mapping)}
