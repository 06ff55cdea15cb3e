"""Pairing requests: a site asks to be paired, the user decides in the agent's own page (DESIGN.md section 5).

Each request has two secrets: its id (handed to the site, which polls the status with it and opens the agent's
page at it) and a one-time consent token, which only the agent's page carries -- the site never sees it, so it
cannot approve its own request. Ids are unguessable (256 random bits), a request is decided once, and it expires
(default 5 minutes). Starting requests is rate-limited per origin, so a page cannot flood the user with pairing
pages; the number of open requests is capped, so no one can fill the agent's memory.

The clock is injected (tests move it); the status of a request is computed when asked, so expiry needs no timer.

Exports: PairingRequest, PairingRequests, PENDING, APPROVED, DENIED, EXPIRED.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .access import (
    ConsentTokenInvalidError,
    RateLimitedError,
    RequestExpiredError,
    RequestFinishedError,
    RequestNotFoundError,
)
from .pairing import PairingStore

__all__ = ["APPROVED", "DENIED", "EXPIRED", "PENDING", "PairingRequest", "PairingRequests"]

PENDING, APPROVED, DENIED, EXPIRED = "pending", "approved", "denied", "expired"
_FORGET_AFTER = 600.0  # seconds a finished request stays answerable to the site's poll


@dataclass
class PairingRequest:
    """One request: who asked, when it expires, its consent token and its decision (None while pending)."""

    request_id: str
    origin: str
    created: float
    expires: float
    token: str
    decision: str | None = None
    decided: float | None = None


class PairingRequests:
    """The open pairing requests of a running agent, approving into ``store``."""

    def __init__(self, store: PairingStore, *, clock: Callable[[], float] = time.monotonic, lifetime: float = 300.0,
                 per_origin: int = 5, per_window: float = 60.0, max_open: int = 200) -> None:
        self.store = store
        self._clock = clock
        self.lifetime = lifetime
        self._per_origin, self._window, self._max_open = per_origin, per_window, max_open
        self._requests: dict[str, PairingRequest] = {}
        self._started: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def start(self, origin: str) -> PairingRequest:
        """A new request for ``origin`` (normalized); :class:`RateLimitedError` when it asks too often."""
        now = self._clock()
        with self._lock:
            self._forget(now)
            recent = self._started.setdefault(origin, deque())
            while recent and recent[0] <= now - self._window:
                recent.popleft()
            if len(recent) >= self._per_origin or len(self._requests) >= self._max_open:
                raise RateLimitedError(situation="pairing", origin=origin, seconds=int(self._window))
            recent.append(now)
            request = PairingRequest(secrets.token_urlsafe(32), origin, now, now + self.lifetime,
                                     secrets.token_urlsafe(32))
            self._requests[request.request_id] = request
            return request

    def _forget(self, now: float) -> None:
        for rid, r in list(self._requests.items()):
            if max(r.expires, r.decided or 0.0) + _FORGET_AFTER <= now:
                del self._requests[rid]
        for origin, recent in list(self._started.items()):
            if not recent or recent[-1] <= now - self._window:
                del self._started[origin]

    def _status(self, request: PairingRequest, now: float) -> str:
        if request.decision is not None:
            return request.decision
        return EXPIRED if now >= request.expires else PENDING

    def get(self, request_id: str) -> tuple[PairingRequest, str]:
        """The request and its status; :class:`RequestNotFoundError` for an unknown id."""
        with self._lock:
            request = self._requests.get(request_id)
            if request is None:
                raise RequestNotFoundError()
            return request, self._status(request, self._clock())

    def pending(self, request_id: str) -> PairingRequest:
        """The request, if the user may still decide it (the page is shown only then)."""
        request, status = self.get(request_id)
        if status == EXPIRED:
            raise RequestExpiredError()
        if status != PENDING:
            raise RequestFinishedError(situation="decided", status=status)
        return request

    def decide(self, request_id: str, token: str, approve: bool) -> PairingRequest:
        """Record the user's decision; the token must be the page's. Approval pairs the origin (persisted)."""
        with self._lock:
            request = self._requests.get(request_id)
            if request is None:
                raise RequestNotFoundError()
            now = self._clock()
            status = self._status(request, now)
            if status == EXPIRED:
                raise RequestExpiredError()
            if status != PENDING:
                raise RequestFinishedError(situation="decided", status=status)
            if not hmac.compare_digest(token.encode("utf-8", "replace"), request.token.encode("ascii")):
                raise ConsentTokenInvalidError()
            if approve:
                self.store.add(request.origin)  # persisted before the site can see "approved"
            request.decision, request.decided = (APPROVED if approve else DENIED), now
            request.token = ""  # used once: no second decision can match it
            return request
