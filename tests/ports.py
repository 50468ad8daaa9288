"""A 127.0.0.1 port that refuses connections for the rest of the test session.

A port that is bound and released can be taken a moment later by any server a test
starts (the previous CI run saw a fixture site answer 404 on the "refused" source's
port). This one stays bound, never listened on, until the session ends: the kernel
answers every connection with a reset (ECONNREFUSED), and no server can bind it.
"""

from __future__ import annotations

import socket

_held: list[socket.socket] = []


def refused_port() -> int:
    """A port on 127.0.0.1 where every connection is refused, held until the session ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _held.append(sock)
    return int(sock.getsockname()[1])
