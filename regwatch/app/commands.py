"""The regwatch subcommands (registered on :data:`regwatch.app.cli.cli`)."""

from __future__ import annotations

import gzip
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from regwatch.app import App, pipeline
from regwatch.app.cli import cli, emit_json, json_option, load_app, with_app
from regwatch.errors import ERROR_CLASS_MEANINGS, RegwatchError
from regwatch.settings import SETTINGS

if TYPE_CHECKING:
    from digests import DigestOutcome

logger = logging.getLogger("regwatch.app.cli")


EXIT_DIGEST_FAILED = 1  # a digest was rejected for good (5xx, bad address): see the error
EXIT_DIGEST_PENDING = 75  # EX_TEMPFAIL: a digest is pending; a later `regwatch digest --send` retries it


def _digest_exit_status(outcomes: list[DigestOutcome]) -> int:
    """0 when every digest of this run went out (or had nothing to send), else why not."""
    statuses = {outcome.status for outcome in outcomes}
    if "failed" in statuses:
        return EXIT_DIGEST_FAILED
    return EXIT_DIGEST_PENDING if "pending" in statuses else 0


def _print_summary(summary: pipeline.RunSummary, extra: dict[str, Any] | None = None) -> None:
    data = summary.to_dict()
    lines = [
        f"sources crawled:   {data['sources']}",
        f"pages fetched:     {data['pages_fetched']} ({data['not_modified']} unchanged, not refetched; "
        f"{data['index_not_modified']} unchanged feeds/listings)",
        f"articles:          {data['new']} new, {data['updated']} updated, {data['duplicate']} duplicate",
        f"errors:            {data['errors']}",
        f"robots.txt:        {data['robots_blocked']} page(s) disallowed, not fetched",
        f"articles tagged:   {data['articles_tagged']}"
        + (
            f" ({data['tag_errors']} not tagged in full: see the log; `regwatch retag` tries again)"
            if data["tag_errors"]
            else ""
        ),
        f"entities found:    {data['entities_found']}"
        + (f" ({', '.join(data['watched_entities'])})" if data["watched_entities"] else ""),
        f"articles indexed:  {data['indexed']}",
        _alerts_line(data["alerts"]),
    ]
    for stats in summary.crawl:
        for failure in stats.failures[:5]:
            lines.append(f"  error [{stats.source_id}] {failure.message}")
    for alert in data["alerts"]:
        err = f" ({alert['error']})" if alert["error"] else ""
        lines.append(f"alert {alert['subscriber']}: {alert['status']}, {alert['items']} item(s){err}")
    for digest in data["digests"]:
        where = f": {digest['path']}" if digest["path"] else ""
        err = f" ({digest['error']})" if digest["error"] else ""
        lines.append(f"digest {digest['subscriber']} {digest['period']}: {digest['status']}{where}{err}")
    for key, value in (extra or {}).items():
        lines.append(f"{key}: {value}")
    click.echo("\n".join(lines))


def _alerts_line(alerts: list[dict[str, Any]]) -> str:
    """How many immediate alert emails went out (a crawl sends them, not only `run`)."""
    statuses = [alert["status"] for alert in alerts]
    unsent = [f"{statuses.count(s)} {s}" for s in ("pending", "failed") if s in statuses]
    return f"alerts sent:       {statuses.count('sent')}" + (f" ({', '.join(unsent)})" if unsent else "")


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Home dir for the demo's store and outbox.",
)
@json_option
@click.pass_context
def demo(ctx: click.Context, out: Path, as_json: bool) -> None:
    """Run the whole pipeline offline on the bundled sample site.

    Serves the sample site on 127.0.0.1, crawls it with the real spiders,
    tags, indexes into OUT, and writes the daily digest to OUT/outbox/.
    Running it again on the same OUT adds nothing and sends nothing twice.

    \b
    Example:
      regwatch demo --out ./demo && regwatch --home ./demo search Grok
    """
    from regwatch.app.demo import run_demo

    summary, base_url = run_demo(out, overrides=ctx.obj["overrides"])
    status = _digest_exit_status(summary.digests)
    if as_json:
        emit_json({**summary.to_dict(), "home": str(out.resolve()), "sample_site": base_url})
    else:
        retry = f"regwatch --home {out} --config {out / 'demo.yaml'} digest --send"
        _print_summary(
            summary,
            {
                "home": out.resolve(),
                "sample site": base_url,
                "next": retry if status == EXIT_DIGEST_PENDING else f"regwatch --home {out} search Grok",
            },
        )
    if status:
        sys.exit(status)


@cli.command()
@click.argument("source_ids", nargs=-1)
@json_option
@with_app
def crawl(app: App, source_ids: tuple[str, ...], as_json: bool) -> None:
    """Crawl sources now (default: every enabled source), then tag, index and send alerts.

    Alerts are the immediate emails of subscribers with `alerts: true` or
    `alert_searches` (see the README); digests wait for `regwatch run` or
    `regwatch digest --send`.

    \b
    Example:
      regwatch crawl ofcom-news gov-dsit
    """
    summary = pipeline.crawl_cycle(app, source_ids)
    emit_json(summary.to_dict()) if as_json else _print_summary(summary)


@cli.command()
@click.option("--all", "crawl_all", is_flag=True, help="Crawl every enabled source, due or not.")
@json_option
@with_app
def run(app: App, crawl_all: bool, as_json: bool) -> None:
    """One pass of everything due: crawl, tag, index, send alerts and due digests.

    \b
    Example (from cron):
      regwatch --home /srv/regwatch --config /etc/regwatch.yaml run
    """
    summary = pipeline.run_once(app, due_only=not crawl_all)
    emit_json(summary.to_dict()) if as_json else _print_summary(summary)
    if status := _digest_exit_status(summary.digests):
        sys.exit(status)


@cli.command()
@click.option("--list", "list_jobs", is_flag=True, help="Print every job and its next run time, then exit.")
@json_option
@with_app
def schedule(app: App, list_jobs: bool, as_json: bool) -> None:
    """Run the scheduler in the foreground (crawls per source, digests per subscriber).

    Stop with Ctrl-C or SIGTERM. Only one scheduler may run per home dir.

    \b
    Example:
      regwatch schedule --list
    """
    from regwatch.app.scheduler import RegwatchScheduler

    scheduler = RegwatchScheduler(app)
    if list_jobs:
        jobs = scheduler.list_jobs()
        if as_json:
            emit_json(jobs)
        else:
            for job in jobs:
                click.echo(f"{job['id']:<40} {job['next_run_time'] or 'paused':<27} {job['trigger']}")
        return
    scheduler.run_forever()


# `regwatch sources --help` ends with the error classes, from the one list in regwatch.errors.
_ERROR_CLASSES_EPILOG = "\b\nError classes:\n" + "\n".join(
    f"  {name:<10} {meaning}" for name, meaning in ERROR_CLASS_MEANINGS.items()
)


@cli.command(epilog=_ERROR_CLASSES_EPILOG)
@click.option("--probe", is_flag=True, help="Fetch each enabled source's index once now; store nothing.")
@json_option
@with_app
def sources(app: App, probe: bool, as_json: bool) -> None:
    """Show each configured source and its health.

    Status, last success, last error with its class (listed below),
    consecutive failures, items listed per run, pages robots.txt disallowed,
    newest item and index latency. A source disabled after repeated hard
    failures shows as auto-off until `regwatch crawl ID` succeeds.

    \b
    Example:
      regwatch sources --json
      regwatch sources --probe
    """
    from regwatch.app import source_health as _source_health

    if probe:
        enabled = [s for s in app.config.sources if s.enabled]
        probed = _source_health.probe_views(enabled, pipeline.probe(app, [s.id for s in enabled]))
        if as_json:
            emit_json([view.to_dict() for view in probed])
        else:
            click.echo(_source_health.format_probe_rows(probed))
        return
    views = _source_health.source_views(app)
    emit_json([view.to_dict() for view in views]) if as_json else click.echo(
        _source_health.format_rows(views)
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# A word of the query that starts with "-" excludes it (`regwatch search grok -ico`): words this
# command does not know as options are query words. `--` ends the options, as everywhere.
@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1)
@click.option("--entity", help="Only articles mentioning this entity (name or alias).")
@click.option("--source", "source_id", help="Only articles from this source id.")
@click.option("--type", "source_types", multiple=True, help="Only sources of this type (repeatable).")
@click.option("--jurisdiction", "jurisdictions", multiple=True, help="Only sources in this jurisdiction.")
@click.option("--language", "languages", multiple=True, help="Only articles in this language (repeatable).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before (YYYY-MM-DD).")
@click.option("--sort", type=click.Choice(["relevance", "newest"]), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True, help="Skip this many hits.")
@click.option(
    "--facets",
    "histogram",
    type=click.Choice(["day", "week", "month"]),
    help="Also count the matches by source, type and entity, and per day, week or month.",
)
@json_option
@with_app
def search(
    app: App,
    query: tuple[str, ...],
    entity: str | None,
    source_id: str | None,
    source_types: tuple[str, ...],
    jurisdictions: tuple[str, ...],
    languages: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    sort: str,
    limit: int,
    offset: int,
    histogram: str | None,
    as_json: bool,
) -> None:
    """Search the index by text, entity, source, type, jurisdiction, language and date.

    QUERY: words (all must match), "a phrase", OR, -excluded, prefix*. A query
    may be several arguments, and a word starting with - excludes it, anywhere.

    \b
    Examples:
      regwatch search Grok --json
      regwatch search "online safety" --entity Ofcom --since 2026-01-01
      regwatch search ofcom --type regulator --jurisdiction UK --sort newest --facets week
      regwatch search fine -ico            # fines, without the ICO's
      regwatch search -- -ico fine         # the same: after --, everything is the query
    """
    from indexer import SearchQuery, search_report

    _refuse_unknown_long_options(query)
    if entity:
        watched = app.watchlist.find(entity)
        entity = watched.name if watched else entity
    search_query = SearchQuery(
        text=" ".join(query),
        entity=entity,
        source=source_id,
        since=since.date() if since else None,
        until=until.date() if until else None,
        limit=limit,
        offset=offset,
        source_types=source_types,
        jurisdictions=jurisdictions,
        languages=languages,
        sort=sort,
    )
    data = search_report(app.search_index, search_query, histogram)
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['total']} result(s)")
    for n, hit in enumerate(data["hits"], offset + 1):
        published = (hit["published"] or "")[:10]
        click.echo(f"{n:>3}. {hit['title']}  [{hit['source']} {published}]")
        click.echo(f"     {hit['url']}")
        if hit["entities"]:
            click.echo(f"     entities: {', '.join(hit['entities'][:8])}")
        if hit["snippet"]:
            click.echo(f"     {hit['snippet']}")
    for name, counts in data.get("facets", {}).items():
        click.echo(f"{name}: " + ", ".join(f"{key} {count}" for key, count in counts.items()))


def _refuse_unknown_long_options(words: tuple[str, ...]) -> None:
    """A "--word" among the query words is a mistyped option, refused as click refuses one."""
    import difflib

    for word in words:
        if word.startswith("--") and len(word) > 2:
            ctx = click.get_current_context()
            known = [name for param in ctx.command.params for name in param.opts if name.startswith("--")]
            name = word.split("=", 1)[0]
            raise click.NoSuchOption(name, possibilities=difflib.get_close_matches(name, known), ctx=ctx)


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


@cli.command()
@click.option(
    "--host", help="Address to bind (default: WEB_HOST, 127.0.0.1). Without accounts: loopback only."
)
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default: WEB_PORT, 8000).")
@with_app
def serve(app: App, host: str | None, port: int | None) -> None:
    """Serve the web desk: search, compare, articles, entities, exports and a JSON API.

    Bound to 127.0.0.1 it runs as the one local user, with no accounts; it will
    not bind to another address until accounts exist. Stop it with Ctrl-C.

    \b
    Example:
      regwatch --home var/demo --config var/demo/demo.yaml serve --port 8000
      # then open http://127.0.0.1:8000/?q=grok
    """
    import ipaddress

    import uvicorn

    from regwatch.app.desk import AppDesk
    from web import create_app

    host = (host or str(app.settings["WEB_HOST"])).strip()
    port = port or int(app.settings["WEB_PORT"])
    try:
        loopback = host in LOOPBACK_HOSTS or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise click.ClickException(
            f"the desk has no accounts yet, so it serves on a loopback address only (127.0.0.1 or ::1), "
            f"not {host}: reach it from elsewhere through an SSH tunnel or a reverse proxy on this machine"
        )
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"regwatch desk on http://{shown}:{port}/ (home {app.home}); no accounts: "
        f"everyone who can reach this loopback address is the one local user. Ctrl-C stops it.",
        err=True,
    )
    uvicorn.run(
        create_app(AppDesk(app)),
        host=host.strip("[]"),
        port=port,
        log_level=str(app.settings["LOG_LEVEL"]).lower(),
        server_header=False,
        proxy_headers=False,
    )


@cli.group()
def index() -> None:
    """The search cluster (INDEX_URL): sync, status, migrate.

    The SQLite store stays the source of truth; it records which version of each
    article the cluster acknowledged, so nothing written while the cluster was
    down is lost.

    \b
    Example:
      make opensearch && export REGWATCH_INDEX_URL=http://127.0.0.1:9200
      regwatch index sync && regwatch index status
    """


@index.command(name="sync")
@json_option
@with_app
def index_sync(app: App, as_json: bool) -> None:
    """Send the search cluster every article it lacks (idempotent).

    \b
    Example:
      REGWATCH_INDEX_URL=http://127.0.0.1:9200 regwatch index sync
    """
    pipeline.assign_stories(app)  # the cluster is sent each article's story
    app.store.search.index_pending()
    data = app.cluster.sync().to_dict()
    if as_json:
        emit_json(data)
    else:
        click.echo(
            f"{data['sent']} sent, {data['deleted']} deleted, {data['failed']} refused, "
            f"{data['pending']} pending ({data['requests']} bulk request(s))"
        )
    if data["pending"]:
        sys.exit(1)


@index.command(name="status")
@json_option
@with_app
def index_status(app: App, as_json: bool) -> None:
    """Show the cluster, the index behind the alias, and what is pending or refused.

    \b
    Example:
      REGWATCH_INDEX_URL=http://127.0.0.1:9200 regwatch index status --json
    """
    data = {"store": app.store.engine, "store_location": app.store.location, **app.cluster.status()}
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if key == "failures":
            for failure in value:
                click.echo(f"  refused {failure['article_id']} ({failure['attempts']}x): {failure['reason']}")
            continue
        click.echo(f"{key + ':':<18}{value}")


@index.command(name="migrate")
@json_option
@with_app
def index_migrate(app: App, as_json: bool) -> None:
    """Build a new index version with the current mappings, reindex, and swap the alias.

    Searches keep working throughout: the alias moves in one atomic step.

    \b
    Example:
      REGWATCH_INDEX_URL=http://127.0.0.1:9200 regwatch index migrate
    """
    data = app.cluster.migrate()
    if as_json:
        emit_json(data)
    else:
        click.echo(f"{data['from']} -> {data['to']}: {data['reindexed']} reindexed, {data['resent']} resent")


@cli.command()
@click.option("--subscriber", "subscriber_ids", multiple=True, help="Only this subscriber id (repeatable).")
@click.option("--preview", is_flag=True, help="Print the digest as text; send and record nothing.")
@click.option(
    "--send",
    is_flag=True,
    help="Deliver every pending digest, then every due one; exit 75 if one stays pending.",
)
@click.option("--now", "force", is_flag=True, help="With --send: ignore send times (deliver today's now).")
@json_option
@with_app
def digest(
    app: App, subscriber_ids: tuple[str, ...], preview: bool, send: bool, force: bool, as_json: bool
) -> None:
    """Preview or send digests.

    \b
    Examples:
      regwatch digest --subscriber policy-desk --preview
      regwatch digest --send
    """
    if preview == send:
        raise click.UsageError("choose one of --preview or --send")
    if send:
        outcomes = pipeline.deliver_digests(app, subscriber_ids=subscriber_ids, force=force)
        rows = [o.to_dict() for o in outcomes]
        if as_json:
            emit_json(rows)
        else:
            for row in rows:
                detail = " ".join(part for part in (row["path"], row["error"]) if part)
                click.echo(
                    f"{row['subscriber']} {row['period']}: {row['status']}" + (f" {detail}" if detail else "")
                )
        if status := _digest_exit_status(outcomes):
            sys.exit(status)
        return
    previews = pipeline.preview_digests(app, subscriber_ids=subscriber_ids)
    if as_json:
        emit_json(previews)
        return
    for item in previews:
        click.echo(item["text"] or f"{item['subscriber']}: nothing new since the last digest")


def _read_html(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--jsonl", is_flag=True, help="One compact JSON object per line (default: indented).")
def extract(files: tuple[Path, ...], jsonl: bool) -> None:
    """Extract article fields from saved HTML files (plain or .gz).

    \b
    Example:
      regwatch extract page.html other.html.gz --jsonl
    """
    from crawlers import extract_article

    failures = 0
    for path in files:
        try:
            html = _read_html(path)
            article = extract_article(html, path.resolve().as_uri())
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            failures += 1
            click.echo(f"error: {path}: cannot read: {getattr(exc, 'strerror', None) or exc}", err=True)
            continue
        except RegwatchError as exc:
            failures += 1
            click.echo(f"error: {path}: {exc}", err=True)
            continue
        record = {
            "path": str(path),
            "title": article.title,
            "body": article.body,
            "published": article.published.isoformat() if article.published else None,
            "authors": article.authors,
            "language": article.language,
            "canonical_url": article.url,
        }
        click.echo(json.dumps(record, ensure_ascii=False, indent=None if jsonl else 2))
    if failures:
        sys.exit(1)


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--jsonl", is_flag=True, help="One compact JSON object per line (default: indented).")
@click.option(
    "--published",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The texts' date: who holds a role ('the Technology Secretary'). Default: today.",
)
@click.option("--language", default="", help="The texts' language (e.g. en, fr). Default: guessed.")
@click.pass_context
def tag(
    ctx: click.Context, files: tuple[str, ...], jsonl: bool, published: datetime | None, language: str
) -> None:
    """Tag plain-text files (or - for stdin): entities, quotes and regulatory actions.

    Each file gives one JSON object: path, entities (name, type, mentions, id,
    count), quotes (text, speaker, speaker_entity_id, position) and actions
    (actor, action, target, their entity ids, sentence). A text longer than
    NLP_MAX_CHARS is tagged up to there, with a warning.

    \b
    Example:
      regwatch tag article.txt --jsonl
      echo "Ofcom opened an investigation into X" | regwatch tag -
    """
    app = load_app(ctx)
    texts: list[tuple[str, str]] = []
    failures = 0
    for name in files:
        try:
            # Bytes, decoded as a file is: a terminal's stdin would turn bad bytes into lone surrogates.
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            texts.append((name, data.decode("utf-8")))
        except OSError as exc:
            failures += 1
            click.echo(f"error: {name}: cannot read: {exc.strerror or exc}", err=True)
        except UnicodeDecodeError as exc:
            failures += 1
            click.echo(f"error: {name}: cannot read: not UTF-8 ({exc.reason} at {exc.start})", err=True)
    results = app.tagger.analyse_many(
        [("", text) for _, text in texts], published=published, language=language
    )
    for (name, text), result in zip(texts, results, strict=True):
        if result.cut_from:
            click.echo(
                f"warning: {name}: {len(text)} characters; only the first "
                f"{app.tagger.max_chars} are tagged (NLP_MAX_CHARS)",
                err=True,
            )
        if result.failed:
            failures += 1
            click.echo(f"error: {name}: cannot be tagged ({result.error})", err=True)
            continue
        if result.error:
            click.echo(
                f"warning: {name}: the model failed ({result.error}); watchlist entities only", err=True
            )
        record = {
            "path": name,
            "entities": [
                {"name": e.name, "type": e.type, "mentions": e.mentions, "id": e.entity_id, "count": e.count}
                for e in result.entities
            ],
            "quotes": [q.to_dict() for q in result.quotes],
            "actions": [a.to_dict() for a in result.actions],
        }
        click.echo(json.dumps(record, ensure_ascii=False, indent=None if jsonl else 2))
    if failures:
        sys.exit(1)


@cli.command()
@click.option(
    "--batch", type=click.IntRange(1, 10_000), default=256, show_default=True, help="Articles per batch."
)
@json_option
@with_app
def retag(app: App, batch: int, as_json: bool) -> None:
    """Tag the archive again after a watchlist or tagger change, then reindex.

    Only articles tagged by another tagger version (it changes with the
    watchlist, the spaCy model and regwatch's tagging code) are tagged again,
    so a second run does nothing and an interrupted one resumes.

    \b
    Example:
      regwatch --config my-watchlist.yaml retag
    """
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if as_json or not console.is_terminal:
        outcome = pipeline.retag(app, batch=batch)
    else:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("retagging", total=None)
            outcome = pipeline.retag(
                app, batch=batch, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
    if as_json:
        emit_json(outcome.to_dict())
        return
    click.echo(
        f"retagged {outcome.retagged} of {outcome.stale} article(s) with {outcome.tagger_version}\n"
        f"tried again {outcome.retried} article(s) whose tagging had failed\n"
        f"tagged {outcome.untagged} untagged article(s); indexed {outcome.indexed}"
        + (f"\n{outcome.failed} article(s) still not tagged in full: see the log" if outcome.failed else "")
    )


@cli.command(name="settings")
@json_option
@with_app
def show_settings(app: App, as_json: bool) -> None:
    """Print every setting's resolved value (secrets masked).

    \b
    Example:
      REGWATCH_SMTP_HOST=mail.example.org regwatch settings
    """
    values = app.settings.public()
    store = app.store_location
    if as_json:
        emit_json({"home": str(app.home), "store": {"engine": app.store_engine, "location": store}, **values})
        return
    click.echo(f"{'HOME':<28} {app.home}")
    click.echo(f"{'STORE':<28} {app.store_engine}: {store}")
    for setting in SETTINGS:
        allowed = f" ({setting.range_text})" if setting.range_text else ""
        click.echo(f"{setting.name:<28} {values[setting.name]!s:<40} {setting.help}{allowed}")
