"""Shared fixtures: a served sample site, a temp regwatch home, a CLI runner.

Everything runs on 127.0.0.1; nothing here reaches the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result


@pytest.fixture(scope="session")
def sample_site() -> Iterator[str]:
    """Base URL (no trailing slash) of the bundled sample site, served for the whole session."""
    from regwatch.app.sample_site import serve_sample_site

    with serve_sample_site() as base_url:
        yield base_url


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty regwatch home dir."""
    path = tmp_path / "home"
    path.mkdir()
    return path


class Cli:
    """Runs `regwatch` in-process through click's CliRunner, as a user would type it."""

    def __init__(self, home: Path | None = None, config: Path | None = None) -> None:
        self.home = home
        self.config = config
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, expect: int | None = 0) -> Result:
        from regwatch.app.cli import cli

        argv: list[str] = []
        if self.home is not None:
            argv += ["--home", str(self.home)]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        result = self.runner.invoke(cli, [*argv, *args], input=input, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, f"exit {result.exit_code}: {result.output}"
        return result

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        return json.loads(result.stdout)


@pytest.fixture
def cli(home: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A CLI bound to a temp home and no config file (built-in defaults)."""
    monkeypatch.delenv("REGWATCH_CONFIG", raising=False)
    monkeypatch.delenv("REGWATCH_HOME", raising=False)
    return Cli(home=home)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (its own browser download is not used).

    Skipped on a developer machine without Chromium; in CI (CI=true) a missing
    browser is a failure, since .ci/run installs it.
    """
    import os
    import shutil

    executable = os.environ.get("REGWATCH_TEST_CHROMIUM") or shutil.which("chromium")
    if not executable:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# The OpenSearch node (started by `make test`), a fresh alias per test, and a gate to cut it off.
from cluster_fixtures import alias, cluster_url, gate  # noqa: E402,F401

# The PostgreSQL server (one per session), a database per test, and the engine-parametrized store.
from pg_fixtures import (  # noqa: E402,F401
    empty_pg_url,
    engine,
    open_store,
    pg_server,
    pg_url,
    searchable_store_settings,
    store,
    store_settings,
)
