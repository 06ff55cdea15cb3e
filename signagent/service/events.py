"""The agent's in-process event bus: what happened (a token inserted or removed, certificates changed, a request's
status changed), published from any thread and read by the API's Server-Sent Events streams (``GET /v1/events``).

* :meth:`EventBus.publish` is thread-safe and never blocks: it numbers the event, puts it in every subscriber's
  bounded buffer and wakes the subscriber's asyncio loop with ``loop.call_soon_threadsafe`` (at most one wake-up
  pending per subscriber, so a stalled loop cannot pile up callbacks either).
* :meth:`EventBus.subscribe`, called from a running asyncio loop, gives a :class:`Subscription`: an async iterator
  of :class:`Event` (or :meth:`Subscription.get` with a timeout, for heartbeats). A subscriber that reads too slowly
  loses its oldest events and is told so by one ``overflow`` event (``data = {"dropped": n}``, ``id`` that of the
  last event lost) before the rest. Its ``accept`` filter (the API passes :meth:`Event.visible_to`) drops the
  events it may not see before they are buffered, so they neither take room nor count as lost.
* Subscribers are capped (in all and per owner -- an origin, or None for the agent's own pages and local
  programs): one more is refused with ``rate_limited``.

Kinds (:data:`EVENT_KINDS`): ``token-inserted`` / ``token-removed`` (data: the token's ``kind``, ``label``,
``serial``, its ``certificates`` ids), ``certificates-changed`` (the same, for a present token whose certificates
changed), ``request-status`` (``request_id``, ``status``, ``kind``, ``origin``: published by the consent layer) and
``overflow``. Who may see what (:meth:`Event.visible_to`): a request's status only its own origin (and trusted
callers); token and certificate events every subscriber the API let in (paired sites and trusted callers).

Exports: Event, EventBus, Subscription, EVENT_KINDS, TOKEN_INSERTED, TOKEN_REMOVED, CERTIFICATES_CHANGED,
REQUEST_STATUS, OVERFLOW, DEFAULT_QUEUE_SIZE, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_MAX_PER_OWNER.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .access import RateLimitedError

__all__ = [
    "CERTIFICATES_CHANGED",
    "DEFAULT_MAX_PER_OWNER",
    "DEFAULT_MAX_SUBSCRIBERS",
    "DEFAULT_QUEUE_SIZE",
    "EVENT_KINDS",
    "OVERFLOW",
    "REQUEST_STATUS",
    "TOKEN_INSERTED",
    "TOKEN_REMOVED",
    "Event",
    "EventBus",
    "Subscription",
]

TOKEN_INSERTED = "token-inserted"  # noqa: S105  (an event kind, not a password)
TOKEN_REMOVED = "token-removed"  # noqa: S105
CERTIFICATES_CHANGED = "certificates-changed"
REQUEST_STATUS = "request-status"
OVERFLOW = "overflow"
#: Every kind of event the bus carries.
EVENT_KINDS = (TOKEN_INSERTED, TOKEN_REMOVED, CERTIFICATES_CHANGED, REQUEST_STATUS, OVERFLOW)
_FOR_EVERY_SUBSCRIBER = frozenset({TOKEN_INSERTED, TOKEN_REMOVED, CERTIFICATES_CHANGED, OVERFLOW})

DEFAULT_QUEUE_SIZE = 256
DEFAULT_MAX_SUBSCRIBERS = 32
DEFAULT_MAX_PER_OWNER = 4


@dataclass(frozen=True)
class Event:
    """One event: ``id`` (increasing per bus, from 1), ``kind`` (:data:`EVENT_KINDS`) and JSON-ready ``data``."""

    id: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def visible_to(self, origin: str | None, trusted: bool) -> bool:
        """Whether a subscriber may see this event: ``trusted`` callers (the agent's pages, local programs with the
        secret) see everything; a site (``origin``) sees token and certificate events and the status of its own
        requests only (``data["origin"] == origin``); an unknown kind is shown to trusted callers only."""
        if trusted:
            return True
        if origin is None:
            return False
        if self.kind == REQUEST_STATUS:
            return self.data.get("origin") == origin
        return self.kind in _FOR_EVERY_SUBSCRIBER

    def to_dict(self) -> dict[str, object]:
        """``{"id", "kind", "data"}``."""
        return {"id": self.id, "kind": self.kind, "data": self.data}


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready copy of ``data`` (what is not JSON becomes its string), so a subscriber can neither see later
    changes of the publisher's dict nor fail to serialize it."""
    copied = json.loads(json.dumps(data, default=str))
    if not isinstance(copied, dict):
        raise TypeError("event data must be a dict")
    return copied


class Subscription:
    """One subscriber's bounded buffer of events; read it from the asyncio loop that subscribed."""

    def __init__(self, bus: EventBus, loop: asyncio.AbstractEventLoop, owner: str | None, size: int,
                 accept: Callable[[Event], bool] | None = None) -> None:
        self.owner = owner
        self._accept = accept
        self._bus = bus
        self._loop = loop
        self._items: deque[Event] = deque()
        self._size = max(int(size), 1)
        self._lock = threading.Lock()
        self._dropped = 0
        self._last_dropped = 0
        self._closed = False
        self._wake = asyncio.Event()
        self._wake_pending = False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the bus dropped the subscriber because its loop is gone)."""
        return self._closed

    @property
    def dropped(self) -> int:
        """Events dropped since the last ``overflow`` event was read."""
        with self._lock:
            return self._dropped

    # called by the bus, on the publisher's thread
    def _offer(self, event: Event) -> bool:
        """Buffer ``event`` (dropping the oldest when full) and wake the loop; False when the loop is gone."""
        if self._accept is not None and not self._accept(event):
            return True
        with self._lock:
            if self._closed:
                return True
            if len(self._items) >= self._size:
                self._last_dropped = self._items.popleft().id
                self._dropped += 1
            self._items.append(event)
            if self._wake_pending:
                return True
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._woken)
        except RuntimeError:  # the loop is closed: this subscriber will never read again
            return False
        return True

    def _woken(self) -> None:
        with self._lock:
            self._wake_pending = False
        self._wake.set()

    def _take(self) -> Event | None:
        with self._lock:
            if self._dropped:
                marker = Event(self._last_dropped, OVERFLOW, {"dropped": self._dropped})
                self._dropped = 0
                return marker
            if self._items:
                return self._items.popleft()
            return None

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event; None when ``timeout`` seconds pass without one, or once the subscription is closed and
        its buffer read."""
        while True:
            event = self._take()
            if event is not None:
                return event
            if self._closed:
                return None
            self._wake.clear()
            event = self._take()  # published between the look and the clear
            if event is not None:
                return event
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        event = await self.get()
        if event is None:
            raise StopAsyncIteration
        return event

    def close(self) -> None:
        """Stop receiving (idempotent; from any thread): the bus forgets the subscriber, a waiting reader wakes."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._bus._remove(self)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """Publish from any thread, subscribe from asyncio; see the module docstring."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE, max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS,
                 max_per_owner: int = DEFAULT_MAX_PER_OWNER) -> None:
        """``queue_size`` events are buffered per subscriber; at most ``max_subscribers`` subscribers, of which at
        most ``max_per_owner`` per site origin (the agent's own pages and local programs, owner None, are limited
        by the total only)."""
        self.queue_size = queue_size
        self.max_subscribers = max_subscribers
        self.max_per_owner = max_per_owner
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._subscribers: list[Subscription] = []

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, Any] | None = None) -> Event:
        """Number the event and hand it to every subscriber (thread-safe, never blocks); returns it."""
        if not isinstance(kind, str) or not kind:
            raise TypeError("an event kind is a non-empty string")
        plain = _plain(data or {})
        with self._lock:
            event = Event(next(self._ids), kind, plain)
            targets = list(self._subscribers)
        for subscription in targets:
            try:
                delivered = subscription._offer(event)
            except Exception:  # a broken filter: that subscriber ends, the publisher and the others go on
                delivered = False
            if not delivered:
                subscription.close()
        return event

    def subscribe(self, owner: str | None = None, *, accept: Callable[[Event], bool] | None = None) -> Subscription:
        """A new subscription read from the running asyncio loop; ``owner`` is the site's origin (None for trusted
        callers); ``accept(event)``, when given, chooses the events it buffers at all (the others neither take room
        nor count as dropped). ``rate_limited`` when the bus, or this owner, has its maximum of subscribers."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if len(self._subscribers) >= self.max_subscribers or (
                    owner is not None and sum(s.owner == owner for s in self._subscribers) >= self.max_per_owner):
                raise RateLimitedError(situation="event_streams")
            subscription = Subscription(self, loop, owner, self.queue_size, accept)
            self._subscribers.append(subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subscribers.remove(subscription)

    def close(self) -> None:
        """Close every subscription (their readers end)."""
        with self._lock:
            targets = list(self._subscribers)
        for subscription in targets:
            subscription.close()
