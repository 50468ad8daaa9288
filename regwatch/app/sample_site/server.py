"""The HTTP server behind the bundled sample site.

Static files under ``site/`` are served with the content types real sources
send, ETag/Last-Modified validators and 304s, real 404 pages, plus two dynamic
bits: the GOV.UK-like ``/api/search.json`` and extensionless ``/government/news/<slug>``
URLs (stored on disk as ``<slug>.html``; their Content API items
``/api/content/government/news/<slug>`` as ``<slug>.json``; likewise ``*.atom`` is
stored as ``*.atom.xml``). Files hold ``{base_url}`` placeholders,
replaced at serve time so canonical URLs carry the real host and port.

An HTML page is sent with the charset its own ``<meta charset>`` declares. That
is how the deliberately mislabelled page (declared windows-1252, bytes UTF-8)
gets its wrong header without a special case here.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import html
import json
import logging
import posixpath
import re
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

logger = logging.getLogger(__name__)

SAMPLE_SITE_DIR = Path(__file__).resolve().parent / "site"
BASE_URL_PLACEHOLDER = b"{base_url}"
SEARCH_INDEX = "api/search-index.json"  # the documents /api/search.json searches
MAX_COUNT = 100

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
_CONTENT_TYPES = {
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".atom": "application/atom+xml",
}


def content_type_for(path: Path, body: bytes) -> str:
    """The Content-Type to send for a file: by extension, sniffing XML feeds and HTML charsets."""
    suffix = path.suffix.lower()
    if suffix == ".html":
        match = _META_CHARSET_RE.search(body[:2048])
        charset = match.group(1).decode("ascii").lower() if match else "utf-8"
        return f"text/html; charset={charset}"
    if suffix == ".xml":
        head = body[:1024]
        if b"<rss" in head:
            return "application/rss+xml"
        if b"<feed" in head:
            return "application/atom+xml"
        return "application/xml"
    return _CONTENT_TYPES.get(suffix, "application/octet-stream")


def search_documents(
    documents: list[dict[str, Any]], organisation: str | None, count: int, start: int
) -> dict[str, Any]:
    """GOV.UK search semantics: filter by organisation slug, newest first, then slice."""
    if organisation:
        documents = [
            d for d in documents if any(o.get("slug") == organisation for o in d.get("organisations", []))
        ]
    documents = sorted(documents, key=lambda d: d["public_timestamp"], reverse=True)
    return {"results": documents[start : start + count], "total": len(documents), "start": start}


def _not_found_page(path: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Page not found</title></head>\n<body><h1>Page not found</h1>\n"
        f"<p>There is no page at <code>{html.escape(path)}</code>. It may have been moved or deleted.</p>\n"
        '<p><a href="/">Go to the home page</a></p></body></html>\n'
    ).encode()


class SampleSiteHandler(BaseHTTPRequestHandler):
    """Serves ``server.root``; ``server.base_url`` replaces the placeholders."""

    server: _SampleSiteServer
    server_version = "regwatch-sample-site/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def _handle(self, send_body: bool) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        if path == "/api/search.json":
            self._search(split.query, send_body)
            return
        file = self._resolve(path)
        if file is None:
            self._send(HTTPStatus.NOT_FOUND, _not_found_page(path), "text/html; charset=utf-8", send_body)
            return
        if file.is_dir():  # a directory URL without its trailing slash
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", split.path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = file.read_bytes().replace(BASE_URL_PLACEHOLDER, self.server.base_url.encode("ascii"))
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        mtime = int(file.stat().st_mtime)
        headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True)}
        if self._not_modified(etag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self._send(HTTPStatus.OK, body, content_type_for(file, body), send_body, headers)

    def _resolve(self, path: str) -> Path | None:
        """Map a URL path to a file under the root, or None (404)."""
        normalised = posixpath.normpath(path)
        if ".." in normalised.split("/"):
            return None
        relative = normalised.lstrip("/")
        candidate = self.server.root / relative if relative not in ("", ".") else self.server.root
        if candidate.is_dir():
            if not path.endswith("/"):
                return candidate
            candidate = candidate / "index.html"
        elif not candidate.suffix and normalised.startswith("/government/news/"):
            candidate = candidate.with_name(candidate.name + ".html")
        elif not candidate.suffix and normalised.startswith("/api/content/"):
            candidate = candidate.with_name(candidate.name + ".json")  # a Content API item
        elif candidate.suffix == ".atom":  # stored as .atom.xml so package-data globs pick it up
            candidate = candidate.with_name(candidate.name + ".xml")
        if not candidate.is_file() or candidate.name.startswith("."):
            return None
        return candidate

    def _not_modified(self, etag: str, mtime: int) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:  # takes precedence over If-Modified-Since (RFC 9110)
            return etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")] or (
                if_none_match.strip() == "*"
            )
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            return mtime <= since.timestamp()
        return False

    def _search(self, query: str, send_body: bool) -> None:
        params = parse_qs(query)
        try:
            count = int(params.get("count", ["10"])[0])
            start = int(params.get("start", ["0"])[0])
            if count < 0 or start < 0:
                raise ValueError
        except ValueError:
            error = json.dumps({"error": "count and start must be non-negative integers"}).encode()
            self._send(HTTPStatus.BAD_REQUEST, error, "application/json", send_body)
            return
        organisation = params.get("filter_organisations", [None])[0]
        result = search_documents(self.server.documents(), organisation, min(count, MAX_COUNT), start)
        body = json.dumps(result, ensure_ascii=False, indent=1).encode("utf-8")
        self._send(HTTPStatus.OK, body, "application/json", send_body)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        send_body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class _SampleSiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path) -> None:
        super().__init__(address, SampleSiteHandler)
        self.root = root
        host, port = self.server_address[:2]
        host = str(host)
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        self.base_url = f"http://{host}:{port}"

    def documents(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads((self.root / SEARCH_INDEX).read_text(encoding="utf-8"))
        return data


@contextlib.contextmanager
def serve_sample_site(host: str = "127.0.0.1", port: int = 0, root: Path | None = None) -> Iterator[str]:
    """Serve the sample site in a daemon thread; yield its base URL (no trailing slash).

    ``port=0`` picks a free port. The server is shut down and its socket closed on exit.
    """
    server = _SampleSiteServer((host, port), root or SAMPLE_SITE_DIR)
    thread = threading.Thread(target=server.serve_forever, name="regwatch-sample-site", daemon=True)
    thread.start()
    logger.debug("sample site serving %s at %s", server.root, server.base_url)
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        logger.debug("sample site at %s stopped", server.base_url)
