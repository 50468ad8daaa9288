"""The `regwatch` command line.

Data goes to stdout (JSON with --json), logs to stderr. Any error a user can fix
(bad config, unknown source, malformed query, unreadable file) is printed as one
line and exits non-zero; never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from regwatch.app import App
from regwatch.errors import RegwatchError

F = TypeVar("F", bound=Callable[..., Any])


class RegwatchGroup(click.Group):
    """A click group that turns RegwatchError into a one-line ClickException."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RegwatchError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None


LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"  # the crawl subprocess logs alike


def verbosity_level(verbose: int, quiet: bool) -> str | None:
    """The LOG_LEVEL that -v/-q ask for (None: keep the setting)."""
    if quiet:
        return "WARNING"
    return "DEBUG" if verbose else None


def setup_logging(level_name: str) -> None:
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        level = logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr, format=LOG_FORMAT, force=True)
    for noisy in ("scrapy", "twisted", "trafilatura", "htmldate", "courlan", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # The cluster clients log every request, and a failed one with a traceback; the
    # cluster backend reports failures itself in one line.
    for client in ("opensearch", "elastic_transport"):
        logging.getLogger(client).setLevel(max(level, logging.ERROR))


def json_option(func: F) -> F:
    """The shared --json flag: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(func)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group(cls=RegwatchGroup)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="REGWATCH_HOME",
    help="State dir (SQLite store, ledgers, outbox). Env: REGWATCH_HOME. Default: per-user data dir.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REGWATCH_CONFIG",
    help="YAML config (sources, watchlist, subscribers, settings). Env: REGWATCH_CONFIG.",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.version_option(package_name="regwatch")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, config_path: Path | None, verbose: int, quiet: bool) -> None:
    """regwatch: regulatory news monitoring.

    Crawl regulators, government and the press, tag the organisations, people
    and laws you watch, search everything, and email daily digests.

    \b
    Quick start:
      regwatch demo --out ./demo          # offline, on a bundled sample site
      regwatch --home ./demo search Grok  # search what the demo collected
    """
    level = verbosity_level(verbose, quiet)
    setup_logging(level or "INFO")  # refined from the LOG_LEVEL setting once the config is loaded
    ctx.obj = {"home": home, "config": config_path, "overrides": {"LOG_LEVEL": level} if level else {}}


def load_app(ctx: click.Context, **kwargs: Any) -> App:
    app = App.load(ctx.obj["home"], ctx.obj["config"], overrides=ctx.obj["overrides"], **kwargs)
    setup_logging(app.settings["LOG_LEVEL"])
    ctx.call_on_close(app.close)
    return app


def with_app(func: F) -> F:
    """Pass the loaded App as the first argument of a command."""

    @click.pass_context
    @functools.wraps(func)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        return func(load_app(ctx), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- commands ------------------------------------------------------------------

from regwatch.app import commands, sources_add, store_commands, users  # noqa: E402,F401  (registers the subcommands)


def main() -> None:
    cli(prog_name="regwatch")


if __name__ == "__main__":
    main()
