"""Rendering a digest: sections, subject, and the multipart/alternative message.

Layout of a digest, top to bottom: a counts line (mentions per watched entity),
then "Regulator and government statements" (every item from an official
source), then one section per watched entity. An item is listed once, under its
primary (most salient) watched entity, and shows all its watched entities as
tags: listing it under each entity would repeat most items two or three times,
since Ofcom, X and Grok are usually reported together. Entity sections are
ordered like the counts line, most mentioned first.

Every scraped string is stripped of control characters here and escaped by
Jinja2's autoescape in the HTML part; URLs other than http(s) are dropped.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from digests._select import DigestItem, entity_key, mention_count, select_articles
from regwatch.models import Article, Digest, Source, Subscriber, utcnow

logger = logging.getLogger(__name__)

OFFICIAL_SECTION_TITLE = "Regulator and government statements"
SUBJECT_ENTITIES = 3  # entities named in the subject line
SNIPPET_CHARS = 280

# Fixed English names: strftime("%a") follows the process locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# C0/C1 controls (keeping tab and newline where text may have lines) and the
# bidi overrides that can make a scraped title read differently from its bytes.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE_RE = re.compile(r"\s+")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
_MSGID_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]")


def clean_line(text: str | None) -> str:
    """One line of scraped text: control characters dropped, whitespace collapsed."""
    return _SPACE_RE.sub(" ", _CONTROL_RE.sub("", unicodedata.normalize("NFC", text or ""))).strip()


def safe_url(url: str | None) -> str:
    """``url`` if it is an absolute http(s) URL, else "" (javascript:, data:, relative...)."""
    candidate = _CONTROL_RE.sub("", url or "").strip()
    if any(ch.isspace() for ch in candidate):
        return ""
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return candidate


def snippet(article: Article, limit: int = SNIPPET_CHARS) -> str:
    """The summary, else the body's first sentences, cut at a word boundary near ``limit``."""
    text = clean_line(article.summary)
    if not text:
        body = clean_line(article.body)
        text = ""
        for sentence in _SENTENCE_END_RE.split(body):
            if text and len(text) + len(sentence) + 1 > limit:
                break
            text = f"{text} {sentence}".strip()
            if len(text) >= limit // 2:
                break
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text


def day_label(day: date) -> str:
    """ "Mon 12 Jan"."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def time_label(when: datetime, zone: tzinfo) -> str:
    """ "Mon 12 Jan 14:05 GMT" in the subscriber's zone (naive datetimes are UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    local = when.astimezone(zone)
    return f"{day_label(local.date())} {local:%H:%M} {local.tzname() or ''}".strip()


def subscriber_zone(subscriber: Subscriber) -> tzinfo:
    try:
        return ZoneInfo(subscriber.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        # The config validates zones; a hand-built subscriber may still be wrong.
        logger.warning("subscriber %s: unknown timezone %r, using UTC", subscriber.id, subscriber.timezone)
        return UTC


def message_id_for(subscriber_id: str, period: date) -> str:
    """Stable Message-ID: a resend of the same digest is recognisably the same message."""
    part = _MSGID_UNSAFE_RE.sub("-", subscriber_id)
    if part != subscriber_id or not part:
        # Keep ids that differ only in unsafe characters apart.
        part = f"{part}-{hashlib.sha1(subscriber_id.encode('utf-8')).hexdigest()[:8]}"
    return f"<digest-{part}-{period.isoformat()}@regwatch>"


@dataclass
class _Link:
    source_name: str
    url: str


@dataclass
class _ItemView:
    title: str
    url: str
    source_name: str
    time: str
    entities: list[str]
    snippet: str
    official: bool
    also_reported: list[_Link] = field(default_factory=list)


@dataclass
class _SectionView:
    title: str
    items: list[_ItemView]


@dataclass
class _EntityCount:
    key: str
    name: str
    mentions: int
    items: int


def _item_view(item: DigestItem, zone: tzinfo) -> _ItemView:
    article = item.article
    return _ItemView(
        title=clean_line(article.title) or "(untitled)",
        url=safe_url(article.url),
        source_name=clean_line(item.source_name),
        time=time_label(article.published or article.fetched_at, zone),
        entities=[clean_line(e.name) for e in item.entities],
        snippet=snippet(article),
        official=item.official,
        also_reported=[_Link(clean_line(c.source_name), safe_url(c.url)) for c in item.also_reported],
    )


def entity_counts(items: Sequence[DigestItem]) -> list[_EntityCount]:
    """Mentions and items per watched entity, most mentioned first."""
    mentions: Counter[str] = Counter()
    listed: Counter[str] = Counter()
    names: dict[str, str] = {}
    for item in items:
        for entity in item.entities:
            key = entity_key(entity)
            names.setdefault(key, clean_line(entity.name))
            mentions[key] += mention_count(entity)
            listed[key] += 1
    ordered = sorted(mentions, key=lambda k: (-mentions[k], names[k].casefold()))
    return [_EntityCount(k, names[k], mentions[k], listed[k]) for k in ordered]


def _sections(items: Sequence[DigestItem], counts_order: Sequence[str], zone: tzinfo) -> list[_SectionView]:
    official = [_item_view(it, zone) for it in items if it.official]
    by_entity: dict[str, list[_ItemView]] = {}
    titles: dict[str, str] = {}
    for item in items:
        if item.official:
            continue
        key = entity_key(item.primary_entity)
        titles.setdefault(key, clean_line(item.primary_entity.name))
        by_entity.setdefault(key, []).append(_item_view(item, zone))
    sections = [_SectionView(OFFICIAL_SECTION_TITLE, official)] if official else []
    rank = {key: i for i, key in enumerate(counts_order)}
    for key in sorted(by_entity, key=lambda k: rank.get(k, len(rank))):
        sections.append(_SectionView(titles[key], by_entity[key]))
    return sections


def subject_for(counts: Sequence[_EntityCount], n_items: int, period: date) -> str:
    top = ", ".join(c.name for c in counts[:SUBJECT_ENTITIES])
    noun = "item" if n_items == 1 else "items"
    return f"regwatch — {top}: {n_items} new {noun}, {day_label(period)}"


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("digests", "templates"),
        # "digest.html.j2" ends in .j2, so name the double extensions; default on for safety.
        autoescape=select_autoescape(
            enabled_extensions=("html.j2", "html"), disabled_extensions=("txt.j2",), default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def build_digest(
    subscriber: Subscriber,
    articles: Sequence[Article],
    period: date,
    *,
    sources: Mapping[str, Source] | None = None,
    sender: str = "regwatch <regwatch@localhost>",
    max_items: int = 50,
    now: datetime | None = None,
) -> Digest | None:
    """The digest of ``articles`` for ``subscriber`` and ``period``, or None when nothing qualifies.

    ``period`` is the subscriber's local date. The watermark is the newest
    ``fetched_at`` among all ``articles`` given, qualifying or not, so the caller
    never offers the same non-qualifying articles again.
    """
    items = select_articles(subscriber, articles, sources, max_items)
    if not items:
        logger.info(
            "digest for %s on %s: nothing qualifies among %d articles", subscriber.id, period, len(articles)
        )
        return None
    zone = subscriber_zone(subscriber)
    counts = entity_counts(items)
    sections = _sections(items, [c.key for c in counts], zone)
    subject = subject_for(counts, len(items), period)
    message_id = message_id_for(subscriber.id, period)
    context = {
        "subject": subject,
        "subscriber_name": clean_line(subscriber.name),
        "period_label": day_label(period),
        "n_items": len(items),
        "counts": counts,
        "sections": sections,
        "watching": [clean_line(e) for e in subscriber.entities],
    }
    env = _environment()
    text = env.get_template("digest.txt.j2").render(context)
    html = env.get_template("digest.html.j2").render(context)

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = Address(display_name=clean_line(subscriber.name), addr_spec=subscriber.email)
    message["Date"] = format_datetime(now or utcnow())
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    message.set_content(text)
    message.add_alternative(html, subtype="html")

    article_ids = [article_id for item in items for article_id in item.article_ids]
    watermark = max((a.fetched_at for a in articles), default=None)
    logger.info("digest for %s on %s: %d items, %s", subscriber.id, period, len(items), message_id)
    return Digest(
        subscriber_id=subscriber.id,
        period=period,
        subject=subject,
        message_id=message_id,
        message=message.as_bytes(policy=email.policy.SMTP),
        article_ids=article_ids,
        watermark=watermark,
    )


def render_preview(digest: Digest) -> str:
    """The plain-text part of ``digest``, as ``regwatch digest --preview`` shows it."""
    message = BytesParser(policy=email.policy.default).parsebytes(digest.message)
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    return str(part.get_content())  # type: ignore[attr-defined]
