"""Fixtures for the PostgreSQL store: one real server per test session, a database per test.

The server comes from Debian's ``postgresql`` package binaries
(``/usr/lib/postgresql/*/bin/initdb`` and ``pg_ctl``; ``REGWATCH_TEST_PG_BIN`` names
another bin dir): a temp data dir, 127.0.0.1 on a free port, fsync off. initdb
refuses to run as root, so under root the server runs as the ``postgres`` user
the package creates. Each test gets a database of its own, copied from a template
that holds the current schema (``CREATE DATABASE … TEMPLATE``: a file copy, fast).

Without the binaries the PostgreSQL tests skip with the reason; under CI=true
they fail (``.ci/run`` installs the package through ``make system-deps``).

``engine`` is the parametrized fixture of the store test modules: each test that
takes ``store`` (or ``open_store``) runs on SQLite and on PostgreSQL. A test marked
``@pytest.mark.sqlite_only("why")`` is about SQLite internals and skips on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from indexer import Store

SUPERUSER = "regwatch"  # trusted on 127.0.0.1: the tests' own connections
PASSWORD_USER, PASSWORD = "analyst", "s3cret-Pa55"  # a role that must give its password (scram-sha-256)
TEMPLATE = "regwatch_template"


def _bin_dir() -> Path | None:
    configured = os.environ.get("REGWATCH_TEST_PG_BIN", "").strip()
    if configured:
        return Path(configured)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A throwaway PostgreSQL server (see the module docstring); ``stop()`` removes its data dir."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="regwatch-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root and there is no postgres user to run the server as"
                ) from None
            self.run_as = "postgres"
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def _run(self, *command: str) -> None:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command[:2])} failed: {done.stderr.strip() or done.stdout.strip()}"
            )

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")
        (self.data / "pg_hba.conf").write_text(
            f"local all all trust\nhost all {SUPERUSER} 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.data} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-o", options, "start"
        )
        self.admin(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'")
        return self

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement on the server's ``postgres`` database, outside a transaction."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def create_database(self, template: str = "template0", owner: str = SUPERUSER) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {template} OWNER {owner}")
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bin_dir = _bin_dir()
    message = ""
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        message = "no PostgreSQL server binaries (apt-get install postgresql, or make system-deps)"
    if message:
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert bin_dir is not None
    server = PostgresServer(bin_dir)
    try:
        server.start()
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
