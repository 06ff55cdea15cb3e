"""Web origins as the agent compares them: the ASCII serialization of RFC 6454 section 6.2.

Browsers send ``Origin`` already serialized (``https://portal.test``, ``http://127.0.0.1:8080``), but a pairing
list compares strings, so every origin is normalized once, on the way in: scheme and host lowercased, the default
port of the scheme dropped, nothing else allowed (no path, query, user info or trailing slash). An opaque origin
(``null``: sandboxed frames, ``file:`` pages, RFC 6454 section 7.3) cannot be paired: it names no one.

Exports: normalize_origin, agent_origins.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from .access import OriginInvalidError

__all__ = ["agent_origins", "normalize_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"^[a-z0-9.-]+$")  # a DNS name (IDNs arrive punycoded) or an IPv4 address
_MAX_ORIGIN = 2048  # far beyond any real host name (253 characters); a header can be made arbitrarily long


def normalize_origin(text: str) -> str:
    """``text`` as a serialized origin (``scheme://host[:port]``), or :class:`OriginInvalidError`."""
    if not isinstance(text, str) or not text or len(text) > _MAX_ORIGIN or text.strip() != text:
        raise OriginInvalidError(situation="malformed", origin=str(text)[:100])
    if text == "null":
        raise OriginInvalidError(situation="opaque")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise OriginInvalidError(situation="malformed", origin=text[:100]) from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if ":" in host:  # an IPv6 literal: urlsplit drops its brackets, the serialization keeps them
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise OriginInvalidError(situation="malformed", origin=text[:100]) from None
    elif not _HOST.match(host):
        raise OriginInvalidError(situation="malformed", origin=text[:100])
    if scheme not in _DEFAULT_PORTS:
        raise OriginInvalidError(situation="malformed", origin=text[:100])
    shown_port = "" if port is None or port == _DEFAULT_PORTS[scheme] else f":{port}"
    serialized = f"{scheme}://{host}{shown_port}"
    # Nothing else may be there: no path, query, fragment, user info or empty port -- the text must be the
    # serialization itself, up to case and an explicit default port.
    if text.lower() not in (serialized, f"{scheme}://{host}:{_DEFAULT_PORTS[scheme]}"):
        raise OriginInvalidError(situation="malformed", origin=text[:100])
    return serialized


def agent_origins(port: int) -> frozenset[str]:
    """The origins of the agent's own pages on ``port`` (its two host names: DESIGN.md section 5)."""
    return frozenset({f"http://127.0.0.1:{port}", f"http://localhost:{port}"})
