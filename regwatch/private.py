"""Keeping what regwatch shows private: credentials masked in URLs.

:func:`redact_url` masks the userinfo of every URL in a text
(``https://user:pass@host`` shows as ``https://user:***@host``); settings
display, error messages and log lines pass URLs through it.
"""

from __future__ import annotations

import re

# scheme://userinfo@ : userinfo runs to the last "@" before the host (a raw "@" in a password included).
_USERINFO_RE = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*(?:@[^/?#@\s]*)*)@"
)
MASK = "***"


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
