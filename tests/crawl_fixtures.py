"""Helpers for the crawl tests: a real item pipeline writing JSON lines, and a tiny fixture site.

``JsonLinesPipeline`` is what a store pipeline would be, minus the store: after
the extraction pipeline, it appends each Article as one JSON line to the file named by the Scrapy setting
``REGWATCH_TEST_JSONL`` and counts it as ``new`` through the stats helper.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawlers import ExtractedArticle, FetchRecord, count
from regwatch.models import Article


class JsonLinesPipeline:
    """Append each Article to ``REGWATCH_TEST_JSONL`` (one JSON object a line)."""

    def __init__(self, path: str, stats: Any) -> None:
        self.path = Path(path)
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> JsonLinesPipeline:
        return cls(crawler.settings.get("REGWATCH_TEST_JSONL"), crawler.stats)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, FetchRecord):
            return item  # the fetch ledger's business, not an article
        assert isinstance(item, ExtractedArticle), (
            f"the extraction pipeline hands on ExtractedArticle or FetchRecord, got {type(item).__name__}"
        )
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(item.article.to_dict(), ensure_ascii=False) + "\n")
        count(self.stats, item.source_id, "new")
        return item


class CrashingPipeline:
    """A pipeline that raises for one source's items: its errors must not stop the other sources."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrashingPipeline:
        return cls(crawler.settings.get("REGWATCH_TEST_CRASH_SOURCE", ""))

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if item.source_id == self.source_id:
            raise RuntimeError(f"pipeline crash for {item.source_id}")
        return item


class RaisingSpiderMiddleware:
    """A spider middleware that raises on one source's callback output, as a bug in its spider would."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.source_id = crawler.settings.get("REGWATCH_TEST_RAISE_SOURCE", "")

    @classmethod
    def from_crawler(cls, crawler: Any) -> RaisingSpiderMiddleware:
        return cls(crawler)

    async def process_spider_output(self, response: Any, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for output in result:
            if self.crawler.spider.name == self.source_id:
                raise RuntimeError(f"spider bug for {self.source_id}")
            yield output


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
        self.server.request_headers.append((self.path, dict(self.headers.items())))
        fault = self.server.faults.get(self.path)
        if fault is not None:
            fault(self)
            return
        page = self.server.pages.get(self.path) or self.server.pages.get(self.path.split("?", 1)[0])
        if page is None:
            body = b"<html><head><title>Not found</title></head><body><p>Not found</p></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            content_type, body = page
            # A strong validator per body: an edited page gets a new ETag, an unchanged one answers 304.
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.server.etags and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            if self.server.etags:
                self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.requested: list[str] = []
        self.request_headers: list[tuple[str, dict[str, str]]] = []
        # path -> a function that answers the request itself (fault injection)
        self.faults: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.etags = False

    def set_page(self, path: str, content_type: str, body: str | bytes) -> None:
        """Serve (or replace) one page; ``{base}`` in the body becomes the base URL."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[path] = (content_type, raw.replace(b"{base}", self.base_url.encode()))


@contextlib.contextmanager
def serve_pages(pages: Mapping[str, tuple[str, str | bytes]]) -> Iterator[tuple[str, _Server]]:
    """Serve ``{path: (content_type, body)}`` on 127.0.0.1; bodies may use ``{base}`` for the base URL.

    Yields (base_url, server); ``server.requested`` lists the paths asked for.
    """
    server = _Server()
    base = server.base_url
    for path, (content_type, body) in pages.items():
        server.set_page(path, content_type, body)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
