"""Start and stop a local PostgreSQL server for development, demos and the tests.

    python3 postgresql/run.py start            # initdb once, start on 127.0.0.1, create the database, print its URL
    python3 postgresql/run.py stop             # fast shutdown, wait until it is gone
    python3 postgresql/run.py url              # the URL of the running server
    python3 postgresql/run.py with -- CMD...   # CMD with REGWATCH_STORE_URL set; stops the server after
                                               # it only if this call started it

The server is Debian's ``postgresql`` package (``/usr/lib/postgresql/<major>/bin``, the
newest major found; ``REGWATCH_PG_BIN`` names another bin dir). Its cluster lives under
``--dir`` (``var/postgresql`` by default) and survives restarts; it listens on 127.0.0.1
only (the next free port when the one asked for is busy), trusts the ``regwatch`` role
from there, and is meant for one machine's development and demos, not for production
(the README's deployment guide says what a real server needs). initdb refuses to run as
root, so under root the server runs as the ``postgres`` user the package creates. Only
the standard library is used: this runs before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import socket
import subprocess
import sys
from pathlib import Path

SUPERUSER = "regwatch"
DATABASE = "regwatch"
SERVER_OPTIONS = ("-c", "max_connections=200")
# What a throwaway server (the tests') adds: no durability, since its data dies with it.
THROWAWAY_OPTIONS = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


class ServerError(Exception):
    """The server could not be set up, started or stopped; the message says why."""


def bin_dir() -> Path:
    """The PostgreSQL server binaries: ``REGWATCH_PG_BIN``, else the newest Debian package's."""
    configured = os.environ.get("REGWATCH_PG_BIN", "").strip()
    if configured:
        return Path(configured)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise ServerError(
            "no PostgreSQL server binaries: apt-get install postgresql (or make system-deps), "
            "or set REGWATCH_PG_BIN to the directory holding initdb and pg_ctl"
        )
    return Path(found[-1]).parent


def free_port(wanted: int) -> int:
    """``wanted`` if nothing listens on it on 127.0.0.1, else the next free port after it."""
    for port in range(wanted, min(wanted + 100, 65536)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ServerError(f"no free port from {wanted} to {wanted + 99} on 127.0.0.1")


class Server:
    """One local PostgreSQL cluster whose files live under ``root`` (data in ``root/data``)."""

    def __init__(self, root: Path, binaries: Path | None = None, options: tuple[str, ...] = ()) -> None:
        self.root = root.resolve()
        self.binaries = binaries
        self.options = (*SERVER_OPTIONS, *options)
        self.data = self.root / "data"
        self.log_file = self.root / "server.log"
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise ServerError(
                    "running as root and there is no postgres user to run the server as"
                ) from None
            self.run_as = "postgres"

    # -- state -------------------------------------------------------------------

    def port(self) -> int | None:
        """The port of our running server, or None (``pg_ctl status`` and its pid file decide)."""
        if not (self.data / "postmaster.pid").exists():
            return None
        if self._pg_ctl("status", check=False).returncode != 0:
            return None
        lines = (self.data / "postmaster.pid").read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def url(self, database: str = DATABASE, user: str = SUPERUSER) -> str | None:
        port = self.port()
        return None if port is None else f"postgresql://{user}@127.0.0.1:{port}/{database}"

    # -- start and stop ----------------------------------------------------------

    def init(self) -> None:
        """initdb once: the ``regwatch`` superuser, trusted from 127.0.0.1 and the local socket."""
        if (self.data / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            owner = pwd.getpwnam(self.run_as)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            reach = subprocess.run(
                ["runuser", "-u", self.run_as, "--", "test", "-w", str(self.root)], check=False
            )
            if reach.returncode != 0:
                raise ServerError(
                    f"the {self.run_as} user cannot reach {self.root}: a directory above it is not "
                    "searchable by others (chmod o+x it, or give --dir a path under one that is)"
                )
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")
        hba = f"local all all trust\nhost all {SUPERUSER} 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        self._write_as_owner(self.data / "pg_hba.conf", hba)

    def start(self, port: int, database: str | None = DATABASE) -> str:
        """Start the server (or find it running), create ``database`` if missing, return its URL."""
        running = self.port()
        if running is None:
            self.init()
            chosen = free_port(port)
            options = " ".join(
                (
                    "-c listen_addresses=127.0.0.1",
                    f"-p {chosen}",
                    f"-c unix_socket_directories={self.data}",
                    *self.options,
                )
            )
            self._pg_ctl("-l", str(self.log_file), "-w", "-t", "60", "-o", options, "start")
            running = chosen
        if database:
            self.create_database(database, if_missing=True)
        return f"postgresql://{SUPERUSER}@127.0.0.1:{running}/{database or 'postgres'}"

    def stop(self, mode: str = "fast") -> bool:
        """Shut the server down (``fast``: sessions end, data is kept); False when none was running."""
        if self.port() is None:
            return False
        self._pg_ctl("-m", mode, "-w", "stop", check=False)
        return True

    # -- statements --------------------------------------------------------------

    def admin(self, sql: str) -> str:
        """Run one statement on the ``postgres`` database as the superuser (psql, no transaction)."""
        port = self.port()
        if port is None:
            raise ServerError("the server is not running")
        done = subprocess.run(
            [str(self._binaries() / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
             "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, "-d", "postgres", "-c", sql],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise ServerError(f"{sql.split()[0]} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def create_database(self, name: str, template: str = "template0", if_missing: bool = False) -> str:
        if if_missing and self.admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1":
            return name
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- helpers -----------------------------------------------------------------

    def _binaries(self) -> Path:
        if self.binaries is None:
            self.binaries = bin_dir()
        return self.binaries

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run("pg_ctl", "-D", str(self.data), *args, check=check)

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self._binaries() / program), *args]
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=self.root)
        if check and done.returncode != 0:
            detail = done.stderr.strip() or done.stdout.strip()
            raise ServerError(f"{program} {' '.join(args[-1:])} failed: {detail} (log: {self.log_file})")
        return done

    def _write_as_owner(self, path: Path, text: str) -> None:
        path.write_text(text)
        if self.run_as:
            owner = pwd.getpwnam(self.run_as)
            os.chown(path, owner.pw_uid, owner.pw_gid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("var/postgresql"), help="the cluster's files")
    parser.add_argument("--port", type=int, default=5432, help="port wanted (the next free one if busy)")
    parser.add_argument("--database", default=DATABASE, help="database to create and name in the URL")
    parser.add_argument("action", choices=["start", "stop", "url", "with"])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="with: the command to run")
    args = parser.parse_args(argv)
    try:
        server = Server(args.dir)
        if args.action == "start":
            print(server.start(args.port, args.database))
        elif args.action == "stop":
            print("stopped" if server.stop() else "no server was running")
        elif args.action == "url":
            url = server.url(args.database)
            if url is None:
                print("no server is running (python3 postgresql/run.py start)", file=sys.stderr)
                return 1
            print(url)
        else:
            return _with(server, args)
    except ServerError as exc:
        print(f"postgresql: {exc}", file=sys.stderr)
        return 1
    return 0


def _with(server: Server, args: argparse.Namespace) -> int:
    """Run a command with ``REGWATCH_STORE_URL`` set; stop the server after only if this call started it."""
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise ServerError("with: give the command to run after --")
    started_here = server.port() is None
    env = dict(os.environ, REGWATCH_STORE_URL=server.start(args.port, args.database))
    try:
        return subprocess.call(command, env=env)
    finally:
        if started_here:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
