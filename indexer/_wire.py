"""The HTTP calls to a cluster, through either official client, behind one small interface.

The cluster backend builds its requests (mappings, bulk bodies, queries) once
and sends them with :meth:`Wire.request`. ``opensearch`` goes through the
``opensearch-py`` transport; ``elasticsearch`` through the transport of the
official ``elasticsearch`` client (8.x/9.x, ``elastic_transport``), which keeps
its connection pool, TLS and auth handling but not the client's product check
or compatibility headers: the flavour was already settled (asked of the
server, or forced with INDEX_FLAVOR), and plain JSON is what both engines speak.
Both raise :class:`WireError` with the HTTP status (None when there was no
answer) and the server's reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from regwatch.errors import ConfigError

FLAVORS = ("auto", "opensearch", "elasticsearch")
JSON_HEADERS = {"accept": "application/json", "content-type": "application/json"}
NDJSON_HEADERS = {"accept": "application/json", "content-type": "application/x-ndjson"}


class WireError(Exception):
    """A request that failed: ``status`` is the HTTP status, or None when the cluster did not answer."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}" if status is not None else reason)
        self.status = status
        self.reason = reason


class Wire(Protocol):
    flavor: str

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        ndjson: bool = False,
        timeout: float | None = None,
    ) -> Any: ...

    def close(self) -> None: ...


def _reason(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return f"{error.get('type', '')}: {error.get('reason', '')}".strip(": ")
        if error:
            return str(error)
    return fallback


class OpenSearchWire:
    flavor = "opensearch"

    def __init__(self, options: dict[str, Any]) -> None:
        import opensearchpy

        self._errors = opensearchpy.exceptions
        if not options.get("verify_certs", True):
            options = {**options, "ssl_show_warn": False}
        self.client = opensearchpy.OpenSearch(**options)

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        ndjson: bool = False,
        timeout: float | None = None,
    ) -> Any:
        try:
            return self.client.transport.perform_request(
                method,
                path,
                params=dict(params or {}),
                body=body,
                headers=NDJSON_HEADERS if ndjson else JSON_HEADERS,
                timeout=timeout,
            )
        except self._errors.TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            raise WireError(status, _reason(exc.info, str(exc.error or exc))) from None

    def close(self) -> None:
        self.client.close()


class ElasticsearchWire:
    flavor = "elasticsearch"

    def __init__(self, options: dict[str, Any]) -> None:
        try:
            import elasticsearch
        except ImportError:
            raise ConfigError(
                "INDEX_FLAVOR=elasticsearch needs the official client: pip install 'elasticsearch>=8.13,<10'"
            ) from None
        import elastic_transport

        self._errors = elastic_transport
        options = dict(options)
        options["request_timeout"] = options.pop("timeout")
        if "http_auth" in options:
            options["basic_auth"] = options.pop("http_auth")
        self.client = elasticsearch.Elasticsearch(**options)

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        ndjson: bool = False,
        timeout: float | None = None,
    ) -> Any:
        from urllib.parse import urlencode

        target = f"{path}?{urlencode({k: _param(v) for k, v in params.items()})}" if params else path
        try:
            meta, data = self.client.transport.perform_request(
                method,
                target,
                headers=NDJSON_HEADERS if ndjson else JSON_HEADERS,
                body=body.encode("utf-8") if isinstance(body, str) else body,
                request_timeout=timeout if timeout is not None else self.client._request_timeout,
            )
        except self._errors.TransportError as exc:
            raise WireError(None, f"{type(exc).__name__}: {exc.message}") from None
        if not 200 <= meta.status < 300:
            raise WireError(meta.status, _reason(data, str(data)))
        return data

    def close(self) -> None:
        self.client.close()


def _param(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def connect(flavor: str, url: str, settings: Mapping[str, Any]) -> Wire:
    """A wire of the given flavour, built from the INDEX_* settings."""
    options: dict[str, Any] = {
        "hosts": [url],
        "timeout": float(settings["INDEX_TIMEOUT"]),
        "max_retries": 0,  # the cluster backend retries, with backoff
        "verify_certs": bool(settings["INDEX_VERIFY_CERTS"]),
    }
    if settings["INDEX_CA_FILE"]:
        options["ca_certs"] = settings["INDEX_CA_FILE"]
    if settings["INDEX_API_KEY"]:
        options["api_key"] = settings["INDEX_API_KEY"]
    elif settings["INDEX_USER"]:
        options["http_auth"] = (settings["INDEX_USER"], settings["INDEX_PASSWORD"])
    if flavor == "elasticsearch":
        return ElasticsearchWire(options)
    return OpenSearchWire(options)
