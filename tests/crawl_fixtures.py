"""Helpers for the crawl tests: a real item pipeline writing JSON lines, and a tiny fixture site.

``JsonLinesPipeline`` is what a store pipeline would be, minus the store: it
appends each Article as one JSON line to the file named by the Scrapy setting
``REGWATCH_TEST_JSONL`` and counts it as ``new`` through the stats helper.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawlers import count
from regwatch.models import Article


class JsonLinesPipeline:
    """Append each Article to ``REGWATCH_TEST_JSONL`` (one JSON object a line)."""

    def __init__(self, path: str, stats: Any) -> None:
        self.path = Path(path)
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> JsonLinesPipeline:
        return cls(crawler.settings.get("REGWATCH_TEST_JSONL"), crawler.stats)

    def process_item(self, item: Article, spider: Any = None) -> Article:
        assert isinstance(item, Article), f"spiders must yield Article, got {type(item).__name__}"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
        count(self.stats, item.source_id, "new")
        return item


class CrashingPipeline:
    """A pipeline that raises for one source's items: its errors must not stop the other sources."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrashingPipeline:
        return cls(crawler.settings.get("REGWATCH_TEST_CRASH_SOURCE", ""))

    def process_item(self, item: Article, spider: Any = None) -> Article:
        if item.source_id == self.source_id:
            raise RuntimeError(f"pipeline crash for {item.source_id}")
        return item


def read_jsonl(path: Path) -> list[Article]:
    if not path.exists():
        return []
    return [Article.from_dict(json.loads(line)) for line in path.read_text("utf-8").splitlines() if line]


def jsonl_pipelines() -> dict[str, int]:
    return {"crawl_fixtures.JsonLinesPipeline": 800}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self.server.requested.append(self.path)
        page = self.server.pages.get(self.path)
        if page is None:
            body = b"<html><head><title>Not found</title></head><body><p>Not found</p></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            content_type, body = page
            self.send_response(200)
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.requested: list[str] = []


@contextlib.contextmanager
def serve_pages(pages: Mapping[str, tuple[str, str | bytes]]) -> Iterator[tuple[str, _Server]]:
    """Serve ``{path: (content_type, body)}`` on 127.0.0.1; bodies may use ``{base}`` for the base URL.

    Yields (base_url, server); ``server.requested`` lists the paths asked for.
    """
    server = _Server()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    for path, (content_type, body) in pages.items():
        raw = body.encode("utf-8") if isinstance(body, str) else body
        server.pages[path] = (content_type, raw.replace(b"{base}", base.encode()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
