"""Loading the one YAML config file: sources, watchlist, subscribers, settings.

With no file, built-in defaults apply: the source catalogue shipped in
``regwatch/data/sources.yaml``, the default watchlist shipped by ``nlp`` and one
subscriber who watches everything. Every validation error names the file, the
entry and the field, and what was expected.

Just over 500 lines because it holds every section's validation side by side,
each error naming the file, entry and field the same way; the sources' selector
schemas themselves live in :mod:`regwatch.sources`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from regwatch.errors import ConfigError
from regwatch.models import (
    CADENCES,
    EMPTY_DAY_ACTIONS,
    SOURCE_KINDS,
    SOURCE_TYPES,
    WEEKDAYS,
    SavedSearch,
    Source,
    Subscriber,
    parse_allowed_host,
)
from regwatch.settings import Settings
from regwatch.sources import parse_selectors, schedule_trigger_args

TOP_LEVEL_KEYS = {
    "sources",
    "watchlist",
    "watchlist_files",
    "subscribers",
    "settings",
    "include_default_sources",
}
SOURCE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass
class Config:
    """Everything a run needs besides the home dir."""

    sources: list[Source]
    subscribers: list[Subscriber]
    settings: Settings
    watchlist: list[dict[str, Any]] = field(default_factory=list)  # inline entries
    watchlist_files: list[Path] = field(default_factory=list)
    path: Path | None = None

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources) or "none"
        raise ConfigError(f"unknown source {source_id!r}; configured sources: {known}")


def read_yaml(path: Path) -> Any:
    """Read a YAML file, turning I/O and syntax problems into one-line ConfigErrors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}:{where} invalid YAML: {problem}") from None


def _require_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _require_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def parse_source(entry: Any, where: str) -> Source:
    data = dict(_require_mapping(entry, where))
    for key in ("id", "name", "kind", "url"):
        if data.get(key) is None or data.get(key) == "":
            raise ConfigError(f"{where}: missing required field {key!r}")
        if not isinstance(data[key], str):
            raise ConfigError(
                f"{where}: {key} must be a string, got {data[key]!r} (quote it: YAML reads on/off/yes/no as booleans)"
            )
    where = f"{where} (id {data['id']!r})"
    if not SOURCE_ID_RE.match(str(data["id"])):
        raise ConfigError(f"{where}: id must be lower-case letters, digits, '-' or '_'")
    if data["kind"] not in SOURCE_KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(SOURCE_KINDS)}, got {data['kind']!r}")
    if data.get("type", "news") not in SOURCE_TYPES:
        raise ConfigError(f"{where}: type must be one of {', '.join(SOURCE_TYPES)}, got {data['type']!r}")
    if not str(data["url"]).startswith(("http://", "https://")):
        raise ConfigError(f"{where}: url must start with http:// or https://, got {data['url']!r}")
    schedule = str(data.get("schedule", "every 1h"))
    try:  # read once, as the scheduler and `regwatch run` read it (regwatch.sources)
        schedule_trigger_args(schedule)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    try:  # the kind's schema (regwatch.sources): unknown or missing keys, CSS that does not parse
        selectors = parse_selectors(data["kind"], data.get("selectors") or {})
    except ValueError as exc:
        raise ConfigError(f"{where}: selectors: {exc}") from None
    if data.get("timezone"):
        try:
            ZoneInfo(str(data["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{where}: timezone {data['timezone']!r} is not an IANA zone such as Europe/London"
            ) from None
    known = {
        "id",
        "name",
        "kind",
        "url",
        "type",
        "jurisdiction",
        "schedule",
        "enabled",
        "selectors",
        "notes",
        "timezone",
        "allowed_hosts",
    }
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    data["allowed_hosts"] = list(_allowed_hosts(data.get("allowed_hosts"), f"{where}: allowed_hosts"))
    data["selectors"] = selectors
    data["enabled"] = bool(data.get("enabled", True))
    return Source.from_dict(data)


SEND_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
SUBSCRIBER_FIELDS = (
    "id",
    "name",
    "email",
    "timezone",
    "send_time",
    "cadence",
    "weekday",
    "entities",
    "keywords",
    "sources",
    "source_types",
    "jurisdictions",
    "min_relevance",
    "empty_day",
    "alerts",
    "alert_searches",
    "saved_searches",
)
SAVED_SEARCH_FIELDS = (
    "name",
    "query",
    "entity",
    "source",
    "source_types",
    "jurisdictions",
    "languages",
    "since",
    "until",
    "alert",
)
MAX_SAVED_SEARCH_NAME = 100
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _allowed_hosts(value: Any, where: str) -> tuple[str, ...]:
    """Allowed-host entries (a list, or a comma-separated string), each checked; ConfigError if one is bad."""
    items = value.split(",") if isinstance(value, str) else _require_list(value, where)
    entries = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{where}: expected host:port strings, got {item!r}")
        if not item.strip():
            continue
        try:
            parse_allowed_host(item)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        entries.append(item.strip())
    return tuple(entries)


def _string_list(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _require_list(data.get(key), f"{where}: {key}")
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {key} must be a list of non-empty strings, got {value!r}")
    return tuple(value.strip() for value in values)


def check_search_text(text: str, where: str) -> str:
    """A keyword, alert search or saved query in the search syntax, stripped; ConfigError if it is not one."""
    text = text.strip()
    if text.count('"') % 2 or not re.search(r"\w", text):
        raise ConfigError(f'{where}: {text!r} is not a search: use words, "a phrase" or prefix*')
    return text


def parse_saved_search(
    entry: Any, where: str, owner: str, search_id: str, source_ids: Collection[str] | None = None
) -> SavedSearch:
    """One saved search (a subscriber's ``saved_searches:`` entry, or a form on the desk).

    ``name`` is required, and a query or at least one filter: a search of everything
    would fill the digest. ``source_ids`` (the configured sources) checks ``source``.
    """
    data = dict(_require_mapping(entry, where))
    unknown = set(data) - set(SAVED_SEARCH_FIELDS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(SAVED_SEARCH_FIELDS)}"
        )
    for key in ("name", "query", "entity", "source", "since", "until"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ConfigError(f"{where}: {key} must be a string, got {data[key]!r} (quote it)")
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        raise ConfigError(f"{where}: a saved search needs a name")
    if len(name) > MAX_SAVED_SEARCH_NAME:
        raise ConfigError(f"{where}: the name is longer than {MAX_SAVED_SEARCH_NAME} characters")
    query = str(data.get("query") or "").strip()
    if query:
        query = check_search_text(query, f"{where}: query")
    source = str(data.get("source") or "").strip()
    if source and source_ids is not None and source not in source_ids:
        raise ConfigError(f"{where}: source: unknown source id {source!r}")
    source_types = tuple(t.lower() for t in _string_list(data, "source_types", where))
    bad = [t for t in source_types if t not in SOURCE_TYPES]
    if bad:
        raise ConfigError(
            f"{where}: source_types must be among {', '.join(SOURCE_TYPES)}, got {', '.join(bad)}"
        )
    dates = {}
    for key in ("since", "until"):
        value = str(data.get(key) or "").strip()
        if value and not DATE_RE.match(value):
            raise ConfigError(f"{where}: {key} must be a date like 2026-01-31, got {value!r}")
        dates[key] = value
    alert = data.get("alert", False)
    if not isinstance(alert, bool):
        raise ConfigError(f"{where}: alert must be true or false, got {alert!r}")
    search = SavedSearch(
        id=search_id,
        owner=owner,
        name=name,
        query=query,
        entity=str(data.get("entity") or "").strip(),
        source=source,
        source_types=source_types,
        jurisdictions=_string_list(data, "jurisdictions", where),
        languages=tuple(v.lower() for v in _string_list(data, "languages", where)),
        since=dates["since"],
        until=dates["until"],
        alert=alert,
    )
    if not (search.query or search.entity or search.source or search.source_types or search.jurisdictions):
        raise ConfigError(
            f"{where}: a saved search needs a query, an entity, a source, a type or a jurisdiction"
        )
    return search


def parse_subscriber(entry: Any, where: str, source_ids: Collection[str] | None = None) -> Subscriber:
    """One ``subscribers:`` entry; ``source_ids`` (the configured sources) checks ``sources``."""
    data = dict(_require_mapping(entry, where))
    for key in ("id", "email"):
        if not data.get(key):
            raise ConfigError(f"{where}: missing required field {key!r}")
    where = f"{where} (subscriber {data['id']!r})"
    unknown = set(data) - set(SUBSCRIBER_FIELDS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(SUBSCRIBER_FIELDS)}"
        )
    for key in ("id", "name", "email", "timezone", "send_time", "cadence", "weekday", "empty_day"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(
                f"{where}: {key} must be a string, got {data[key]!r} "
                "(quote it: YAML reads 07:00 as a number and on/off/yes/no as booleans)"
            )
    if "@" not in str(data["email"]):
        raise ConfigError(f"{where}: email {data['email']!r} is not an address")
    tz = str(data.get("timezone", "Europe/London"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: timezone {tz!r} is not an IANA zone such as Europe/London") from None
    send_time = str(data.get("send_time", "07:00"))
    if not SEND_TIME_RE.match(send_time):
        raise ConfigError(f"{where}: send_time must be HH:MM (24-hour), got {send_time!r}")
    cadence = str(data.get("cadence", "daily")).strip().lower()
    if cadence not in CADENCES:
        raise ConfigError(f"{where}: cadence must be one of {', '.join(CADENCES)}, got {cadence!r}")
    weekday = 0
    if cadence == "weekly":
        day = str(data.get("weekday") or "").strip().lower()[:3]
        if day not in WEEKDAYS:
            raise ConfigError(
                f"{where}: weekday must name the day a weekly digest goes out (mon..sun), "
                f"got {data.get('weekday')!r}"
            )
        weekday = WEEKDAYS.index(day)
    elif "weekday" in data:
        raise ConfigError(f"{where}: weekday only applies to cadence: weekly (cadence is {cadence!r})")
    keywords = _string_list(data, "keywords", where)
    alert_searches = _string_list(data, "alert_searches", where)
    for key, searches in (("keywords", keywords), ("alert_searches", alert_searches)):
        for keyword in searches:
            check_search_text(keyword, f"{where}: {key}")
    alerts = data.get("alerts", False)
    if not isinstance(alerts, bool):
        raise ConfigError(f"{where}: alerts must be true or false, got {alerts!r}")
    sources = _string_list(data, "sources", where)
    if source_ids is not None:
        missing = [s for s in sources if s not in source_ids]
        if missing:
            raise ConfigError(f"{where}: sources: unknown source id(s) {', '.join(missing)}")
    source_types = tuple(t.lower() for t in _string_list(data, "source_types", where))
    bad_types = [t for t in source_types if t not in SOURCE_TYPES]
    if bad_types:
        raise ConfigError(
            f"{where}: source_types must be among {', '.join(SOURCE_TYPES)}, got {', '.join(bad_types)}"
        )
    min_relevance = data.get("min_relevance", 0.0)
    if isinstance(min_relevance, bool) or not isinstance(min_relevance, int | float) or min_relevance < 0:
        raise ConfigError(f"{where}: min_relevance must be a number >= 0, got {min_relevance!r}")
    empty_day = str(data.get("empty_day", "skip")).strip().lower()
    if empty_day not in EMPTY_DAY_ACTIONS:
        raise ConfigError(
            f"{where}: empty_day must be one of {', '.join(EMPTY_DAY_ACTIONS)}, got {data['empty_day']!r}"
        )
    saved = []
    for n, item in enumerate(_require_list(data.get("saved_searches"), f"{where}: saved_searches")):
        saved.append(
            parse_saved_search(
                item, f"{where}: saved_searches[{n}]", str(data["id"]), f"config-{n + 1}", source_ids
            )
        )
    names = [search.name.casefold() for search in saved]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: saved_searches: two have the same name")
    return Subscriber(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        email=str(data["email"]),
        timezone=tz,
        send_time=send_time,
        entities=_string_list(data, "entities", where),
        sources=sources,
        cadence=cadence,
        weekday=weekday,
        keywords=keywords,
        source_types=source_types,
        jurisdictions=_string_list(data, "jurisdictions", where),
        min_relevance=float(min_relevance),
        empty_day=empty_day,
        alerts=alerts,
        alert_searches=alert_searches,
        saved_searches=tuple(replace(search, origin="config") for search in saved),
    )


def default_sources() -> list[Source]:
    """The built-in source catalogue."""
    text = resources.files("regwatch").joinpath("data/sources.yaml").read_text(encoding="utf-8")
    entries = yaml.safe_load(text) or []
    return [parse_source(e, f"built-in catalogue: sources[{i}]") for i, e in enumerate(entries)]


DEFAULT_SUBSCRIBER = Subscriber(id="analyst", name="Policy analyst", email="analyst@localhost")


def load_config(
    path: Path | None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    text_substitutions: Mapping[str, str] | None = None,
) -> Config:
    """Load and validate the config file at ``path`` (None: built-in defaults).

    ``text_substitutions`` replaces ``{name}`` placeholders in the raw text
    before parsing; the demo uses it for the sample site's address.
    """
    raw: Mapping[str, Any] = {}
    base_dir = Path.cwd()
    if path is not None:
        path = Path(path)
        base_dir = path.parent
        if text_substitutions:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
            for key, value in text_substitutions.items():
                text = text.replace("{" + key + "}", value)
            try:
                loaded = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
        else:
            loaded = read_yaml(path)
        raw = _require_mapping(loaded or {}, str(path))
        unknown = set(raw) - TOP_LEVEL_KEYS
        if unknown:
            raise ConfigError(
                f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
                f"expected {', '.join(sorted(TOP_LEVEL_KEYS))}"
            )
    origin = str(path) if path else "defaults"

    sources: list[Source] = []
    # No `sources:` means the catalogue; `include_default_sources` says so explicitly either way,
    # so `include_default_sources: false` with no sources yet means no sources at all.
    include_defaults = raw.get("include_default_sources")
    if include_defaults is None:
        include_defaults = "sources" not in raw
    elif not isinstance(include_defaults, bool):
        raise ConfigError(
            f"{origin}: include_default_sources must be true or false, got {include_defaults!r}"
        )
    if include_defaults:
        sources.extend(default_sources())
    for i, entry in enumerate(_require_list(raw.get("sources"), f"{origin}: sources")):
        sources.append(parse_source(entry, f"{origin}: sources[{i}]"))
    seen: set[str] = set()
    for source in sources:
        if source.id in seen:
            raise ConfigError(f"{origin}: source id {source.id!r} is declared twice")
        seen.add(source.id)

    if "subscribers" in raw:
        subscribers = [
            parse_subscriber(e, f"{origin}: subscribers[{i}]", source_ids=seen)
            for i, e in enumerate(_require_list(raw.get("subscribers"), f"{origin}: subscribers"))
        ]
        ids = [s.id for s in subscribers]
        twice = sorted({sid for sid in ids if ids.count(sid) > 1})
        if twice:
            raise ConfigError(f"{origin}: subscriber id {twice[0]!r} is declared twice")
    else:
        subscribers = [DEFAULT_SUBSCRIBER]

    watchlist = [
        dict(_require_mapping(e, f"{origin}: watchlist[{i}]"))
        for i, e in enumerate(_require_list(raw.get("watchlist"), f"{origin}: watchlist"))
    ]
    watchlist_files = [
        (base_dir / str(p)).resolve()
        for p in _require_list(raw.get("watchlist_files"), f"{origin}: watchlist_files")
    ]
    settings = Settings(
        config=_require_mapping(raw.get("settings") or {}, f"{origin}: settings"),
        env=env,
        overrides=overrides,
        config_origin=f"{origin}: settings",
    )
    _allowed_hosts(settings["CRAWL_ALLOWED_HOSTS"], "setting CRAWL_ALLOWED_HOSTS")
    return Config(
        sources=sources,
        subscribers=subscribers,
        settings=settings,
        watchlist=watchlist,
        watchlist_files=watchlist_files,
        path=path,
    )


def resolve_home(home: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Path:
    """The home dir: --home, else REGWATCH_HOME, else the per-user data dir."""
    env = os.environ if env is None else env
    if home:
        return Path(home).expanduser().resolve()
    if env.get("REGWATCH_HOME"):
        return Path(env["REGWATCH_HOME"]).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("regwatch"))
