"""The commands on texts and the tagger: extract and tag files, retag the archive; settings."""

from __future__ import annotations

import gzip
import json
import sys
from datetime import datetime
from pathlib import Path

import click

from regwatch.app import App, pipeline
from regwatch.app.cli import cli, emit_json, json_option, load_app, with_app
from regwatch.errors import RegwatchError
from regwatch.settings import SETTINGS


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
