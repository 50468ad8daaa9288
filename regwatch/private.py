"""Keeping what regwatch shows and writes private: credentials masked in URLs, owner-only files.

:func:`redact_url` masks the userinfo of every URL in a text
(``https://user:pass@host`` shows as ``https://user:***@host``); settings
display, error messages and log lines pass URLs through it.

The home dir is created 0700 and every file regwatch writes in it (the
SQLite store and its WAL, the alert ledger, the locks, the scheduler's job
store, the spool, the outbox) 0600: digests, alerts and the index hold what
analysts watch, and INDEX_URL or a config may hold credentials.
:func:`private_dir` and :func:`private_file` create them so, and tighten the
ones an earlier version created; files of the user's own are never touched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# scheme://userinfo@ : userinfo runs to the last "@" before the host (a raw "@" in a password included).
_USERINFO_RE = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*(?:@[^/?#@\s]*)*)@"
)
MASK = "***"

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _mask(match: re.Match[str]) -> str:
    userinfo = match["userinfo"]
    if not userinfo:
        return match.group(0)
    user, sep, _password = userinfo.partition(":")
    # "user:password": the user name helps ops and is kept; a lone userinfo is usually a token.
    shown = f"{user}:{MASK}" if sep and user else MASK
    return f"{match['scheme']}{shown}@"


def redact_url(text: str) -> str:
    """``text`` with the userinfo of every URL in it masked.

    >>> redact_url("cannot reach https://elastic:s3cret@es.example:9200/")
    'cannot reach https://elastic:***@es.example:9200/'
    >>> redact_url("https://ghp_token@host/x")
    'https://***@host/x'
    """
    return _USERINFO_RE.sub(_mask, text)


def split_password(url: str) -> tuple[str, str]:
    """``url`` without the password of its userinfo, and that password (percent-decoded; "" if none).

    For handing a URL to another process while its password travels apart (an
    environment variable, not a file):

    >>> split_password("postgresql://app:s%40cret@db:5432/regwatch")
    ('postgresql://app@db:5432/regwatch', 's@cret')
    """
    from urllib.parse import unquote

    match = _USERINFO_RE.search(url)
    if not match or ":" not in match["userinfo"]:
        return url, ""
    user, _, password = match["userinfo"].partition(":")
    bare = url[: match.start("userinfo")] + user + url[match.end("userinfo") :]
    if not user:  # ":password@host": no user name left, drop the "@" too
        bare = url[: match.start("userinfo")] + url[match.end("userinfo") + 1 :]
    return bare, unquote(password)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with the dir itself 0700; an existing dir is left as it is.

    An existing dir may be the user's own (``--home .``), so only a dir created
    here gets the mode; the files regwatch writes inside are private either way.
    """
    path = Path(path)
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:
            return path  # created meanwhile by another process, or a file: the caller's error
        os.chmod(path, DIR_MODE)  # mkdir's mode passes through the umask; make it exact
    return path


def private_subdir(path: Path) -> Path:
    """A dir regwatch owns inside the home (spool, outbox): created 0700, an existing one tightened."""
    path = private_dir(path)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path, *, sqlite: bool = False) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists; tighten an existing one to 0600.

    With ``sqlite``, its WAL, shared-memory and journal files too (SQLite gives
    new ones the database file's mode, so creating the file first is enough for
    a new store; an existing store's side files are tightened here).
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        _tighten(path, FILE_MODE)
    else:
        os.close(fd)
    if sqlite:
        for suffix in SQLITE_SIDE_FILES:
            side = path.with_name(path.name + suffix)
            if side.exists():
                _tighten(side, FILE_MODE)
    return path


def _tighten(path: Path, mode: int) -> None:
    """Set ``path`` to ``mode`` if group or others may use it and this user owns it (else leave it be)."""
    try:
        current = os.stat(path)
        if current.st_uid == os.getuid() and current.st_mode & 0o077:
            os.chmod(path, mode)
    except OSError:
        pass  # not ours to change, or gone: opening it will say what is wrong
