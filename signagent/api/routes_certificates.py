"""``GET /v1/certificates``: the certificates on the user's tokens, cards and key directory (docs/API.md).

The document is kept ready by :class:`signagent.service.inventory_cache.InventoryCache` and sent as is.

Exports: router.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from .context import AgentContext

__all__ = ["router"]

router = APIRouter()

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["generated_at", "certificates", "errors"],
    "properties": {
        "generated_at": {"type": "string"},
        "certificates": {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "owner_name": {"type": "string"}, "has_private_key": {"type": "boolean"},
            "certificate": {"type": "string"}}}},
        "errors": {"type": "array", "items": {"type": "object"}},
        "pcsc": {"type": ["object", "null"]},
    },
}


@router.get("/certificates", summary="The certificates on the user's tokens",
            responses={200: {"content": {"application/json": {"schema": _SCHEMA}},
                             "description": "The inventory"}})
async def certificates(request: Request) -> Response:
    """Each certificate: id, owner, organisation, qualified identity (ОГРН, ИНН...), validity, days left, warnings,
    whether its private key is present, chain status, the token it is on, and the certificate itself."""
    ctx: AgentContext = request.app.state.agent
    body = ctx.inventory.ready_body()  # kept ready: no thread hop (most calls)
    if body is None:
        body = await run_in_threadpool(ctx.inventory.json_body)  # a rebuild lists tokens: not on the event loop
    return Response(body, media_type="application/json")
