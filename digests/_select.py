"""Choosing what goes into one subscriber's digest.

An article qualifies when it mentions a watched entity the subscriber watches
or matches one of their keywords, comes from their sources, source types and
jurisdictions, and scores at least their ``min_relevance``; or when it matches
one of their saved searches (``digests._saved``), whose own filters say what it
covers, so neither their scope nor ``min_relevance`` applies to it. The score adds the
salience of the watched entities, a bonus per title mention, a bonus for a
regulator or government source, for a detected regulatory action involving a
watched entity, and for each keyword matched. Syndicated copies are folded into
one item ("also reported by"): articles of one story (``Article.story_id``,
set by the store) first, and as a fallback for articles without one, the same
normalised title or a near-identical body. Items are ordered by score, newest
first on ties.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC

from digests._keywords import match_keywords
from digests._saved import matching_searches
from regwatch.models import Action, Article, Source, Subscriber, TaggedEntity

logger = logging.getLogger(__name__)

# Source types whose articles are statements by an authority rather than reporting.
OFFICIAL_SOURCE_TYPES = frozenset({"regulator", "government", "parliament", "court"})

# Score weights. A statement by a regulator outranks press coverage of the same
# news, so the official bonus is larger than a typical salience sum.
OFFICIAL_BONUS = 1.0
IN_TITLE_BONUS = 0.5
ACTION_BONUS = 0.75  # a detected regulatory action involving a watched entity
KEYWORD_BONUS = 0.4  # per matched keyword (plus IN_TITLE_BONUS once when one is in the title)

# Bodies whose 5-word shingle sets overlap this much are the same wire copy.
SHINGLE_SIZE = 5
NEAR_DUPLICATE_JACCARD = 0.85
_MIN_SHINGLES = 8  # shorter bodies are compared by title only


@dataclass
class AlsoReported:
    """A syndicated copy of an item, shown as "also reported by"."""

    source_id: str
    source_name: str
    url: str
    article_id: str


@dataclass
class DigestItem:
    """One entry of a digest: an article, why it is there, and its copies.

    ``entities`` are the article's watched entities that the subscriber watches,
    most salient first; ``entities[0]`` is the item's primary entity.
    """

    article: Article
    source_name: str
    source_type: str
    score: float
    entities: list[TaggedEntity]
    also_reported: list[AlsoReported] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)  # the subscriber's keywords it matches
    actions: list[Action] = field(default_factory=list)  # detected actions involving its entities
    searches: list[str] = field(default_factory=list)  # the names of the saved searches it matches

    @property
    def section_key(self) -> str:
        """Where the item is listed: the first saved search it matches, else its primary entity,
        else the first keyword it matched."""
        if self.searches:
            return saved_search_key(self.searches[0])
        return entity_key(self.entities[0]) if self.entities else f"keyword:{self.keywords[0]}"

    @property
    def section_title(self) -> str:
        if self.searches:
            return self.searches[0]
        return self.entities[0].name if self.entities else f"“{self.keywords[0]}”"

    @property
    def official(self) -> bool:
        return self.source_type in OFFICIAL_SOURCE_TYPES

    @property
    def article_ids(self) -> list[str]:
        return [self.article.id, *(copy.article_id for copy in self.also_reported)]


def mention_count(entity: TaggedEntity) -> int:
    """Mentions of a tagged entity; a tag without counts is one mention."""
    return entity.count or len(entity.mentions) or 1


def saved_search_key(name: str) -> str:
    """The section key of a saved search (by name: unique per subscriber)."""
    return f"search:{name}"


def entity_key(entity: TaggedEntity) -> str:
    """The key sections and counts group by: the watchlist id, else the name."""
    return entity.entity_id or entity.name


def _salience_order(entity: TaggedEntity) -> tuple[float, bool, int, int]:
    position = entity.first_position if entity.first_position >= 0 else 1 << 30
    return (-entity.salience, not entity.in_title, -mention_count(entity), position)


def watched_for(subscriber: Subscriber, article: Article) -> list[TaggedEntity]:
    """The article's watched entities that ``subscriber`` watches, most salient first.

    ``subscriber.entities`` may hold canonical names or watchlist ids (as the
    config allows both); matching is case-insensitive. Empty means every watched entity.
    """
    wanted = {name.casefold() for name in subscriber.entities}
    found: dict[str, TaggedEntity] = {}
    for entity in article.watched_entities():
        if (
            wanted
            and entity.name.casefold() not in wanted
            and (entity.entity_id or "").casefold() not in wanted
        ):
            continue
        key = entity_key(entity)
        # nlp emits one tag per entity; if it ever emits two, keep the more salient.
        if key not in found or _salience_order(entity) < _salience_order(found[key]):
            found[key] = entity
    return sorted(found.values(), key=_salience_order)


def actions_involving(article: Article, entities: Sequence[TaggedEntity]) -> list[Action]:
    """The article's detected actions whose actor or target is one of ``entities``.

    With no entities (a keyword-only item), every detected action counts.
    """
    if not entities:
        return list(article.actions)
    ids = {e.entity_id for e in entities if e.entity_id}
    names = {e.name.casefold() for e in entities}
    return [
        action
        for action in article.actions
        if {action.actor_entity_id, action.target_entity_id} & ids
        or {action.actor.casefold(), action.target.casefold()} & names
    ]


def score(
    entities: Sequence[TaggedEntity],
    source_type: str,
    *,
    actions: int = 0,
    keywords: int = 0,
    keyword_in_title: bool = False,
) -> float:
    """Relevance: watched-entity salience, title mentions, official source, actions, keywords
    (a saved search matched counts as a keyword)."""
    total = sum(max(e.salience, 0.0) for e in entities)
    total += IN_TITLE_BONUS * sum(1 for e in entities if e.in_title)
    if source_type in OFFICIAL_SOURCE_TYPES:
        total += OFFICIAL_BONUS
    if actions:
        total += ACTION_BONUS
    total += KEYWORD_BONUS * keywords
    if keyword_in_title and not any(e.in_title for e in entities):
        total += IN_TITLE_BONUS
    return round(total, 6)


def in_scope(subscriber: Subscriber, article: Article, source: Source | None) -> bool:
    """Whether the article comes from the subscriber's sources, source types and jurisdictions."""
    if subscriber.sources and article.source_id not in subscriber.sources:
        return False
    source_type = source.type if source else "news"
    if subscriber.source_types and source_type not in subscriber.source_types:
        return False
    if subscriber.jurisdictions:
        jurisdiction = (source.jurisdiction if source else "").casefold()
        if jurisdiction not in {j.casefold() for j in subscriber.jurisdictions}:
            return False
    return True


_WORD_RE = re.compile(r"\w+")


def normalise_title(title: str) -> str:
    """Casefolded words only, so "Ofcom opens X probe" == "OFCOM opens X probe!"."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_WORD_RE.findall(text))


def shingles(body: str) -> frozenset[tuple[str, ...]]:
    words = _WORD_RE.findall(unicodedata.normalize("NFKC", body).casefold())
    return frozenset(tuple(words[i : i + SHINGLE_SIZE]) for i in range(len(words) - SHINGLE_SIZE + 1))


def _near_identical(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> bool:
    if len(a) < _MIN_SHINGLES or len(b) < _MIN_SHINGLES:
        return False
    return len(a & b) / len(a | b) >= NEAR_DUPLICATE_JACCARD


def _timestamp(article: Article) -> float:
    """Published time (else first seen) as a POSIX timestamp; naive datetimes are UTC."""
    when = article.published or article.fetched_at
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


@dataclass
class _Group:
    item: DigestItem
    titles: set[str]
    bodies: list[frozenset[tuple[str, ...]]]
    stories: set[str] = field(default_factory=set)

    def matches(self, story: str, title: str, body: frozenset[tuple[str, ...]]) -> bool:
        if story and story in self.stories:
            return True
        return (bool(title) and title in self.titles) or any(_near_identical(body, b) for b in self.bodies)


def select_articles(
    subscriber: Subscriber,
    articles: Sequence[Article],
    sources: Mapping[str, Source] | None = None,
    max_items: int = 50,
) -> list[DigestItem]:
    """The digest items for ``subscriber``, best first, at most ``max_items``.

    Syndicated copies (same story; else same normalised title, or
    near-identical body) collapse into the best-scored copy; on equal scores the earliest published copy is
    kept, as it is most likely the original. Items sort by score, then newest first.
    """
    sources = sources or {}
    candidates: list[DigestItem] = []
    seen_ids: set[str] = set()
    below = 0
    for article in articles:
        if article.id in seen_ids:
            continue
        source = sources.get(article.source_id)
        searches = [s.name for s in matching_searches(subscriber.saved_searches, article, source)]
        scoped = in_scope(subscriber, article, source)
        if not scoped and not searches:
            continue
        entities = watched_for(subscriber, article)
        hits = match_keywords(subscriber.keywords, article.title, article.summary, article.body)
        if not searches and not entities and not hits.matched:
            continue
        seen_ids.add(article.id)
        source_type = source.type if source else "news"
        actions = actions_involving(article, entities)
        relevance = score(
            entities,
            source_type,
            actions=len(actions),
            keywords=len(hits.matched) + len(searches),
            keyword_in_title=bool(hits.in_title),
        )
        if relevance < subscriber.min_relevance and not searches:
            below += 1
            continue
        candidates.append(
            DigestItem(
                article=article,
                source_name=source.name if source else article.source_id,
                source_type=source_type,
                score=relevance,
                entities=entities,
                keywords=hits.matched,
                actions=actions,
                searches=searches,
            )
        )
    if below:
        logger.info(
            "digest for %s: %d article(s) below min_relevance %s",
            subscriber.id,
            below,
            subscriber.min_relevance,
        )

    # Best copy first, so the group representative is the one we keep.
    candidates.sort(key=lambda it: (-it.score, _timestamp(it.article), it.article.url))
    groups: list[_Group] = []
    for candidate in candidates:
        title = normalise_title(candidate.article.title)
        body = shingles(candidate.article.body)
        story = candidate.article.story_id
        group = next((g for g in groups if story and story in g.stories), None)
        group = group or next((g for g in groups if g.matches(story, title, body)), None)
        if group is None:
            groups.append(_Group(candidate, {title} if title else set(), [body], {story} if story else set()))
            continue
        group.titles.add(title)
        group.bodies.append(body)
        if story:
            group.stories.add(story)
        group.item.also_reported.append(
            AlsoReported(
                source_id=candidate.article.source_id,
                source_name=candidate.source_name,
                url=candidate.article.url,
                article_id=candidate.article.id,
            )
        )
        # A copy may mention a watched entity (or keyword) the kept article's tagger missed.
        known = {entity_key(e) for e in group.item.entities}
        group.item.entities.extend(e for e in candidate.entities if entity_key(e) not in known)
        group.item.keywords.extend(k for k in candidate.keywords if k not in group.item.keywords)
        group.item.searches.extend(k for k in candidate.searches if k not in group.item.searches)
        if not group.item.actions:
            group.item.actions = candidate.actions

    items = [g.item for g in groups]
    items.sort(key=lambda it: (-it.score, -_timestamp(it.article), it.article.url))
    if len(items) > max_items:
        logger.info(
            "digest for %s: keeping %d of %d items (DIGEST_MAX_ITEMS)", subscriber.id, max_items, len(items)
        )
    logger.debug(
        "digest for %s: %d articles given, %d qualify, %d items after collapsing copies",
        subscriber.id,
        len(articles),
        len(candidates),
        len(items),
    )
    return items[:max_items]
