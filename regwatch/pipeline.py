"""Pipeline wiring: crawl → store → tag → index → digest.

Stages never call each other; this module passes the domain models between
them. The crawl runs in a subprocess (Scrapy's reactor cannot restart) whose
item pipeline :class:`StoreArticlePipeline` writes each article straight into
the SQLite store (WAL lets the parent read meanwhile). Tagging then runs over
every article not yet tagged in batches (``nlp.pipe`` is far faster batched than
per item), indexing brings the search index up to date, and digests read the
store's ledger so each (subscriber, day) is delivered once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from regwatch.errors import ConfigError, DeliveryError, RegwatchError
from regwatch.models import Article, CrawlStats, Source, Subscriber, utcnow

if TYPE_CHECKING:
    from regwatch.app import App

logger = logging.getLogger(__name__)

STORE_PIPELINE = "regwatch.pipeline.StoreArticlePipeline"


class StoreArticlePipeline:
    """Scrapy item pipeline: store each :class:`Article` and count new/updated/duplicate.

    Opts out (NotConfigured) when the crawl was started without a database.
    """

    def __init__(self, db_path: str, stats: Any) -> None:
        self.db_path = db_path
        self.stats = stats
        self.store: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoreArticlePipeline:
        from scrapy.exceptions import NotConfigured

        db_path = crawler.settings.get("REGWATCH_DB_PATH")
        if not db_path:
            raise NotConfigured("REGWATCH_DB_PATH is not set")
        return cls(db_path, crawler.stats)

    def open_spider(self, spider: Any = None) -> None:
        from indexer import Store

        self.store = Store.open(self.db_path)

    def close_spider(self, spider: Any = None) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def process_item(self, item: Any, spider: Any = None) -> Any:
        import crawlers

        if not isinstance(item, Article):
            return item
        try:
            outcome = self.store.upsert_article(item)
        except RegwatchError as exc:
            crawlers.add_error(self.stats, item.source_id, "other", item.url, f"store failed: {exc}")
            return item
        crawlers.count(self.stats, item.source_id, outcome)
        logger.info("%s %s article %s", item.source_id, outcome, item.url)
        return item


# --- schedules ---------------------------------------------------------------

_EVERY_RE = re.compile(r"^every (\d+)\s*([mhd])$")


def schedule_trigger_args(schedule: str) -> tuple[str, dict[str, Any]]:
    """Turn a source schedule ('every 2h', 'cron 0 7 * * 1-5') into APScheduler trigger args."""
    match = _EVERY_RE.match(schedule.strip())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return "interval", {unit: int(match.group(1))}
    fields = schedule.strip().removeprefix("cron").split()
    minute, hour, day, month, day_of_week = fields if len(fields) == 5 else ("0", "*", "*", "*", "*")
    return "cron", {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": day_of_week}


def source_is_due(source: Source, last_run: datetime | None, now: datetime, timezone: str = "UTC") -> bool:
    """Whether a source's schedule says it should be crawled again at ``now``.

    Cron schedules are read in ``timezone`` (SCHEDULE_TIMEZONE), as the scheduler reads them.
    """
    if last_run is None:
        return True
    kind, args = schedule_trigger_args(source.schedule)
    if kind == "interval":
        return now - last_run >= timedelta(**args)
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger(timezone=timezone, **args)
    next_fire = trigger.get_next_fire_time(None, last_run + timedelta(seconds=1))
    return next_fire is not None and next_fire <= now


# --- stages ------------------------------------------------------------------


def crawl(app: App, source_ids: Sequence[str] = (), due_only: bool = False) -> list[CrawlStats]:
    """Crawl the named sources (default: every enabled one) in a subprocess, storing articles."""
    from crawlers import run_crawl

    if source_ids:
        sources = [app.config.source(sid) for sid in source_ids]
    else:
        sources = [s for s in app.config.sources if s.enabled]
        for skipped in (s for s in app.config.sources if not s.enabled):
            logger.info("source %s is disabled in the config; skipping", skipped.id)
    if due_only:
        last_runs = {h.source_id: h.last_run for h in app.store.source_health()}
        now = utcnow()
        tz = app.settings["SCHEDULE_TIMEZONE"]
        sources = [s for s in sources if source_is_due(s, last_runs.get(s.id), now, tz)]
    if not sources:
        logger.info("no source to crawl")
        return []
    app.store  # noqa: B018 - create the schema before the subprocess writes to it
    started = utcnow()
    logger.info("crawling %d source(s): %s", len(sources), ", ".join(s.id for s in sources))
    results = run_crawl(
        sources,
        app.settings,
        item_pipelines={STORE_PIPELINE: 800},
        extra_scrapy_settings={"REGWATCH_DB_PATH": str(app.db_path)},
    )
    finished = utcnow()
    for stats in results:
        app.store.record_source_run(stats, started, finished)
    return results


@dataclass
class TagOutcome:
    articles: int = 0
    entities: int = 0  # distinct watched entities found across those articles
    watched_names: list[str] = field(default_factory=list)


def tag_pending(app: App, batch: int = 256) -> TagOutcome:
    """Tag every stored article that has no entities yet."""
    outcome = TagOutcome()
    names: set[str] = set()
    while True:
        articles = app.store.articles_needing_tags(limit=batch)
        if not articles:
            break
        app.tagger.tag_articles(articles)
        for article in articles:
            # The content hash lets the store notice an article re-crawled while we tagged it.
            app.store.set_entities(
                article.id,
                article.entities,
                tagger_version=app.tagger.version,
                content_hash=article.content_hash,
            )
            names.update(e.name for e in article.watched_entities())
        outcome.articles += len(articles)
        if len(articles) < batch:
            break
    outcome.watched_names = sorted(names)
    outcome.entities = len(names)
    if outcome.articles:
        logger.info("tagged %d article(s); watched entities: %s", outcome.articles, ", ".join(sorted(names)))
    return outcome


def index_pending(app: App) -> int:
    count = app.store.index_pending()
    if count:
        logger.info("indexed %d article(s)", count)
    return count


@dataclass
class DigestOutcome:
    subscriber_id: str
    period: date
    status: str  # delivered | pending | failed | already-delivered | nothing-new | not-due
    location: str = ""
    items: int = 0
    error: str = ""


def local_period(subscriber: Subscriber, now: datetime) -> date:
    """The subscriber's local date at ``now``: the digest period."""
    return now.astimezone(ZoneInfo(subscriber.timezone)).date()


def digest_is_due(subscriber: Subscriber, now: datetime) -> bool:
    """Due once the subscriber's local clock has passed their send time today."""
    local = now.astimezone(ZoneInfo(subscriber.timezone))
    hour, minute = (int(part) for part in subscriber.send_time.split(":"))
    return (local.hour, local.minute) >= (hour, minute)


def resolve_subscriber_entities(app: App, subscriber: Subscriber) -> Subscriber:
    """Map the subscriber's entity names/aliases to canonical names (unknown ones are warned about)."""
    from dataclasses import replace

    canonical: list[str] = []
    for name in subscriber.entities:
        entity = app.watchlist.find(name)
        if entity is None:
            logger.warning("subscriber %s watches %r, which is not on the watchlist", subscriber.id, name)
            continue
        canonical.append(entity.name)
    return replace(subscriber, entities=tuple(canonical))


def select_subscribers(app: App, subscriber_ids: Iterable[str] = ()) -> list[Subscriber]:
    """The configured subscribers with these ids (all when empty); unknown ids are a ConfigError."""
    wanted = set(subscriber_ids)
    unknown = wanted - {s.id for s in app.config.subscribers}
    if unknown:
        known = ", ".join(s.id for s in app.config.subscribers)
        raise ConfigError(f"unknown subscriber(s): {', '.join(sorted(unknown))}; configured: {known}")
    return [s for s in app.config.subscribers if not wanted or s.id in wanted]


def build_next_digest(app: App, subscriber: Subscriber, period: date, now: datetime) -> Any:
    """The digest of everything first seen since the subscriber's last delivered one (None: nothing)."""
    from digests import build_digest

    articles = app.store.articles_first_seen_between(app.store.last_watermark(subscriber.id), now)
    return build_digest(
        resolve_subscriber_entities(app, subscriber),
        articles,
        period,
        sources={s.id: s for s in app.config.sources},
        sender=app.settings["DIGEST_SENDER"],
        max_items=app.settings["DIGEST_MAX_ITEMS"],
        now=now,
    )


def deliver_digests(
    app: App,
    now: datetime | None = None,
    subscriber_ids: Iterable[str] = (),
    force: bool = False,
) -> list[DigestOutcome]:
    """Build and deliver each due, undelivered digest; ``force`` ignores send times."""
    now = now or utcnow()
    outcomes: list[DigestOutcome] = []
    for subscriber in select_subscribers(app, subscriber_ids):
        period = local_period(subscriber, now)
        record = app.store.digest_record(subscriber.id, period)
        if record is not None and record.status == "delivered":
            outcomes.append(DigestOutcome(subscriber.id, period, "already-delivered", record.location))
            continue
        pending = record is not None and record.status == "pending"
        if not (force or pending or digest_is_due(subscriber, now)):
            outcomes.append(DigestOutcome(subscriber.id, period, "not-due"))
            continue
        digest = build_next_digest(app, subscriber, period, now)
        if digest is None:
            outcomes.append(DigestOutcome(subscriber.id, period, "nothing-new"))
            continue
        digest.watermark = now
        outcomes.append(_deliver(app, digest))
    return outcomes


def preview_digests(
    app: App, now: datetime | None = None, subscriber_ids: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Build (but neither send nor record) each subscriber's next digest."""
    from digests import render_preview

    now = now or utcnow()
    previews = []
    for subscriber in select_subscribers(app, subscriber_ids):
        period = local_period(subscriber, now)
        digest = build_next_digest(app, subscriber, period, now)
        previews.append(
            {
                "subscriber": subscriber.id,
                "period": period.isoformat(),
                "subject": digest.subject if digest else "",
                "items": len(digest.article_ids) if digest else 0,
                "text": render_preview(digest) if digest else "",
            }
        )
    return previews


def _deliver(app: App, digest: Any) -> DigestOutcome:
    base = {"subscriber_id": digest.subscriber_id, "period": digest.period}
    ledger = {
        "message_id": digest.message_id,
        "watermark": digest.watermark,
        "article_ids": digest.article_ids,
    }
    try:
        location = app.deliverer.deliver(digest)
    except DeliveryError as exc:
        status = "failed" if exc.permanent else "pending"
        logger.error("digest for %s (%s) %s: %s", digest.subscriber_id, digest.period, status, exc)
        app.store.record_digest(**base, status=status, error=str(exc), **ledger)
        return DigestOutcome(**base, status=status, error=str(exc), items=len(digest.article_ids))
    app.store.record_digest(**base, status="delivered", location=location, **ledger)
    logger.info("digest for %s (%s) delivered: %s", digest.subscriber_id, digest.period, location)
    return DigestOutcome(**base, status="delivered", location=location, items=len(digest.article_ids))


@dataclass
class RunSummary:
    """What one pass did: printed by `regwatch run` and `regwatch demo`."""

    crawl: list[CrawlStats] = field(default_factory=list)
    tagged: TagOutcome = field(default_factory=TagOutcome)
    indexed: int = 0
    digests: list[DigestOutcome] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("pages_fetched", "new", "updated", "duplicate", "errors")
        return {k: sum(getattr(s, k) for s in self.crawl) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": len(self.crawl),
            **self.totals(),
            "articles_tagged": self.tagged.articles,
            "entities_found": self.tagged.entities,
            "watched_entities": self.tagged.watched_names,
            "indexed": self.indexed,
            "per_source": [s.to_dict() for s in self.crawl],
            "digests": [
                {
                    "subscriber": d.subscriber_id,
                    "period": d.period.isoformat(),
                    "status": d.status,
                    "items": d.items,
                    "path": d.location,
                    "error": d.error,
                }
                for d in self.digests
            ],
        }


def run_once(
    app: App,
    source_ids: Sequence[str] = (),
    due_only: bool = True,
    force_digests: bool = False,
    now: datetime | None = None,
) -> RunSummary:
    """One pass: crawl what is due, tag, index, deliver due digests."""
    summary = RunSummary()
    summary.crawl = crawl(app, source_ids, due_only=due_only)
    summary.tagged = tag_pending(app)
    summary.indexed = index_pending(app)
    summary.digests = deliver_digests(app, now=now, force=force_digests)
    return summary
