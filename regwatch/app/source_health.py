"""What `regwatch sources` shows: each configured source's health, from the store or a live probe.

Presentation only: health is decided by ``crawlers.next_health`` and kept by the
store's ``source_states``; this module lays out what they hold, as JSON rows
(``--json``) or a text table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from regwatch.models import CrawlFailure, CrawlStats, Discovery, Source, SourceHealthState

if TYPE_CHECKING:
    from indexer import SourceHealth
    from regwatch.app import App


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def labelled(failure: CrawlFailure | None) -> str:
    """``"[dns] https://…: reason"``: a failure as the text tables show it ("" for none)."""
    if failure is None:
        return ""
    return (
        f"[{failure.error_class}] {failure.url}: {failure.reason}"
        if failure.url
        else (f"[{failure.error_class}] {failure.reason}")
    )


def status_of(source: Source, health: SourceHealth | None, state: SourceHealthState | None) -> str:
    """disabled (config) | off (by ops) | auto-off (too many hard failures) | new | failing | low-volume | ok."""
    if not source.enabled:
        return "disabled"
    if state is not None and state.disabled:
        return "off" if state.turned_off_by_hand else "auto-off"
    if health is None or health.last_run is None:
        return "new"
    if health.consecutive_failures:
        return "failing"
    if state is not None and state.low_volume:
        return "low-volume"
    return "ok"


@dataclass(frozen=True)
class SourceView:
    """One configured source with what the store knows of its health."""

    source: Source
    health: SourceHealth | None
    state: SourceHealthState | None
    discovery: Discovery | None = None  # an ``auto`` source's last discovery

    @property
    def last_failure(self) -> CrawlFailure | None:
        return self.health.last_failure if self.health is not None else None

    def count(self, name: str) -> int:
        """A counter of the latest run (0 before the first run, or for a run recorded before it existed)."""
        return self.health.last_run_counts.get(name, 0) if self.health is not None else 0

    def to_dict(self) -> dict[str, Any]:
        """The source's row of `regwatch sources --json`."""
        h, state, failure = self.health, self.state, self.last_failure
        return {
            "id": self.source.id,
            "name": self.source.name,
            "kind": self.source.kind,
            "type": self.source.type,
            "enabled": self.source.enabled,
            "status": status_of(self.source, h, state),
            "last_run": _iso(h.last_run) if h else None,
            "last_success": _iso(h.last_success) if h else None,
            "last_error": failure.message if failure else "",
            "last_error_class": failure.error_class if failure else "",
            "consecutive_failures": h.consecutive_failures if h else 0,
            "failure_score": state.failure_score if state else 0.0,
            "items_last_run": h.items_last_run if h else 0,
            "items_listed_last_run": state.items_found if state else 0,
            "avg_items_listed": round(state.avg_items, 1) if state and state.avg_items is not None else None,
            "low_volume": bool(state and state.low_volume),
            "robots_blocked": self.count("robots_blocked"),
            "newest_item": _iso(h.newest_item) if h else None,
            "latency_ms": state.latency_ms if state else None,
            "disabled_reason": state.disabled_reason if state else "",
            "articles": h.total_articles if h else 0,
            "url": self.source.url,
            "discovery": discovery_row(self.discovery) if self.source.kind == "auto" else None,
        }


def source_views(app: App) -> list[SourceView]:
    """One view per configured source, from the crawl ledger and the source state."""
    health = {h.source_id: h for h in app.store.source_states.health()}
    states = app.store.source_states.all()
    discoveries = app.store.source_states.discoveries()
    return [
        SourceView(s, health.get(s.id), states.get(s.id), discoveries.get(s.id)) for s in app.config.sources
    ]


def discovery_row(found: Discovery | None) -> dict[str, Any]:
    """How an ``auto`` source is followed, as its last discovery decided (empty: not discovered yet)."""
    if found is None:
        return {"method": "", "address": "", "reason": "not discovered yet: its next crawl discovers it"}
    return {
        "method": found.method,
        "address": found.address,
        "pattern": found.pattern.get("shape", ""),
        "reason": found.reason,
        "section": found.section,
        "discovered_at": _iso(found.discovered_at),
        "rejected": list(found.rejected),
    }


DISCOVERY_LINE = 240  # characters of an auto source's "follows …" line in the table


def describe_discovery(row: dict[str, Any]) -> str:
    """``follows feed http://… (why)``, or why nothing is followed."""
    if not row["method"]:
        return f"follows nothing: {row['reason']}"
    pattern = f" links {row['pattern']}" if row.get("pattern") else ""
    return f"follows {row['method']} {row['address']}{pattern} ({row['reason']})"


def format_rows(views: list[SourceView]) -> str:
    header = (
        f"{'SOURCE':<24} {'STATUS':<10} {'LAST SUCCESS':<19} {'FAILS':>5} {'ITEMS':>5} {'ROBOTS':>6} "
        f"{'NEWEST':<10} {'LATENCY':>8}  LAST ERROR"
    )
    lines = [header]
    for view in views:
        row = view.to_dict()
        latency = f"{row['latency_ms']}ms" if row["latency_ms"] is not None else "-"
        error = labelled(view.last_failure)
        if row["disabled_reason"]:
            error = row["disabled_reason"]
        elif row["low_volume"]:
            error = f"low volume: {row['items_listed_last_run']} listed, average {row['avg_items_listed']}"
        lines.append(
            f"{row['id'][:24]:<24} {row['status']:<10} {(row['last_success'] or 'never')[:19]:<19} "
            f"{row['consecutive_failures']:>5} {row['items_listed_last_run']:>5} {row['robots_blocked']:>6} "
            f"{(row['newest_item'] or '-')[:10]:<10} {latency:>8}  {error[:90]}"
        )
        if row.get("discovery"):
            line = f"  {'':<22} auto: {describe_discovery(row['discovery'])}"
            # Cut where it would wrap twice; --json has it whole, with what was turned down.
            lines.append(line if len(line) <= DISCOVERY_LINE else line[: DISCOVERY_LINE - 1] + "…")
    return "\n".join(lines)


@dataclass(frozen=True)
class ProbeView:
    """One probed source: what its index answered just now."""

    source: Source
    stats: CrawlStats

    @property
    def failure(self) -> CrawlFailure | None:
        import crawlers

        return crawlers.hard_failure_of(self.stats)

    def to_dict(self) -> dict[str, Any]:
        """The source's row of `regwatch sources --probe --json`."""
        failure = self.failure
        return {
            "id": self.source.id,
            "status": "ok" if failure is None else "failing",
            "items_listed": self.stats.items_found,
            "latency_ms": self.stats.index_latency_ms,
            "error_class": failure.error_class if failure else "",
            "error": failure.message if failure else "",
            "url": self.source.url,
        }


def probe_views(sources: list[Source], results: list[CrawlStats]) -> list[ProbeView]:
    return [ProbeView(source, stats) for source, stats in zip(sources, results, strict=True)]


def format_probe_rows(views: list[ProbeView]) -> str:
    lines = [f"{'SOURCE':<24} {'STATUS':<8} {'ITEMS':>5} {'LATENCY':>8}  ERROR"]
    for view in views:
        row = view.to_dict()
        latency = f"{row['latency_ms']}ms" if row["latency_ms"] is not None else "-"
        error = labelled(view.failure)
        lines.append(
            f"{row['id'][:24]:<24} {row['status']:<8} {row['items_listed']:>5} {latency:>8}  {error[:100]}"
        )
    return "\n".join(lines)
