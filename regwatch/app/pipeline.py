"""Pipeline wiring: the order of the stages, and the crawl's store pipeline.

Stages never call each other; this module passes the domain models between
them, and :func:`crawl_cycle` is the one sequence a crawl runs: crawl → stories
→ tag → index → alerts (`regwatch crawl`, each scheduled crawl job, and
:func:`run_once`, which then delivers the due digests).

The crawl runs in a subprocess (Scrapy's reactor cannot restart) whose item
pipeline :class:`StoreArticlePipeline` writes each article straight into the
store, on the configured engine (SQLite: WAL lets the parent read meanwhile;
PostgreSQL: its own pooled connection), leaving stories to the next step.
Stories are then assigned to what it stored, tagging runs over every article
not yet tagged in batches (``nlp.pipe`` is far faster batched than per item),
indexing brings the search index up to date, and immediate alerts go out.
Delivery (due periods, the exactly-once protocol, alerts) is ``digests``':
:func:`deliver_digests` and :func:`send_alerts` only hand it the subscribers,
the config's and the web desk's merged (``App.subscribers``).

Why one module of about 600 lines: it is the wiring every stage meets in, and
each function is a few lines handing one stage's models to the next; split by
stage, the one order of a crawl cycle would be spread over several files again
(issue 12). What grows here should be a call into a stage, not logic of its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from regwatch.errors import RegwatchError
from regwatch.models import (
    COUNTERS,
    TURNED_OFF_BY_HAND,
    Article,
    CrawlFailure,
    CrawlStats,
    Discovery,
    DomainPacer,
    Source,
    utcnow,
)
from regwatch.private import split_password
from regwatch.settings import ENV_PREFIX
from regwatch.sources import schedule_trigger_args

if TYPE_CHECKING:
    from digests import AlertOutcome, DigestOutcome
    from regwatch.app import App

logger = logging.getLogger(__name__)

STORE_PIPELINE = "regwatch.app.pipeline.StoreArticlePipeline"
STORE_URL_SETTING = "REGWATCH_STORE_URL"  # the crawl's Scrapy setting naming a PostgreSQL store
STORE_PASSWORD_ENV = ENV_PREFIX + "STORE_PASSWORD"
DOMAIN_PACER_SETTING = "REGWATCH_DOMAIN_PACER"  # the crawl's Scrapy setting naming open_domain_pacer
DOMAIN_PACER = "regwatch.app.pipeline.open_domain_pacer"


def open_domain_pacer(store_url: str) -> DomainPacer:
    """The fleet's per-domain politeness on the PostgreSQL store ``store_url``, for the crawl's middleware.

    Called inside the crawl subprocess (``crawlers._fleet``), which names no store
    engine: the password comes as REGWATCH_STORE_PASSWORD in its environment, as for
    :class:`StoreArticlePipeline`.
    """
    from indexer import domain_pacer

    return domain_pacer(store_url, password=os.environ.get(STORE_PASSWORD_ENV, ""))


class StoreArticlePipeline:
    """Scrapy item pipeline: store each :class:`Article` and count new/updated/duplicate.

    It also records the spiders' ``crawlers.FetchRecord`` items in the fetch
    ledger (validators for the next run's conditional GETs). A spider yields a
    page's record after its article, and the record of a 200 is written only
    when that article was stored, so a failed store or a crash in between costs
    a refetch, never an article. Index pages' records come from the spider at
    close, only when everything they listed was settled. The store is the SQLite
    file ``REGWATCH_DB_PATH`` or the PostgreSQL database ``REGWATCH_STORE_URL`` (without
    its password, which comes as REGWATCH_STORE_PASSWORD in the subprocess's
    environment, never in its job file). Opts out (NotConfigured) when the crawl
    was started without either.
    """

    def __init__(self, db_path: str, stats: Any, store_url: str = "") -> None:
        self.db_path = db_path
        self.store_url = store_url
        self.stats = stats
        self.store: Any = None
        self.crawler: Any = None  # set by from_crawler: its spider hands over index validators at close
        self._stored: set[tuple[str, str]] = set()  # (canonical URL, content hash) stored this run

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoreArticlePipeline:
        from scrapy.exceptions import NotConfigured

        db_path = crawler.settings.get("REGWATCH_DB_PATH") or ""
        store_url = crawler.settings.get(STORE_URL_SETTING) or ""
        if not db_path and not store_url:
            raise NotConfigured(f"neither REGWATCH_DB_PATH nor {STORE_URL_SETTING} is set")
        pipeline = cls(db_path, crawler.stats, store_url=store_url)
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        from indexer import Store

        # Stories are assigned in a step of their own after the crawl, as entities are tagged.
        if self.store_url:
            password = os.environ.get(STORE_PASSWORD_ENV, "")  # handed over by crawl(), see there
            self.store = Store.open_postgresql(self.store_url, password=password, stories="deferred")
        else:
            self.store = Store.open(self.db_path, stories="deferred")

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
            outcome = self.store.articles.upsert(item)
        except RegwatchError as exc:
            failure = CrawlFailure("other", item.url, f"store failed: {exc}")
            crawlers.add_error(self.stats, item.source_id, failure)
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
            self.store.fetch_ledger.record(
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


# --- schedules (each source's is read by regwatch.sources.schedule_trigger_args) ---------


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


def set_source_enabled(app: App, source_id: str, enabled: bool, by: str) -> None:
    """Turn a source off or on in its state (the ops console): crawl, run and the scheduler honour it.

    Off, it is skipped by every crawl that does not name it, whatever its health; on again, its
    failure score starts afresh (an auto-off source gets a new chance too).
    """
    app.config.source(source_id)  # ConfigError for an unknown id
    state = app.store.source_states.get(source_id)
    if enabled:
        state = replace(state, disabled_at=None, disabled_reason="", failure_score=0.0)
        logger.info("source=%s turned on by %s", source_id, by)
    else:
        state = replace(state, disabled_at=utcnow(), disabled_reason=f"{TURNED_OFF_BY_HAND} {by}")
        logger.info("source=%s %s", source_id, state.disabled_reason)
    app.store.source_states.save(state)


def crawl(
    app: App, source_ids: Sequence[str] = (), due_only: bool = False, skip_disabled: bool = False
) -> list[CrawlStats]:
    """Crawl the named sources (default: every enabled one) in a subprocess, storing articles.

    Sources named are crawled even when turned off in their state (by ops on the desk, or after
    repeated hard failures), unless ``skip_disabled`` (a scheduled job); unnamed ones never are.
    """
    from crawlers import run_crawl

    if source_ids:
        sources = [app.config.source(sid) for sid in source_ids]
        if skip_disabled:
            states = app.store.source_states.all()
            for source in [s for s in sources if s.id in states and states[s.id].disabled_at is not None]:
                logger.info(
                    "source=%s url=%s skipped: %s", source.id, source.url, states[source.id].disabled_reason
                )
            sources = [s for s in sources if s.id not in states or states[s.id].disabled_at is None]
    elif not app.config.sources:
        logger.warning("no sources to crawl: %s", no_sources_advice(app))
        return []
    else:
        sources = enabled_sources(app)
    if due_only:
        sources = only_due(app, sources)
    if not sources:
        logger.info("no source to crawl")
        return []
    app.store  # noqa: B018 - create the schema before the subprocess writes to it
    started = utcnow()
    logger.info("crawling %d source(s): %s", len(sources), ", ".join(s.id for s in sources))
    store_setting, env = _crawl_store(app)
    results = run_crawl(
        sources,
        app.settings,
        item_pipelines={STORE_PIPELINE: 800},
        extra_scrapy_settings=store_setting,
        validators=app.store.fetch_ledger.validators(s.id for s in sources),
        env=env,
        discoveries=stored_discoveries(app, sources),
    )
    finished = utcnow()
    for stats in results:
        record_source_run(app, stats, started, finished)
        if stats.discovery:  # an auto source was discovered (again): the next run follows what it chose
            app.store.source_states.save_discovery(stats.source_id, Discovery.from_dict(stats.discovery))
    return results


def enabled_sources(app: App, quiet: bool = False) -> list[Source]:
    """The sources a crawl that names none takes: on in the config and not turned off in their state.

    Logs each one left out and why, unless ``quiet`` (a worker asking again and again).
    """
    sources = [s for s in app.config.sources if s.enabled]
    states = app.store.source_states.all()
    if not quiet:
        for skipped in (s for s in app.config.sources if not s.enabled):
            logger.info("source %s is disabled in the config; skipping", skipped.id)
        for source in sources:
            state = states.get(source.id)
            if state is not None and state.disabled:
                logger.warning(
                    "source=%s url=%s skipped: %s; `regwatch crawl %s` retries it",
                    source.id,
                    source.url,
                    state.disabled_reason,
                    source.id,
                )
    return [s for s in sources if s.id not in states or not states[s.id].disabled]


def only_due(app: App, sources: Sequence[Source]) -> list[Source]:
    """Those of ``sources`` whose schedule says they are due now, by their last run in the crawl ledger."""
    last_runs = {h.source_id: h.last_run for h in app.store.source_states.health()}
    now = utcnow()
    tz = app.settings["SCHEDULE_TIMEZONE"]
    return [s for s in sources if source_is_due(s, last_runs.get(s.id), now, tz)]


def _crawl_store(app: App) -> tuple[dict[str, str], dict[str, str]]:
    """The Scrapy setting naming the store for the crawl's pipeline, and the environment it needs.

    PostgreSQL: the URL goes without its password, which goes in the subprocess's
    environment (the job file is for crawl settings only, never secrets), with
    :func:`open_domain_pacer` for the crawl's fleet politeness (``crawlers._fleet``).
    """
    url = str(app.settings["STORE_URL"]).strip()
    if not url:
        return {"REGWATCH_DB_PATH": str(app.db_path)}, {}
    bare, password = split_password(url)
    password = password or str(app.settings["STORE_PASSWORD"])
    store = {
        STORE_URL_SETTING: bare,
        DOMAIN_PACER_SETTING: DOMAIN_PACER,
    }  # the fleet shares each domain's pace
    return store, ({STORE_PASSWORD_ENV: password} if password else {})


def no_sources_advice(app: App) -> str:
    """What to say when the config leaves no source at all, and how to add one."""
    where = str(app.config.path) if app.config.path else "FILE"
    return (
        f"the config {where} lists none and does not include the built-in catalogue "
        f"(include_default_sources: false); add one with `regwatch --config {where} sources add URL`, "
        "or set include_default_sources: true"
    )


def stored_discoveries(app: App, sources: Iterable[Source]) -> dict[str, dict[str, Any]]:
    """The stored discovery of each ``auto`` source among ``sources``, for the crawl to follow."""
    auto = {s.id for s in sources if s.kind == "auto"}
    if not auto:
        return {}
    return {
        sid: found.to_dict() for sid, found in app.store.source_states.discoveries().items() if sid in auto
    }


def record_source_run(app: App, run: CrawlStats, started: datetime, finished: datetime) -> None:
    """Carry a source's health over one run (``crawlers.next_health``), log what it implies, store both.

    A score reaching CRAWL_DISABLE_SCORE disables the source (logged, and shown
    by `regwatch sources`) until a run of it succeeds; one ops turned off stays off.
    """
    import crawlers

    transition = crawlers.next_health(
        app.store.source_states.get(run.source_id),
        run,
        crawlers.HealthPolicy.from_settings(app.settings),
        now=finished,
    )
    url = next((s.url for s in app.config.sources if s.id == run.source_id), "")
    for event in transition.events:
        logger.log(event.level, "source=%s url=%s %s", run.source_id, url, event.message)
    app.store.source_states.record_run(
        run, transition.state, failed=transition.run_failed, started=started, finished=finished
    )


def probe(app: App, source_ids: Sequence[str] = ()) -> list[CrawlStats]:
    """Fetch each source's index once (default: every enabled source); follow and store nothing."""
    from crawlers import run_crawl

    if source_ids:
        sources = [app.config.source(sid) for sid in source_ids]
    else:
        sources = [s for s in app.config.sources if s.enabled]
    return run_crawl(
        sources, app.settings, item_pipelines={}, probe=True, discoveries=stored_discoveries(app, sources)
    )


def discover(app: App, source: Source) -> CrawlStats:
    """Discover how to follow an ``auto`` source now, through a crawl's own machinery; store nothing.

    A probe crawl of the source alone: its page, candidate feeds, robots.txt,
    sitemaps and the few pages checked go through the SSRF guard, robots.txt,
    the size limit and politeness like any crawl. ``CrawlStats.discovery`` says
    what it found (`regwatch sources add`).
    """
    from crawlers import run_crawl

    [stats] = run_crawl([source], app.settings, item_pipelines={}, probe=True)
    return stats


@dataclass
class TagOutcome:
    articles: int = 0  # tagged, in full or with the watchlist's entities alone
    entities: int = 0  # distinct watched entities found across those articles
    watched_names: list[str] = field(default_factory=list)
    failed: int = 0  # not tagged in full: the error is recorded (store.tag_errors)


def tag_pending(app: App, batch: int = 256) -> TagOutcome:
    """Tag every stored article that has no entities yet.

    An article the tagger fails on is recorded with its error and skipped, and
    later runs skip it too until its text or the tagger version changes (or
    `regwatch retag` tries it again): it never blocks the others, nor every run.
    """
    outcome = TagOutcome()
    names: set[str] = set()
    while True:
        articles = app.store.articles.needing_tags(limit=batch, tagger_version=app.tagger.version)
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


def tag_batch(app: App, articles: list[Article]) -> TagOutcome:
    """Tag these articles (a worker's claimed batch) and store the result, as :func:`tag_pending` does."""
    names: set[str] = set()
    tagged, failed = _tag_and_store(app, articles, names)
    return TagOutcome(articles=tagged, entities=len(names), watched_names=sorted(names), failed=failed)


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
            app.store.tag_errors.record(
                article.id, result.error, tagger_version=version, content_hash=article.content_hash
            )
            continue
        # The content hash lets the store notice an article re-crawled while we tagged it.
        stored = app.store.articles.set_entities(
            article.id,
            article.entities,
            tagger_version=version,
            content_hash=article.content_hash,
            quotes=article.quotes,
            actions=article.actions,
        )
        if stored and result.error:
            app.store.tag_errors.record(
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

    queue = RetagQueue(app.store.articles, app.tagger.version)
    outcome = RetagOutcome(tagger_version=app.tagger.version, stale=queue.total())
    names: set[str] = set()
    after = 0
    while rows := app.store.tag_errors.articles(after, batch):
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


def assign_stories(app: App) -> int:
    """Give a story to every article awaiting one: those the crawl stored (see ``indexer._story``).

    Before tagging and indexing, so the search cluster is sent each article's story.
    """
    count = app.store.stories.assign_pending()
    if count:
        logger.info("assigned %d article(s) to stories", count)
    return count


def index_pending(app: App) -> int:
    """Bring the embedded index up to date, then the search cluster (INDEX_URL) if there is one.

    Returns what the search backend indexed. A cluster that cannot be reached
    does not fail the run: what it has not acknowledged stays pending in the
    store's ledger and goes with the next run (or `regwatch index sync`).
    """
    count = app.store.search.index_pending()
    if app.uses_cluster:
        try:
            count = app.cluster.sync().sent
        except RegwatchError as exc:
            logger.error("search cluster not updated: %s (run `regwatch index sync` once it is back)", exc)
            count = 0
    if count:
        logger.info("indexed %d article(s)", count)
    return count


# --- delivery (the protocols are digests'; the App builds them from the settings) ---------


def deliver_digests(
    app: App, now: datetime | None = None, subscriber_ids: Iterable[str] = (), force: bool = False
) -> list[DigestOutcome]:
    """Deliver every pending digest, then each subscriber's due one; ``force`` sends today's now.

    See ``digests.DigestDelivery`` for the exactly-once protocol.
    """
    return app.digest_delivery.deliver(app.subscribers, now or utcnow(), only=subscriber_ids, force=force)


def preview_digests(
    app: App, now: datetime | None = None, subscriber_ids: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Build (but neither send nor record) each subscriber's next digest."""
    from digests import select_subscribers

    subscribers = select_subscribers(app.subscribers, subscriber_ids)
    return [preview.to_dict() for preview in app.digest_builder.preview(subscribers, now or utcnow())]


def send_alerts(app: App, now: datetime | None = None) -> list[AlertOutcome]:
    """Send each subscriber with alerts on an immediate alert about what triggered since their last one.

    A step of every crawl cycle, after tagging and indexing, so an alert goes out
    within one cycle; see ``digests.AlertDelivery``.
    """
    return app.alert_delivery.send(app.subscribers, now or utcnow())


# --- the sequence ----------------------------------------------------------------------


@dataclass
class RunSummary:
    """What one pass did: printed by `regwatch crawl`, `run` and `demo`."""

    crawl: list[CrawlStats] = field(default_factory=list)
    tagged: TagOutcome = field(default_factory=TagOutcome)
    indexed: int = 0
    digests: list[DigestOutcome] = field(default_factory=list)
    alerts: list[AlertOutcome] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """Each CrawlStats counter summed over the sources crawled."""
        return {name: sum(getattr(s, name) for s in self.crawl) for name in COUNTERS}

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
            "digests": [d.to_dict() for d in self.digests],
            "alerts": [a.to_dict() for a in self.alerts],
        }


def crawl_cycle(
    app: App,
    source_ids: Sequence[str] = (),
    due_only: bool = False,
    now: datetime | None = None,
    skip_disabled: bool = False,
) -> RunSummary:
    """The one crawl sequence: crawl → stories → tag → index → alerts.

    `regwatch crawl`, each scheduled crawl job and :func:`run_once` run this, and
    nothing else runs these stages in another order.
    """
    summary = RunSummary()
    summary.crawl = crawl(app, source_ids, due_only=due_only, skip_disabled=skip_disabled)
    assign_stories(app)
    summary.tagged = tag_pending(app)
    summary.indexed = index_pending(app)
    summary.alerts = send_alerts(app, now=now)
    return summary


def run_once(
    app: App,
    source_ids: Sequence[str] = (),
    due_only: bool = True,
    force_digests: bool = False,
    now: datetime | None = None,
) -> RunSummary:
    """One pass: the crawl cycle over what is due, then the due digests."""
    summary = crawl_cycle(app, source_ids, due_only=due_only, now=now)
    summary.digests = deliver_digests(app, now=now, force=force_digests)
    return summary
