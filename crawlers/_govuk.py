"""GOV.UK's Content API: one content item (``/api/content/<base_path>``) as an Article.

The Content API is GOV.UK's content store read from outside
(``https://www.gov.uk/api/content/<path>``, alphagov/content-store ``openapi.yaml``):
the structured item a page is rendered from. The fields read here, as GOV.UK's
content schemas name them (alphagov/publishing-api ``content_schemas``, shown at
docs.publishing.service.gov.uk/content-schemas): ``base_path``, ``title``,
``description``, ``document_type`` (``press_release``, ``consultation_outcome``,
``cma_case``…), ``first_published_at``, ``public_updated_at``, ``locale``,
``links.organisations[].title`` and ``details``, whose ``body`` holds the HTML of
most formats; guides keep theirs in ``details.parts[]`` (``title``, ``body``).
Specialist documents (CMA cases) have no ``first_published_at``: the oldest
``details.change_history[].public_timestamp`` stands in.

An item whose format keeps no text in ``body`` or ``parts`` (a statistics
announcement, an organisation page) parses with an empty ``body_html``; the
spider then reads the HTML page instead (see ``JsonApiSpider``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from regwatch.errors import ExtractionError
from regwatch.models import Article

from ._extract import body_from_html, cap_body, summary_from_body
from ._text import canonicalize_url, clean_text, html_to_text, join_url, language_subtag, parse_date

# Words of a document_type written as initials in its label ("cma_case" -> "CMA case").
_INITIALISMS = frozenset({"aaib", "cma", "dfid", "esi", "eu", "foi", "hmrc", "maib", "raib", "uk", "utaac"})


@dataclass(frozen=True)
class ContentItem:
    """What regwatch keeps of one Content API answer."""

    page_url: str  # the public page: the API's host + base_path
    title: str
    summary: str
    body_html: str  # "" when the format keeps its text elsewhere
    published: datetime | None
    updated: datetime | None
    language: str
    document_type: str
    section: str  # a label of document_type ("Consultation outcome")
    organisations: tuple[str, ...]

    @property
    def tags(self) -> list[str]:
        """The organisations' names, then the raw document type (``document_type:cma_case``)."""
        raw = [f"document_type:{self.document_type}"] if self.document_type else []
        return [*self.organisations, *raw]


def document_type_label(document_type: str) -> str:
    """A reader's label of a document type: ``consultation_outcome`` -> ``Consultation outcome``."""
    words = [w.upper() if w in _INITIALISMS else w for w in document_type.strip().lower().split("_") if w]
    if not words:
        return ""
    label = " ".join(words)
    return label[0].upper() + label[1:]


def parse_content_item(raw: bytes, api_url: str) -> ContentItem:
    """Read a Content API answer; ExtractionError when it is not a content item."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ExtractionError(f"{api_url}: Content API answer is not JSON ({exc})") from None
    if not isinstance(data, Mapping):
        raise ExtractionError(f"{api_url}: Content API answer is not a JSON object")
    base_path = data.get("base_path")
    if not isinstance(base_path, str) or not base_path.startswith("/"):
        raise ExtractionError(f"{api_url}: Content API answer has no base_path")
    title = _text(data.get("title"))
    if not title:
        raise ExtractionError(f"{api_url}: Content API answer has no title")
    details = data.get("details") or {}
    if not isinstance(details, Mapping):
        raise ExtractionError(f"{api_url}: Content API answer's details is not an object")
    document_type = _plain(data.get("document_type"))
    page_url = join_url(api_url, base_path)
    if page_url is None:
        raise ExtractionError(f"{api_url}: Content API answer's base_path {base_path[:200]!r} is no address")
    return ContentItem(
        page_url=canonicalize_url(page_url),
        title=title,
        summary=_text(data.get("description")),
        body_html=_body_html(details),
        published=parse_date(data.get("first_published_at"))
        or parse_date(details.get("first_public_at"))
        or _first_change(details.get("change_history")),
        updated=parse_date(data.get("public_updated_at")),
        language=language_subtag(_plain(data.get("locale"))),
        document_type=document_type,
        # Some schemas (publication) carry their own label; the others get one from the type.
        section=_text(details.get("document_type_label")) or document_type_label(document_type),
        organisations=_organisations(data.get("links")),
    )


def content_item_article(
    item: ContentItem,
    api_url: str,
    source_id: str,
    *,
    min_body_chars: int,
    max_body_chars: int | None = None,
    fallback_published: datetime | None = None,
) -> Article:
    """The Article of an item with a body; ExtractionError when its text is too short.

    A body longer than ``max_body_chars`` (default: EXTRACT_MAX_BODY_CHARS's) is cut there.
    """
    body = body_from_html(item.body_html, item.page_url, item.title)
    if len(body) < min_body_chars:
        raise ExtractionError(f"{api_url}: body too short ({len(body)} < {min_body_chars} characters)")
    body = cap_body(body, max_body_chars, item.page_url, source_id)
    return Article(
        url=item.page_url,
        source_id=source_id,
        title=item.title,
        body=body,
        fetch_url=api_url,
        summary=item.summary or summary_from_body(body),
        published=item.published or fallback_published,
        updated=item.updated,
        language=item.language,
        section=item.section,
        tags=item.tags,
    )


def _text(value: Any) -> str:
    """Plain text of a string field that may hold markup; "" for anything else."""
    return html_to_text(value) if isinstance(value, str) else ""


def _plain(value: Any) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _body_html(details: Mapping[str, Any]) -> str:
    """``details.body``, else the guide parts joined (each part's title as its heading)."""
    body = details.get("body")
    if isinstance(body, list):  # [{content_type, content}], as the publishing side writes it
        body = next(
            (
                p.get("content")
                for p in body
                if isinstance(p, Mapping) and p.get("content_type") == "text/html"
            ),
            "",
        )
    if isinstance(body, str) and body.strip():
        return body
    parts = details.get("parts")
    if not isinstance(parts, list):
        return ""
    chunks = [
        f"<h2>{html.escape(_text(part.get('title')))}</h2>{part['body']}"
        for part in parts
        if isinstance(part, Mapping) and isinstance(part.get("body"), str) and part["body"].strip()
    ]
    return "\n".join(chunks)


def _first_change(history: Any) -> datetime | None:
    """The oldest ``public_timestamp`` of a change history (when it was first published)."""
    if not isinstance(history, list):
        return None
    stamps = [parse_date(entry.get("public_timestamp")) for entry in history if isinstance(entry, Mapping)]
    dated = [stamp for stamp in stamps if stamp is not None]
    return min(dated) if dated else None


def _organisations(links: Any) -> tuple[str, ...]:
    organisations = links.get("organisations") if isinstance(links, Mapping) else None
    if not isinstance(organisations, list):
        return ()
    names = [_text(org.get("title")) for org in organisations if isinstance(org, Mapping)]
    return tuple(dict.fromkeys(name for name in names if name))
