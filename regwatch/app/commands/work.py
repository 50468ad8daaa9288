"""The commands of scale-out on PostgreSQL: `regwatch worker` (one of many) and `regwatch workers` (who is working).

Both refuse on the SQLite store, saying to set STORE_URL: SQLite keeps the one-process
`regwatch run` and `regwatch schedule`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from regwatch.app import App
from regwatch.app.cli import cli, emit_json, json_option, with_app
from regwatch.app.worker import ROLES, Worker, work_queue_of


@cli.command()
@click.option("--crawl", "roles", flag_value="crawl", multiple=True, help="Crawl due sources.")
@click.option("--tag", "roles", flag_value="tag", multiple=True, help="Tag untagged articles.")
@click.option(
    "--index", "roles", flag_value="index", multiple=True, help="Send pending documents to the cluster."
)
@click.option("--deliver", "roles", flag_value="deliver", multiple=True, help="Send alerts and due digests.")
@click.option("--once", is_flag=True, help="Do the due work that is free to claim, then exit.")
@json_option
@with_app
def worker(app: App, roles: tuple[str, ...], once: bool, as_json: bool) -> None:
    """Claim and do due work from the PostgreSQL store, alongside any number of other workers.

    With no role flag, a worker takes every role. Each piece of work (a source to
    crawl, a batch of articles to tag, the cluster's pending documents, a digest)
    is leased for WORKER_LEASE_SECONDS and renewed while it runs; a worker that
    dies loses its leases when they expire and another takes the work over.
    Stop with SIGTERM or Ctrl-C: the current work finishes first.

    \b
    Example:
      REGWATCH_STORE_URL=postgresql://regwatch@db/regwatch regwatch worker --crawl --tag
    """
    summary = Worker(app, roles or ROLES).run(once=once)
    data = summary.to_dict()
    if as_json:
        emit_json(data)
        return
    click.echo(
        "\n".join(
            [
                f"worker:            {data['worker_id']} ({', '.join(data['roles'])})",
                f"sources crawled:   {len(data['sources_crawled'])}",
                f"articles:          {data['new']} new, {data['updated']} updated, {data['duplicate']} duplicate",
                f"articles tagged:   {data['articles_tagged']}",
                f"articles indexed:  {data['indexed']}",
                f"digests:           {len(data['digests'])}; alerts sent: {data['alerts_sent']}",
                *(f"taken over:        {entry}" for entry in data["taken_over"]),
            ]
        )
    )


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Also list workers whose heartbeat stopped.")
@json_option
@with_app
def workers(app: App, show_all: bool, as_json: bool) -> None:
    """List the live workers: host, pid, roles, last heartbeat, current work and leases.

    A worker is live while its heartbeat is younger than WORKER_LEASE_SECONDS.

    \b
    Example:
      regwatch workers --json
    """
    queue = work_queue_of(app)
    listed = [
        w
        for w in queue.workers(stale_after=float(app.settings["WORKER_LEASE_SECONDS"]))
        if show_all or w.live
    ]
    leases = queue.leases()
    rows: list[dict[str, Any]] = [
        {**w.to_dict(), "leases": [lease.to_dict() for lease in leases if lease.worker_id == w.worker_id]}
        for w in listed
    ]
    if as_json:
        emit_json({"workers": rows})
        return
    if not rows:
        click.echo("no live workers" + ("" if show_all else " (--all lists stopped ones too)"))
        return
    now = datetime.now(UTC)
    for entry, info in zip(rows, listed, strict=True):
        age = (now - info.heartbeat_at).total_seconds()
        state = "live" if info.live else "stale"
        state += ", stopping" if info.stopping else ""
        click.echo(
            f"{info.worker_id}  {info.host} pid {info.pid}  [{', '.join(info.roles)}]  "
            f"heartbeat {age:.0f}s ago ({state})  {info.current_work or 'idle'}"
        )
        for lease in entry["leases"]:
            click.echo(
                f"  {lease['kind']} {lease['key']}  until {lease['leased_until']}  attempt {lease['attempts']}"
            )
