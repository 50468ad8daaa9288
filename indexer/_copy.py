"""`regwatch store copy`: a SQLite store's rows into a PostgreSQL store, resumable, then verified.

Every table of the store of truth is copied (articles with their URLs, entities
and tag errors, story buckets, the crawl runs, source states and discoveries, the
fetch, digest, alert and cluster ledgers, the desk's users, saved searches and
subscriptions; not SQLite's search index, which PostgreSQL does not have), in key
order, in batches. Each batch is written with the
table's progress in one PostgreSQL transaction (``store_copy_progress``), so a
copy that is interrupted and run again continues after the last batch written,
and a row is never written twice (an upsert by key refreshes it instead). Row
numbers (``doc``, ``run``) are kept, so a search cluster's documents and a
copied cluster ledger still agree.

Then each table is verified: its row count and a checksum of its rows on both
sides (an order-free sum of a hash of each row's values in one canonical form:
times as UTC ISO text, lists as sorted-key JSON, flags as 0/1). A mismatch (the
SQLite store changed since the copy began, say) is reported per table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

import sqlalchemy

from regwatch.errors import IndexBackendError

from ._pg._database import PgDatabase, as_json, execute, row, to_pg
from ._schema import from_db, to_db

log = logging.getLogger(__name__)

BATCH_ROWS = 1000
_MOD = 1 << 128


@dataclass(frozen=True)
class Table:
    """One table to copy: its key columns (the copy's order) and each column's kind."""

    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, kind): text int float bool time date json buckets
    sequence: str = ""  # an identity column whose sequence must move past the copied values

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple((part.split(":")[0], part.split(":")[1] if ":" in part else "text") for part in spec.split())


# Parents before children (foreign keys): articles, then what hangs off them, then the ledgers.
TABLES: tuple[Table, ...] = (
    Table(
        "articles",
        ("doc",),
        _cols(
            "doc:int id url source_id title summary body fetch_url published:time updated:time authors:json "
            "language section tags:json fetched_at:time content_hash first_seen:time last_seen:time "
            "last_changed:time version:int tagged_at:time tagger_version quotes:json actions:json story_id "
            "story_buckets:buckets"
        ),
        sequence="doc",
    ),
    Table("article_urls", ("url",), _cols("url article_id first_seen:time last_seen:time")),
    Table(
        "article_entities",
        ("article_id", "position"),
        _cols(
            "article_id position:int entity_id name norm_name type mentions:json count:int "
            "first_position:int in_title:bool salience:float doc:int"
        ),
    ),
    Table(
        "tag_errors",
        ("article_id",),
        _cols("article_id content_hash tagger_version error fallback:bool attempts:int failed_at:time"),
    ),
    Table("story_buckets", ("bucket", "doc"), _cols("bucket:int doc:int")),
    Table(
        "crawl_runs",
        ("run",),
        _cols(
            "run:int source_id started:time finished:time ok:bool pages_fetched:int new:int updated:int "
            "duplicate:int errors:int error_class error_message error_messages:json error_url error_reason "
            "error_status:int counts:json"
        ),
        sequence="run",
    ),
    Table(
        "source_state",
        ("source_id",),
        _cols(
            "source_id failure_score:float disabled_at:time disabled_reason latency_ms:int items_found:int "
            "avg_items:float runs:int low_volume:bool updated_at:time"
        ),
    ),
    Table(
        "source_discovery",
        ("source_id",),
        _cols("source_id method address discovery:json discovered_at:time"),
    ),
    Table(
        "fetch_ledger",
        ("source_id", "url"),
        _cols(
            "source_id url status:int etag last_modified content_hash article_url first_fetched:time "
            "last_fetched:time last_changed:time"
        ),
    ),
    Table(
        "digests",
        ("subscriber_id", "period"),
        _cols(
            "subscriber_id period:date message_id status watermark:time location error article_ids:json "
            "attempts:int created_at:time updated_at:time delivered_at:time"
        ),
    ),
    Table(
        "alerts",
        ("subscriber_id", "article_id"),
        _cols("subscriber_id article_id message_id status error updated_at:time"),
    ),
    Table("cluster_ledger", ("target", "article_id"), _cols("target article_id version:int acked_at:time")),
    Table(
        "cluster_failures",
        ("target", "article_id"),
        _cols("target article_id version:int reason attempts:int failed_at:time"),
    ),
    Table(
        "users",
        ("id",),
        _cols("id name password_hash roles:json token_hash created_at:time updated_at:time last_login:time"),
    ),
    Table(
        "saved_searches",
        ("id",),
        _cols("id owner name params:json alert:bool created_at:time updated_at:time"),
    ),
    Table("subscriptions", ("id",), _cols("id owner data:json created_at:time updated_at:time")),
)


@dataclass
class TableReport:
    """What the copy did with one table, and whether both sides agree."""

    table: str
    copied: int  # rows written by this run (0 for a table finished by an earlier run)
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "copied": self.copied,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "source_checksum": self.source_checksum,
            "target_checksum": self.target_checksum,
            "ok": self.ok,
        }


Progress = Callable[[str, int, int], None]  # (table, rows done, rows in the table)


def copy_sqlite_to_postgresql(
    sqlite_path: Path,
    target: PgDatabase,
    *,
    restart: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> list[TableReport]:
    """Copy the SQLite store at ``sqlite_path`` into ``target`` (see the module docstring); verify it.

    ``restart`` forgets an earlier run's progress and copies everything again (rows
    already there are refreshed, not duplicated). IndexBackendError when the target
    holds articles that did not come from this SQLite store.
    """
    source_key = str(Path(sqlite_path).resolve())
    conn = sqlite3.connect(Path(sqlite_path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("BEGIN")  # one snapshot for the whole run, whatever writes the file meanwhile
        _check_target(target, source_key, restart)
        copied = {
            table.name: _copy_table(conn, target, source_key, table, batch_rows, progress) for table in TABLES
        }
        _move_sequences(target)
        reports = [
            TableReport(table.name, copied[table.name], *_verify(conn, target, table)) for table in TABLES
        ]
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise IndexBackendError(f"{sqlite_path}: {exc}") from None
    finally:
        conn.close()
    return reports


def _check_target(target: PgDatabase, source_key: str, restart: bool) -> None:
    with target.transaction(write=True) as pg:
        started = row(
            pg, "SELECT count(*) AS n FROM store_copy_progress WHERE source = :s", {"s": source_key}
        )
        articles = row(pg, "SELECT count(*) AS n FROM articles")
        if articles and articles["n"] and not (started and started["n"]):
            raise IndexBackendError(
                f"{target.shown} already holds {articles['n']} articles that did not come from {source_key}: "
                "copy into a new, empty database"
            )
        if restart:
            execute(pg, "DELETE FROM store_copy_progress WHERE source = :s", {"s": source_key})


def _copy_table(
    conn: sqlite3.Connection,
    target: PgDatabase,
    source_key: str,
    table: Table,
    batch_rows: int,
    progress: Progress | None,
) -> int:
    with target.transaction(write=False) as pg:
        state = row(
            pg,
            "SELECT last_key, done FROM store_copy_progress WHERE source = :s AND table_name = :t",
            {"s": source_key, "t": table.name},
        )
    total = int(conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0])
    if state is not None and state["done"]:
        if progress:
            progress(table.name, total, total)
        return 0
    last: list[Any] | None = list(state["last_key"]) if state is not None and state["last_key"] else None
    done = _count_through(conn, table, last) if last else 0
    written = 0
    insert = _upsert_sql(table)
    while True:
        batch = _read_batch(conn, table, last, batch_rows)
        if batch:
            last = [batch[-1][k] for k in table.key]
        with target.transaction(write=True) as pg:
            execute(pg, insert, [_to_params(table, entry) for entry in batch])
            execute(
                pg,
                """
                INSERT INTO store_copy_progress (source, table_name, last_key, done, updated_at)
                VALUES (:s, :t, CAST(:last AS jsonb), :done, now())
                ON CONFLICT (source, table_name) DO UPDATE SET last_key = excluded.last_key,
                    done = excluded.done, updated_at = excluded.updated_at
                """,
                {"s": source_key, "t": table.name, "last": as_json(last), "done": len(batch) < batch_rows},
            )
        written += len(batch)
        done += len(batch)
        if progress:
            progress(table.name, done, total)
        if len(batch) < batch_rows:
            break
    log.info("copied %d row(s) of %s into %s", written, table.name, target.shown)
    return written


def _key_after(table: Table, last: Sequence[Any] | None) -> tuple[str, list[Any]]:
    if not last:
        return "", []
    columns = ", ".join(table.key)
    marks = ", ".join("?" for _ in table.key)
    return f"WHERE ({columns}) > ({marks})", list(last)


def _read_batch(
    conn: sqlite3.Connection, table: Table, last: Sequence[Any] | None, limit: int
) -> list[sqlite3.Row]:
    where, params = _key_after(table, last)
    return conn.execute(
        f"SELECT {', '.join(table.names)} FROM {table.name} {where} ORDER BY {', '.join(table.key)} LIMIT ?",
        [*params, limit],
    ).fetchall()


def _count_through(conn: sqlite3.Connection, table: Table, last: Sequence[Any]) -> int:
    where, params = _key_after(table, last)
    after = conn.execute(f"SELECT count(*) FROM {table.name} {where}", params).fetchone()[0]
    return int(conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]) - int(after)


def _upsert_sql(table: Table) -> str:
    values = []
    for name, kind in table.columns:
        cast = {"json": "jsonb", "buckets": "bigint[]"}.get(kind)
        values.append(f"CAST(:{name} AS {cast})" if cast else f":{name}")
    updates = ", ".join(f"{name} = excluded.{name}" for name in table.names if name not in table.key)
    conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {table.name} ({', '.join(table.names)}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT ({', '.join(table.key)}) {conflict}"
    )


def _to_params(table: Table, entry: sqlite3.Row) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, kind in table.columns:
        value = entry[name]
        if value is None:
            params[name] = None
        elif kind == "time":
            params[name] = to_pg(from_db(value))
        elif kind == "date":
            params[name] = date.fromisoformat(value)
        elif kind == "bool":
            params[name] = bool(value)
        elif kind == "json":
            params[name] = as_json(json.loads(value))
        elif kind == "buckets":
            params[name] = [int(b) for b in json.loads(value)]
        else:
            params[name] = value
    return params


def _move_sequences(target: PgDatabase) -> None:
    """Move each identity past the copied row numbers, so the next row the store writes gets a new one."""
    with target.transaction(write=True) as pg:
        for table in TABLES:
            if table.sequence:
                execute(
                    pg,
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{table.sequence}'), "
                    f"coalesce((SELECT max({table.sequence}) FROM {table.name}), 0) + 1, false)",
                )


# -- verification -----------------------------------------------------------------------------


def _canonical(kind: str, value: Any) -> Any:
    """One form per value, whichever engine it was read from (SQLite text, PostgreSQL types)."""
    if value is None:
        return None
    if kind == "time":
        return to_db(from_db(value) if isinstance(value, str) else value)
    if kind == "date":
        return value if isinstance(value, str) else value.isoformat()
    if kind in ("json", "buckets"):
        parsed = json.loads(value) if isinstance(value, str) else value
        return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if kind == "bool":
        return int(bool(value))
    if kind == "float":
        return repr(float(value))
    if kind == "int":
        return int(value)
    return str(value)


def _checksum(table: Table, entries: Iterator[Mapping[str, Any] | sqlite3.Row]) -> tuple[int, str]:
    count, total = 0, 0
    for entry in entries:
        canonical = [_canonical(kind, entry[name]) for name, kind in table.columns]
        digest = hashlib.blake2b(json.dumps(canonical, ensure_ascii=False).encode("utf-8"), digest_size=16)
        total = (total + int.from_bytes(digest.digest(), "big")) % _MOD
        count += 1
    return count, f"{total:032x}"


def _verify(conn: sqlite3.Connection, target: PgDatabase, table: Table) -> tuple[int, int, str, str]:
    columns = ", ".join(table.names)
    source_rows, source_sum = _checksum(table, iter(conn.execute(f"SELECT {columns} FROM {table.name}")))
    with target.transaction(write=False) as pg:
        result = pg.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
            sqlalchemy.text(f"SELECT {columns} FROM {table.name}")
        )
        target_rows, target_sum = _checksum(
            table, (cast("Mapping[str, Any]", found) for found in result.mappings())
        )
    return source_rows, target_rows, source_sum, target_sum
