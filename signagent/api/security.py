"""The security middleware of the localhost API (DESIGN.md section 5), a plain ASGI middleware run before routing.

A localhost port is reachable by every page the user opens and every local process, so each request is checked:

0. The connection must come from the agent's own user (:mod:`signagent.service.peer_user`, Linux): 127.0.0.1
   is shared by every account of the computer.
1. ``Host`` must be the agent's own (``127.0.0.1:PORT`` or ``localhost:PORT``): a page on ``evil.test`` whose name
   was re-pointed at 127.0.0.1 (DNS rebinding) is same-origin with itself and would otherwise read our answers.
2. The caller is classified (:mod:`.callers`) from ``Origin`` and the local secret. CORS is not access control:
   a "simple" cross-origin request (Fetch standard, CORS-safelisted method and headers) reaches the server without
   a preflight, so the agent checks ``Origin`` itself and refuses before any route runs.
3. Under ``/v1``: a site must be paired, except for the open endpoints (``GET /v1/info``, ``POST /v1/pair``, and
   ``GET /v1/requests/{id}``, whose route lets only the request's own origin in); a request without ``Origin``
   must carry the local secret. Outside ``/v1`` (the agent's pages, ``/openapi.json``) another site's ``Origin``
   is refused: a page of the agent is for the user, opened by navigation, which sends no ``Origin`` on GET.
3a. A browser extension may speak for the page it runs in (issue 13: the cadesplugin extension, whose page
   script cannot reach the agent itself where the page's CSP or Local Network Access forbid it). It names the
   page in :data:`PAGE_ORIGIN_HEADER`; the agent takes that origin as the caller's -- paired, confirmed and signed
   into the CMS as the page's -- only from an extension the user has allowed. An extension is known by a random
   key it made itself (:data:`EXTENSION_KEY_HEADER`), not by ``Origin``: Chromium sends an extension's GET
   requests without one (the extension's content scripts give it host permissions, and such requests skip CORS).
   The extension pairs itself with a ``POST /v1/pair`` carrying its key (a POST always has ``Origin``: the
   ``chrome-extension://`` / ``moz-extension://`` origin the pairing page shows, with what allowing an extension
   means); the pairing list keeps the key's SHA-256 beside that origin. Later requests with the key are that
   extension's (an ``Origin``, when sent, must be the same). An unpaired extension naming a page is refused
   (``extension_not_paired``), except ``GET /v1/info``, answered as for an unpaired page; a web page sending either
   header is refused (``origin_invalid``; a page cannot even send them without a preflight, which is refused), and
   no one may name the agent's own origin. Answers to an extension's ``Origin``, refusals included, carry CORS
   headers for it: it is no web page, and it needs the error code to know that it must ask the user first.
4. The JS client (``/signagent.js``, ``/signagent.d.ts``) is public: any site loads it as a module script, so
   it alone is answered with ``Access-Control-Allow-Origin: *`` (no state, no secret in it).
   Other CORS headers go only to the origins that may read the answer -- paired ones, and any site on the open
   endpoints, which exist for unpaired sites -- each answer naming that one origin (never ``*``). A preflight
   from an origin that may not call the endpoint gets the error document and no CORS header.
5. A request body is capped (:data:`MAX_BODY`: a 64 MiB document in base64 and JSON) before any route reads
   it: ``content_too_large`` (413).
6. Refusals are written to the audit log (at most :data:`_AUDIT_PER_MINUTE` per origin and code a minute: a page
   firing requests in a loop must not fill the disk with them).
7. Every answer carries the framing and content policy of the agent's pages (``frame-ancestors 'none'``,
   ``X-Frame-Options: DENY``), ``nosniff`` and ``Referrer-Policy: same-origin``: harmless on JSON, vital on
   pages. (Not ``no-referrer``: under it a browser sends ``Origin: null`` with the pages' own form posts, and
   the decision check needs the agent's origin there; ``same-origin`` still tells no other site anything.)

Exports: SecurityMiddleware, PAGE_CSP, PAGE_ORIGIN_HEADER, EXTENSION_KEY_HEADER.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import defaultdict

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from signagent.errors import SignAgentError
from signagent.service.access import (
    AgentOriginRequiredError,
    AnotherUserError,
    ContentTooLargeError,
    ExtensionNotPairedError,
    HostNotAllowedError,
    LocalSecretRequiredError,
    OriginInvalidError,
    OriginNotPairedError,
)
from signagent.service.local_secret import SECRET_HEADER, secret_matches
from signagent.service.origins import is_extension_origin, normalize_extension_origin, normalize_origin
from signagent.service.peer_user import same_user

from .callers import Caller
from .context import AgentContext
from .errors import error_response
from .routes_client import CLIENT_FILES

__all__ = ["EXTENSION_KEY_HEADER", "MAX_BODY", "PAGE_CSP", "PAGE_ORIGIN_HEADER", "SecurityMiddleware"]

#: Largest request body: a 64 MiB document is 85.4 MiB of base64, plus the JSON around it.
MAX_BODY = 90 << 20
_AUDIT_PER_MINUTE = 10

#: No script, style or frame from anywhere but the agent; no framing at all (clickjacking of approve buttons).
PAGE_CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

_SECURITY_HEADERS = {
    "content-security-policy": PAGE_CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
_CORS_METHODS = ("GET", "POST", "DELETE")
_CORS_HEADERS = ("content-type",)  # the one non-safelisted header the JS client sends (JSON bodies)
#: The page a paired browser extension speaks for (rule 3a): its origin, as the browser told the extension.
PAGE_ORIGIN_HEADER = "x-signagent-page-origin"
#: How a browser extension is known (rule 3a): a random key it made itself, paired with its origin.
EXTENSION_KEY_HEADER = "x-signagent-extension-key"
_EXTENSION_CORS_HEADERS = (*_CORS_HEADERS, PAGE_ORIGIN_HEADER, EXTENSION_KEY_HEADER)
_KEY = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def _key_hash(key: str) -> str:
    """SHA-256 (hex) of an extension's key: what the pairing list keeps (a key stolen from it would be useless)."""
    if not _KEY.match(key):
        raise OriginInvalidError(situation="extension_key", header=EXTENSION_KEY_HEADER)
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _in_api(path: str) -> bool:
    """Whether ``path`` is under ``/v1`` (the API; everything else is the agent's pages and files)."""
    return path.startswith("/v1/") or path == "/v1"


def _is_open(method: str, path: str) -> bool:
    """Endpoints an unpaired site may call: learning about the agent and asking to be paired (and, route-checked,
    polling its own pairing request)."""
    return (method, path) in (("GET", "/v1/info"), ("POST", "/v1/pair")) or (
        method == "GET" and path.startswith("/v1/requests/"))


class SecurityMiddleware:
    """Checks every HTTP request of the agent against its :class:`AgentContext`."""

    def __init__(self, app: ASGIApp, context: AgentContext) -> None:
        self.app = app
        self.context = context
        self._audited: dict[tuple[str, str], list[float]] = defaultdict(list)
        self._audit_lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan events
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            caller, cors_origin, preflight = self._check(scope, headers)
        except SignAgentError as err:
            await self._refuse(err, scope, receive, send)
            return
        if preflight is not None:
            await self._preflight(cors_origin, preflight, headers, scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await self._refuse(ContentTooLargeError(situation="body", limit_mib=MAX_BODY >> 20), scope, receive, send)
            return
        await self.app(scope, self._capped(receive), self._decorating(send, cors_origin,
                                                                      api=scope["path"].startswith("/v1/")))

    @staticmethod
    def _capped(receive: Receive) -> Receive:
        """``receive`` that stops a body (chunked, or longer than declared) at :data:`MAX_BODY` bytes."""
        seen = [0]

        async def capped() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > MAX_BODY:
                    raise ContentTooLargeError(situation="body", limit_mib=MAX_BODY >> 20)
            return message
        return capped

    def _check(self, scope: Scope, headers: Headers) -> tuple[Caller, str | None, str | None]:
        """(caller, origin to name in CORS headers or None, the preflight's requested method or None)."""
        ctx = self.context
        host = headers.get("host", "")
        if host.lower() not in ctx.allowed_hosts:
            raise HostNotAllowedError(host=host[:100] or "-")
        if not same_user(scope.get("client"), scope.get("server")):
            raise AnotherUserError()  # 127.0.0.1 is every account's: only this user's programs and browsers
        method, path = scope["method"], scope["path"]
        if path in CLIENT_FILES and method in ("GET", "HEAD"):
            # The JS client: public static files any site may load as a module script (routes_client).
            return Caller("anonymous"), "*", None
        raw_origin = headers.get("origin")
        requested = headers.get("access-control-request-method")
        preflight = requested.upper() if method == "OPTIONS" and raw_origin is not None and requested else None
        key = headers.get(EXTENSION_KEY_HEADER)
        if key is not None or (raw_origin is not None and is_extension_origin(raw_origin)):
            return self._check_extension(key, raw_origin, headers, method, path, preflight)
        if raw_origin is None:
            if secret_matches(headers.get(SECRET_HEADER), ctx.secret):
                return Caller("local"), None, None
            if _in_api(path):
                raise LocalSecretRequiredError()
            return Caller("anonymous"), None, None
        if headers.get(PAGE_ORIGIN_HEADER) is not None:
            raise OriginInvalidError(situation="claim", header=PAGE_ORIGIN_HEADER)
        origin = normalize_origin(raw_origin)  # OriginInvalidError for "null" (RFC 6454 section 7.3) and garbage
        if origin in ctx.own_origins:
            return Caller("agent", origin, paired=True), None, None  # same-origin: no CORS, no preflight
        if not _in_api(path):
            raise AgentOriginRequiredError()
        paired = ctx.pairings.is_paired(origin)
        if not paired and not _is_open(preflight or method, path):
            raise OriginNotPairedError(origin=origin)
        return Caller("site", origin, paired=paired), origin, preflight

    def _check_extension(self, key: str | None, raw_origin: str | None, headers: Headers, method: str, path: str,
                         preflight: str | None) -> tuple[Caller, str | None, str | None]:
        """Rule 3a: a browser extension, for itself or for the page it names. It is known by its key (Chromium
        sends an extension's GET requests without ``Origin``); its ``Origin``, when sent, must be an extension's
        and the one it was paired with."""
        if not _in_api(path):
            raise AgentOriginRequiredError()
        if raw_origin is not None and not is_extension_origin(raw_origin):
            raise OriginInvalidError(situation="claim", header=PAGE_ORIGIN_HEADER)  # a web page with the key header
        extension = normalize_extension_origin(raw_origin) if raw_origin is not None else None
        if preflight is not None:  # carries no header values: the request itself is checked when it comes
            return Caller("site", extension), extension, preflight
        key_hash = _key_hash(key) if key is not None else None
        paired_as = self.context.pairings.extension_of(key_hash) if key_hash is not None else None
        if paired_as is not None and extension is not None and paired_as != extension:
            raise ExtensionNotPairedError(origin=extension)  # the key of another extension
        claim = headers.get(PAGE_ORIGIN_HEADER)
        if claim is None:  # the extension itself: it may pair itself and learn of its request, nothing else
            if not _is_open(method, path):
                if paired_as is None:
                    raise ExtensionNotPairedError(origin=extension or "-")
                raise OriginInvalidError(situation="extension_itself", header=PAGE_ORIGIN_HEADER)
            return (Caller("site", extension or paired_as, paired=paired_as is not None, extension_key=key_hash),
                    extension, None)
        page = normalize_origin(claim)  # a web origin only: an extension never speaks for another extension
        if page in self.context.own_origins:
            raise OriginInvalidError(situation="claim", header=PAGE_ORIGIN_HEADER)
        if paired_as is None:
            if (method, path) == ("GET", "/v1/info"):  # the page may learn the agent is there, and nothing more
                return Caller("site", page, paired=False), extension, None
            raise ExtensionNotPairedError(origin=extension or "-")
        paired = self.context.pairings.is_paired(page)
        if not paired and not _is_open(method, path):
            raise OriginNotPairedError(origin=page)
        return Caller("site", page, paired=paired, via=paired_as), extension, None

    def _audit_refusal(self, err: SignAgentError, scope: Scope) -> None:
        origin = Headers(scope=scope).get("origin") or "-"
        now = time.monotonic()
        with self._audit_lock:
            if len(self._audited) > 1000:
                self._audited.clear()
            recent = [t for t in self._audited[(origin[:100], err.code)] if t > now - 60]
            if len(recent) >= _AUDIT_PER_MINUTE:
                self._audited[(origin[:100], err.code)] = recent
                return
            recent.append(now)
            self._audited[(origin[:100], err.code)] = recent
        self.context.record("refused", "refused", origin=origin[:200], code=err.code,
                            detail={"method": scope["method"][:10], "path": scope["path"][:100]})

    async def _refuse(self, err: SignAgentError, scope: Scope, receive: Receive, send: Send) -> None:
        self._audit_refusal(err, scope)
        # No CORS header on a refusal: the refused page learns nothing, not even the error's code. A browser
        # extension does (rule 3a): it is no web page, and it must tell "pair me first" from "pair the page".
        headers = dict(_SECURITY_HEADERS)
        raw_origin = Headers(scope=scope).get("origin") or ""
        if is_extension_origin(raw_origin):
            try:
                headers.update({"access-control-allow-origin": normalize_extension_origin(raw_origin),
                                "vary": "Origin"})
            except SignAgentError:
                pass
        response = error_response(err, headers=headers)
        await response(scope, receive, send)

    async def _preflight(self, origin: str | None, method: str, headers: Headers, scope: Scope, receive: Receive,
                         send: Send) -> None:
        from starlette.responses import Response

        asked = {h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",") if h.strip()}
        allowed = _EXTENSION_CORS_HEADERS if origin is not None and is_extension_origin(origin) else _CORS_HEADERS
        if origin is None or method not in _CORS_METHODS or not asked <= set(allowed):
            await self._refuse(OriginNotPairedError(origin=origin or "-"), scope, receive, send)
            return
        cors = {"access-control-allow-origin": origin, "access-control-allow-methods": method,
                "access-control-allow-headers": ", ".join(allowed), "access-control-max-age": "600",
                "vary": "Origin"}
        await Response(status_code=204, headers={**_SECURITY_HEADERS, **cors})(scope, receive, send)

    @staticmethod
    def _decorating(send: Send, cors_origin: str | None, *, api: bool) -> Send:
        async def decorated(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    if name not in out:
                        out[name] = value
                if api:
                    out.add_vary_header("Origin")  # the answer differs by Origin: caches must not mix them
                if cors_origin is not None:
                    out["access-control-allow-origin"] = cors_origin
                    if cors_origin == "*":
                        out["cross-origin-resource-policy"] = "cross-origin"
            await send(message)
        return decorated
