"""What a digest shows, section by section, as plain view objects for the templates.

Top to bottom:

1. "Regulator and government statements": every item from an official source
   (but those of a saved search, listed in its section).
2. "Regulatory actions": one line per detected action that involves a watched
   entity ("Ofcom opened an investigation into X"), linking to its article;
   the same action reported by several articles is listed once.
3. One section per saved search, in the subscriber's order (every item matching
   one, official or not, under the first it matches: what the analyst asked for
   comes first); then one per watched entity (items from other sources, each
   under its most salient watched entity), then one per keyword for keyword-only items.
   An item is listed once, showing all its watched entities as tags: listing it
   under each entity would repeat most items two or three times, since Ofcom, X
   and Grok are usually reported together. Entity sections follow the mentions
   order, most mentioned first.
4. "Notable quotes": direct quotes with their speakers, watched speakers and
   official sources first, at most two per speaker.
5. "Mentions": per watched entity, mentions in this digest against the previous
   digest's articles.

Every scraped string is stripped of control characters here; the HTML template
autoescapes it, and URLs other than absolute http(s) are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from urllib.parse import urlsplit

from digests._select import DigestItem, entity_key, mention_count, watched_for
from regwatch.models import Action, Article, Subscriber

OFFICIAL_SECTION_TITLE = "Regulator and government statements"
ACTIONS_SECTION_TITLE = "Regulatory actions"
QUOTES_SECTION_TITLE = "Notable quotes"
COUNTS_SECTION_TITLE = "Mentions"
SNIPPET_CHARS = 280
MAX_ACTIONS = 10
MAX_QUOTES = 5
QUOTES_PER_SPEAKER = 2
QUOTE_CHARS = (20, 400)  # shorter is rarely a statement, longer is a paragraph

# Fixed English names: strftime("%a") follows the process locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# C0/C1 controls (keeping tab and newline where text may have lines) and the
# bidi overrides that can make a scraped title read differently from its bytes.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE_RE = re.compile(r"\s+")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
_QUOTE_MARKS = "\"'“”‘’«» "

# How a detected action reads: (with a target, without one).
ACTION_PHRASES: dict[str, tuple[str, str]] = {
    "investigation": ("{actor} opened an investigation into {target}", "{actor} opened an investigation"),
    "fine": ("{actor} fined {target}", "{actor} issued a fine"),
    "ban": ("{actor} moved to ban {target}", "{actor} moved to ban"),
    "consultation": ("{actor} opened a consultation on {target}", "{actor} opened a consultation"),
    "guidance": ("{actor} issued guidance on {target}", "{actor} issued guidance"),
    "court_action": ("{actor} took court action against {target}", "{actor} took court action"),
}


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


def action_sentence(action: Action) -> str:
    """ "Ofcom opened an investigation into X"."""
    actor, target = clean_line(action.actor), clean_line(action.target)
    with_target, without = ACTION_PHRASES.get(
        action.action, ("{actor}: {action} ({target})", "{actor}: {action}")
    )
    phrase = with_target if target else without
    return phrase.format(actor=actor or "A regulator", target=target, action=clean_line(action.action))


@dataclass
class Link:
    source_name: str
    url: str


@dataclass
class ItemView:
    title: str
    url: str
    source_name: str
    time: str
    entities: list[str]
    snippet: str
    official: bool
    also_reported: list[Link] = field(default_factory=list)


@dataclass
class SectionView:
    title: str
    items: list[ItemView]


@dataclass
class ActionView:
    text: str
    url: str
    source_name: str
    time: str


@dataclass
class QuoteView:
    text: str
    speaker: str
    url: str
    source_name: str
    time: str


@dataclass
class EntityCount:
    key: str
    name: str
    mentions: int
    items: int
    previous: int | None = None  # None: no previous digest to compare with

    @property
    def change(self) -> str:
        """ "+4", "−2", "=", "new" or "" (nothing to compare with)."""
        if self.previous is None:
            return ""
        if self.previous == 0:
            return "new" if self.mentions else "="
        delta = self.mentions - self.previous
        return "=" if delta == 0 else (f"+{delta}" if delta > 0 else f"−{-delta}")


def item_view(item: DigestItem, zone: tzinfo) -> ItemView:
    article = item.article
    return ItemView(
        title=clean_line(article.title) or "(untitled)",
        url=safe_url(article.url),
        source_name=clean_line(item.source_name),
        time=time_label(article.published or article.fetched_at, zone),
        entities=[clean_line(e.name) for e in item.entities] + [f"“{clean_line(k)}”" for k in item.keywords],
        snippet=snippet(article),
        official=item.official,
        also_reported=[Link(clean_line(c.source_name), safe_url(c.url)) for c in item.also_reported],
    )


def entity_counts(
    items: Sequence[DigestItem],
    subscriber: Subscriber | None = None,
    previous: Sequence[Article] | None = None,
) -> list[EntityCount]:
    """Mentions and items per watched entity, most mentioned first.

    With ``previous`` (the previous digest's articles), each count carries the
    mentions there, and entities mentioned only then are listed with 0 now.
    """
    mentions: Counter[str] = Counter()
    listed: Counter[str] = Counter()
    names: dict[str, str] = {}
    for item in items:
        for entity in item.entities:
            key = entity_key(entity)
            names.setdefault(key, clean_line(entity.name))
            mentions[key] += mention_count(entity)
            listed[key] += 1
    before: Counter[str] | None = None
    if previous is not None and subscriber is not None:
        before = Counter()
        seen: set[str] = set()
        for article in previous:
            if article.id in seen:
                continue
            seen.add(article.id)
            for entity in watched_for(subscriber, article):
                key = entity_key(entity)
                names.setdefault(key, clean_line(entity.name))
                before[key] += mention_count(entity)
    keys = set(mentions) | set(before or ())
    ordered = sorted(keys, key=lambda k: (-mentions[k], -(before or Counter())[k], names[k].casefold()))
    return [
        EntityCount(k, names[k], mentions[k], listed[k], None if before is None else before[k])
        for k in ordered
    ]


def item_sections(
    items: Sequence[DigestItem], counts_order: Sequence[str], zone: tzinfo
) -> tuple[SectionView | None, list[SectionView]]:
    """The statements section (None when empty) and the saved-search, entity and keyword sections.

    ``counts_order`` ranks the section keys: the saved searches' (``saved_search_key``), then the
    entities' by mentions; keyword sections come after them."""
    official = [item_view(it, zone) for it in items if it.official and not it.searches]
    grouped: dict[str, list[ItemView]] = {}
    titles: dict[str, str] = {}
    for item in items:
        if item.official and not item.searches:
            continue
        key = item.section_key
        titles.setdefault(key, clean_line(item.section_title))
        grouped.setdefault(key, []).append(item_view(item, zone))
    rank = {key: i for i, key in enumerate(counts_order)}
    # Entities by mentions; keyword sections after them, in the subscriber's order of appearance.
    ordered = sorted(grouped, key=lambda k: (rank.get(k, len(rank)), k.startswith("keyword:")))
    statements = SectionView(OFFICIAL_SECTION_TITLE, official) if official else None
    return statements, [SectionView(titles[key], grouped[key]) for key in ordered]


def action_views(items: Sequence[DigestItem], zone: tzinfo, limit: int = MAX_ACTIONS) -> list[ActionView]:
    """One line per distinct detected action, from the best-scored item reporting it.

    Actions between two watched entities ("Ofcom → investigation → X") come
    first, then the others, each group in item order; an action without a target
    is left out when the same actor's same action with a target is listed.
    """
    found: list[tuple[bool, int, tuple[str, str, str], ActionView]] = []
    seen: set[tuple[str, str, str]] = set()
    for rank, item in enumerate(items):  # best first
        article = item.article
        for action in item.actions:
            actor = (action.actor_entity_id or clean_line(action.actor)).casefold()
            key = (actor, action.action, (action.target_entity_id or clean_line(action.target)).casefold())
            if key in seen or not actor:
                continue
            seen.add(key)
            view = ActionView(
                text=action_sentence(action),
                url=safe_url(article.url),
                source_name=clean_line(item.source_name),
                time=time_label(article.published or article.fetched_at, zone),
            )
            both_watched = bool(action.actor_entity_id and action.target_entity_id)
            found.append((not both_watched, rank, key, view))
    targeted = {(actor, kind) for actor, kind, target in seen if target}
    kept = [entry for entry in found if entry[2][2] or (entry[2][0], entry[2][1]) not in targeted]
    kept.sort(key=lambda entry: (entry[0], entry[1]))
    return [view for *_, view in kept[:limit]]


def quote_views(items: Sequence[DigestItem], zone: tzinfo, limit: int = MAX_QUOTES) -> list[QuoteView]:
    """Notable quotes: attributed, of a readable length, once each; watched speakers and official sources first."""
    candidates: list[tuple[tuple[bool, bool, int], QuoteView]] = []
    seen: set[str] = set()
    for rank, item in enumerate(items):
        article = item.article
        watched_ids = {e.entity_id for e in item.entities if e.entity_id}
        for quote in article.quotes:
            text = clean_line(quote.text).strip(_QUOTE_MARKS)
            speaker = clean_line(quote.speaker)
            key = " ".join(text.casefold().split())
            if not speaker or not (QUOTE_CHARS[0] <= len(text) <= QUOTE_CHARS[1]) or key in seen:
                continue
            seen.add(key)
            watched_speaker = bool(quote.speaker_entity_id and quote.speaker_entity_id in watched_ids)
            view = QuoteView(
                text=text,
                speaker=speaker,
                url=safe_url(article.url),
                source_name=clean_line(item.source_name),
                time=time_label(article.published or article.fetched_at, zone),
            )
            candidates.append(((not watched_speaker, not item.official, rank), view))
    candidates.sort(key=lambda pair: pair[0])
    chosen: list[QuoteView] = []
    per_speaker: Counter[str] = Counter()
    for _, view in candidates:  # at most QUOTES_PER_SPEAKER each, so one voice cannot fill the section
        if len(chosen) < limit and per_speaker[view.speaker.casefold()] < QUOTES_PER_SPEAKER:
            chosen.append(view)
            per_speaker[view.speaker.casefold()] += 1
    return chosen
