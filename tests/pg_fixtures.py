"""Fixtures for the PostgreSQL store: one real server per test session, a database per test.

The server is started by ``postgresql/run.py`` (the launcher ``make cluster-demo``
uses) from Debian's ``postgresql`` package binaries (``REGWATCH_PG_BIN`` names another
bin dir): a temp data dir, 127.0.0.1 on a free port, fsync off, removed at the end. Each test gets a database of its own, copied from a template
that holds the current schema (``CREATE DATABASE … TEMPLATE``: a file copy, fast).

Without the binaries the PostgreSQL tests skip with the reason; under CI=true
they fail (``.ci/run`` installs the package through ``make system-deps``).

``engine`` is the parametrized fixture of the store test modules: each test that
takes ``store`` (or ``open_store``) runs on SQLite and on PostgreSQL. A test marked
``@pytest.mark.sqlite_only("why")`` is about SQLite internals and skips on PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from indexer import Store

SUPERUSER = "regwatch"  # trusted on 127.0.0.1: the tests' own connections
PASSWORD_USER, PASSWORD = "analyst", "s3cret-Pa55"  # a role that must give its password (scram-sha-256)
TEMPLATE = "regwatch_template"


def _load_launcher() -> ModuleType:
    """``postgresql/run.py``, the launcher ``make cluster-demo`` uses too (a script, not a package)."""
    path = Path(__file__).resolve().parents[1] / "postgresql" / "run.py"
    spec = importlib.util.spec_from_file_location("regwatch_postgresql_launcher", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


launcher = _load_launcher()


class PostgresServer(launcher.Server):  # type: ignore[misc,name-defined]
    """A throwaway server in a temp dir (see the module docstring); ``stop()`` removes its files."""

    def __init__(self, bin_dir: Path) -> None:
        super().__init__(Path(tempfile.mkdtemp(prefix="regwatch-pg-")), bin_dir, launcher.THROWAWAY_OPTIONS)

    def start_throwaway(self) -> PostgresServer:
        self.start(launcher.free_port(15432), database=None)
        self.admin(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'")
        return self

    def stop(self, mode: str = "immediate") -> bool:
        stopped = bool(super().stop(mode))
        shutil.rmtree(self.root, ignore_errors=True)
        return stopped

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:  # type: ignore[override]
        url = super().url(database, user)
        assert url is not None, "the test server is not running"
        return str(url)

    def create_database(  # type: ignore[override]
        self, template: str = "template0", owner: str = SUPERUSER
    ) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {template} OWNER {owner}")
        return name


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        bin_dir = launcher.bin_dir()
    except launcher.ServerError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    server = PostgresServer(bin_dir)
    try:
        server.start_throwaway()
        server.admin(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0")
        Store.open_postgresql(
            server.url(TEMPLATE)
        ).close()  # the current schema, copied into each test's database
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """The URL of a new database with the current schema, dropped after the test."""
    name = pg_server.create_database(TEMPLATE)
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def empty_pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database (no regwatch schema), dropped after the test."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The store engine of this test run (see the module docstring)."""
    marker = request.node.get_closest_marker("sqlite_only")
    if request.param == "postgresql" and marker is not None:
        pytest.skip(f"SQLite only: {marker.args[0] if marker.args else marker.kwargs.get('reason', '')}")
    return str(request.param)


# Options both engines take (Store.open's busy_timeout and search_columns are SQLite's).
_COMMON_OPTIONS = ("index_batch_size", "sources", "stories")


@pytest.fixture
def open_store(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Store]]:
    """Opens this test's store on this run's engine: the same file or database for each ``name``."""
    if engine == "sqlite":
        yield lambda name="regwatch", **options: Store.open(tmp_path / f"{name}.db", **options)
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    databases: dict[str, str] = {}

    def open_pg(name: str = "regwatch", **options: Any) -> Store:
        if name not in databases:
            databases[name] = server.create_database(TEMPLATE)
        kept = {k: v for k, v in options.items() if k in _COMMON_OPTIONS}
        return Store.open_postgresql(server.url(databases[name]), **kept)

    yield open_pg
    for database in databases.values():
        server.drop_database(database)


def sql(store: Store, statement: str) -> list[tuple[Any, ...]]:
    """Run one SQL statement on the store's own file or database (tests reaching under the components).

    The tests' PostgreSQL URLs carry no password, so the store's shown location is its URL.
    """
    if store.engine == "sqlite":
        import sqlite3

        assert store.path is not None
        conn = sqlite3.connect(store.path)
        try:
            found = conn.execute(statement).fetchall()
            conn.commit()
            return [tuple(r) for r in found]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(store.location, autocommit=True) as pg:
        cursor = pg.execute(statement)
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else []


@pytest.fixture
def store(open_store: Callable[..., Store]) -> Iterator[Store]:
    """A new, empty store on this run's engine."""
    with open_store() as opened:
        yield opened


# A PostgreSQL store requires a search cluster; tests of what never searches (digests, alerts read
# the store) name this one, which nothing contacts.
UNUSED_CLUSTER = "http://127.0.0.1:9"


@pytest.fixture
def store_settings(engine: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings that put an App's store on this run's engine (PostgreSQL: a database of its own)."""
    if engine == "sqlite":
        return {}
    return {"STORE_URL": request.getfixturevalue("pg_url"), "INDEX_URL": UNUSED_CLUSTER}


@pytest.fixture
def searchable_store_settings(engine: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """``store_settings`` for tests that index and search: on PostgreSQL the real node and a fresh alias."""
    if engine == "sqlite":
        return {}
    url, name = request.getfixturevalue("cluster_url"), request.getfixturevalue("alias")
    return {
        "STORE_URL": request.getfixturevalue("pg_url"),
        "INDEX_URL": url,
        "INDEX_NAME": name,
        "INDEX_RETRY_BACKOFF": "0",
    }
