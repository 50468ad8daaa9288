"""The watchlist: canonical entities, their aliases and what disambiguates them.

Entries come from the default file shipped in ``nlp/data/watchlist.yaml``, then
the user's ``watchlist_files``, then the config's inline ``watchlist`` entries;
a later entry with an existing id replaces the earlier one. Every validation
error names the file, the entry and the field.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from regwatch.errors import ConfigError
from regwatch.models import Entity

logger = logging.getLogger(__name__)

ENTITY_TYPES: tuple[str, ...] = (
    "regulator",
    "platform",
    "product",
    "company",
    "person",
    "party",
    "government_body",
    "law",
)
ENTRY_FIELDS = frozenset(
    {
        "id",
        "name",
        "type",
        "aliases",
        "wikidata",
        "roles",
        "context",
        "case_sensitive",
        "ambiguous",
        "blockers",
        "jurisdiction",
        "cues",
        "anti_context",
        "coreference",
        "domains",
    }
)
ROLE_FIELDS = frozenset({"title", "from", "until"})
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
JURISDICTION_RE = re.compile(r"^[A-Z]{2,3}$")
DOMAIN_RE = re.compile(r"^[a-z][a-z0-9_]*$")
WIKIDATA_RE = re.compile(r"^Q[1-9][0-9]*$")
DEFAULT_WATCHLIST_ORIGIN = "built-in watchlist (nlp/data/watchlist.yaml)"

# A blocker is a phrase ("Malcolm X") or a spaCy token pattern ([{"ORTH": "X"}, {"ORTH": "-"}]).
Blocker = str | tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Role:
    """An office a person holds; ``until`` None means they still hold it."""

    title: str
    start: date | None = None
    until: date | None = None

    def held_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.until is None or day < self.until)


@dataclass(frozen=True)
class WatchlistEntry:
    """One watchlist entry: the shared :class:`Entity` plus what only tagging needs."""

    entity: Entity
    roles: tuple[Role, ...] = ()
    context: tuple[str, ...] = ()
    case_sensitive: frozenset[str] = frozenset()
    ambiguous: frozenset[str] = frozenset()
    blockers: tuple[Blocker, ...] = ()
    jurisdiction: str = ""
    cues: tuple[Blocker, ...] = ()
    anti_context: tuple[str, ...] = ()
    coreference: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.entity.id

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """The name and every alias, without duplicates, name first."""
        return tuple(dict.fromkeys((self.entity.name, *self.entity.aliases)))

    def context_terms(self) -> tuple[str, ...]:
        """Context words, plus role titles (a "Technology Secretary" nearby speaks for the holder)."""
        return tuple(dict.fromkeys((*self.context, *(role.title for role in self.roles))))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able), used for the watchlist digest and by the components."""
        data = self.entity.to_dict()
        data["roles"] = [
            {
                "title": r.title,
                "from": r.start.isoformat() if r.start else None,
                "until": r.until.isoformat() if r.until else None,
            }
            for r in self.roles
        ]
        data["context"] = list(self.context)
        data["case_sensitive"] = sorted(self.case_sensitive)
        data["ambiguous"] = sorted(self.ambiguous)
        data["blockers"] = [b if isinstance(b, str) else [dict(t) for t in b] for b in self.blockers]
        data["jurisdiction"] = self.jurisdiction
        data["cues"] = [c if isinstance(c, str) else [dict(t) for t in c] for c in self.cues]
        data["anti_context"] = list(self.anti_context)
        data["coreference"] = list(self.coreference)
        data["domains"] = list(self.domains)
        return data


@dataclass
class Watchlist:
    """The merged, validated watchlist."""

    entries: list[WatchlistEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_id = {e.id: e for e in self.entries}
        self._lookup: dict[str, Entity] = {}
        for entry in self.entries:
            for key in (entry.id, *entry.surface_forms):
                self._lookup.setdefault(key.casefold(), entry.entity)

    @property
    def entities(self) -> list[Entity]:
        return [e.entity for e in self.entries]

    @property
    def by_id(self) -> dict[str, Entity]:
        return {e.id: e.entity for e in self.entries}

    def entry(self, entity_id: str) -> WatchlistEntry:
        return self._by_id[entity_id]

    def find(self, name_or_id_or_alias: str) -> Entity | None:
        """The entity with this id, canonical name or alias (case-insensitive), or None."""
        return self._lookup.get(name_or_id_or_alias.strip().casefold())

    def holder(self, title: str, on: date) -> Entity | None:
        """Who held the role ``title`` (case-insensitive) on ``on``, if the watchlist knows."""
        wanted = title.casefold()
        for entry in self.entries:
            if any(r.title.casefold() == wanted and r.held_on(on) for r in entry.roles):
                return entry.entity
        return None

    @property
    def digest(self) -> str:
        """SHA-256 of the merged entries: changes whenever tagging could change."""
        payload = json.dumps([e.to_dict() for e in self.entries], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[WatchlistEntry]:
        return iter(self.entries)


# --- validation ---------------------------------------------------------------


def _strings(value: Any, where: str, name: str) -> list[str]:
    """A list of non-empty strings (a bare string is taken as a one-item list)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: field {name!r} must be a list of strings, got {type(value).__name__}")
    out: list[str] = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ConfigError(f"{where}: field {name!r}[{i}] must be a string, got {type(item).__name__}")
        text = " ".join(str(item).split())
        if not text:
            raise ConfigError(f"{where}: field {name!r}[{i}] is empty")
        out.append(text)
    return out


def _date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where} must be a date YYYY-MM-DD or null, got {value!r}") from None


def _roles(value: Any, where: str) -> tuple[Role, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{where}: field 'roles' must be a list of {{title, from, until}} mappings")
    roles = []
    for i, item in enumerate(value):
        at = f"{where}: field 'roles'[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{at} must be a mapping with title, from, until")
        unknown = set(item) - ROLE_FIELDS
        if unknown:
            raise ConfigError(f"{at}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        title = " ".join(str(item.get("title") or "").split())
        if not title:
            raise ConfigError(f"{at}: 'title' is required")
        start, until = _date(item.get("from"), f"{at}.from"), _date(item.get("until"), f"{at}.until")
        if start and until and until < start:
            raise ConfigError(f"{at}: 'until' ({until}) is before 'from' ({start})")
        roles.append(Role(title=title, start=start, until=until))
    return tuple(roles)


def _blockers(value: Any, where: str, name: str = "blockers") -> tuple[Blocker, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{where}: field {name!r} must be a list of phrases or token patterns")
    out: list[Blocker] = []
    for i, item in enumerate(value):
        at = f"{where}: field {name!r}[{i}]"
        if isinstance(item, str) and item.strip():
            out.append(" ".join(item.split()))
        elif isinstance(item, list) and item and all(isinstance(t, Mapping) and t for t in item):
            out.append(tuple(dict(t) for t in item))
        else:
            raise ConfigError(f"{at} must be a phrase or a non-empty list of token mappings, got {item!r}")
    return tuple(out)


def parse_entry(data: Any, where: str) -> WatchlistEntry:
    """Validate one raw entry; ``where`` names the file and the entry for errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping with id, name, type, got {type(data).__name__}")
    for key in ("id", "name", "type"):
        if data.get(key) in (None, ""):
            raise ConfigError(f"{where}: missing required field {key!r}")
    entity_id = str(data["id"])
    where = f"{where} (id {entity_id!r})"
    unknown = set(data) - ENTRY_FIELDS
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
            f"expected {', '.join(sorted(ENTRY_FIELDS))}"
        )
    if not ID_RE.match(entity_id):
        raise ConfigError(f"{where}: field 'id' must be lower-case letters, digits or '_', got {entity_id!r}")
    name = " ".join(str(data["name"]).split())
    if data["type"] not in ENTITY_TYPES:
        raise ConfigError(
            f"{where}: field 'type' must be one of {', '.join(ENTITY_TYPES)}, got {data['type']!r}"
        )
    if "aliases" in data and data["aliases"] is None:
        raise ConfigError(f"{where}: field 'aliases' is empty; remove it or list the aliases")
    aliases = [a for a in dict.fromkeys(_strings(data.get("aliases"), where, "aliases")) if a != name]
    wikidata = str(data.get("wikidata") or "")
    if wikidata and not WIKIDATA_RE.match(wikidata):
        raise ConfigError(f"{where}: field 'wikidata' must be a Q-id such as Q918, got {wikidata!r}")
    forms = {name, *aliases}
    flags: dict[str, frozenset[str]] = {}
    for key in ("case_sensitive", "ambiguous"):
        listed = _strings(data.get(key), where, key)
        strays = [a for a in listed if a not in forms]
        if strays:
            raise ConfigError(
                f"{where}: field {key!r} lists {strays[0]!r}, which is not the name or an alias"
            )
        flags[key] = frozenset(listed)
    jurisdiction = str(data.get("jurisdiction") or "").strip()
    if jurisdiction and not JURISDICTION_RE.match(jurisdiction):
        raise ConfigError(
            f"{where}: field 'jurisdiction' must be a code such as UK, EU or IE, got {jurisdiction!r}"
        )
    domains = tuple(dict.fromkeys(_strings(data.get("domains"), where, "domains")))
    for domain in domains:
        if not DOMAIN_RE.match(domain):
            raise ConfigError(
                f"{where}: field 'domains' lists {domain!r}; use lower-case words joined by '_' "
                f"such as online_safety"
            )
    return WatchlistEntry(
        entity=Entity(
            id=entity_id, name=name, type=str(data["type"]), aliases=tuple(aliases), wikidata=wikidata
        ),
        roles=_roles(data.get("roles"), where),
        context=tuple(dict.fromkeys(_strings(data.get("context"), where, "context"))),
        case_sensitive=flags["case_sensitive"],
        ambiguous=flags["ambiguous"],
        blockers=_blockers(data.get("blockers"), where),
        jurisdiction=jurisdiction,
        cues=_blockers(data.get("cues"), where, "cues"),
        anti_context=tuple(dict.fromkeys(_strings(data.get("anti_context"), where, "anti_context"))),
        coreference=tuple(dict.fromkeys(_strings(data.get("coreference"), where, "coreference"))),
        domains=domains,
    )


def _parse_entries(raw: Any, origin: str, label: str) -> list[WatchlistEntry]:
    """Entries of one source; ids must be unique within it."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{origin}: expected a list of watchlist entries, got {type(raw).__name__}")
    entries: list[WatchlistEntry] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        entry = parse_entry(item, f"{origin}: {label}[{i}]")
        if entry.id in seen:
            raise ConfigError(
                f"{origin}: {label}[{i}]: field 'id' {entry.id!r} is declared twice "
                f"(first at {label}[{seen[entry.id]}])"
            )
        seen[entry.id] = i
        entries.append(entry)
    return entries


def _read_file(path: Path) -> list[WatchlistEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: watchlist file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read watchlist file ({exc.strerror})") from None
    return _parse_text(text, str(path))


def _parse_text(text: str, origin: str) -> list[WatchlistEntry]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{origin}:{where} invalid YAML: {problem}") from None
    if isinstance(raw, Mapping):  # also accept a mapping with a `watchlist:` key
        unknown = set(raw) - {"watchlist"}
        if unknown:
            raise ConfigError(f"{origin}: expected a list of entries or a 'watchlist:' key")
        raw = raw.get("watchlist")
    return _parse_entries(raw, origin, "watchlist")


def default_entries() -> list[WatchlistEntry]:
    """The entries of the watchlist shipped with regwatch."""
    text = resources.files("nlp").joinpath("data/watchlist.yaml").read_text(encoding="utf-8")
    return _parse_text(text, DEFAULT_WATCHLIST_ORIGIN)


def _check_aliases(entries: Iterable[WatchlistEntry], origins: Mapping[str, str]) -> None:
    """No surface form may name two entities: the linker could not tell them apart."""
    owner: dict[str, str] = {}
    for entry in entries:
        for form in entry.surface_forms:
            key = form.casefold()
            other = owner.setdefault(key, entry.id)
            if other != entry.id:
                raise ConfigError(
                    f"{origins[entry.id]} (id {entry.id!r}): field 'aliases': {form!r} already names "
                    f"entity {other!r} ({origins[other]})"
                )


def load_watchlist(
    files: Sequence[Path] = (),
    inline: Sequence[Mapping[str, Any]] = (),
    include_default: bool = True,
    *,
    inline_origin: str = "config",
) -> Watchlist:
    """Load, validate and merge the watchlist.

    Order: the default watchlist (if ``include_default``), then each of
    ``files``, then ``inline`` entries (the config's ``watchlist:`` list, named
    ``inline_origin`` in errors). An entry whose id already exists replaces it
    in place; an id twice in one source is an error.
    """
    merged: dict[str, WatchlistEntry] = {}
    origins: dict[str, str] = {}
    sources: list[tuple[str, list[WatchlistEntry]]] = []
    if include_default:
        sources.append((DEFAULT_WATCHLIST_ORIGIN, default_entries()))
    for path in files:
        sources.append((str(path), _read_file(Path(path))))
    sources.append((inline_origin, _parse_entries(list(inline), inline_origin, "watchlist")))
    for origin, entries in sources:
        for entry in entries:
            if entry.id in merged:
                logger.info("watchlist: %s overrides entity %r from %s", origin, entry.id, origins[entry.id])
            merged[entry.id] = entry
            origins[entry.id] = origin
    _check_aliases(merged.values(), origins)
    watchlist = Watchlist(list(merged.values()))
    if not watchlist.entries:
        logger.warning("the watchlist is empty: articles will be tagged with unwatched entities only")
    return watchlist
