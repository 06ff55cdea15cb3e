"""Web origins as the agent compares them: the ASCII serialization of RFC 6454 section 6.2.

Browsers send ``Origin`` already serialized (``https://portal.test``, ``http://127.0.0.1:8080``), but a pairing
list compares strings, so every origin is normalized once, on the way in: scheme and host lowercased, the default
port of the scheme dropped, nothing else allowed (no path, query, user info or trailing slash). An opaque origin
(``null``: sandboxed frames, ``file:`` pages, RFC 6454 section 7.3) cannot be paired: it names no one.

Browser extensions have origins of their own (``chrome-extension://<id>`` in Chromium-based browsers, the id 32
letters a-p; ``moz-extension://<uuid>`` in Firefox, a random UUID per installation). They are not web origins: a
site can never be one. An extension the user paired may speak for the web pages it runs in (issue 13: the
cadesplugin extension relays its pages' requests, naming each page's origin); :func:`normalize_client_origin`
accepts both kinds for the pairing list.

Exports: normalize_origin, normalize_extension_origin, normalize_client_origin, is_extension_origin,
agent_origins.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from .access import OriginInvalidError

__all__ = ["agent_origins", "is_extension_origin", "normalize_client_origin", "normalize_extension_origin",
           "normalize_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"^[a-z0-9.-]+$")  # a DNS name (IDNs arrive punycoded) or an IPv4 address
_MAX_ORIGIN = 2048  # far beyond any real host name (253 characters); a header can be made arbitrarily long
#: The extension schemes and what their host part is: a Chromium extension id is 32 letters a-p (the SHA-256 of its
#: key, hex digits mapped to a-p); Firefox gives each installation a random UUID.
_EXTENSIONS = {
    "chrome-extension": re.compile(r"^[a-p]{32}$"),
    "moz-extension": re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
}


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


def is_extension_origin(text: str) -> bool:
    """Whether ``text`` has a browser extension's scheme (checked no further: :func:`normalize_extension_origin`)."""
    return isinstance(text, str) and text.split("://", 1)[0].lower() in _EXTENSIONS


def normalize_extension_origin(text: str) -> str:
    """``text`` as a browser extension's origin (``chrome-extension://<id>``, ``moz-extension://<uuid>``,
    lowercased), or :class:`OriginInvalidError`."""
    scheme, sep, host = text.partition("://") if isinstance(text, str) else ("", "", "")
    pattern = _EXTENSIONS.get(scheme.lower())
    if not sep or pattern is None or not pattern.match(host.lower()):
        raise OriginInvalidError(situation="malformed", origin=str(text)[:100])
    return f"{scheme.lower()}://{host.lower()}"


def normalize_client_origin(text: str) -> str:
    """A web origin (:func:`normalize_origin`) or a browser extension's (:func:`normalize_extension_origin`)."""
    return normalize_extension_origin(text) if is_extension_origin(text) else normalize_origin(text)


def agent_origins(port: int) -> frozenset[str]:
    """The origins of the agent's own pages on ``port`` (its two host names: DESIGN.md section 5)."""
    return frozenset({f"http://127.0.0.1:{port}", f"http://localhost:{port}"})
