"""URL canonicalisation: one address per article, whatever link a feed or page gave.

:func:`canonical_url` is the identity of an article page for dedup and for the
fetch ledger. On top of w3lib's canonical form (lower-case scheme and host, no
default port, no fragment, sorted query) it drops tracking parameters, AMP
variants and mobile hosts, and a trailing slash on a non-root path. The URL
actually requested is never rewritten: a site may need the form it linked.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only say who linked or how: never part of an article's identity.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ocid",
        "cmpid",
        "cmp",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "ref",
        "ref_src",
        "referrer",
        "s_cid",
        "sr_share",
        "smid",
        "amp",
        "outputtype",
        "output",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "ns_", "hsa_", "pk_", "mtm_", "vero_", "oly_")
# Only these values of a parameter above mark an AMP variant; other values are kept.
AMP_VALUES = {"amp": {"", "1", "true"}, "outputtype": {"amp"}, "output": {"amp"}}
MOBILE_HOST_PREFIXES = ("m.", "mobile.", "amp.")
_AMP_PATH = re.compile(r"(?:/amp|\.amp)(?=/?$)|/amp(?=/)", re.IGNORECASE)


def _is_tracking(name: str, value: str) -> bool:
    lowered = name.lower()
    if lowered in AMP_VALUES:
        return value.lower() in AMP_VALUES[lowered]
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _host(host: str) -> str:
    for prefix in MOBILE_HOST_PREFIXES:
        # m.bbc.co.uk -> www.bbc.co.uk; a bare two-label host (m.example) stays as it is.
        if host.startswith(prefix) and host.count(".") >= 2:
            return "www." + host[len(prefix) :]
    return host


def canonical_url(url: str) -> str:
    """The identity form of ``url`` (see the module docstring); non-web URLs come back as given."""
    try:
        split = urlsplit(canonicalize_url(url.strip()))
    except ValueError:
        return url
    if split.scheme not in ("http", "https"):
        return url
    host = _host((split.hostname or "").lower())
    netloc = host if split.port in (None, 80, 443) else f"{host}:{split.port}"
    path = _AMP_PATH.sub("", split.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(split.query, keep_blank_values=True) if not _is_tracking(k, v)]
    )
    return urlunsplit((split.scheme, netloc, path, query, ""))
