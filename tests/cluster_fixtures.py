"""Fixtures for the cluster tests: the real OpenSearch node, a fresh alias per test, and a gate.

``make test`` starts a node (opensearch/run.py) and passes its URL as
``REGWATCH_TEST_INDEX_URL``. Without it the cluster tests skip with the reason;
under CI=true a missing node is a failure.

``Gate`` is a TCP forwarder on 127.0.0.1 in front of the node: closing it is a
node outage as the client sees it (connection refused at the same URL), without
stopping the node the other tests use.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from indexer import ClusterIndex, Store
from regwatch.settings import Settings

URL_VARIABLE = "REGWATCH_TEST_INDEX_URL"


@pytest.fixture(scope="session")
def cluster_url() -> str:
    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        message = (
            f"no OpenSearch node: run the suite with `make test` (it starts one), "
            f"or `make opensearch` and set {URL_VARIABLE}=http://127.0.0.1:9200"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url.rstrip("/")


def cluster_settings(url: str, alias: str, **more: Any) -> Settings:
    return Settings(
        env={},
        overrides={"INDEX_URL": url, "INDEX_NAME": alias, "INDEX_RETRY_BACKOFF": 0.0, **more},
    )


@pytest.fixture
def alias(cluster_url: str) -> Iterator[str]:
    """A fresh alias name; its index versions and template are deleted afterwards."""
    import opensearchpy

    name = f"rwtest-{uuid.uuid4().hex[:10]}"
    yield name
    client = opensearchpy.OpenSearch([cluster_url])
    try:
        client.indices.delete(index=f"{name}-*", ignore_unavailable=True)
        client.indices.delete_index_template(name=f"{name}-template", ignore=[404])
    finally:
        client.close()


def open_cluster(store: Store, url: str, alias: str, **more: Any) -> ClusterIndex:
    """The cluster behind ``alias``, with the store's configured sources."""
    return ClusterIndex.from_settings(cluster_settings(url, alias, **more), store, store.search.sources)


class Gate:
    """Forwards connections from 127.0.0.1:port to the node while open; refuses them while closed."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def gate(cluster_url: str) -> Iterator[Gate]:
    opened = Gate(cluster_url)
    opened.open()
    yield opened
    opened.close()
