"""What a source's ``selectors`` may say: one typed schema per kind, checked when the config loads.

A source record (:class:`~regwatch.models.Source`) is read by the generic
spider of its ``kind``; its ``selectors`` mapping is read into that kind's
schema, a frozen dataclass (the fundus way: an incomplete or mistyped record
is refused at load time, never silently ignored during a crawl):

- :class:`FeedSelectors` (``feed``): nothing of its own;
- :class:`ListingSelectors` (``listing``): CSS for ``link`` (required), ``item``,
  ``next``, ``title``, ``published``, ``summary``;
- :class:`SitemapSelectors` (``sitemap``): ``follow``, a substring picking child sitemaps;
- :class:`JsonApiSelectors` (``json_api``): dotted paths ``results``, ``title``,
  ``published`` (required), ``link`` or a ``link_template`` (one required),
  ``summary``, ``authors``, ``total``, ``start``; the paging parameters
  ``offset_param``/``size_param``; a ``content_api`` template;
- :class:`AutoSelectors` (``auto``): nothing required; ``feed`` and ``sitemap``,
  addresses to try before what the site declares, and ``section``, the path
  prefix its articles live under.

Every kind shares the extraction override (:class:`ExtractionOverride`):
``exclude`` (CSS of page parts that are not the article) and ``body`` (CSS of
the element holding it), and their dated versions for a redesign
(``body@2026-03-01``, the version valid from that day; the newest valid on the
fetch day is used, and it replaces the one before it whole).

An unknown key, a missing required key, a CSS selector that does not parse and
a template field that is not ``{dotted.path}``, ``{path|date}`` or
``{path|path}`` are errors naming the key and what is valid. The YAML form is
unchanged (``to_dict`` writes it back).

Adding a kind is one schema here (a subclass registered in
:data:`SELECTOR_SCHEMAS`) and one spider module in ``crawlers/_spiders/``.

A record's ``schedule`` is read here too (:func:`schedule_trigger_args`), once: the
config checks it when it loads, and the scheduler and `regwatch run` read it the
same way, so a schedule they would read otherwise than written is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, ClassVar, Self

# A URL template's field: ``{dotted.path}``, ``{path|date}`` or ``{path|path}`` (see crawlers._json_paths).
TEMPLATE_FIELD = re.compile(r"\{([A-Za-z0-9_.\-]+)(?:\|(date|path))?\}")
OVERRIDE_KEYS = ("exclude", "body")
_VERSIONED = re.compile(r"^(?P<key>[a-z_]+)@(?P<day>\d{4}-\d{2}-\d{2})$")
_EMPTY_PAGE = "<html><head></head><body></body></html>"


@dataclass(frozen=True)
class ExtractionOverride:
    """One version of a source's extraction override (empty strings: nothing overridden)."""

    valid_from: date | None = None  # None: the first version (unsuffixed keys)
    exclude: str = ""
    body: str = ""

    @property
    def label(self) -> str:
        return f"from {self.valid_from.isoformat()}" if self.valid_from else "first version"


@dataclass(frozen=True, kw_only=True)
class Selectors:
    """What every kind's selectors share: the extraction override and its dated versions.

    Subclasses add their kind's fields (strings; "" is unset) and say which are
    required (``REQUIRED``; ``ONE_OF``: groups of which one is), which are CSS
    (``CSS``) and which are URL templates (``TEMPLATES``). Building one checks it:
    ValueError names the key and what is expected.
    """

    KIND: ClassVar[str] = ""
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = ()
    CSS: ClassVar[tuple[str, ...]] = ()
    TEMPLATES: ClassVar[tuple[str, ...]] = ()

    overrides: tuple[ExtractionOverride, ...] = ()  # oldest first

    def __post_init__(self) -> None:
        for key in self.REQUIRED:
            if not getattr(self, key):
                raise ValueError(f"a {self.KIND} source needs {key}{_valid(type(self))}")
        for group in self.ONE_OF:
            if not any(getattr(self, key) for key in group):
                raise ValueError(f"a {self.KIND} source needs {' or '.join(group)}{_valid(type(self))}")
        for key in self.CSS:
            _check_css(key, getattr(self, key))
        for key in self.TEMPLATES:
            _check_template(key, getattr(self, key))
        for version in self.overrides:
            suffix = f"@{version.valid_from.isoformat()}" if version.valid_from else ""
            _check_plain_css(f"exclude{suffix}", version.exclude)
            _check_plain_css(f"body{suffix}", version.body)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys a record of this kind may have (dated override keys besides)."""
        return (*(f.name for f in fields(cls) if f.name != "overrides"), *OVERRIDE_KEYS)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        """The schema of a record's ``selectors`` mapping; ValueError names a bad key."""
        own: dict[str, str] = {}
        versions: dict[date | None, dict[str, str]] = {}
        names = set(cls.keys()) - set(OVERRIDE_KEYS)
        for raw_key, value in data.items():
            key = str(raw_key)
            text = _text(key, value)
            if key in OVERRIDE_KEYS:
                versions.setdefault(None, {})[key] = text
            elif key in names:
                own[key] = text
            elif "@" in key:
                day, name = _dated_key(key)
                versions.setdefault(day, {})[name] = text
            else:
                raise ValueError(f"unknown key {key!r} for a {cls.KIND} source{_valid(cls)}")
        ordered = sorted(versions.items(), key=lambda item: item[0] or date.min)
        return cls(overrides=tuple(ExtractionOverride(day, **keys) for day, keys in ordered), **own)

    def to_dict(self) -> dict[str, str]:
        """The YAML form: the keys set (not at their default), then the override versions."""
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "overrides" and getattr(self, f.name) != f.default
        }
        for version in self.overrides:
            suffix = f"@{version.valid_from.isoformat()}" if version.valid_from else ""
            for key in OVERRIDE_KEYS:
                if getattr(version, key):
                    data[key + suffix] = getattr(version, key)
        return data

    def override_on(self, day: date) -> ExtractionOverride:
        """The version of the extraction override valid on ``day`` (the fetch day)."""
        chosen = ExtractionOverride()
        for version in self.overrides:
            if version.valid_from is None or version.valid_from <= day:
                chosen = version
        return chosen


@dataclass(frozen=True, kw_only=True)
class FeedSelectors(Selectors):
    """An RSS or Atom feed: its entries link the articles; only the extraction override applies."""

    KIND = "feed"


@dataclass(frozen=True, kw_only=True)
class ListingSelectors(Selectors):
    """An HTML listing page read with Scrapy CSS selectors (``a::attr(href)``, ``h2::text``).

    With ``item``, one link is taken per item and ``title``/``published``/``summary``
    are read inside it; ``next`` is the next listing page's link.
    """

    KIND = "listing"
    REQUIRED = ("link",)
    CSS = ("link", "item", "next", "title", "published", "summary")

    link: str = ""
    item: str = ""
    next: str = ""
    title: str = ""
    published: str = "time::attr(datetime)"
    summary: str = ""


@dataclass(frozen=True, kw_only=True)
class SitemapSelectors(Selectors):
    """An XML sitemap or sitemap index; ``follow`` (a substring) picks the child sitemaps followed."""

    KIND = "sitemap"

    follow: str = ""


@dataclass(frozen=True, kw_only=True)
class JsonApiSelectors(Selectors):
    """A JSON search API: dotted paths into its answer, paging parameters, URL templates.

    ``link`` is each result's page URL; an API whose results carry none gets
    ``link_template`` instead. ``total`` and ``start`` (paths in the answer)
    drive paging with the query parameters ``offset_param``/``size_param``
    (GOV.UK's ``start``/``count`` by default). ``content_api`` reads each result
    from GOV.UK's Content API instead of its HTML page.
    """

    KIND = "json_api"
    REQUIRED = ("results", "title", "published")
    ONE_OF = (("link", "link_template"),)
    TEMPLATES = ("link_template", "content_api")

    results: str = ""
    title: str = ""
    published: str = ""
    link: str = ""
    link_template: str = ""
    summary: str = "description"
    authors: str = ""
    total: str = "total"
    start: str = "start"
    offset_param: str = "start"
    size_param: str = "count"
    content_api: str = ""


@dataclass(frozen=True, kw_only=True)
class AutoSelectors(Selectors):
    """A site followed by what it declares: regwatch discovers a feed, a sitemap or a listing pattern.

    Every key is optional. ``feed`` and ``sitemap`` are addresses to try first
    (known from elsewhere but not confirmed by the site): each is used only when
    it passes the test anything the site declares must pass (a feed with dated
    items; a sitemap listing the section's articles), else discovery goes on
    from the page. ``section`` is the path prefix the source's articles live
    under (``/news/``), which sitemap entries must start with; by default the
    path of the source's URL.
    """

    KIND = "auto"

    feed: str = ""
    sitemap: str = ""
    section: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("feed", "sitemap"):
            value = getattr(self, key)
            if value and not value.startswith(("http://", "https://")):
                raise ValueError(f"{key}: {value!r} must be an http:// or https:// address")
        if self.section and not self.section.startswith("/"):
            raise ValueError(f"section: {self.section!r} must be a path starting with / (e.g. /news/)")


_EVERY = re.compile(r"^every (\d+)\s*([mhd])$")
_EVERY_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
SCHEDULE_FORMS = (
    "'every N' and a unit m, h or d, N at least 1 ('every 30m', 'every 2h'), or 'cron' and five fields: "
    "minute hour day month day-of-week ('cron 30 6 * * 1-5')"
)


def schedule_trigger_args(schedule: str) -> tuple[str, dict[str, Any]]:
    """A source's ``schedule`` as APScheduler trigger arguments: ("interval", {...}) or ("cron", {...}).

    ``every N[m|h|d]`` is an interval; ``cron`` and five fields a cron schedule, read
    in SCHEDULE_TIMEZONE. ValueError for anything else, a field APScheduler would refuse
    included, saying which forms are valid.
    """
    text = schedule.strip()
    if match := _EVERY.match(text):
        if int(match.group(1)) < 1:
            raise ValueError(f"schedule must be {SCHEDULE_FORMS}; got {schedule!r}")
        return "interval", {_EVERY_UNITS[match.group(2)]: int(match.group(1))}
    head, _, rest = text.partition(" ")
    values = rest.split()
    if head != "cron" or len(values) != len(CRON_FIELDS):
        raise ValueError(f"schedule must be {SCHEDULE_FORMS}; got {schedule!r}")
    args = dict(zip(CRON_FIELDS, values, strict=True))
    from apscheduler.triggers.cron import CronTrigger  # the scheduler's own reading of the fields

    try:
        CronTrigger(timezone="UTC", **args)
    except ValueError as exc:
        raise ValueError(f"schedule {schedule!r}: {exc} ({' '.join(CRON_FIELDS)})") from None
    return "cron", args


# kind -> its schema; a kind's spider lives in crawlers/_spiders/<kind>.py
SELECTOR_SCHEMAS: dict[str, type[Selectors]] = {
    schema.KIND: schema
    for schema in (FeedSelectors, ListingSelectors, JsonApiSelectors, SitemapSelectors, AutoSelectors)
}


def parse_selectors(kind: str, data: Mapping[str, Any]) -> Selectors:
    """A record's ``selectors`` mapping read into its kind's schema; ValueError says what is wrong."""
    schema = SELECTOR_SCHEMAS.get(kind)
    if schema is None:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(SELECTOR_SCHEMAS)})")
    if not isinstance(data, Mapping):
        raise ValueError(f"selectors must be a mapping of keys to strings, got {type(data).__name__}")
    return schema.parse(data)


def _valid(schema: type[Selectors]) -> str:
    return f"; valid keys: {', '.join(schema.keys())} (and exclude@YYYY-MM-DD, body@YYYY-MM-DD)"


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{key} must be a string, got {value!r}")
    return str(value)


def _dated_key(key: str) -> tuple[date, str]:
    """``body@2026-03-01`` as (that day, "body"); ValueError saying how to write one."""
    match = _VERSIONED.match(key)
    if match is None or match.group("key") not in OVERRIDE_KEYS:
        raise ValueError(
            f"selector {key!r}: a dated override is one of {', '.join(OVERRIDE_KEYS)} "
            "followed by @YYYY-MM-DD, e.g. exclude@2026-03-01"
        )
    try:
        return date.fromisoformat(match.group("day")), match.group("key")
    except ValueError:
        raise ValueError(f"selector {key!r}: {match.group('day')} is not a date") from None


def _check_css(key: str, query: str) -> None:
    """A Scrapy CSS selector (``::attr()``/``::text`` allowed) that parses and runs on a page."""
    if not query:
        return
    from parsel import Selector

    try:
        Selector(text=_EMPTY_PAGE).css(query)
    except Exception as exc:  # cssselect's and lxml's errors alike: any of them means unusable
        raise ValueError(f"{key}: {query!r} is not a CSS selector ({_first_line(exc)})") from None


def _check_plain_css(key: str, query: str) -> None:
    """A plain CSS selector, as the extractor applies ``exclude`` and ``body`` (no pseudo-elements)."""
    if not query:
        return
    import lxml.html

    try:
        lxml.html.fromstring(_EMPTY_PAGE).cssselect(query)
    except Exception as exc:  # cssselect's and lxml's errors alike: any of them means unusable
        raise ValueError(f"{key}: {query!r} is not a CSS selector ({_first_line(exc)})") from None


def _check_template(key: str, template: str) -> None:
    leftover = TEMPLATE_FIELD.sub("", template)
    if "{" in leftover or "}" in leftover:
        raise ValueError(
            f"{key}: {template!r} has a field that is not {{dotted.path}}, {{path|date}} or {{path|path}}"
        )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
