"""The commands that collect and deliver: demo, crawl, run, schedule, sources, digest.

Each runs a step of :mod:`regwatch.app.pipeline` and prints its summary; ``run``,
``demo`` and ``digest --send`` exit 75 while a digest stays pending.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from regwatch.app import App, pipeline
from regwatch.app.cli import cli, emit_json, json_option, load_app, with_app
from regwatch.errors import ERROR_CLASS_MEANINGS

if TYPE_CHECKING:
    from digests import DigestOutcome


EXIT_DIGEST_FAILED = 1  # a digest was rejected for good (5xx, bad address): see the error
EXIT_DIGEST_PENDING = 75  # EX_TEMPFAIL: a digest is pending; a later `regwatch digest --send` retries it


def _digest_exit_status(outcomes: list[DigestOutcome]) -> int:
    """0 when every digest of this run went out (or had nothing to send), else why not."""
    statuses = {outcome.status for outcome in outcomes}
    if "failed" in statuses:
        return EXIT_DIGEST_FAILED
    return EXIT_DIGEST_PENDING if "pending" in statuses else 0


def _print_summary(summary: pipeline.RunSummary, extra: dict[str, Any] | None = None) -> None:
    failures = [
        (stats.source_id, failure.message) for stats in summary.crawl for failure in stats.failures[:5]
    ]
    echo_summary(summary.to_dict(), extra, failures)


def echo_summary(
    data: dict[str, Any], extra: dict[str, Any] | None = None, failures: Sequence[tuple[str, str]] = ()
) -> None:
    """Print a run's summary (``RunSummary.to_dict()``'s shape) and each (source, message) failure."""
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
    for source_id, message in failures:
        lines.append(f"  error [{source_id}] {message}")
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


@cli.command("cluster-demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/cluster-demo"),
    show_default=True,
    help="Home dir the demo's processes share (outbox, logs).",
)
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True, help="Workers to run.")
@json_option
@click.pass_context
def cluster_demo(ctx: click.Context, out: Path, workers: int, as_json: bool) -> None:
    """Run the sample-site demo through `regwatch worker` processes and `regwatch schedule` on PostgreSQL.

    Needs STORE_URL (PostgreSQL) and INDEX_URL (OpenSearch): `make cluster-demo`
    starts both under var/ and runs this. The workers crawl, tag and index the
    sample site; then the scheduler delivers the due digest into OUT/outbox/; then
    everything the demo started is stopped, and the summary says what each worker did.

    \b
    Example:
      REGWATCH_STORE_URL=postgresql://regwatch@127.0.0.1/regwatch \\
      REGWATCH_INDEX_URL=http://127.0.0.1:9200 regwatch cluster-demo
    """
    from regwatch.app.cluster_demo import run_cluster_demo

    result = run_cluster_demo(out, workers=workers, overrides=ctx.obj["overrides"])
    home = out.resolve()
    if as_json:
        emit_json(
            {
                **result.summary,
                "workers": result.workers,
                "home": str(home),
                "sample_site": result.sample_site,
            }
        )
        return
    extra: dict[str, Any] = {"home": home, "sample site": result.sample_site}
    for worker in result.workers:
        extra[f"worker {worker['worker_id']}"] = (
            f"{len(worker['sources_crawled'])} source(s) crawled, {worker['new']} new, "
            f"{worker['articles_tagged']} tagged, {worker['indexed']} document(s) sent to the cluster"
            + (f", took over {', '.join(worker['taken_over'])}" if worker["taken_over"] else "")
        )
    extra["took"] = f"{result.seconds:.0f}s"
    extra["next"] = (
        f"REGWATCH_STORE_URL=… REGWATCH_INDEX_URL=… regwatch --home {out} --config {out / 'demo.yaml'} search Grok"
    )
    echo_summary(result.summary, extra)


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

    Stop with Ctrl-C or SIGTERM. Only one scheduler may run per home dir; with a
    PostgreSQL store, any number of hosts may run one and a single leader runs the jobs.

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


@cli.group(invoke_without_command=True, epilog=_ERROR_CLASSES_EPILOG)
@click.option("--probe", is_flag=True, help="Fetch each enabled source's index once now; store nothing.")
@json_option
@click.pass_context
def sources(ctx: click.Context, probe: bool, as_json: bool) -> None:
    """Show each configured source and its health; `sources add URL` adds one.

    Status, last success, last error with its class (listed below),
    consecutive failures, items listed per run, pages robots.txt disallowed,
    newest item and index latency; for an `auto` source, what its discovery
    chose to follow and why. A source disabled after repeated hard
    failures shows as auto-off until `regwatch crawl ID` succeeds.

    \b
    Example:
      regwatch sources --json
      regwatch sources --probe
      regwatch --config my.yaml sources add https://www.ofcom.org.uk/news-and-updates
    """
    if ctx.invoked_subcommand is not None:
        return
    from regwatch.app import source_health as _source_health

    app = load_app(ctx)
    if not app.config.sources:
        if as_json:
            emit_json([])
        else:
            click.echo(f"no sources: {pipeline.no_sources_advice(app)}")
        return
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
