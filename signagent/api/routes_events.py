"""``GET /v1/events``: the agent's events as Server-Sent Events (HTML Living Standard, "Server-sent events").

Each event is ``id: N``, ``event: KIND`` and ``data: JSON`` lines and a blank line; KIND is one of
:data:`signagent.service.events.EVENT_KINDS` (token-inserted, token-removed, certificates-changed, request-status,
overflow). A comment line (``: heartbeat``) every :data:`HEARTBEAT_SECONDS` keeps proxies and the browser from
closing a silent stream. The stream ends when the client goes away (Starlette cancels it), when the bus closes,
or when the calling site is no longer paired. ``Last-Event-ID`` is not replayed: after a reconnection a page lists
what it needs again.

Who sees what (:meth:`signagent.service.events.Event.visible_to`): the security middleware lets in paired sites and
trusted callers only; a site gets token and certificate events and the status of its own requests, never another
origin's; trusted callers (the agent's pages, local programs with the secret) get everything. Invisible events are
filtered by the bus before buffering, so they neither fill a site's buffer nor show in its ``overflow`` count.
At most a few streams per site and a few dozen in all: one more gets ``rate_limited`` (429).

Needs ``request.app.state.agent.events`` (an :class:`signagent.service.events.EventBus`) and, for sites,
``.pairings``.

Exports: router, HEARTBEAT_SECONDS, format_event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from signagent.service.access import EndpointNotFoundError, OriginNotPairedError
from signagent.service.events import Event, EventBus, Subscription

from .callers import Caller, caller_of

__all__ = ["HEARTBEAT_SECONDS", "format_event", "router"]

router = APIRouter()

#: Seconds between heartbeat comments on a quiet stream.
HEARTBEAT_SECONDS = 15.0
_RETRY_MS = 3000  # the reconnection delay the browser's EventSource is told to use


def format_event(event: Event) -> str:
    """One event in the text/event-stream format (the JSON has no raw line break, so one ``data:`` line)."""
    data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


def _still_allowed(caller: Caller, agent: Any) -> bool:
    """A site whose pairing the user revoked loses its stream at the next event or heartbeat."""
    if caller.trusted:
        return True
    pairings = getattr(agent, "pairings", None)
    return caller.origin is not None and pairings is not None and pairings.is_paired(caller.origin)


async def _stream(request: Request, caller: Caller, subscription: Subscription) -> AsyncIterator[str]:
    agent = request.app.state.agent
    try:
        yield f"retry: {_RETRY_MS}\n: connected\n\n"
        while True:
            event = await subscription.get(HEARTBEAT_SECONDS)
            if not _still_allowed(caller, agent) or await request.is_disconnected():
                return
            if event is None:
                if subscription.closed:
                    return
                yield ": heartbeat\n\n"
            elif event.visible_to(caller.origin, caller.trusted):
                yield format_event(event)
    finally:
        subscription.close()


@router.get("/events", summary="The agent's events (Server-Sent Events)", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "an endless event stream"}})
async def events(request: Request) -> StreamingResponse:
    """token-inserted, token-removed, certificates-changed, request-status (the caller's own requests) and
    overflow (events lost by a reader too slow), until the client disconnects."""
    caller = caller_of(request)
    if not (caller.trusted or caller.paired):  # the middleware already refuses them; never stream to one
        raise OriginNotPairedError(origin=caller.origin or "-")
    bus: EventBus | None = getattr(request.app.state.agent, "events", None)
    if bus is None:  # an agent built without an event bus serves no events
        raise EndpointNotFoundError(method="GET", path="/v1/events")
    origin, trusted = caller.origin, caller.trusted
    subscription = bus.subscribe(None if trusted else origin,
                                 accept=lambda event: event.visible_to(origin, trusted))
    return StreamingResponse(_stream(request, caller, subscription), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
