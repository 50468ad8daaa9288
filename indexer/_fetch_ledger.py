"""The fetch ledger: the store's ``fetch_ledger`` component.

The fetch ledger has one row per source and article page (the canonical form
of the URL the crawler requested; two sources linking one page ask separately) with the HTTP validators the server sent
(``ETag``, ``Last-Modified``), the last status and the content hash of the
article it gave. The parent of a crawl reads :meth:`SqliteFetchLedger.validators`
and passes them to the spiders, which then ask conditionally; the crawl's item
pipeline records each fetch with :meth:`SqliteFetchLedger.record` once its
article is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from regwatch.models import utcnow

from ._database import Database
from ._schema import from_db, to_db


class SqliteFetchLedger:
    """The validators and outcome of each article page fetched (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        url: str,
        source_id: str,
        status: int,
        *,
        etag: str = "",
        last_modified: str = "",
        content_hash: str = "",
        article_url: str = "",
        at: datetime | None = None,
    ) -> None:
        """Record one fetch of ``url``; a 304 keeps the stored hash and article, refreshing the rest."""
        now = to_db(at or utcnow())
        with self._db.transaction(write=True) as conn:
            conn.execute(
                """
                INSERT INTO fetch_ledger (url, source_id, status, etag, last_modified, content_hash,
                    article_url, first_fetched, last_fetched, last_changed)
                VALUES (:url, :source_id, :status, :etag, :last_modified, :content_hash, :article_url,
                    :now, :now, :now)
                ON CONFLICT (source_id, url) DO UPDATE SET
                    status = excluded.status,
                    etag = CASE WHEN excluded.etag != '' OR excluded.status != 304
                        THEN excluded.etag ELSE etag END,
                    last_modified = CASE WHEN excluded.last_modified != '' OR excluded.status != 304
                        THEN excluded.last_modified ELSE last_modified END,
                    content_hash = CASE WHEN excluded.status = 304 THEN content_hash
                        ELSE excluded.content_hash END,
                    article_url = CASE WHEN excluded.status = 304 THEN article_url
                        ELSE excluded.article_url END,
                    last_fetched = excluded.last_fetched,
                    last_changed = CASE WHEN excluded.status != 304 AND excluded.content_hash != content_hash
                        THEN excluded.last_changed ELSE last_changed END
                """,
                {
                    "url": url,
                    "source_id": source_id,
                    "status": int(status),
                    "etag": etag,
                    "last_modified": last_modified,
                    "content_hash": content_hash,
                    "article_url": article_url,
                    "now": now,
                },
            )

    def validators(self, source_ids: Iterable[str]) -> dict[str, dict[str, dict[str, str]]]:
        """Per source, ``{url: {"etag": …, "last_modified": …}}`` of pages fetched fine before.

        Only pages whose last fetch gave an article (200) or confirmed one (304)
        and that came with a validator: anything else is fetched in full again.
        """
        ids = list(dict.fromkeys(source_ids))
        result: dict[str, dict[str, dict[str, str]]] = {sid: {} for sid in ids}
        if not ids:
            return result
        marks = ", ".join("?" for _ in ids)
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                f"""
                SELECT url, source_id, etag, last_modified FROM fetch_ledger
                WHERE source_id IN ({marks}) AND status IN (200, 304) AND content_hash != ''
                    AND (etag != '' OR last_modified != '')
                """,
                ids,
            ).fetchall()
        for row in rows:
            result[row["source_id"]][row["url"]] = {
                "etag": row["etag"],
                "last_modified": row["last_modified"],
            }
        return result

    def entry(self, source_id: str, url: str) -> dict[str, Any] | None:
        """The ledger row of ``url`` (canonical form) for a source, as a dict, or None."""
        with self._db.transaction(write=False) as conn:
            row = conn.execute(
                "SELECT * FROM fetch_ledger WHERE source_id = ? AND url = ?", (source_id, url)
            ).fetchone()
        if row is None:
            return None
        entry = dict(row)
        for name in ("first_fetched", "last_fetched", "last_changed"):
            entry[name] = from_db(entry[name])
        return entry

    def count(self, source_id: str | None = None) -> int:
        with self._db.transaction(write=False) as conn:
            if source_id is None:
                return int(conn.execute("SELECT count(*) FROM fetch_ledger").fetchone()[0])
            return int(
                conn.execute(
                    "SELECT count(*) FROM fetch_ledger WHERE source_id = ?", (source_id,)
                ).fetchone()[0]
            )
