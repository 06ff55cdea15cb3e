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

Exports: SecurityMiddleware, PAGE_CSP.
"""

from __future__ import annotations

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
    HostNotAllowedError,
    LocalSecretRequiredError,
    OriginNotPairedError,
)
from signagent.service.local_secret import SECRET_HEADER, secret_matches
from signagent.service.origins import normalize_origin
from signagent.service.peer_user import same_user

from .callers import Caller
from .context import AgentContext
from .errors import error_response
from .routes_client import CLIENT_FILES

__all__ = ["MAX_BODY", "PAGE_CSP", "SecurityMiddleware"]

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
        if raw_origin is None:
            if secret_matches(headers.get(SECRET_HEADER), ctx.secret):
                return Caller("local"), None, None
            if path.startswith("/v1/") or path == "/v1":
                raise LocalSecretRequiredError()
            return Caller("anonymous"), None, None
        origin = normalize_origin(raw_origin)  # OriginInvalidError for "null" (RFC 6454 section 7.3) and garbage
        if origin in ctx.own_origins:
            return Caller("agent", origin, paired=True), None, None  # same-origin: no CORS, no preflight
        if not (path.startswith("/v1/") or path == "/v1"):
            raise AgentOriginRequiredError()
        paired = ctx.pairings.is_paired(origin)
        if not paired and not _is_open(preflight or method, path):
            raise OriginNotPairedError(origin=origin)
        return Caller("site", origin, paired=paired), origin, preflight

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
        # No CORS header on a refusal: the refused page learns nothing, not even the error's code.
        response = error_response(err, headers=_SECURITY_HEADERS)
        await response(scope, receive, send)

    async def _preflight(self, origin: str | None, method: str, headers: Headers, scope: Scope, receive: Receive,
                         send: Send) -> None:
        from starlette.responses import Response

        asked = {h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",") if h.strip()}
        if origin is None or method not in _CORS_METHODS or not asked <= set(_CORS_HEADERS):
            await self._refuse(OriginNotPairedError(origin=origin or "-"), scope, receive, send)
            return
        cors = {"access-control-allow-origin": origin, "access-control-allow-methods": method,
                "access-control-allow-headers": ", ".join(_CORS_HEADERS), "access-control-max-age": "600",
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
