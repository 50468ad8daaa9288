"""Domain models shared by every stage.

Each stage talks to the next only through these types: crawlers yield
:class:`Article`, nlp fills :attr:`Article.entities` with :class:`TaggedEntity`,
indexer stores and searches articles, digests reads them back for a
:class:`Subscriber`. They are plain dataclasses with ``to_dict``/``from_dict``
so they cross process boundaries (the crawl subprocess) as JSON. A crawl's
outcome is :class:`CrawlStats` (its counters, :data:`COUNTERS`, and its
:class:`CrawlFailure` values), and what source health carries between runs is
:class:`SourceHealthState`. :class:`DomainPacer` (and its :class:`DomainTurn`) is the
seam between the crawl and a store that paces a fleet of crawl processes per domain.

Longer than most modules on purpose: it is the one vocabulary the stages share,
and splitting it would make each stage import from several places.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import Field, asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self

from regwatch.errors import ConfigError, ErrorClass, error_class_of
from regwatch.sources import SELECTOR_SCHEMAS, Selectors, parse_selectors, schedule_trigger_args

SourceKind = Literal["feed", "listing", "json_api", "sitemap", "auto"]
SourceType = Literal["news", "regulator", "government", "parliament", "court"]
SOURCE_KINDS: tuple[str, ...] = tuple(SELECTOR_SCHEMAS)  # feed, listing, json_api, sitemap, auto
SOURCE_TYPES: tuple[str, ...] = ("news", "regulator", "government", "parliament", "court")
EntityType = str  # watchlist types (regulator, platform, person, law...) or spaCy labels


DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443}


def parse_allowed_host(entry: str) -> tuple[str, int | None]:
    """One allowed-host entry as (lower-case host, port); port None means the default ports only.

    Accepted: ``host:port`` (``127.0.0.1:8123``, ``[::1]:8123``), an origin
    (``http://127.0.0.1:8123``, ``https://intranet.example``: its port or the
    scheme's default), or a bare ``host`` (``intranet.example``, ``::1``), which
    allows ports 80 and 443 only: a local service on another port (a search
    cluster on 9200) needs its own entry. ValueError for anything else.
    """
    text = entry.strip()
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme.lower() not in DEFAULT_PORTS:
            raise ValueError(f"{entry!r}: only http:// and https:// origins can be allowed")
        if rest.rstrip("/").count("/") or any(c in rest for c in "?#@"):
            raise ValueError(f"{entry!r}: give an origin (scheme://host:port), not a URL with a path")
        host, port = parse_allowed_host(rest.rstrip("/"))
        return host, DEFAULT_PORTS[scheme.lower()] if port is None else port
    if text.startswith("["):
        host, closing, tail = text[1:].partition("]")
        if not closing or (tail and not tail.startswith(":")):
            raise ValueError(f"{entry!r}: an IPv6 host with a port is written [address]:port")
        has_port, port_text = bool(tail), tail[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        has_port = True
    else:
        host, has_port, port_text = text, False, ""  # a name, an IPv4 or a bare IPv6 address
    host = host.strip().lower().rstrip(".")
    if not host or any(c.isspace() or c in "/[]@?#," for c in host):
        raise ValueError(f"{entry!r}: expected host, host:port or http(s)://host:port")
    if not has_port:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
    return host, int(port_text)


def article_id_for(canonical_url: str) -> str:
    """Stable article id: the first 16 hex digits of SHA-1 of the canonical URL."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()[:16]


def content_hash(*parts: str | None) -> str:
    """Hash of the text that makes an article's content (title, body...)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def parse_datetime(value: str | datetime | None) -> datetime | None:
    """Parse an ISO-8601 string to an aware UTC datetime (naive is taken as UTC)."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Record:
    """``to_dict``/``from_dict`` for flat dataclasses; unknown keys in ``from_dict`` are ignored."""

    if TYPE_CHECKING:  # every subclass is a dataclass: this tells the type checker so
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Source(_Record):
    """One place regwatch collects from, declared as data in the config.

    ``selectors`` is the schema of its kind (:mod:`regwatch.sources`), checked
    when the record is built: ``from_dict`` reads the YAML mapping into it, and a
    record built without one gets its kind's defaults (or a ConfigError when the
    kind requires keys). ``schedule`` is checked then too (``schedule_trigger_args``).
    """

    id: str
    name: str
    kind: SourceKind
    url: str
    type: SourceType = "news"
    jurisdiction: str = ""
    schedule: str = "every 1h"
    enabled: bool = True
    selectors: Selectors = field(default_factory=Selectors)
    notes: str = ""
    # The publisher's IANA zone: a page that shows only a day was published at midnight there.
    # Empty: the jurisdiction's (see ``local_timezone``).
    timezone: str = ""
    # Hosts this source's requests may reach although they are private or loopback addresses
    # (``host:port``, ``host`` for ports 80/443 only, or ``http://host:port``; see parse_allowed_host).
    allowed_hosts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        schema = SELECTOR_SCHEMAS.get(self.kind)
        if schema is None:
            raise ConfigError(
                f"source {self.id!r}: unknown kind {self.kind!r} (expected one of {', '.join(SELECTOR_SCHEMAS)})"
            )
        if type(self.selectors) is Selectors:  # none given: the kind's defaults
            object.__setattr__(self, "selectors", _selectors_of(self.id, self.kind, {}))
        elif not isinstance(self.selectors, schema):
            raise ConfigError(
                f"source {self.id!r}: a {self.kind} source takes {schema.__name__}, "
                f"not {type(self.selectors).__name__}"
            )
        try:  # as the scheduler and `regwatch run` will read it
            schedule_trigger_args(self.schedule)
        except ValueError as exc:
            raise ConfigError(f"source {self.id!r}: {exc}") from None

    @property
    def local_timezone(self) -> str:
        """The source's zone, else its jurisdiction's main one, else "" (UTC)."""
        return self.timezone or JURISDICTION_TIMEZONES.get(self.jurisdiction.upper(), "")

    def to_dict(self) -> dict[str, Any]:
        """The record as the YAML and the crawl job write it (``selectors`` as its mapping)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["selectors"] = self.selectors.to_dict()
        data["allowed_hosts"] = list(self.allowed_hosts)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """A record from its mapping (unknown top-level keys ignored); ConfigError for bad selectors."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        selectors = values.get("selectors")
        if selectors is None or isinstance(selectors, Mapping):
            values["selectors"] = _selectors_of(
                str(values.get("id", "")), str(values.get("kind", "")), selectors or {}
            )
        return cls(**values)


def _selectors_of(source_id: str, kind: str, data: Mapping[str, Any]) -> Selectors:
    try:
        return parse_selectors(kind, data)
    except ValueError as exc:
        raise ConfigError(f"source {source_id!r}: selectors: {exc}") from None


# The main zone of each jurisdiction the catalogue covers (a country spanning several zones
# gets its capital's; set a source's ``timezone`` where that is wrong).
JURISDICTION_TIMEZONES = {
    "UK": "Europe/London",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "EU": "Europe/Brussels",
    "US": "America/New_York",
    "AU": "Australia/Sydney",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
}


@dataclass(frozen=True)
class Entity:
    """A canonical entity on the watchlist."""

    id: str
    name: str
    type: EntityType
    aliases: tuple[str, ...] = ()
    wikidata: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return data


@dataclass
class TaggedEntity(_Record):
    """An entity found in one article.

    ``entity_id`` is the watchlist id for watched entities and ``None`` for
    other named entities kept for discovery.
    """

    name: str
    type: EntityType
    mentions: list[str] = field(default_factory=list)
    entity_id: str | None = None
    count: int = 0
    first_position: int = -1
    in_title: bool = False
    salience: float = 0.0

    @property
    def watched(self) -> bool:
        return self.entity_id is not None


@dataclass
class Quote(_Record):
    """A direct quote in an article and who said it."""

    text: str
    speaker: str  # as written ("Ofcom", "Farage") or the canonical name when linked
    speaker_entity_id: str | None = None  # watchlist id when the speaker is a watched entity
    position: int = -1  # char offset in title + "\n\n" + body


ACTION_TYPES: tuple[str, ...] = ("investigation", "fine", "ban", "consultation", "guidance", "court_action")


@dataclass
class Action(_Record):
    """A regulatory action found in an article: actor → action → target (e.g. Ofcom → investigation → X)."""

    actor: str
    action: str  # one of ACTION_TYPES
    target: str = ""
    actor_entity_id: str | None = None
    target_entity_id: str | None = None
    sentence: str = ""


@dataclass
class Article:
    """One extracted article, keyed by its canonical URL."""

    url: str  # canonical URL: the identity of the article
    source_id: str
    title: str
    body: str
    fetch_url: str = ""  # the URL it was actually fetched from
    summary: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    authors: list[str] = field(default_factory=list)
    language: str = ""
    section: str = ""
    tags: list[str] = field(default_factory=list)
    fetched_at: datetime = field(default_factory=utcnow)
    entities: list[TaggedEntity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    # The story: the id of the first stored article telling the same story
    # (wire copies, syndication); set by the store, "" before it is stored.
    story_id: str = ""

    @property
    def id(self) -> str:
        return article_id_for(self.url)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.summary, self.body)

    def watched_entities(self) -> list[TaggedEntity]:
        return [e for e in self.entities if e.watched]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("published", "updated", "fetched_at"):
            data[key] = _iso(getattr(self, key))
        data["id"] = self.id
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("published", "updated", "fetched_at"):
            if key in kwargs:
                kwargs[key] = parse_datetime(kwargs[key])
        if kwargs.get("fetched_at") is None:
            kwargs.pop("fetched_at", None)
        kwargs["entities"] = [
            e if isinstance(e, TaggedEntity) else TaggedEntity.from_dict(e)
            for e in kwargs.get("entities") or []
        ]
        kwargs["quotes"] = [
            q if isinstance(q, Quote) else Quote.from_dict(q) for q in kwargs.get("quotes") or []
        ]
        kwargs["actions"] = [
            a if isinstance(a, Action) else Action.from_dict(a) for a in kwargs.get("actions") or []
        ]
        return cls(**kwargs)


CADENCES: tuple[str, ...] = ("daily", "weekdays", "weekly")
EMPTY_DAY_ACTIONS: tuple[str, ...] = ("skip", "notice")  # nothing new: send nothing, or a short notice
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SavedSearch:
    """A search an analyst saved on the desk (or declared in the config): a section of their digest.

    The fields are the desk's search parameters (the CLI's options): ``query`` in the
    search syntax, ``entity`` (a watched entity's id, name or alias, or another
    entity's name), ``source`` (an id), ``source_types``, ``jurisdictions`` and
    ``languages`` (any of), ``since``/``until`` (YYYY-MM-DD, inclusive). ``owner`` is
    the analyst's id, which is also the id of their subscription. With ``alert``, a
    new match is an immediate alert too. ``origin`` is "store" (made on the desk) or
    "config" (declared under a subscriber in the YAML: read-only on the desk).
    """

    id: str
    owner: str
    name: str
    query: str = ""
    entity: str = ""
    source: str = ""
    source_types: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    alert: bool = False
    origin: str = "store"
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("source_types", "jurisdictions", "languages"):
            data[key] = list(data[key])
        data["created_at"] = _iso(self.created_at)
        return data


@dataclass(frozen=True)
class Subscriber:
    """A policy analyst who receives digests.

    An article qualifies when it mentions one of ``entities`` (empty: any
    watched entity) or matches one of ``keywords`` (search-style: words ANDed,
    ``"a phrase"``, ``prefix*``), comes from the subscriber's ``sources``,
    ``source_types`` and ``jurisdictions`` (each empty: all), and scores at
    least ``min_relevance``.
    """

    id: str
    name: str
    email: str
    timezone: str = "Europe/London"
    send_time: str = "07:00"
    entities: tuple[str, ...] = ()  # canonical names or ids; empty = every watched entity
    sources: tuple[str, ...] = ()  # source ids; empty = all
    cadence: str = "daily"  # one of CADENCES
    weekday: int = 0  # the send day of a weekly cadence, 0 = Monday
    keywords: tuple[str, ...] = ()
    source_types: tuple[str, ...] = ()  # SOURCE_TYPES; empty = all
    jurisdictions: tuple[str, ...] = ()  # e.g. UK, EU; matched case-insensitively; empty = all
    min_relevance: float = 0.0
    empty_day: str = "skip"  # one of EMPTY_DAY_ACTIONS
    alerts: bool = False  # immediate alert: a watched entity with a detected regulatory action
    alert_searches: tuple[str, ...] = ()  # immediate alert: a regulator/government statement matching one
    # Searches saved by the analyst whose id this is: a digest section each, an alert when chosen.
    saved_searches: tuple[SavedSearch, ...] = ()


@dataclass
class Digest:
    """A rendered digest (or alert) for one subscriber and one period (a local date)."""

    subscriber_id: str
    period: date
    subject: str
    message_id: str
    message: bytes  # the RFC 5322 message, multipart/alternative
    article_ids: list[str] = field(default_factory=list)
    # The end of the first-seen window it covers: it holds what qualified among the articles
    # first seen up to here, and the subscriber's next digest starts after it.
    watermark: datetime | None = None


ROLES: tuple[str, ...] = ("analyst", "ops")  # search, save and subscribe | the ops console


@dataclass(frozen=True)
class Account:
    """A user of the web desk, as the store keeps it.

    ``id`` is the login name (and the id of the analyst's subscription). ``password_hash``
    is an argon2 hash ("" for an account that signs in only through a trusted proxy);
    ``token_hash`` the SHA-256 of the account's API token ("" for none).
    """

    id: str
    name: str
    password_hash: str = ""
    roles: tuple[str, ...] = ("analyst",)
    token_hash: str = ""
    created_at: datetime | None = None
    last_login: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """What may be shown: never the hashes."""
        return {
            "id": self.id,
            "name": self.name,
            "roles": list(self.roles),
            "password": bool(self.password_hash),
            "api_token": bool(self.token_hash),
            "created_at": _iso(self.created_at),
            "last_login": _iso(self.last_login),
        }


# The ledgers of delivery, as the store keeps them and digests reads and writes them.

DIGEST_STATUSES: tuple[str, ...] = ("pending", "delivered", "failed")
# sending: recorded before the attempt; pending: a transient failure, retried; sent; failed: for good.
ALERT_STATUSES: tuple[str, ...] = ("sending", "pending", "sent", "failed")


@dataclass
class DigestRecord:
    """The digest ledger's row of one subscriber's digest for one period.

    ``status`` is one of DIGEST_STATUSES; "pending" with no ``error`` means "sending"
    (recorded before the attempt, nothing after). ``attempts`` counts recorded send
    outcomes: delivered, failed, or pending with an error.
    """

    subscriber_id: str
    period: date
    message_id: str
    status: str
    watermark: datetime | None = None
    location: str = ""
    error: str = ""
    article_ids: list[str] = field(default_factory=list)
    attempts: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    delivered_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "subscriber_id": self.subscriber_id,
            "period": self.period.isoformat(),
            "message_id": self.message_id,
            "status": self.status,
            "watermark": _iso(self.watermark),
            "location": self.location,
            "error": self.error,
            "article_ids": list(self.article_ids),
            "attempts": self.attempts,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "delivered_at": _iso(self.delivered_at),
        }


@dataclass
class AlertRecord:
    """The alert ledger's row of one article alerted (or being alerted) to one subscriber."""

    subscriber_id: str
    article_id: str
    message_id: str
    status: str  # one of ALERT_STATUSES
    error: str = ""
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "updated_at": _iso(self.updated_at)}


# --- crawl outcomes and source health ---------------------------------------------

MAX_FAILURES_KEPT = 20  # a run keeps the first failures of a source as values; ``errors`` counts them all
MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class CrawlFailure:
    """One thing that went wrong in a crawl of a source, as a value.

    ``error_class`` is one of ``regwatch.errors.SOURCE_ERROR_CLASSES`` (anything
    else becomes ``"other"``), ``url`` the page or index that failed ("" when the
    whole crawl did), ``reason`` what happened, and ``status`` the HTTP status when
    the server answered with one. It crosses the crawl's process boundary and the
    store as a mapping; :attr:`message` is its one-line text for people.
    """

    error_class: ErrorClass
    url: str
    reason: str
    status: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_class", error_class_of(self.error_class))
        if len(self.reason) > MAX_REASON_CHARS:
            object.__setattr__(self, "reason", self.reason[: MAX_REASON_CHARS - 1] + "…")

    @property
    def message(self) -> str:
        """``"dns https://…: cannot resolve host"``: the class, the URL and the reason on one line."""
        return (
            f"{self.error_class} {self.url}: {self.reason}"
            if self.url
            else f"{self.error_class}: {self.reason}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CrawlFailure:
        status = data.get("status")
        return cls(
            error_class=error_class_of(str(data.get("error_class", ""))),
            url=str(data.get("url", "")),
            reason=str(data.get("reason", "")),
            status=int(status) if status is not None else None,
        )


def _counter() -> Any:
    """A :class:`CrawlStats` counter: summed in the run summary, kept per run, shown by `regwatch sources`."""
    return field(default=0, metadata={"counter": True})


@dataclass
class CrawlStats:
    """What one crawl of one source did; summed up for the run summary.

    The counters are the fields made with ``_counter()`` (:data:`COUNTERS`): the
    spiders and item pipelines count them in Scrapy's stats, the run summary sums
    them and the store keeps them per run, all from this one declaration.
    """

    source_id: str
    pages_fetched: int = _counter()  # article pages that answered 2xx (other statuses count as errors)
    not_modified: int = _counter()  # article pages that answered 304 to a conditional GET
    new: int = _counter()
    updated: int = _counter()
    duplicate: int = _counter()
    errors: int = _counter()  # every failure, also those beyond the MAX_FAILURES_KEPT kept in ``failures``
    items_found: int = _counter()  # entries the index (feed, listing, API) listed, followed or not
    too_large: int = (
        _counter()
    )  # responses dropped by the size limit (CRAWL_MAX_BYTES), also counted as errors
    too_old: int = (
        _counter()
    )  # index entries skipped unfetched: dated before the look-back (CRAWL_LOOKBACK_DAYS)
    index_not_modified: int = _counter()  # index pages that answered 304 to a conditional GET: nothing new
    robots_blocked: int = _counter()  # article pages robots.txt forbids: skipped, not an error
    index_latency_ms: int | None = None  # download time of the first index page
    failures: list[CrawlFailure] = field(default_factory=list)  # the first MAX_FAILURES_KEPT, in order
    index_failure: CrawlFailure | None = None  # the index itself failed: a hard failure
    # An ``auto`` source's discovery in this run (a Discovery's dict), {} when it followed what it knew.
    discovery: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The mapping the crawl report and ``--json`` carry.

        ``error_messages`` and ``index_error`` are the failures' one-line
        :attr:`CrawlFailure.message` texts, for readers of the JSON; ``from_dict``
        reads the values (``failures``, ``index_failure``), never those texts.
        """
        data: dict[str, Any] = {name: getattr(self, name) for name in ("source_id", *COUNTERS)}
        data["index_latency_ms"] = self.index_latency_ms
        data["failures"] = [failure.to_dict() for failure in self.failures]
        data["index_failure"] = self.index_failure.to_dict() if self.index_failure else None
        data["error_messages"] = [failure.message for failure in self.failures]
        data["index_error"] = self.index_failure.message if self.index_failure else ""
        data["discovery"] = dict(self.discovery)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CrawlStats:
        latency = data.get("index_latency_ms")
        index_failure = data.get("index_failure")
        return cls(
            source_id=str(data["source_id"]),
            index_latency_ms=int(latency) if latency is not None else None,
            failures=[CrawlFailure.from_dict(f) for f in data.get("failures") or []],
            index_failure=CrawlFailure.from_dict(index_failure) if index_failure else None,
            discovery=dict(data.get("discovery") or {}),
            **{name: int(data.get(name) or 0) for name in COUNTERS},
        )


COUNTERS: tuple[str, ...] = tuple(f.name for f in fields(CrawlStats) if f.metadata.get("counter"))


# The start of the reason of a source ops turned off by hand (``regwatch.app.pipeline.set_source_enabled``).
TURNED_OFF_BY_HAND = "turned off on the desk by"


@dataclass(frozen=True)
class SourceHealthState:
    """What source health carries from one run of a source to the next.

    ``crawlers.next_health`` computes the next one from this and a run's
    :class:`CrawlStats`; the store's ``source_states`` keeps it.
    """

    source_id: str
    failure_score: float = 0.0  # weighted hard failures since the last success
    disabled_at: datetime | None = None  # set when the score reached CRAWL_DISABLE_SCORE
    disabled_reason: str = ""
    latency_ms: int | None = None  # the last index latency
    items_found: int = 0  # what the index listed last time it was read
    avg_items: float | None = None  # moving average of items listed per successful run
    runs: int = 0  # successful runs in that average
    low_volume: bool = False

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def turned_off_by_hand(self) -> bool:
        """Ops turned it off (the desk's ops console), not the failure score: a success keeps it off."""
        return self.disabled and self.disabled_reason.startswith(TURNED_OFF_BY_HAND)


DISCOVERY_METHODS: tuple[str, ...] = ("feed", "sitemap", "listing")


@dataclass
class Discovery:
    """How an ``auto`` source is followed, as its discovery decided, and why.

    ``method`` is one of DISCOVERY_METHODS, or "" when nothing worth following
    was found (``rejected`` says what was tried). ``address`` is the feed, the
    sitemap or the listing page read; ``pattern`` the learned link pattern of a
    listing (its ``path`` regex, ``shape`` and ``container``); ``section`` the
    path prefix entries were kept under. ``source_url`` and ``hints`` are what
    the source's record said when it was discovered: when they change, it is
    discovered again. ``items`` are the first entries found (title, published,
    url), for a person to judge.
    """

    method: str
    address: str = ""
    reason: str = ""
    title: str = ""  # what the site calls itself: the page's <title>, else the feed's
    source_url: str = ""
    section: str = "/"
    pattern: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    items: list[dict[str, str]] = field(default_factory=list)
    discovered_at: datetime | None = None

    @property
    def found(self) -> bool:
        return self.method in DISCOVERY_METHODS

    def describe(self) -> str:
        """One line: ``feed http://…/rss.xml (declared by …)``, or why nothing was found."""
        if not self.found:
            return f"nothing to follow: {self.reason}" if self.reason else "nothing to follow"
        what = self.pattern.get("shape", "") if self.method == "listing" else ""
        head = f"{self.method} {self.address}" + (f" links {what}" if what else "")
        return f"{head} ({self.reason})" if self.reason else head

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["discovered_at"] = _iso(self.discovered_at)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Discovery:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["discovered_at"] = parse_datetime(values.get("discovered_at"))
        return cls(**values)


# --- politeness shared by a fleet of crawl processes ----------------------------------------------


@dataclass(frozen=True)
class DomainTurn:
    """The answer to a crawl process asking for a turn at a domain that a fleet shares.

    ``slot`` is the request slot granted (one of the domain's ``concurrency``), to give
    back after the response; None when there is none now, and then ``wait`` says how
    many seconds to wait before asking again and ``reason`` why: ``delay`` (the
    domain's next request is not due yet), ``busy`` (every slot is taken) or
    ``backoff`` (a server's Retry-After holds it).
    """

    slot: int | None
    wait: float = 0.0
    reason: str = ""


class DomainPacer(Protocol):
    """Per-domain request slots, pace and backoff, shared by every crawl process on one store.

    The crawl reaches it through its seam to the store (``REGWATCH_DOMAIN_PACER``, a factory the
    wiring names), never through the store's engine: ``crawlers`` takes any implementation.
    Times are the store's, so hosts whose clocks differ still agree.
    """

    def claim(self, domain: str, holder: str, *, concurrency: int, delay: float, lease: float) -> DomainTurn:
        """A slot of ``domain`` for one request, if one is free, its delay has passed and no backoff holds.

        A granted slot is ``holder``'s for ``lease`` seconds at most (a dead process's
        expires), and the domain's next request is due ``delay`` seconds from now.
        """
        ...

    def release(self, domain: str, slot: int, holder: str) -> None:
        """Give a slot back (nothing happens if its lease expired and another holds it now)."""
        ...

    def back_off(self, domain: str, seconds: float, reason: str) -> None:
        """No request to ``domain`` from any process for ``seconds`` (a longer backoff already set stays)."""
        ...

    def close(self) -> None: ...
