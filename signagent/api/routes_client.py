"""The JavaScript client, served by the agent itself: ``GET /signagent.js`` and its TypeScript declarations
``GET /signagent.d.ts`` (docs/API.md), and ``GET /cadesplugin_api.js``, the CryptoPro-compatible ``window.cadesplugin``
over the same API for portals written against CryptoPro's browser plug-in (loaded with a classic ``<script src>``).

A portal loads it with ``import {SignAgent} from 'http://127.0.0.1:36985/signagent.js'``. Module scripts are
fetched in CORS mode, so these two answers need ``Access-Control-Allow-Origin: *``: unlike every other answer of
the agent they may be read by any site. That is safe because they are public, static files -- the same bytes for
every caller, no secret, no state of this computer (paired sites, tokens, certificates) in them -- and a wildcard
answer is never sent with credentials. The CORS headers for these paths are the security middleware's business
(it decides which requests and origins are let through); the headers here only describe the files.

Exports: router, CLIENT_FILES.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import Response

__all__ = ["CLIENT_FILES", "router"]

router = APIRouter(include_in_schema=False)
_STATIC = Path(__file__).with_name("static")

#: URL path -> (file in ``static``, media type): the public files any site may load.
CLIENT_FILES = {
    "/signagent.js": ("signagent.js", "text/javascript; charset=utf-8"),
    "/signagent.d.ts": ("signagent.d.ts", "application/typescript; charset=utf-8"),
    "/cadesplugin_api.js": ("cadesplugin_api.js", "text/javascript; charset=utf-8"),
}


def _serve(path: str) -> Response:
    name, media_type = CLIENT_FILES[path]
    # Read per request (small files): an upgraded installation serves its new client without a restart. A short
    # cache keeps portals from fetching it on every page while a new version still reaches them soon.
    return Response((_STATIC / name).read_bytes(), media_type=media_type,
                    headers={"cache-control": "public, max-age=300"})


@router.get("/signagent.js")
def client_script() -> Response:
    """The ES module ``SignAgent`` (no dependencies, no build step)."""
    return _serve("/signagent.js")


@router.get("/cadesplugin_api.js")
def cadesplugin_script() -> Response:
    """``window.cadesplugin`` for portals written against CryptoPro's browser plug-in (a classic script)."""
    return _serve("/cadesplugin_api.js")


@router.get("/signagent.d.ts")
def client_types() -> Response:
    """TypeScript declarations of the ES module."""
    return _serve("/signagent.d.ts")
