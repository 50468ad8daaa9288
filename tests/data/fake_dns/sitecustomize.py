"""A system resolver whose answers change, for the SSRF tests (loaded only by their crawl processes).

A test puts this directory on ``PYTHONPATH`` and a plan in ``REGWATCH_TEST_DNS_PLAN``:
``{"name": ["fail", "127.0.0.1"]}`` makes the first look-up of ``name`` fail and
every later one answer 127.0.0.1 (the last answer repeats). It replaces the
socket functions every resolver of the crawl ends in (Twisted's threaded
resolver calls ``gethostbyname``, its GAI resolver ``getaddrinfo``); names not
in the plan, and IP addresses, resolve as usual.
"""

import json
import os
import socket
import threading

_PLAN = {
    name.lower(): answers
    for name, answers in json.loads(os.environ.get("REGWATCH_TEST_DNS_PLAN", "{}")).items()
}
_CALLS: dict[str, int] = {}
_LOCK = threading.Lock()
_real_gethostbyname = socket.gethostbyname
_real_getaddrinfo = socket.getaddrinfo


def _answer(name: object) -> str | None:
    key = name.decode() if isinstance(name, bytes) else str(name)
    answers = _PLAN.get(key.lower().rstrip("."))
    if not answers:
        return None
    with _LOCK:
        count = _CALLS.get(key, 0)
        _CALLS[key] = count + 1
    answer = answers[min(count, len(answers) - 1)]
    if answer == "fail":
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return answer


def _gethostbyname(name):  # type: ignore[no-untyped-def]
    answer = _answer(name)
    return _real_gethostbyname(name) if answer is None else answer


def _getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
    answer = _answer(host) if host is not None else None
    return _real_getaddrinfo(host if answer is None else answer, port, *args, **kwargs)


if _PLAN:
    socket.gethostbyname = _gethostbyname
    socket.getaddrinfo = _getaddrinfo
