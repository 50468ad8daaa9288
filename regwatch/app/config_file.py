"""Adding a source record to the user's YAML config as text, so its comments and layout stay.

`regwatch sources add` appends; it never loads and re-dumps the file (that
would drop every comment and reorder keys). The record goes at the end of the
``sources:`` block list, indented like the items already there; a file without
one gets a ``sources:`` block, and a missing file is created. A file that
relied on the built-in catalogue (no ``sources:``, no
``include_default_sources``) gets ``include_default_sources: true`` so it keeps
crawling what it crawled; a new file says ``false``: it starts with the one
source. The result must load (:func:`regwatch.config.load_config`), else the
file is left as it was and the error says why.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from regwatch.config import load_config
from regwatch.errors import ConfigError

_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_SOURCES = re.compile(r"^sources\s*:(?P<rest>.*)$")
_ITEM = re.compile(r"^(?P<indent>\s*)- ")
NEW_FILE_HEADER = (
    "# regwatch config: sources, watchlist, subscribers and settings (see the README).\n"
    "include_default_sources: false  # true: crawl the built-in catalogue too\n"
)


def render_item(record: Mapping[str, Any], indent: str = "  ") -> str:
    """One ``sources:`` list item as YAML text, at ``indent``."""
    body = yaml.safe_dump(dict(record), sort_keys=False, allow_unicode=True, width=100).splitlines()
    return f"{indent}- {body[0]}\n" + "".join(f"{indent}  {line}\n" for line in body[1:])


def append_source(path: Path, record: Mapping[str, Any]) -> str:
    """Append ``record`` to the ``sources:`` of the config at ``path`` (created if missing).

    Returns what the file says now about the sources it crawls ("" when nothing
    changed beyond the record). ConfigError when the result would not load (the
    file is then left untouched) or ``sources:`` is written inline (``[...]``).
    """
    if not path.exists():
        _write(path, NEW_FILE_HEADER + "sources:\n" + render_item(record), new=True)
        _check(path, None)
        return "a new config: it crawls this source alone (include_default_sources: false)"
    try:
        original = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    text, note = _with_record(original, record, path)
    _write(path, text)
    _check(path, original)
    return note


def _with_record(original: str, record: Mapping[str, Any], path: Path) -> tuple[str, str]:
    lines = original.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if _SOURCES.match(line)), None)
    if start is None:
        keep_catalogue = not any(line.startswith("include_default_sources") for line in lines)
        extra = (
            "include_default_sources: true  # added by `regwatch sources add`: keeps the built-in catalogue\n"
            if keep_catalogue
            else ""
        )
        note = "the config also keeps the built-in catalogue it used (include_default_sources: true)"
        return "".join(lines) + "\n" + extra + "sources:\n" + render_item(
            record
        ), note if keep_catalogue else ""
    rest = _SOURCES.match(lines[start]).group("rest")  # type: ignore[union-attr]
    value, _, comment = rest.partition("#")
    if value.strip() in ("[]", "null", "~"):
        lines[start] = "sources:" + (f"  #{comment.rstrip()}" if comment else "") + "\n"
    elif value.strip():
        raise ConfigError(
            f"{path}: `sources:` is written inline; write it as a block list (one `- id: ...` per source) "
            "or add the record printed by --dry-run by hand"
        )
    end = start + 1  # one past the block's last line with content
    indent = ""
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() in ("---", "..."):
            break
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _TOP_KEY.match(line):
            break
        item = _ITEM.match(line)
        if item and not indent:
            indent = item.group("indent") or ""
        end = i + 1
    block_indent = indent if indent or end > start + 1 else "  "
    lines.insert(end, render_item(record, block_indent))
    return "".join(lines), ""


def _write(path: Path, text: str, new: bool = False) -> None:
    """Replace the file in one step (a reader never sees half of it), keeping its mode."""
    mode = 0o600 if new else (path.stat().st_mode & 0o777)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check(path: Path, original: str | None) -> None:
    """The file must still load; otherwise put the original back (or remove a new file)."""
    try:
        load_config(path, env={})
    except ConfigError as exc:
        if original is None:
            path.unlink(missing_ok=True)
        else:
            _write(path, original)
        raise ConfigError(f"{path}: not changed, the source would not load: {exc}") from None
