"""Dotted paths into JSON answers and URL templates filled from them (the ``json_api`` kind).

A JSON source's selectors name fields by dotted path (``results``,
``value.title``, ``organisations.0.slug``); an API whose results carry no page
URL builds one from a template (``https://site/detail/{value.dateMade|date}/{value.uin}``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from regwatch.sources import TEMPLATE_FIELD

from ._text import parse_date


def int_or_zero(value: str | None) -> int:
    """A non-negative int from a query parameter; 0 when it is missing or not a number."""
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def get_path(data: Any, path: str) -> Any:
    """Follow a dotted path (``results``, ``meta.total``, ``organisations.0.slug``) into JSON data."""
    current = data
    for part in path.split(".") if path else []:
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            current = current[index] if -len(current) <= index < len(current) else None
        else:
            return None
    return current


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _template_value(text: str, template_filter: str | None) -> str:
    """One filled template field, URL-quoted; "" when the filter refuses the value."""
    if template_filter == "date":
        day = _ISO_DAY.match(text)
        parsed = None if day else parse_date(text)
        return day.group(0) if day else (parsed.date().isoformat() if parsed else "")
    if template_filter == "path":
        # A path on the site itself ("/government/news/x"): slashes kept; a full URL is refused.
        return quote(text, safe="/") if text.startswith("/") and not text.startswith("//") else ""
    return quote(text, safe="")


def fill_link_template(template: str, result: Any) -> str | None:
    """A URL built from one API result: ``{dotted.path}`` fields, URL-quoted.

    ``{path|date}`` keeps the ``YYYY-MM-DD`` day of a timestamp as the publisher
    wrote it (no timezone shift); ``{path|path}`` takes a site path
    (``/government/news/x``) with its slashes, and refuses anything else (a full
    URL to another site). None when a field is missing, empty or refused, so a
    result that cannot be linked is skipped, not turned into a wrong URL.
    """
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = get_path(result, match.group(1))
        text = "" if value is None or isinstance(value, Mapping | list) else str(value).strip()
        filled = _template_value(text, match.group(2)) if text else ""
        missing = missing or not filled
        return filled

    url = TEMPLATE_FIELD.sub(fill, template)
    return None if missing else url
