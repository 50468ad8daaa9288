"""`regwatch sources add URL`: a source from its address alone, discovered now and appended to the config.

Discovery runs as a probe crawl of the new ``auto`` source (``pipeline.discover``:
the crawl's own SSRF guard, robots.txt, size limit and politeness), prints what
it found (method, feed or sitemap address, the first items with titles and
dates) and appends the record to the config file as text
(:mod:`regwatch.app.config_file`), or prints it with ``--dry-run``. The
discovery is kept in the store, so the first crawl follows it directly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from regwatch.app import App, pipeline
from regwatch.app.cli import emit_json, json_option
from regwatch.app.commands.collect import sources
from regwatch.app.config_file import append_source, render_item
from regwatch.config import SOURCE_ID_RE
from regwatch.errors import ConfigError
from regwatch.models import SOURCE_TYPES, Discovery, Source, utcnow

MAX_ID_CHARS = 40


def suggested_id(url: str, taken: set[str]) -> str:
    """A source id from an address: the site's name and the page's last path segment.

    ``https://www.ofcom.org.uk/news-and-updates`` → ``ofcom-news-and-updates``;
    an address on an IP gives its path alone. ``-2``, ``-3``… when taken.
    """
    split = urlsplit(url)
    host = (split.hostname or "").removeprefix("www.")
    label = "" if re.fullmatch(r"[\d.:]+|localhost", host) else host.split(".")[0]
    segments = [s for s in split.path.split("/") if s]
    last = segments[-1].rsplit(".", 1)[0] if segments else ""
    words = [w for w in (label, last) if w]
    base = re.sub(r"[^a-z0-9_-]+", "-", "-".join(words).lower()).strip("-_")[:MAX_ID_CHARS] or "source"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _free_to_add(
    url: str, source_id: str | None, configured: list[Source], config_path: Path | None
) -> set[str]:
    """The ids taken in the config; ConfigError when the address is there already or the id is taken."""
    same = next((s for s in configured if s.url.rstrip("/") == url.rstrip("/")), None)
    if same is not None:
        raise ConfigError(f"{url} is already a source of {config_path}: {same.id!r}")
    taken = {s.id for s in configured}
    if source_id is not None:
        if not SOURCE_ID_RE.match(source_id):
            raise click.BadParameter("lower-case letters, digits, '-' or '_'", param_hint="--id")
        if source_id in taken:
            raise ConfigError(
                f"source id {source_id!r} is already in {config_path}: choose another with --id"
            )
    return taken


def _record(source: Source, found: Discovery) -> dict[str, Any]:
    record: dict[str, Any] = {"id": source.id, "name": source.name, "kind": "auto", "url": source.url}
    record["type"] = source.type
    if source.jurisdiction:
        record["jurisdiction"] = source.jurisdiction
    record["notes"] = f"Added by `regwatch sources add` on {utcnow().date().isoformat()}: {found.describe()}"
    return record


def _report(source: Source, found: Discovery) -> list[str]:
    lines = [f"source:   {source.id} ({source.url})"]
    if found.found:
        lines.append(f"method:   {found.method}")
        lines.append(f"address:  {found.address}")
        if found.pattern:
            lines.append(f"links:    {found.pattern.get('shape', '')}")
        lines.append(f"why:      {found.reason}")
    else:
        lines.append("method:   none found")
    if found.rejected:
        lines.append("turned down:")
        lines += [f"  {why}" for why in found.rejected]
    if found.items:
        lines.append("first items:")
        for item in found.items:
            day = (item.get("published") or "")[:10] or "undated   "
            lines.append(f"  {day}  {item.get('title') or '(no title)'}")
            lines.append(f"              {item.get('url', '')}")
    return lines


@sources.command(name="add")
@click.argument("url")
@click.option("--id", "source_id", help="The source's id (default: from the address).")
@click.option("--name", help="Its name (default: what the site calls itself).")
@click.option("--type", "source_type", type=click.Choice(SOURCE_TYPES), default="news", show_default=True)
@click.option("--jurisdiction", default="", help="e.g. UK, EU, US.")
@click.option("--dry-run", is_flag=True, help="Print the record instead of appending it to the config.")
@json_option
@click.pass_context
def sources_add(
    ctx: click.Context,
    url: str,
    source_id: str | None,
    name: str | None,
    source_type: str,
    jurisdiction: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Add a source by its address: discover how to follow it, then append it to the config.

    Tries what the site declares, in order: feeds (<link rel="alternate">, then
    /feed/, /rss.xml, /atom.xml, ?format=rss), sitemaps (robots.txt, then
    /sitemap.xml), then the page's article links, learned from its structure
    and trusted once three of them extract as articles. Prints what it found
    and appends an `auto` record to the config (--config, created if missing).

    \\b
    Example:
      regwatch --config my.yaml sources add https://www.ofcom.org.uk/news-and-updates --type regulator --jurisdiction UK
      regwatch sources add https://example.org/news/ --dry-run
    """
    obj = ctx.find_root().obj
    config_path: Path | None = obj["config"]
    if config_path is None and not dry_run:
        raise click.UsageError(
            "sources add appends to a config file: give --config FILE (created if missing), or --dry-run"
        )
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http:// or https:// address", param_hint="URL")
    app = App.load(
        obj["home"], config_path if config_path and config_path.exists() else None, overrides=obj["overrides"]
    )
    ctx.call_on_close(app.close)
    configured = app.config.sources if config_path and config_path.exists() else []
    taken = _free_to_add(url, source_id, configured, config_path)
    sid = source_id or suggested_id(url, taken)
    probe_source = Source(sid, name or sid, "auto", url, type=source_type, jurisdiction=jurisdiction)  # type: ignore[arg-type]
    stats = pipeline.discover(app, probe_source)
    found = (
        Discovery.from_dict(stats.discovery)
        if stats.discovery
        else Discovery("", reason=stats.index_failure.message if stats.index_failure else "")
    )
    source = Source(sid, name or found.title or sid, "auto", url, type=source_type, jurisdiction=jurisdiction)  # type: ignore[arg-type]
    record = _record(source, found)
    result: dict[str, Any] = {
        "source": record,
        "discovery": found.to_dict(),
        "config": str(config_path or ""),
        "added": False,
    }
    if not found.found:
        problem = (
            (stats.index_failure.message if stats.index_failure else "") or found.reason or "nothing found"
        )
        if as_json:
            emit_json(result)
        else:
            click.echo("\n".join(_report(source, found)))
        raise ConfigError(f"nothing to follow at {url} ({problem}); not added")
    note = ""
    if not dry_run:
        assert config_path is not None
        note = append_source(config_path, record)
        app.store.source_states.save_discovery(sid, found)  # the first crawl follows it directly
        result["added"] = True
    if as_json:
        emit_json(result)
        return
    lines = _report(source, found)
    lines.append("" if dry_run else f"appended to {config_path}:" + (f" ({note})" if note else ""))
    lines.append(render_item(record).rstrip("\n"))
    click.echo("\n".join(lines))
