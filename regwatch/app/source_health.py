"""What `regwatch sources` shows: each configured source's health, from the store or a live probe."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from regwatch.models import CrawlStats, Discovery, Source

if TYPE_CHECKING:
    from regwatch.app import App


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _class_of(message: str) -> str:
    import crawlers

    return crawlers.error_class_of(message) if message else ""


def status_of(source: Source, health: Any, state: Any) -> str:
    """disabled (config) | auto-off (too many hard failures) | new | failing | low-volume | ok."""
    if not source.enabled:
        return "disabled"
    if state is not None and state.disabled_at is not None:
        return "auto-off"
    if health is None or health.last_run is None:
        return "new"
    if health.consecutive_failures:
        return "failing"
    if state is not None and state.low_volume:
        return "low-volume"
    return "ok"


def health_rows(app: App) -> list[dict[str, Any]]:
    """One row per configured source, from the crawl ledger and the source state."""
    health = {h.source_id: h for h in app.store.source_states.health()}
    states = app.store.source_states.all()
    discoveries = app.store.source_states.discoveries()
    rows = []
    for source in app.config.sources:
        h, state = health.get(source.id), states.get(source.id)
        last_error = getattr(h, "last_error", "") or ""
        found = discoveries.get(source.id)
        rows.append(
            {
                "id": source.id,
                "name": source.name,
                "kind": source.kind,
                "type": source.type,
                "enabled": source.enabled,
                "status": status_of(source, h, state),
                "last_run": _iso(getattr(h, "last_run", None)),
                "last_success": _iso(getattr(h, "last_success", None)),
                "last_error": last_error,
                "last_error_class": (getattr(h, "last_error_class", "") or _class_of(last_error))
                if last_error
                else "",
                "consecutive_failures": getattr(h, "consecutive_failures", 0),
                "failure_score": getattr(state, "failure_score", 0.0),
                "items_last_run": getattr(h, "items_last_run", 0),
                "items_listed_last_run": getattr(state, "items_found", 0),
                "avg_items_listed": round(state.avg_items, 1)
                if state and state.avg_items is not None
                else None,
                "low_volume": bool(getattr(state, "low_volume", False)),
                "newest_item": _iso(getattr(h, "newest_item", None)),
                "latency_ms": getattr(state, "latency_ms", None),
                "disabled_reason": getattr(state, "disabled_reason", "") or "",
                "articles": getattr(h, "total_articles", 0),
                "url": source.url,
                "discovery": discovery_row(found) if source.kind == "auto" else None,
            }
        )
    return rows


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


def describe_discovery(row: dict[str, Any]) -> str:
    """``follows feed http://… (why)``, or why nothing is followed."""
    if not row["method"]:
        return f"follows nothing: {row['reason']}"
    pattern = f" links {row['pattern']}" if row.get("pattern") else ""
    return f"follows {row['method']} {row['address']}{pattern} ({row['reason']})"


def probe_rows(sources: list[Source], results: list[CrawlStats]) -> list[dict[str, Any]]:
    """One row per probed source: what its index answered just now."""
    import crawlers

    rows = []
    for source, stats in zip(sources, results, strict=True):
        failure = crawlers.hard_failure_of(stats)
        rows.append(
            {
                "id": source.id,
                "status": "ok" if not failure else "failing",
                "items_listed": stats.items_found,
                "latency_ms": stats.index_latency_ms,
                "error_class": _class_of(failure),
                "error": failure,
                "url": source.url,
            }
        )
    return rows


def _labelled(error_class: str, message: str) -> str:
    """``"[dns] https://…: reason"`` from ``"dns https://…: reason"``."""
    if not message:
        return ""
    head, _, rest = message.partition(" ")
    return f"[{error_class}] {rest if head.lower() == error_class else message}"


def format_rows(rows: list[dict[str, Any]]) -> str:
    header = f"{'SOURCE':<24} {'STATUS':<10} {'LAST SUCCESS':<19} {'FAILS':>5} {'ITEMS':>5} {'NEWEST':<10} "
    lines = [header + f"{'LATENCY':>8}  LAST ERROR"]
    for row in rows:
        latency = f"{row['latency_ms']}ms" if row["latency_ms"] is not None else "-"
        error = _labelled(row["last_error_class"], row["last_error"])
        if row["disabled_reason"]:
            error = row["disabled_reason"]
        elif row["low_volume"]:
            error = f"low volume: {row['items_listed_last_run']} listed, average {row['avg_items_listed']}"
        lines.append(
            f"{row['id'][:24]:<24} {row['status']:<10} {(row['last_success'] or 'never')[:19]:<19} "
            f"{row['consecutive_failures']:>5} {row['items_listed_last_run']:>5} "
            f"{(row['newest_item'] or '-')[:10]:<10} {latency:>8}  {error[:90]}"
        )
        if row.get("discovery"):
            lines.append(f"  {'':<22} auto: {describe_discovery(row['discovery'])}"[:240])
    return "\n".join(lines)


def format_probe_rows(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'SOURCE':<24} {'STATUS':<8} {'ITEMS':>5} {'LATENCY':>8}  ERROR"]
    for row in rows:
        latency = f"{row['latency_ms']}ms" if row["latency_ms"] is not None else "-"
        error = _labelled(row["error_class"], row["error"])
        lines.append(
            f"{row['id'][:24]:<24} {row['status']:<8} {row['items_listed']:>5} {latency:>8}  {error[:100]}"
        )
    return "\n".join(lines)
