"""Shared fixtures: a served sample site, a temp regwatch home, a CLI runner, headless Chromium.

Fixtures only: helpers a test imports live in modules of their own
(``cli_helpers.Cli``, ``crawl_fixtures.serve_pages``...). Everything runs on
127.0.0.1; nothing here reaches the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli


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

# The web desk over a small archive built for its tests (tests/web_fixtures.py).
from web_fixtures import client, desk_home  # noqa: E402,F401
