"""Pipeline wiring: crawl → store → tag → index → digest.

Stages never call each other; this module passes the domain models between
them. The crawl runs in a subprocess (Scrapy's reactor cannot restart) whose
item pipeline :class:`StoreArticlePipeline` writes each article straight into
the SQLite store (WAL lets the parent read meanwhile). Tagging then runs over
every article not yet tagged in batches (``nlp.pipe`` is far faster batched than
per item), indexing brings the search index up to date, immediate alerts go
out, and digests read the store's ledger so each (subscriber, period) is
delivered once.

Digest delivery (:func:`deliver_digests`, :func:`_deliver`): one sender per
home (a lock), pending digests resent byte for byte from the spool before
anything new is built, the ledger row written as "sending" (pending, no error)
before each attempt and the outcome after it. If the process dies between the
SMTP server accepting a message and the ledger recording it, the next run
resends it (same bytes and Message-ID) and logs a warning: at-least-once in that
window only, exactly once everywhere else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from regwatch.errors import ConfigError, DeliveryError, RegwatchError
from regwatch.models import Article, CrawlStats, Source, Subscriber, utcnow
from regwatch.private import private_file

if TYPE_CHECKING:
    from regwatch.app import App

logger = logging.getLogger(__name__)

STORE_PIPELINE = "regwatch.app.pipeline.StoreArticlePipeline"


class StoreArticlePipeline:
    """Scrapy item pipeline: store each :class:`Article` and count new/updated/duplicate.

    It also records the spiders' ``crawlers.FetchRecord`` items in the fetch
    ledger (validators for the next run's conditional GETs). A spider yields a
    page's record after its article, and the record of a 200 is written only
    when that article was stored, so a failed store or a crash in between costs
    a refetch, never an article. Index pages' records come from the spider at
    close, only when everything they listed was settled. Opts out (NotConfigured) when the crawl was
    started without a database.
    """

    def __init__(self, db_path: str, stats: Any) -> None:
        self.db_path = db_path
        self.stats = stats
        self.store: Any = None
        self.crawler: Any = None  # set by from_crawler: its spider hands over index validators at close
        self._stored: set[tuple[str, str]] = set()  # (canonical URL, content hash) stored this run

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoreArticlePipeline:
        from scrapy.exceptions import NotConfigured

        db_path = crawler.settings.get("REGWATCH_DB_PATH")
        if not db_path:
            raise NotConfigured("REGWATCH_DB_PATH is not set")
        pipeline = cls(db_path, crawler.stats)
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        from indexer import Store

        self.store = Store.open(self.db_path)
        # Story clusters are found in the batch step after the crawl (index_pending), as entities are.
        self.store.defer_stories = True

    def close_spider(self, spider: Any = None) -> None:
        # Index pages' validators, once everything they listed is settled (next run: 304, nothing new).
        spider = spider or getattr(self.crawler, "spider", None)
        settled = getattr(spider, "settled_index_records", None)
        if self.store is not None and settled is not None:
            for record in settled():
                self._record_fetch(record)
        if self.store is not None:
            self.store.close()
            self.store = None

    def process_item(self, item: Any, spider: Any = None) -> Any:
        import crawlers

        if isinstance(item, crawlers.ExtractedArticle):  # the article first, then its page's record
            self.process_item(item.article)
            self._record_fetch(item.fetch_record)
            return item
        if isinstance(item, crawlers.FetchRecord):
            self._record_fetch(item)
            return item
        if not isinstance(item, Article):
            return item
        try:
            outcome = self.store.upsert_article(item)
        except RegwatchError as exc:
            crawlers.add_error(self.stats, item.source_id, "other", item.url, f"store failed: {exc}")
            return item
        self._stored.add((item.url, item.content_hash))
        crawlers.count(self.stats, item.source_id, outcome)
        logger.info("%s %s article %s", item.source_id, outcome, item.url)
        return item

    def _record_fetch(self, record: Any) -> None:
        if record.status != 304 and not record.index:
            key = (record.article_url, record.content_hash)
            if key not in self._stored:
                return  # its article was not stored: no validators, so the next run fetches it in full
            self._stored.discard(key)
        try:
            self.store.record_fetch(
                record.url,
                record.source_id,
                record.status,
                etag=record.etag,
                last_modified=record.last_modified,
                content_hash=record.content_hash,
                article_url=record.article_url,
            )
        except RegwatchError as exc:
            logger.warning(
                "source=%s url=%s fetch not recorded in the ledger: %s", record.source_id, record.url, exc
            )


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
        states = app.store.source_states()
        for source in sources:
            state = states.get(source.id)
            if state is not None and state.disabled_at is not None:
                logger.warning(
                    "source=%s url=%s skipped: %s; `regwatch crawl %s` retries it",
                    source.id,
                    source.url,
                    state.disabled_reason,
                    source.id,
                )
        sources = [s for s in sources if s.id not in states or states[s.id].disabled_at is None]
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
        validators=app.store.fetch_validators(s.id for s in sources),
    )
    finished = utcnow()
    for stats in results:
        app.store.record_source_run(stats, started, finished)
        update_source_health(app, stats)
    return results


def update_source_health(app: App, stats: CrawlStats) -> None:
    """Carry a source's failure score, volume average and latency over to the next run.

    A score reaching CRAWL_DISABLE_SCORE disables the source (logged, and shown
    by `regwatch sources`) until a run of it succeeds; see ``crawlers._health``.
    """
    import crawlers

    state = app.store.source_state(stats.source_id)
    verdict = crawlers.assess_health(
        stats,
        state.failure_score,
        state.avg_items,
        state.runs,
        disable_score=app.settings["CRAWL_DISABLE_SCORE"],
        low_volume_ratio=app.settings["CRAWL_LOW_VOLUME_RATIO"],
    )
    state.failure_score, state.avg_items, state.runs = verdict.failure_score, verdict.avg_items, verdict.runs
    state.items_found, state.latency_ms, state.low_volume = (
        # an index that answered 304 lists what it listed last time
        state.items_found if stats.index_not_modified and not stats.items_found else stats.items_found,
        stats.index_latency_ms,
        verdict.low_volume,
    )
    if not verdict.hard_failure:
        if state.disabled_at is not None:
            logger.info("source=%s succeeded again: re-enabled", stats.source_id)
        state.disabled_at, state.disabled_reason = None, ""
    elif verdict.disable and state.disabled_at is None:
        state.disabled_at = utcnow()
        state.disabled_reason = (
            f"disabled after repeated hard failures (score {verdict.failure_score:g}, "
            f"limit {app.settings['CRAWL_DISABLE_SCORE']:g}); last: {crawlers.hard_failure_of(stats)}"
        )
        logger.error("source=%s %s", stats.source_id, state.disabled_reason)
    if verdict.low_volume:
        logger.warning(
            "source=%s listed %d items, far below its average of %.1f: check its selectors or feed",
            stats.source_id,
            stats.items_found,
            state.avg_items or 0.0,
        )
    app.store.save_source_state(state)


def probe(app: App, source_ids: Sequence[str] = ()) -> list[CrawlStats]:
    """Fetch each source's index once (default: every enabled source); follow and store nothing."""
    from crawlers import run_crawl

    if source_ids:
        sources = [app.config.source(sid) for sid in source_ids]
    else:
        sources = [s for s in app.config.sources if s.enabled]
    return run_crawl(sources, app.settings, item_pipelines={}, probe=True)


@dataclass
class TagOutcome:
    articles: int = 0  # tagged, in full or with the watchlist's entities alone
    entities: int = 0  # distinct watched entities found across those articles
    watched_names: list[str] = field(default_factory=list)
    failed: int = 0  # not tagged in full: the error is recorded (see Store.record_tag_error)


def tag_pending(app: App, batch: int = 256) -> TagOutcome:
    """Tag every stored article that has no entities yet.

    An article the tagger fails on is recorded with its error and skipped, and
    later runs skip it too until its text or the tagger version changes (or
    `regwatch retag` tries it again): it never blocks the others, nor every run.
    """
    outcome = TagOutcome()
    names: set[str] = set()
    while True:
        articles = app.store.articles_needing_tags(limit=batch, tagger_version=app.tagger.version)
        if not articles:
            break
        tagged, failed = _tag_and_store(app, articles, names)
        outcome.articles += tagged
        outcome.failed += failed
        if len(articles) < batch:
            break
    outcome.watched_names = sorted(names)
    outcome.entities = len(names)
    if outcome.articles:
        logger.info("tagged %d article(s); watched entities: %s", outcome.articles, ", ".join(sorted(names)))
    if outcome.failed:
        logger.warning(
            "%d article(s) could not be tagged in full (errors above); later runs skip them until "
            "the tagger changes; `regwatch retag` tries them again",
            outcome.failed,
        )
    return outcome


def _tag_and_store(app: App, articles: list[Article], names: set[str]) -> tuple[int, int]:
    """Tag ``articles`` and store their entities, quotes and actions with the tagger version.

    An article the tagger failed on is recorded with its error instead (one stored with
    the watchlist's entities alone is recorded too). Returns (tagged, failed).
    """
    version = app.tagger.version
    results = app.tagger.tag_articles(articles)
    tagged = failed = 0
    for article, result in zip(articles, results, strict=True):
        if result.error:
            failed += 1
        if result.failed:
            app.store.record_tag_error(
                article.id, result.error, tagger_version=version, content_hash=article.content_hash
            )
            continue
        # The content hash lets the store notice an article re-crawled while we tagged it.
        stored = app.store.set_entities(
            article.id,
            article.entities,
            tagger_version=version,
            content_hash=article.content_hash,
            quotes=article.quotes,
            actions=article.actions,
        )
        if stored and result.error:
            app.store.record_tag_error(
                article.id,
                result.error,
                tagger_version=version,
                content_hash=article.content_hash,
                fallback=True,
            )
        tagged += 1
        names.update(e.name for e in article.watched_entities())
    return tagged, failed


@dataclass
class RetagOutcome:
    tagger_version: str = ""
    stale: int = 0  # articles tagged by another version when the retag began
    retagged: int = 0
    retried: int = 0  # articles that had failed before, tried again
    untagged: int = 0  # articles never tagged, tagged on the way
    failed: int = 0  # articles still not tagged in full (their errors are in the log and the store)
    indexed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def retag(app: App, batch: int = 256, progress: Callable[[int, int], None] | None = None) -> RetagOutcome:
    """Tag again every article tagged by another tagger version (watchlist, model, code), then index.

    Incremental: only articles whose stored ``tagger_version`` differs are read,
    so a second run does nothing and an interrupted one resumes. Articles whose
    tagging failed before are tried again first, once each. ``progress`` gets
    (done, total) after each batch.
    """
    from indexer import RetagQueue

    queue = RetagQueue(app.store, app.tagger.version)
    outcome = RetagOutcome(tagger_version=app.tagger.version, stale=queue.total())
    names: set[str] = set()
    after = 0
    while rows := app.store.articles_with_tag_errors(after, batch):
        after = rows[-1][0]
        _, failed = _tag_and_store(app, [article for _, article in rows], names)
        outcome.retried += len(rows)
        outcome.failed += failed
    while articles := queue.next_batch(batch):
        _, failed = _tag_and_store(app, articles, names)
        outcome.retagged += len(articles)
        outcome.failed += failed
        if progress is not None:
            progress(outcome.retagged, outcome.stale)
    if outcome.retagged:
        logger.info("retagged %d article(s) with %s", outcome.retagged, outcome.tagger_version)
    pending = tag_pending(app, batch)
    outcome.untagged = pending.articles
    outcome.failed += pending.failed
    outcome.indexed = index_pending(app)
    return outcome


def index_pending(app: App) -> int:
    """Bring the embedded index up to date, then the search cluster (INDEX_URL) if there is one.

    Returns what the search backend indexed. A cluster that cannot be reached
    does not fail the run: what it has not acknowledged stays pending in the
    store's ledger and goes with the next run (or `regwatch index sync`).
    """
    count = app.store.index_pending()
    if app.uses_cluster:
        try:
            count = app.cluster.sync().sent
        except RegwatchError as exc:
            logger.error("search cluster not updated: %s (run `regwatch index sync` once it is back)", exc)
            count = 0
    if count:
        logger.info("indexed %d article(s)", count)
    return count


@dataclass
class DigestOutcome:
    subscriber_id: str
    period: date
    # delivered | pending | failed | already-delivered | already-failed | nothing-new
    status: str
    location: str = ""
    items: int = 0
    error: str = ""


def _send_time(subscriber: Subscriber) -> tuple[int, int]:
    hour, minute = (int(part) for part in subscriber.send_time.split(":"))
    return hour, minute


def sends_on(subscriber: Subscriber, day: date) -> bool:
    """Whether the subscriber's cadence has a digest on this local date."""
    if subscriber.cadence == "weekdays":
        return day.weekday() < 5
    if subscriber.cadence == "weekly":
        return day.weekday() == subscriber.weekday
    return True


def local_period(subscriber: Subscriber, now: datetime) -> date:
    """The subscriber's local date at ``now`` (the period of a digest sent on demand)."""
    return now.astimezone(ZoneInfo(subscriber.timezone)).date()


def due_period(subscriber: Subscriber, now: datetime) -> date:
    """The local date of the subscriber's most recent send time at or before ``now``.

    That digest is due until the ledger says it was delivered (or failed for
    good), so a run after a missed send time still sends it, once. Local wall
    clock times make this right across DST changes: a send time skipped by the
    spring change is due from the first minute after it.
    """
    local = now.astimezone(ZoneInfo(subscriber.timezone))
    day = local.date()
    if (local.hour, local.minute) < _send_time(subscriber):
        day -= timedelta(days=1)
    for _ in range(7):
        if sends_on(subscriber, day):
            return day
        day -= timedelta(days=1)
    raise ConfigError(f"subscriber {subscriber.id}: cadence {subscriber.cadence!r} never sends")


def digest_is_due(subscriber: Subscriber, now: datetime) -> bool:
    """Whether the subscriber's send time has passed today (and today is one of their days)."""
    return due_period(subscriber, now) == local_period(subscriber, now)


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


PREVIOUS_DIGEST_LOOKBACK = 35  # days searched back for the previous digest (mentions are compared with it)


def _covered_until(app: App, subscriber_id: str) -> datetime | None:
    """Where the next digest starts: the newest watermark of a delivered or still pending digest.

    Pending digests count: they will be delivered as they are, so the next one
    must not repeat their articles. A digest that failed for good does not: its
    articles roll into the next one.
    """
    marks = [app.store.last_watermark(subscriber_id)]
    marks += [r.watermark for r in app.store.pending_digests() if r.subscriber_id == subscriber_id]
    known = [mark for mark in marks if mark is not None]
    return max(known) if known else None


def _previous_articles(app: App, subscriber_id: str, period: date) -> list[Article] | None:
    """The articles of the subscriber's last delivered digest before ``period`` (None: there is none)."""
    for back in range(1, PREVIOUS_DIGEST_LOOKBACK + 1):
        record = app.store.digest_record(subscriber_id, period - timedelta(days=back))
        if record is not None and record.status == "delivered":
            found = (app.store.get_article(article_id) for article_id in record.article_ids)
            return [article for article in found if article is not None]
    return None


def build_next_digest(
    app: App, subscriber: Subscriber, period: date, now: datetime, *, rebuild: bool = False
) -> Any:
    """The digest of everything first seen since the subscriber's last one (None: nothing to send).

    Its watermark is ``now``: the next digest starts after it. ``rebuild``
    rebuilds a pending digest whose spooled copy is gone: its window starts at
    the last delivered digest and ends at its own watermark (``now``).
    """
    from digests import build_digest

    since = app.store.last_watermark(subscriber.id) if rebuild else _covered_until(app, subscriber.id)
    articles = app.store.articles_first_seen_between(since, now)
    digest = build_digest(
        resolve_subscriber_entities(app, subscriber),
        articles,
        period,
        sources={s.id: s for s in app.config.sources},
        sender=app.settings["DIGEST_SENDER"],
        max_items=app.settings["DIGEST_MAX_ITEMS"],
        now=now,
        previous=_previous_articles(app, subscriber.id, period),
        since=since,
    )
    if digest is not None:
        digest.watermark = now
    return digest


@contextmanager
def _delivery_lock(app: App) -> Iterator[None]:
    """One digest sender per home at a time (a scheduler job and `regwatch digest --send`, say).

    Without it two processes could both find a digest undelivered and both send it.
    """
    import fcntl

    with open(private_file(app.home / DIGEST_LOCK_FILE), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


DIGEST_LOCK_FILE = "digests.lock"


def deliver_digests(
    app: App,
    now: datetime | None = None,
    subscriber_ids: Iterable[str] = (),
    force: bool = False,
) -> list[DigestOutcome]:
    """Deliver every pending digest, then each subscriber's due one; ``force`` sends today's now.

    Pending digests (a transient failure in an earlier run) are sent again as
    they were built, from the spool, before anything new is built: see
    :func:`_deliver` for the exactly-once protocol.
    """
    now = now or utcnow()
    subscribers = select_subscribers(app, subscriber_ids)
    wanted = {s.id for s in subscribers}
    configured = {s.id for s in app.config.subscribers}
    outcomes: list[DigestOutcome] = []
    with _delivery_lock(app):
        handled: set[tuple[str, date]] = set()
        for record in app.store.pending_digests():
            if record.subscriber_id not in configured:
                logger.warning(
                    "digest of %s for %s is pending but the subscriber is no longer configured; not sending",
                    record.subscriber_id,
                    record.period,
                )
                continue
            if record.subscriber_id in wanted:
                outcomes.append(_retry_pending(app, record, now))
                handled.add((record.subscriber_id, record.period))
        for subscriber in subscribers:
            period = local_period(subscriber, now) if force else due_period(subscriber, now)
            if (subscriber.id, period) in handled:
                continue
            record = app.store.digest_record(subscriber.id, period)
            if record is not None and record.status in ("delivered", "failed"):
                status = f"already-{record.status}"
                outcomes.append(
                    DigestOutcome(subscriber.id, period, status, record.location, error=record.error)
                )
                continue
            try:
                digest = build_next_digest(app, subscriber, period, now)
            except DeliveryError as exc:
                outcomes.append(_refused(app, subscriber.id, period, exc))
                continue
            if digest is None:
                # The period is done: record it, so new articles wait for the next send time.
                app.store.record_digest(
                    subscriber.id,
                    period,
                    message_id="",
                    status="delivered",
                    watermark=now,
                    location=NOTHING_NEW_LOCATION,
                )
                outcomes.append(DigestOutcome(subscriber.id, period, "nothing-new"))
                continue
            outcomes.append(_deliver(app, digest))
    return outcomes


NOTHING_NEW_LOCATION = "(nothing new: not sent)"


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


def _spool(app: App) -> Any:
    from digests import Spool

    return Spool(app.home / app.settings["DIGEST_SPOOL"])


def _retry_pending(app: App, record: Any, now: datetime) -> DigestOutcome:
    """Send a digest left pending by an earlier run, with the bytes it was built with."""
    from regwatch.models import Digest

    if not record.error:
        # Recorded as about to be sent, and nothing after: the process died mid-send.
        logger.warning(
            "digest of %s for %s (%s) was interrupted mid-send in an earlier run and may have reached "
            "the server; sending it again with the same Message-ID (at-least-once)",
            record.subscriber_id,
            record.period,
            record.message_id,
        )
    message = _spool(app).load(record.subscriber_id, record.period, record.message_id)
    if message is None:
        logger.warning(
            "digest of %s for %s: its spooled copy is gone; rebuilding it from the store",
            record.subscriber_id,
            record.period,
        )
        [subscriber] = [s for s in app.config.subscribers if s.id == record.subscriber_id]
        until = record.watermark or now
        try:
            rebuilt = build_next_digest(app, subscriber, record.period, until, rebuild=True)
        except DeliveryError as exc:
            return _refused(app, record.subscriber_id, record.period, exc)
        if rebuilt is None:
            app.store.record_digest(
                record.subscriber_id,
                record.period,
                record.message_id,
                "delivered",
                until,
                location=NOTHING_NEW_LOCATION,
            )
            return DigestOutcome(record.subscriber_id, record.period, "nothing-new")
        return _deliver(app, rebuilt)
    digest = Digest(
        subscriber_id=record.subscriber_id,
        period=record.period,
        subject="",
        message_id=record.message_id,
        message=message,
        article_ids=list(record.article_ids),
        watermark=record.watermark,
    )
    return _deliver(app, digest)


def _refused(app: App, subscriber_id: str, period: date, exc: DeliveryError) -> DigestOutcome:
    """A digest that could not be built safely (its headers did not read back as built): failed, not sent."""
    logger.error("digest for %s (%s) failed: %s", subscriber_id, period, exc)
    message_id = str(getattr(exc, "message_id", ""))
    app.store.record_digest(subscriber_id, period, message_id, "failed", None, error=str(exc))
    return DigestOutcome(subscriber_id, period, "failed", error=str(exc))


def _deliver(app: App, digest: Any) -> DigestOutcome:
    """Send one digest and record the outcome in the ledger.

    The protocol, and what a crash at each step leads to:

    1. The message is spooled and the ledger row written as pending with no
       error ("sending"). A crash before this: nothing was sent; the next run
       builds the digest again.
    2. The deliverer sends it (retrying transient failures within the run).
    3. The outcome is recorded: delivered, failed (permanent: reported, not
       retried) or pending with the error (transient: the next run resends the
       spooled bytes).

    A crash between the server accepting the message (end of SMTP DATA) and step
    3 leaves the row "sending"; the next run cannot know whether the server got
    it, and sends it again: delivery is at-least-once in that window (the
    milliseconds between the server's 250 and the ledger's commit), with the
    same bytes and Message-ID so the duplicate is recognisable, and it is logged
    as a warning. Everywhere else it is exactly once.
    """
    base = {"subscriber_id": digest.subscriber_id, "period": digest.period}
    ledger = {
        "message_id": digest.message_id,
        "watermark": digest.watermark,
        "article_ids": digest.article_ids,
    }
    spool = _spool(app)
    try:
        spool.save(digest)
    except OSError as exc:
        logger.warning("digest %s: cannot spool it (%s); a retry would rebuild it", digest.message_id, exc)
    app.store.record_digest(**base, status="pending", **ledger)  # "sending"
    try:
        location = app.deliverer.deliver(digest)
    except DeliveryError as exc:
        status = "failed" if exc.permanent else "pending"
        logger.error("digest for %s (%s) %s: %s", digest.subscriber_id, digest.period, status, exc)
        app.store.record_digest(**base, status=status, error=str(exc), **ledger)
        if exc.permanent:
            spool.discard(digest.subscriber_id, digest.period)
        return DigestOutcome(**base, status=status, error=str(exc), items=len(digest.article_ids))
    app.store.record_digest(**base, status="delivered", location=location, **ledger)
    spool.discard(digest.subscriber_id, digest.period)
    logger.info("digest for %s (%s) delivered: %s", digest.subscriber_id, digest.period, location)
    return DigestOutcome(**base, status="delivered", location=location, items=len(digest.article_ids))


ALERT_LEDGER_FILE = "alerts.db"


@dataclass
class AlertOutcome:
    subscriber_id: str
    status: str  # sent | pending | failed
    items: int = 0
    location: str = ""
    error: str = ""


def send_alerts(app: App, now: datetime | None = None) -> list[AlertOutcome]:
    """Send each subscriber with alerts on an immediate alert about what triggered since their last one.

    Called after every crawl's tag and index steps, so an alert goes out within
    one crawl cycle. Rate-limited by ALERT_MIN_INTERVAL, exactly once per
    (subscriber, article) by the alert ledger (see ``digests._alerts``).
    """
    from digests import AlertLedger, alert_hits, build_alert, due_hits

    now = now or utcnow()
    subscribers = [s for s in app.config.subscribers if s.alerts or s.alert_searches]
    if not subscribers:
        return []
    settings = app.settings
    articles = app.store.articles_first_seen_between(now - timedelta(hours=settings["ALERT_LOOKBACK"]), now)
    sources = {s.id: s for s in app.config.sources}
    interval = timedelta(minutes=settings["ALERT_MIN_INTERVAL"])
    outcomes: list[AlertOutcome] = []
    with _delivery_lock(app), AlertLedger(app.home / ALERT_LEDGER_FILE) as ledger:
        for subscriber in subscribers:
            resolved = resolve_subscriber_entities(app, subscriber)
            hits = due_hits(
                ledger,
                resolved,
                alert_hits(resolved, articles, sources),
                now,
                interval,
                settings["ALERT_MAX_ITEMS"],
            )
            if not hits:
                continue
            article_ids = sorted(hit.article.id for hit in hits)
            message_id = ""
            try:
                # A message whose headers do not read back as built is refused here (failed, not sent).
                alert = build_alert(resolved, hits, sender=settings["DIGEST_SENDER"], now=now)
                message_id = alert.message_id
                ledger.mark(subscriber.id, article_ids, message_id, "sending", now=now)
                location = app.deliverer.deliver(alert)
            except DeliveryError as exc:
                message_id = message_id or str(getattr(exc, "message_id", ""))
                status = "failed" if exc.permanent else "pending"
                logger.error("alert for %s %s: %s", subscriber.id, status, exc)
                ledger.mark(subscriber.id, article_ids, message_id, status, now=now, error=str(exc))
                outcomes.append(AlertOutcome(subscriber.id, status, len(hits), error=str(exc)))
                continue
            ledger.mark(subscriber.id, article_ids, message_id, "sent", now=now)
            logger.info("alert for %s sent (%d items): %s", subscriber.id, len(hits), location)
            outcomes.append(AlertOutcome(subscriber.id, "sent", len(hits), location))
    return outcomes


@dataclass
class RunSummary:
    """What one pass did: printed by `regwatch run` and `regwatch demo`."""

    crawl: list[CrawlStats] = field(default_factory=list)
    tagged: TagOutcome = field(default_factory=TagOutcome)
    indexed: int = 0
    digests: list[DigestOutcome] = field(default_factory=list)
    alerts: list[AlertOutcome] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = (
            "pages_fetched",
            "not_modified",
            "index_not_modified",
            "new",
            "updated",
            "duplicate",
            "errors",
        )
        return {k: sum(getattr(s, k) for s in self.crawl) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": len(self.crawl),
            **self.totals(),
            "articles_tagged": self.tagged.articles,
            "tag_errors": self.tagged.failed,
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
            "alerts": [
                {"subscriber": a.subscriber_id, "status": a.status, "items": a.items, "error": a.error}
                for a in self.alerts
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
    summary.alerts = send_alerts(app, now=now)
    summary.digests = deliver_digests(app, now=now, force=force_digests)
    return summary
