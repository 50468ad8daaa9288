"""A crawl subprocess dies with the process that started it, so a killed worker leaves no orphan crawl.

``run_crawl`` names its own pid in the child's environment (:data:`PARENT_PID_ENV`). On
Linux the child asks the kernel for SIGKILL when its parent goes
(``prctl(PR_SET_PDEATHSIG)``), then checks the parent is still the one named: if it
died before the request, the child was already re-parented and exits at once.
Elsewhere a daemon thread watches ``os.getppid()`` instead. SIGKILL, not a graceful
stop: each article is stored in a transaction of its own and the report file is
written atomically, so nothing is left half written, and a worker that took the
work over must not race a crawl still writing.

PR_SET_PDEATHSIG fires when the *thread* that started the child ends; ``run_crawl``
waits for the child in that thread, so it lives as long as the crawl does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading

logger = logging.getLogger(__name__)

PARENT_PID_ENV = "REGWATCH_CRAWL_PARENT_PID"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL = 1.0  # seconds between checks where there is no prctl


def die_with_parent(parent_pid: int) -> None:
    """Make this process end as soon as ``parent_pid`` (its parent) does; exit now if it is already gone."""
    if parent_pid <= 0:
        return
    if not (sys.platform.startswith("linux") and _set_death_signal(signal.SIGKILL)):
        exit_when_orphaned(parent_pid)
    if os.getppid() != parent_pid:  # it died before we asked: we were re-parented already
        logger.error("the process that started this crawl (pid %d) is gone; stopping", parent_pid)
        os._exit(1)


def _set_death_signal(signum: int) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def exit_when_orphaned(parent_pid: int, interval: float = WATCH_INTERVAL) -> None:
    """Start a daemon thread that ends this process (no clean-up) once ``parent_pid`` is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            threading.Event().wait(interval)
        os._exit(1)  # the parent is gone: nothing of ours must run on

    threading.Thread(target=watch, name="regwatch-parent-watch", daemon=True).start()
