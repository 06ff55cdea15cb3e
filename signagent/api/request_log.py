"""One log line per request, without secrets: method, path (long ids masked), status, duration, origin.

Headers are never logged (the local secret travels in one), nor query strings or bodies. What is logged is cut
to visible ASCII, so a crafted path or origin cannot forge or hide lines (or send terminal escapes). Request ids
are masked because a pairing request's id opens the page that holds its consent token.

Exports: RequestLogMiddleware.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestLogMiddleware"]

_log = logging.getLogger("signagent.api")
_ID = re.compile(r"[A-Za-z0-9_-]{24,}")
_UNSAFE = re.compile(r"[^\x21-\x7e]")  # anything but visible ASCII: a decoded %0A would forge a log line


def _shown(text: str, limit: int) -> str:
    return _UNSAFE.sub("?", text[:limit])


class RequestLogMiddleware:
    """Logs ``"METHOD /path" STATUS 1.2ms origin=...`` at INFO on the ``signagent.api`` logger."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            origin = _shown(Headers(scope=scope).get("origin", "-"), 100)
            path = _shown(_ID.sub("<id>", scope["path"]), 200)
            _log.info('"%s %s" %d %.1fms origin=%s', scope["method"], path, status[0],
                      (time.perf_counter() - started) * 1000, origin)
