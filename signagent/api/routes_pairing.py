"""Pairing and request endpoints under ``/v1``: a site asks to be paired and polls any of its requests (pairing,
signing...) for the user's decision and the result; a local program lists and revokes pairings (DESIGN.md
section 5).

Exports: router.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from signagent.service.access import LocalSecretRequiredError, OriginInvalidError, RequestNotFoundError
from signagent.service.consent import APPROVED, FAILED, PENDING, ConsentRequest
from signagent.service.origins import normalize_client_origin

from .callers import Caller, caller_of
from .context import AgentContext

__all__ = ["router"]

router = APIRouter()
_WAKE = 1.0  # seconds a long poll sleeps at most between looks at its request
_MAX_WAIT = 60.0  # a long poll ends before proxies and browsers give up on a silent connection


def _context(request: Request) -> AgentContext:
    return request.app.state.agent  # type: ignore[no-any-return]


class PairStarted(BaseModel):
    """A pairing request: its id (to poll) and the agent's page where the user decides."""

    request_id: str
    confirm_url: str
    expires_in: int


class ErrorBody(BaseModel):
    """An error of the error tree: stable code, English and Russian wording, whether retrying may help."""

    code: str
    message: str
    message_ru: str
    retriable: bool


class RequestStatus(BaseModel):
    """The state of a request: pending, approved, denied, expired or failed; ``result`` once approved (its shape
    depends on ``kind``, docs/API.md), ``error`` once failed."""

    request_id: str
    kind: str
    origin: str
    status: str
    result: dict[str, Any] | None = None
    error: ErrorBody | None = None


class Pairing(BaseModel):
    """One paired origin."""

    origin: str
    paired_at: float


def _trusted(caller: Caller) -> None:
    if not caller.trusted:  # a site, even a paired one, may not manage the agent's list of sites
        raise LocalSecretRequiredError()


@router.post("/pair", response_model=PairStarted, summary="Ask the user to pair the calling origin")
def pair(request: Request) -> PairStarted:
    """The user approves or denies in the agent's page at ``confirm_url`` (open it as a popup or a tab)."""
    caller = caller_of(request)
    if caller.kind != "site" or caller.origin is None:
        raise OriginInvalidError(situation="missing")
    ctx = _context(request)
    # A browser extension's key (SHA-256) is kept with its request: approved, the pairing list holds it, and
    # until then the extension (whose GET requests carry no Origin) is known by it when it asks how it went.
    payload = {"extension_key": caller.extension_key} if caller.extension_key else None
    started = ctx.requests.start(caller.origin, "pair", payload)
    return PairStarted(request_id=started.request_id, confirm_url=f"{ctx.base_url}/pair/{started.request_id}",
                       expires_in=int(ctx.requests.lifetime))


def extension_key_of(request: ConsentRequest) -> str | None:
    """The key (SHA-256, hex) of the browser extension that asked, by ``request``, to be paired; None for any
    other request."""
    payload = request.payload
    return payload.get("extension_key") if request.kind == "pair" and isinstance(payload, dict) else None


def _same_extension(caller: Caller, found: ConsentRequest) -> bool:
    """Whether ``found`` is the pairing request of the browser extension ``caller`` (known by its key)."""
    key = extension_key_of(found)
    return key is not None and key == caller.extension_key


@router.get("/requests/{request_id}", response_model=RequestStatus, response_model_exclude_none=True,
            summary="A request's status (long poll)")
async def request_status(request: Request, request_id: str,
                         wait: float = Query(0.0, ge=0.0, le=_MAX_WAIT)) -> RequestStatus:
    """Answers at once unless ``wait`` seconds are given: then when the status leaves ``pending`` or the time ends."""
    ctx, caller = _context(request), caller_of(request)
    found, status = ctx.requests.get(request_id)
    if not caller.trusted and caller.origin != found.origin and not _same_extension(caller, found):
        raise RequestNotFoundError()  # another site's request: it does not exist, as far as this caller knows
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while status == PENDING and loop.time() < deadline:
        if await request.is_disconnected():  # the page went away: stop looking for it
            break
        # Woken at once by a change; the 1 s cap re-checks expiry (computed, not announced) and disconnection.
        await ctx.waiters.wait(request_id, min(_WAKE, deadline - loop.time()))
        found, status = ctx.requests.get(request_id)
    error = found.error
    return RequestStatus(request_id=request_id, kind=found.kind, origin=found.origin, status=status,
                         result=found.result if status == APPROVED else None,
                         error=ErrorBody(code=error.code, message=error.message, message_ru=error.message_ru,
                                         retriable=error.retriable) if status == FAILED and error else None)


@router.get("/pairings", response_model=list[Pairing], summary="Paired origins (local secret needed)")
def pairings(request: Request) -> list[Pairing]:
    """The paired origins; for the agent's pages and local programs only."""
    _trusted(caller_of(request))
    return [Pairing(**p) for p in _context(request).pairings.list()]  # type: ignore[arg-type]


@router.delete("/pairings/{origin:path}", summary="Revoke a pairing (local secret needed)")
def revoke(request: Request, origin: str) -> dict[str, str]:
    """Unpair ``origin`` (``https://portal.test``, URL-encoded or not); it must pair again to use the agent."""
    _trusted(caller_of(request))
    ctx = _context(request)
    ctx.pairings.revoke(origin)
    return {"revoked": normalize_client_origin(origin)}
