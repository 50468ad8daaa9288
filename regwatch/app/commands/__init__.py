"""The regwatch subcommands, registered on :data:`regwatch.app.cli.cli` by importing them.

One module per group of commands: ``collect`` (demo, crawl, run, schedule, sources,
digest), ``read`` (search, serve, index sync/status/migrate), ``tools`` (extract,
tag, retag, settings) and ``work`` (worker, workers: the work shared through
PostgreSQL). ``regwatch --help`` lists them all, sorted by name.
"""

from regwatch.app.commands import collect, read, tools, work

__all__ = ["collect", "read", "tools", "work"]
