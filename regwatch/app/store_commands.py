"""`regwatch store`: which store of truth this is, and moving a SQLite home into PostgreSQL."""

from __future__ import annotations

import sys
from typing import Any

import click

from regwatch.app import App
from regwatch.app.cli import cli, emit_json, json_option, with_app


@cli.group()
def store() -> None:
    """The store of truth: SQLite in the home dir, or PostgreSQL (STORE_URL).

    \b
    Example:
      regwatch store status
      regwatch store copy --to postgresql://regwatch@db.example:5432/regwatch
    """


@store.command(name="status")
@json_option
@with_app
def store_status(app: App, as_json: bool) -> None:
    """Show the engine, where it is (credentials masked), the schema version and what it holds.

    \b
    Example:
      REGWATCH_STORE_URL=postgresql://regwatch@127.0.0.1/regwatch regwatch store status --json
    """
    data = app.store.describe()
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key + ':':<20}{value}")


@store.command(name="copy")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    help="The PostgreSQL store: postgresql://user@host:5432/dbname (password: REGWATCH_STORE_PASSWORD).",
)
@click.option("--restart", is_flag=True, help="Forget an earlier run's progress and copy every row again.")
@json_option
@with_app
def store_copy(app: App, target: str, restart: bool, as_json: bool) -> None:
    """Copy this home's SQLite store into PostgreSQL, then verify every table by count and checksum.

    Articles, entities, stories, tag errors, crawl runs, source states and the
    fetch, digest, alert and cluster ledgers. Interrupted, it continues where it
    stopped when run again, and never writes a row twice. Exits 1 when a table
    differs. Then set REGWATCH_STORE_URL (and REGWATCH_INDEX_URL: with
    PostgreSQL, search is the cluster's).

    \b
    Example:
      regwatch store copy --to postgresql://regwatch@db.example:5432/regwatch
    """
    from rich.console import Console
    from rich.progress import Progress

    from indexer import Store

    if not app.db_path.exists():
        raise click.ClickException(f"no SQLite store to copy at {app.db_path}: check --home")
    password = str(app.settings["STORE_PASSWORD"])
    # Opened once through the store: an older schema is migrated and an old alerts.db imported first.
    source = Store.from_settings({**app.settings, "STORE_URL": ""}, app.home)
    try:
        console = Console(stderr=True)
        if as_json or not console.is_terminal:
            reports = source.copy_to_postgresql(target, password=password, restart=restart)
        else:
            with Progress(console=console, transient=True) as bar:
                tasks: dict[str, Any] = {}

                def advance(table: str, done: int, total: int) -> None:
                    if table not in tasks:
                        tasks[table] = bar.add_task(table, total=total)
                    bar.update(tasks[table], completed=done, total=total)

                reports = source.copy_to_postgresql(
                    target, password=password, restart=restart, progress=advance
                )
    finally:
        source.close()
    rows = [report.to_dict() for report in reports]
    if as_json:
        emit_json({"source": str(app.db_path), "tables": rows, "ok": all(r["ok"] for r in rows)})
    else:
        click.echo(f"{'table':<18}{'copied':>8}{'sqlite':>9}{'postgres':>10}  checksum")
        for r in rows:
            same = "same" if r["source_checksum"] == r["target_checksum"] else "DIFFERENT"
            click.echo(
                f"{r['table']:<18}{r['copied']:>8}{r['source_rows']:>9}{r['target_rows']:>10}  "
                f"{r['target_checksum'][:12]} {same}"
            )
    if not all(r["ok"] for r in rows):
        bad = ", ".join(r["table"] for r in rows if not r["ok"])
        click.echo(
            f"error: {bad} differ(s) between the stores: did the SQLite store change meanwhile? "
            "Run the copy again with --restart",
            err=True,
        )
        sys.exit(1)
