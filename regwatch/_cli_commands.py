"""The regwatch subcommands (registered on :data:`regwatch.cli.cli`)."""

from __future__ import annotations

import gzip
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from regwatch import pipeline
from regwatch.app import App
from regwatch.cli import cli, emit_json, json_option, load_app, with_app
from regwatch.errors import RegwatchError
from regwatch.settings import SETTINGS

logger = logging.getLogger("regwatch.cli")


def _print_summary(summary: pipeline.RunSummary, extra: dict[str, Any] | None = None) -> None:
    data = summary.to_dict()
    lines = [
        f"sources crawled:   {data['sources']}",
        f"pages fetched:     {data['pages_fetched']}",
        f"articles:          {data['new']} new, {data['updated']} updated, {data['duplicate']} duplicate",
        f"errors:            {data['errors']}",
        f"articles tagged:   {data['articles_tagged']}",
        f"entities found:    {data['entities_found']}"
        + (f" ({', '.join(data['watched_entities'])})" if data["watched_entities"] else ""),
        f"articles indexed:  {data['indexed']}",
    ]
    for stats in summary.crawl:
        for message in stats.error_messages[:5]:
            lines.append(f"  error [{stats.source_id}] {message}")
    for digest in data["digests"]:
        where = f": {digest['path']}" if digest["path"] else ""
        err = f" ({digest['error']})" if digest["error"] else ""
        lines.append(f"digest {digest['subscriber']} {digest['period']}: {digest['status']}{where}{err}")
    for key, value in (extra or {}).items():
        lines.append(f"{key}: {value}")
    click.echo("\n".join(lines))


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
    from regwatch.demo import run_demo

    summary, base_url = run_demo(out, overrides=ctx.obj["overrides"])
    if as_json:
        emit_json({**summary.to_dict(), "home": str(out.resolve()), "sample_site": base_url})
    else:
        _print_summary(
            summary,
            {
                "home": out.resolve(),
                "sample site": base_url,
                "next": f"regwatch --home {out} search Grok",
            },
        )


@cli.command()
@click.argument("source_ids", nargs=-1)
@json_option
@with_app
def crawl(app: App, source_ids: tuple[str, ...], as_json: bool) -> None:
    """Crawl sources now (default: every enabled source), then tag and index.

    \b
    Example:
      regwatch crawl ofcom-news gov-dsit
    """
    summary = pipeline.RunSummary()
    summary.crawl = pipeline.crawl(app, source_ids)
    summary.tagged = pipeline.tag_pending(app)
    summary.indexed = pipeline.index_pending(app)
    emit_json(summary.to_dict()) if as_json else _print_summary(summary)


@cli.command()
@click.option("--all", "crawl_all", is_flag=True, help="Crawl every enabled source, due or not.")
@json_option
@with_app
def run(app: App, crawl_all: bool, as_json: bool) -> None:
    """One pass of everything due: crawl, tag, index, send due digests.

    \b
    Example (from cron):
      regwatch --home /srv/regwatch --config /etc/regwatch.yaml run
    """
    summary = pipeline.run_once(app, due_only=not crawl_all)
    emit_json(summary.to_dict()) if as_json else _print_summary(summary)


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
    from regwatch.scheduler import RegwatchScheduler

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


@cli.command()
@json_option
@with_app
def sources(app: App, as_json: bool) -> None:
    """Show each configured source and its health.

    \b
    Example:
      regwatch sources --json
    """
    health = {h.source_id: h for h in app.store.source_health()}
    rows = []
    for source in app.config.sources:
        h = health.get(source.id)
        rows.append(
            {
                "id": source.id,
                "name": source.name,
                "kind": source.kind,
                "type": source.type,
                "enabled": source.enabled,
                "status": _health_status(source.enabled, h),
                "last_run": _iso(getattr(h, "last_run", None)),
                "last_success": _iso(getattr(h, "last_success", None)),
                "last_error": getattr(h, "last_error", "") or "",
                "consecutive_failures": getattr(h, "consecutive_failures", 0),
                "items_last_run": getattr(h, "items_last_run", 0),
                "newest_item": _iso(getattr(h, "newest_item", None)),
                "articles": getattr(h, "total_articles", 0),
                "url": source.url,
            }
        )
    if as_json:
        emit_json(rows)
        return
    click.echo(f"{'SOURCE':<22} {'STATUS':<9} {'LAST SUCCESS':<20} {'ARTICLES':>8}  LAST ERROR")
    for row in rows:
        last = (row["last_success"] or "never")[:19]
        click.echo(
            f"{row['id']:<22} {row['status']:<9} {last:<20} {row['articles']:>8}  {row['last_error'][:60]}"
        )


def _health_status(enabled: bool, health: Any) -> str:
    if not enabled:
        return "disabled"
    if health is None or health.last_run is None:
        return "new"
    if health.consecutive_failures:
        return "failing"
    return "ok"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@cli.command()
@click.argument("query", required=False, default="")
@click.option("--entity", help="Only articles mentioning this entity (name or alias).")
@click.option("--source", "source_id", help="Only articles from this source id.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@with_app
def search(
    app: App,
    query: str,
    entity: str | None,
    source_id: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """Search the index by text, entity, source and date.

    QUERY: words (all must match), "a phrase", OR, -excluded, prefix*.

    \b
    Examples:
      regwatch search Grok --json
      regwatch search "online safety" --entity Ofcom --since 2026-01-01
    """
    from indexer import SearchQuery

    if entity:
        watched = app.watchlist.find(entity)
        entity = watched.name if watched else entity
    result = app.store.search(
        SearchQuery(
            text=query,
            entity=entity,
            source=source_id,
            since=since.date() if since else None,
            until=until.date() if until else None,
            limit=limit,
        )
    )
    data = result.to_dict()
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['total']} result(s)")
    for n, hit in enumerate(data["hits"], 1):
        published = (hit["published"] or "")[:10]
        click.echo(f"{n:>3}. {hit['title']}  [{hit['source']} {published}]")
        click.echo(f"     {hit['url']}")
        if hit["entities"]:
            click.echo(f"     entities: {', '.join(hit['entities'][:8])}")
        if hit["snippet"]:
            click.echo(f"     {hit['snippet']}")


@cli.command()
@click.option("--subscriber", "subscriber_ids", multiple=True, help="Only this subscriber id (repeatable).")
@click.option("--preview", is_flag=True, help="Print the digest as text; send and record nothing.")
@click.option("--send", is_flag=True, help="Deliver every due, undelivered digest.")
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
        rows = [
            {
                "subscriber": o.subscriber_id,
                "period": o.period.isoformat(),
                "status": o.status,
                "items": o.items,
                "path": o.location,
                "error": o.error,
            }
            for o in outcomes
        ]
        if as_json:
            emit_json(rows)
        else:
            for row in rows:
                click.echo(
                    f"{row['subscriber']} {row['period']}: {row['status']} {row['path']} {row['error']}"
                )
        if any(o.status in ("failed", "pending") for o in outcomes):
            sys.exit(1)
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
@click.pass_context
def tag(ctx: click.Context, files: tuple[str, ...], jsonl: bool) -> None:
    """Tag plain-text files (or - for stdin) with watched and other entities.

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
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            failures += 1
            click.echo(f"error: {name}: cannot read: {getattr(exc, 'strerror', None) or exc}", err=True)
            continue
        texts.append((name, text))
    results = app.tagger.tag_many(("", text) for _, text in texts)
    for (name, _), entities in zip(texts, results, strict=True):
        record = {
            "path": name,
            "entities": [
                {"name": e.name, "type": e.type, "mentions": e.mentions, "id": e.entity_id, "count": e.count}
                for e in entities
            ],
        }
        click.echo(json.dumps(record, ensure_ascii=False, indent=None if jsonl else 2))
    if failures:
        sys.exit(1)


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
    if as_json:
        emit_json({"home": str(app.home), **values})
        return
    click.echo(f"{'HOME':<28} {app.home}")
    for setting in SETTINGS:
        click.echo(f"{setting.name:<28} {values[setting.name]!s:<40} {setting.help}")
