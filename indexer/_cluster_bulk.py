"""Bulk requests to the search cluster: actions cut into chunks by bytes and count, each posted with retries.

An action is one article's NDJSON lines (an index or a delete) with its id and
the version the store sent. :func:`post_chunk` only talks HTTP and returns what
the cluster answered (:class:`Posted`); ``ClusterIndex.sync`` records that in
the store's ledger, so nothing counts as sent before the cluster acknowledged it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from regwatch.errors import IndexBackendError
from regwatch.private import redact_url

from ._wire import Wire, WireError

log = logging.getLogger("indexer._cluster")  # the same logger as the rest of a sync (ClusterIndex.sync)

RETRY_STATUSES = frozenset({429, 502, 503, 504})

Action = tuple[str, int, bytes]  # article id, version sent (-1: a deletion), NDJSON lines


@dataclass
class Posted:
    """What the cluster answered to one chunk."""

    acked: list[tuple[str, int]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[tuple[str, int, str]] = field(default_factory=list)
    requests: int = 0
    error: IndexBackendError | None = None


def ndjson(data: dict[str, Any]) -> bytes:
    """One line of a bulk body."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def chunks(actions: Iterable[Action], bulk_bytes: int, bulk_docs: int) -> Iterator[list[Action]]:
    """``actions`` in chunks of at most ``bulk_docs`` and, unless one alone is larger, ``bulk_bytes``."""
    chunk: list[Action] = []
    size = 0
    for action in actions:
        if chunk and (size + len(action[2]) > bulk_bytes or len(chunk) >= bulk_docs):
            yield chunk
            chunk, size = [], 0
        chunk.append(action)
        size += len(action[2])
    if chunk:
        yield chunk


def post_chunk(wire: Wire, url: str, chunk: list[Action], *, retries: int, backoff: float) -> Posted:
    """Send one chunk, retrying what the cluster could not take yet (429, 5xx, no connection).

    ``url`` is the cluster's, credentials masked, for messages. Runs in the sync's
    sender thread: it only talks HTTP; the caller records the outcome in the ledger.
    ``error`` is set when retries ran out (what was not acknowledged then stays pending).
    """
    posted = Posted()
    todo = chunk
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        posted.requests += 1
        body = b"".join(line for *_, line in todo).decode("utf-8")
        try:
            response = wire.request("POST", "/_bulk", {"refresh": "false"}, body, ndjson=True)
        except WireError as exc:
            if exc.status is not None and exc.status not in RETRY_STATUSES and exc.status < 500:
                posted.error = IndexBackendError(redact_url(f"search cluster {url}: bulk refused ({exc})"))
                return posted
            last = redact_url(str(exc))
            log.warning("Search cluster %s: bulk attempt %d failed (%s)", url, attempt + 1, last)
            continue
        retry: list[Action] = []
        for action, item in zip(todo, response["items"], strict=True):
            article_id, version, _ = action
            ((op, result),) = item.items()
            status = int(result.get("status", 0))
            if op == "delete" and (status < 300 or status == 404):
                posted.deleted.append(article_id)
            elif status < 300:
                posted.acked.append((article_id, version))
            elif status in RETRY_STATUSES or status >= 500:
                retry.append(action)
                last = f"HTTP {status}: {_reason(result)}"
            else:
                posted.failed.append((article_id, version, f"HTTP {status}: {_reason(result)}"))
                log.warning("Search cluster %s refused article %s: %s", url, article_id, posted.failed[-1][2])
        if not retry:
            return posted
        todo = retry
    posted.error = IndexBackendError(
        f"search cluster {url}: {len(todo)} document(s) not acknowledged after "
        f"{retries + 1} attempt(s) ({last}); they stay pending for the next sync"
    )
    return posted


def _reason(result: dict[str, Any]) -> str:
    error = result.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', '')}: {error.get('reason', '')}".strip(": ")
    return str(error or "no reason given")
