"""Reading a Scrapy response's headers: one value as text, the declared charset."""

from __future__ import annotations

from scrapy.http import Response


def header(response: Response, name: str) -> str:
    """A response header's value as text ("" when absent)."""
    value = response.headers.get(name.encode("ascii"), b"") or b""
    return value.decode("latin-1").strip()


def charset(response: Response) -> str | None:
    """The charset of the Content-Type header, if any."""
    content_type = (response.headers.get(b"Content-Type", b"") or b"").decode("latin-1")
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None
