"""The fixed development / test split of each corpus.

A page's split is decided by a hash of its corpus and id (about half each), so it never
depends on the order pages are read or on what else the corpus holds. ``splits.json``
records, per corpus, the repository and commit the figures were measured on and the ids of
each split, so a reader can check which pages a figure covers; rules are tuned on ``dev``
pages only and ``test`` figures are the ones reported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

SPLITS_FILE = Path(__file__).with_name("splits.json")
SPLITS = ("dev", "test")


def hash_split(corpus: str, page_id: str) -> str:
    digest = hashlib.sha256(f"{corpus}\x00{page_id}".encode()).digest()
    return SPLITS[digest[0] & 1]


def load_recorded(path: Path = SPLITS_FILE) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    recorded: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return recorded


def split_of(corpus: str, page_id: str, recorded: dict[str, dict[str, Any]]) -> str:
    """The recorded split of a page, or its hash split for a page the record does not list."""
    entry = recorded.get(corpus, {})
    for split in SPLITS:
        if page_id in entry.get(split, ()):
            return split
    return hash_split(corpus, page_id)


def record(corpus: str, page_ids: list[str], source: str, commit: str, path: Path = SPLITS_FILE) -> None:
    """Write a corpus's split (its hash split) to ``splits.json``: ids only, never content."""
    recorded = load_recorded(path)
    ids = sorted(page_ids)
    recorded[corpus] = {
        "source": source,
        "commit": commit,
        "pages": len(ids),
        "dev": [i for i in ids if hash_split(corpus, i) == "dev"],
        "test": [i for i in ids if hash_split(corpus, i) == "test"],
    }
    path.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
