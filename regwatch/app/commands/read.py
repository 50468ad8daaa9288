"""The commands that read the archive: search, serve (the web desk) and the ``index`` group."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from regwatch.app import App, pipeline
from regwatch.app.cli import cli, emit_json, json_option, with_app


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
@click.option(
    "--offset",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Skip this many hits (at most 1,000,000,000).",
)
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


@cli.command()
@click.option(
    "--host",
    help="Address to bind (default: WEB_HOST, 127.0.0.1). Another than loopback needs accounts or a trusted proxy.",
)
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default: WEB_PORT, 8000).")
@with_app
def serve(app: App, host: str | None, port: int | None) -> None:
    """Serve the web desk: search, compare, saved searches, subscriptions, digests, the ops console, an API.

    With no account (`regwatch users add`) and no trusted proxy, it serves on
    127.0.0.1 only, as the one local user; with accounts, everyone signs in.
    Stop it with Ctrl-C.

    \b
    Example:
      regwatch --home var/demo --config var/demo/demo.yaml serve --port 8000
      # then open http://127.0.0.1:8000/?q=grok
    """
    import uvicorn

    from regwatch.app.desk import AppDesk
    from web import Access, create_app, load_or_create_secret

    host = (host or str(app.settings["WEB_HOST"])).strip()
    port = port or int(app.settings["WEB_PORT"])
    accounts = app.store.users.count()
    secret = str(app.settings["WEB_SECRET"]).encode() or load_or_create_secret(app.home)
    access = Access.for_server(app.settings, host=host, accounts=accounts, secret=secret)
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    if not access.accounts:
        who = (
            "no accounts: everyone who can reach this loopback address is the one local user (analyst and ops); "
            "`regwatch users add NAME` makes the first account (then restart)"
        )
    else:
        proxies = ", ".join(str(n) for n in access.trusted_proxies)
        who = f"{accounts} account(s): sign in at /login" + (
            f"; {access.proxy_header} believed from {proxies}" if proxies else ""
        )
    click.echo(
        f"regwatch desk on http://{shown}:{port}/ (home {app.home}); {who}. Ctrl-C stops it.", err=True
    )
    app.close()  # the desk opens its own store on its store thread
    uvicorn.run(
        create_app(AppDesk(app), access=access),
        host=host.strip("[]"),
        port=port,
        log_level=str(app.settings["LOG_LEVEL"]).lower(),
        server_header=False,
        proxy_headers=False,  # the desk reads X-Forwarded-* itself, from trusted proxies only
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
