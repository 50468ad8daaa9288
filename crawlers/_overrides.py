"""Per-source extraction overrides: data in the source record, with dated versions for redesigns.

A site the generic extractor gets wrong gets a small override in its record's
``selectors`` (never an ``if domain ==`` in the shared extractor):

- ``exclude``: CSS of page parts that are not the article (dropped before extraction);
- ``body``: CSS of the element that holds the article (extraction reads only it;
  when it matches nothing the whole page is read and a warning says so).

A redesign gets a new *version* of the override, as fundus keeps ``V1``/``V2``
parsers per publisher: keys suffixed ``@YYYY-MM-DD`` form the version valid from
that day (``exclude@2026-03-01``). The version used is the newest one valid on
the day the page is fetched (a redesigned site serves its old articles in the
new markup too); unsuffixed keys are the first version. A version replaces the
one before it whole: a key it does not set is not inherited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

OVERRIDE_KEYS = ("exclude", "body")
_VERSIONED = re.compile(r"^(?P<key>[a-z_]+)@(?P<day>\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class ExtractionOverride:
    """One version of a source's extraction override (empty strings: nothing overridden)."""

    valid_from: date | None = None  # None: the first version (unsuffixed keys)
    exclude: str = ""
    body: str = ""

    @property
    def label(self) -> str:
        return f"from {self.valid_from.isoformat()}" if self.valid_from else "first version"


def override_versions(selectors: Mapping[str, str]) -> list[ExtractionOverride]:
    """Every version in a source's selectors, oldest first; ValueError names a malformed key."""
    versions: dict[date | None, dict[str, str]] = {}
    for name, value in selectors.items():
        if name in OVERRIDE_KEYS:
            versions.setdefault(None, {})[name] = value
            continue
        if "@" not in name:
            continue  # an index selector (link, item, next…)
        match = _VERSIONED.match(name)
        if match is None or match.group("key") not in OVERRIDE_KEYS:
            raise ValueError(
                f"selector {name!r}: a dated override is one of {', '.join(OVERRIDE_KEYS)} "
                "followed by @YYYY-MM-DD, e.g. exclude@2026-03-01"
            )
        try:
            day = date.fromisoformat(match.group("day"))
        except ValueError:
            raise ValueError(f"selector {name!r}: {match.group('day')} is not a date") from None
        versions.setdefault(day, {})[match.group("key")] = value
    ordered = sorted(versions.items(), key=lambda item: item[0] or date.min)
    return [ExtractionOverride(valid_from=day, **keys) for day, keys in ordered]


def extraction_override(selectors: Mapping[str, str], on: date) -> ExtractionOverride:
    """The version of a source's override valid on ``on`` (the fetch day)."""
    chosen = ExtractionOverride()
    for version in override_versions(selectors):
        if version.valid_from is None or version.valid_from <= on:
            chosen = version
    return chosen
