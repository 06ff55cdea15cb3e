"""The demo portal of ``signagent serve --demo``: a tiny relying party on its own origin, as a real portal would be.

It serves one page (``index.html`` with ``demo.js`` and ``demo.css``; no inline script or style) at
``http://localhost:DEMO_PORT`` -- another origin than the agent's ``http://127.0.0.1:AGENT_PORT``, so the agent
treats it like any site: the page loads the JS client from the agent, pairs, lists certificates and asks for a
signature of a text, which the user confirms (and types the PIN into) in the agent's own page. The page then posts
the CMS to this portal's backend, ``POST /verify``, which verifies it server-side against the demo's test PKI
(:func:`signagent.service.demo.verify_demo_signature`) -- a portal's backend verifies, the page only shows the
answer.

* ``GET /config.json`` -- ``{agent_port, agent_url, client_url, demo_pin}``: what the page needs to find the agent;
* ``POST /verify`` -- body ``{"cms": base64}``; answer: the verification summary, or the error document.

Only the portal's own ``Host`` is served (DNS rebinding), and ``/verify`` takes requests from its own page only.

Exports: create_demo_portal_app.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from signagent.errors import SignAgentError
from signagent.service.access import AgentOriginRequiredError, HostNotAllowedError, RequestInvalidError
from signagent.service.demo import verify_demo_signature

from ..errors import error_response, install_error_handlers

__all__ = ["create_demo_portal_app"]

_FILES = Path(__file__).parent
_NAMES = ("localhost", "127.0.0.1")  # the portal's two host names; the agent is on 127.0.0.1 at another port
_MAX_BODY = 4 << 20  # base64 of a signed demo text: far below; a bigger body is not the demo page's
_TYPES = {"index.html": "text/html; charset=utf-8", "demo.js": "text/javascript; charset=utf-8",
          "demo.css": "text/css; charset=utf-8"}


def _csp(agent_url: str) -> str:
    """The page's own files, plus the agent's script (the JS client) and its API; no inline code, no framing."""
    return (f"default-src 'self'; script-src 'self' {agent_url}; connect-src 'self' {agent_url}; "
            "style-src 'self'; img-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'")


class _PortalGuard:
    """Answers only requests addressed to the portal (``Host``: ``localhost`` or ``127.0.0.1`` with its port, any
    port when it is not fixed) and adds the page's security headers to every answer."""

    def __init__(self, app: ASGIApp, port: int | None, headers: dict[str, str]) -> None:
        self.app, self.port, self.headers = app, port, headers

    def _allowed(self, host: str) -> bool:
        name, _, port = host.lower().rpartition(":")
        return name in _NAMES and port.isdigit() and (self.port is None or int(port) == self.port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if not self._allowed(host):
            await error_response(HostNotAllowedError(host=host[:100] or "-"), headers=self.headers)(
                scope, receive, send)
            return

        async def decorated(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                present = {k.lower() for k, _ in message["headers"]}
                message["headers"] += [(k.encode(), v.encode()) for k, v in self.headers.items()
                                       if k.encode() not in present]
            await send(message)

        await self.app(scope, receive, decorated)


def create_demo_portal_app(agent_port: int, trust_roots: Iterable[object], intermediates: Iterable[object] = (),
                           *, portal_port: int | None = None, demo_pin: str | None = None) -> ASGIApp:
    """The demo portal's application for the agent on ``agent_port``.

    ``trust_roots``/``intermediates``: the certificates the backend verifies signatures against (the demo's test
    PKI: :func:`signagent.service.demo.load_trust`). ``portal_port``: the port it is served on (its ``Host`` and
    its page's origin, ``localhost`` or ``127.0.0.1``); None accepts any port of those two names (tests).
    ``demo_pin``: shown on the page as the demo token's PIN (it protects nothing real).
    """
    roots, more = list(trust_roots), list(intermediates)
    agent_url = f"http://127.0.0.1:{agent_port}"
    config = {"agent_port": agent_port, "agent_url": agent_url, "client_url": f"{agent_url}/signagent.js",
              "demo_pin": demo_pin}
    headers = {"content-security-policy": _csp(agent_url), "x-frame-options": "DENY",
               "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-store"}

    app = FastAPI(title="signagent demo portal", docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)

    def file_response(name: str) -> Response:
        return Response((_FILES / name).read_bytes(), media_type=_TYPES[name])

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return file_response("index.html")

    @app.get("/demo.js", include_in_schema=False)
    def script() -> Response:
        return file_response("demo.js")

    @app.get("/demo.css", include_in_schema=False)
    def stylesheet() -> Response:
        return file_response("demo.css")

    @app.get("/config.json", include_in_schema=False)
    def portal_config() -> JSONResponse:
        return JSONResponse(config)

    @app.post("/verify", include_in_schema=False)
    async def verify(request: Request) -> JSONResponse:
        origin = request.headers.get("origin")
        if origin is not None and not _own(origin, portal_port):
            raise AgentOriginRequiredError()
        body = await _read_body(request)
        try:
            document = json.loads(body)
            cms = base64.b64decode(document["cms"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise RequestInvalidError(detail='expected {"cms": base64}') from None
        try:  # in a worker thread: the chain check is CPU work and runs an event loop of its own
            summary = await run_in_threadpool(verify_demo_signature, cms, trust_roots=roots, intermediates=more)
        except SignAgentError as err:
            return error_response(err)
        return JSONResponse(summary)

    return _PortalGuard(app, portal_port, headers)


def _own(origin: str, portal_port: int | None) -> bool:
    """Whether ``origin`` is the portal's own page (any port of its two names when the port is not fixed)."""
    origin = origin.lower()
    if portal_port is not None:
        return origin in {f"http://{n}:{portal_port}" for n in _NAMES}
    return origin.startswith(tuple(f"http://{n}:" for n in _NAMES))


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > _MAX_BODY):
        raise RequestInvalidError(detail="body too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY:
            raise RequestInvalidError(detail="body too large")
        chunks.append(chunk)
    return b"".join(chunks)
