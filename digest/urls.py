"""Canonical article URLs: one spelling per article, whatever feed or campaign linked it (pure)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that say how a reader arrived, never which article they read. Exact names
# (compared lower-cased) and prefixes; collected from the analytics tools outlets commonly use.
_TRACKING_NAMES = frozenset(
    {
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "at_format",
        "at_link",
        "at_ptr_name",
        "at_bbc_team",
        "wt_mc",
        "wt_zmc",
        "wt_cc1",
        "wt.mc_id",
        "wtmc",
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "ttclid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "spm",
        "cmpid",
        "cmp",
        "icid",
        "ito",
        "xtor",
        "xts",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "ocid",
        "source_rss",
        "ftag",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "piwik_", "matomo_", "hmb_", "wt_", "_ga")
# `ref` and `source` only count as tracking when they name a feed or newsletter channel.
_CHANNEL_NAMES = frozenset({"ref", "source", "src", "from", "via"})
_CHANNEL_VALUES = re.compile(
    r"^(rss|atom|feed|feeds|rss2|newsletter|nl|twitter|facebook|social)\b", re.I
)


def is_tracking_parameter(name: str, value: str) -> bool:
    """True when a query parameter only records the channel a reader came from."""
    key = name.lower()
    if key in _TRACKING_NAMES or key.startswith(_TRACKING_PREFIXES):
        return True
    return key in _CHANNEL_NAMES and bool(_CHANNEL_VALUES.match(value))


def canonical_url(url: str) -> str:
    """The one spelling of a link: lower-case scheme and host, no default port, no fragment,
    no tracking parameters, the remaining parameters sorted. Non-web URLs come back unchanged."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += f":{parts.password}"
        netloc = f"{userinfo}@{netloc}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = sorted((k, v) for k, v in pairs if not is_tracking_parameter(k, v))
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(kept), ""))
