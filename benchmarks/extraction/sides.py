"""The two extractors the harness compares on every page, in the same run.

- ``regwatch``: :func:`crawlers.extract_article`, as a crawl calls it (no minimum body length:
  an empty body is scored, not skipped);
- ``trafilatura``: bare ``trafilatura.extract(favor_precision=True)`` with its own metadata,
  what regwatch would be without its own rules. It gives a day of publication, never a time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import trafilatura

from crawlers import extract_article
from regwatch.errors import ExtractionError

logger = logging.getLogger(__name__)


@dataclass
class Extracted:
    """What one extractor made of a page (only what the harness scores)."""

    body: str
    title: str = ""
    summary: str = ""
    published: datetime | date | None = None
    authors: list[str] = field(default_factory=list)
    language: str = ""
    error: str = ""


Extractor = Callable[[bytes, str], Extracted]


def regwatch_side(html: bytes, url: str, *, exclude: str = "", timezone: str = "") -> Extracted:
    try:
        article = extract_article(
            html, url, "quality", None, min_body_chars=0, exclude=exclude, local_timezone=timezone
        )
    except ExtractionError as exc:
        logger.info("quality %s: regwatch extracted nothing (%s)", url, exc)
        return Extracted(body="", error=str(exc))
    except Exception as exc:  # a crash is a finding to report beside the page, not the end of the run
        logger.warning("quality %s: regwatch crashed (%s: %s)", url, type(exc).__name__, exc)
        return Extracted(body="", error=f"crash: {type(exc).__name__}: {exc}")
    return Extracted(
        body=article.body,
        title=article.title,
        summary=article.summary,
        published=article.published,
        authors=list(article.authors),
        language=article.language,
    )


def trafilatura_side(html: bytes, url: str) -> Extracted:
    """Bare ``trafilatura.extract(favor_precision=True)`` for the body, ``extract_metadata`` for the rest."""
    body = trafilatura.extract(html, url=url, favor_precision=True) or ""
    try:
        # Typed as taking a tree or str, but its load_html reads bytes too (and guesses their charset).
        meta = trafilatura.extract_metadata(html, default_url=url)  # type: ignore[arg-type]
    except Exception as exc:  # trafilatura's own failure on a page is the baseline's miss, not the run's end
        logger.warning("quality %s: trafilatura's metadata failed (%s)", url, exc)
        meta = None
    published: date | None = None
    if meta is not None and meta.date:
        try:
            published = date.fromisoformat(meta.date[:10])
        except ValueError:
            published = None
    authors = [a.strip() for a in re.split(r";", (meta.author if meta else None) or "") if a.strip()]
    return Extracted(
        body=body,
        title=(meta.title if meta else None) or "",
        summary=(meta.description if meta else None) or "",
        published=published,
        authors=authors,
        error="" if body else "no text",
    )
