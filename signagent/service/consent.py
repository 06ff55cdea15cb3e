"""Requests the user consents to in the agent's own page: pairing a site, signing, authenticating, changing a token
(DESIGN.md section 5).

A site starts a request and gets its id; the user decides in the agent's page, which alone carries the request's
one-time consent token (the site never sees it, so it cannot approve its own request). Each request:

* has an unguessable id and token (256 random bits each), an origin, a kind and a payload (what to do on approval);
* expires (default 5 minutes) unless decided; is decided once -- approved with a result, denied, or failed with an
  error -- and is answerable to its site's poll for 10 minutes after that, then forgotten;
* is claimed while its operation runs (:meth:`ConsentRequests.claim`), so two approvals cannot both run; a wrong
  PIN gives it back (:meth:`ConsentRequests.retry`) with a new consent token, at most :attr:`max_pin_failures`
  times, after which it fails (``rate_limited``): the token's own lockout counter is not the only brake on
  guessing through the agent.

Starting is rate-limited per origin and kind, the number of open requests is capped, and so are the bytes the open
requests hold (documents to sign), so no page can fill the agent's memory. The clock is injected (tests move it);
status is computed when asked, so expiry needs no timer. ``on_change(request, status)`` is called after every
status change, outside the lock (events, audit log).

Pending requests live in memory only: an agent restarted forgets them, and their sites get ``request_not_found``
-- nothing is ever signed for a request the user did not approve in this process.

Exports: ConsentRequest, ConsentRequests, PENDING, APPROVED, DENIED, EXPIRED, FAILED, STATUSES.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signagent.errors import SignAgentError

from .access import (
    ConsentTokenInvalidError,
    RateLimitedError,
    RequestExpiredError,
    RequestFinishedError,
    RequestNotFoundError,
)

__all__ = ["APPROVED", "DENIED", "EXPIRED", "FAILED", "PENDING", "STATUSES", "ConsentRequest", "ConsentRequests"]

PENDING, APPROVED, DENIED, EXPIRED, FAILED = "pending", "approved", "denied", "expired", "failed"
STATUSES = (PENDING, APPROVED, DENIED, EXPIRED, FAILED)
_FORGET_AFTER = 600.0  # seconds a finished request stays answerable to the site's poll


@dataclass
class ConsentRequest:
    """One request: who asked what, when it expires, its consent token, and how it ended."""

    request_id: str
    kind: str
    origin: str
    created: float
    expires: float
    token: str
    payload: Any = None
    size: int = 0
    outcome: str | None = None  # approved / denied / failed once decided
    decided: float | None = None
    result: dict[str, Any] | None = None
    error: SignAgentError | None = None
    running: bool = False
    pin_failures: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ConsentRequests:
    """The open requests of a running agent."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, lifetime: float = 300.0,
                 per_origin: int = 5, per_window: float = 60.0, max_open: int = 200,
                 max_held_bytes: int = 512 << 20, max_pin_failures: int = 3,
                 limits: dict[str, int] | None = None,
                 on_change: Callable[[ConsentRequest, str], None] | None = None) -> None:
        self._clock = clock
        self.lifetime = lifetime
        self._per_origin, self._window, self._max_open = per_origin, per_window, max_open
        self._limits = dict(limits or {})  # per-kind starts per window (default per_origin)
        self._max_held = max_held_bytes
        self.max_pin_failures = max_pin_failures
        self.on_change = on_change
        self._requests: dict[str, ConsentRequest] = {}
        self._started: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    # -- starting and looking up --

    def start(self, origin: str, kind: str, payload: Any = None, *, size: int = 0) -> ConsentRequest:
        """A new request of ``kind`` for ``origin`` (normalized) holding ``payload`` (``size`` bytes of documents);
        :class:`RateLimitedError` when the origin asks too often or the agent holds too much already."""
        now = self._clock()
        with self._lock:
            self._forget(now)
            recent = self._started.setdefault((origin, kind), deque())
            while recent and recent[0] <= now - self._window:
                recent.popleft()
            held = sum(r.size for r in self._requests.values() if self._status(r, now) == PENDING)
            if (len(recent) >= self._limits.get(kind, self._per_origin) or len(self._requests) >= self._max_open
                    or held + size > self._max_held):
                situation = "pairing" if kind == "pair" else "requests"
                raise RateLimitedError(situation=situation, origin=origin, seconds=int(self._window))
            recent.append(now)
            request = ConsentRequest(secrets.token_urlsafe(32), kind, origin, now, now + self.lifetime,
                                     secrets.token_urlsafe(32), payload, size)
            self._requests[request.request_id] = request
        self._changed(request, PENDING)
        return request

    def _forget(self, now: float) -> None:
        for rid, r in list(self._requests.items()):
            if max(r.expires, r.decided or 0.0) + _FORGET_AFTER <= now:
                del self._requests[rid]
            elif r.outcome is not None or now >= r.expires:
                r.payload = None  # a finished request keeps no document in memory
                r.size = 0
        for key, recent in list(self._started.items()):
            if not recent or recent[-1] <= now - self._window:
                del self._started[key]

    def _status(self, request: ConsentRequest, now: float) -> str:
        if request.outcome is not None:
            return request.outcome
        if request.running:
            return PENDING  # the user approved and the token is working: it cannot expire under it
        return EXPIRED if now >= request.expires else PENDING

    def get(self, request_id: str) -> tuple[ConsentRequest, str]:
        """The request and its status; :class:`RequestNotFoundError` for an unknown id."""
        with self._lock:
            request = self._requests.get(request_id)
            if request is None:
                raise RequestNotFoundError()
            return request, self._status(request, self._clock())

    def pending(self, request_id: str) -> ConsentRequest:
        """The request, if the user may still decide it (the agent's page is shown only then)."""
        request, status = self.get(request_id)
        if status == EXPIRED:
            raise RequestExpiredError()
        if status != PENDING or request.running:
            raise RequestFinishedError(situation="decided", status=status)
        return request

    def open_requests(self, kind: str | None = None) -> list[ConsentRequest]:
        """The requests still pending (of ``kind`` when given)."""
        with self._lock:
            now = self._clock()
            return [r for r in self._requests.values()
                    if self._status(r, now) == PENDING and (kind is None or r.kind == kind)]

    # -- the user's decision --

    def _checked(self, request_id: str, token: str) -> ConsentRequest:
        """Under the lock: the pending request whose consent token is ``token``."""
        request = self._requests.get(request_id)
        if request is None:
            raise RequestNotFoundError()
        status = self._status(request, self._clock())
        if status == EXPIRED:
            raise RequestExpiredError()
        if status != PENDING or request.running:
            raise RequestFinishedError(situation="decided", status=status)
        if not request.token or not hmac.compare_digest(token.encode("utf-8", "replace"),
                                                        request.token.encode("ascii")):
            raise ConsentTokenInvalidError()
        return request

    def claim(self, request_id: str, token: str) -> ConsentRequest:
        """The user approved: the request is marked running (no second approval, no expiry) and its token spent.
        The caller then runs the operation and ends with :meth:`complete`, :meth:`fail` or :meth:`retry`."""
        with self._lock:
            request = self._checked(request_id, token)
            request.running = True
            request.token = ""
            return request

    def deny(self, request_id: str, token: str) -> ConsentRequest:
        """The user refused."""
        with self._lock:
            request = self._checked(request_id, token)
            self._end(request, DENIED)
        self._changed(request, DENIED)
        return request

    def _end(self, request: ConsentRequest, outcome: str) -> None:
        request.outcome, request.decided = outcome, self._clock()
        request.running = False
        request.token = ""
        request.payload = None
        request.size = 0

    def complete(self, request: ConsentRequest, result: dict[str, Any] | None = None) -> None:
        """The claimed request's operation succeeded with ``result``."""
        with self._lock:
            request.result = result
            self._end(request, APPROVED)
        self._changed(request, APPROVED)

    def fail(self, request: ConsentRequest, error: SignAgentError) -> None:
        """The request ends with ``error`` (the operation failed, the token went away...)."""
        with self._lock:
            if request.outcome is not None:
                return
            request.error = error
            self._end(request, FAILED)
        self._changed(request, FAILED)

    def retry(self, request: ConsentRequest) -> str | None:
        """A wrong PIN: the request is the user's again with a fresh consent token (returned), or, after
        :attr:`max_pin_failures` wrong PINs, fails with ``rate_limited`` (None returned)."""
        with self._lock:
            request.pin_failures += 1
            if request.pin_failures < self.max_pin_failures:
                request.running = False
                request.token = secrets.token_urlsafe(32)
                return request.token
        self.fail(request, RateLimitedError(situation="pin", attempts=request.pin_failures))
        return None

    def release(self, request: ConsentRequest) -> str:
        """The claimed request goes back to the user unchanged (the form lacked a choice): a fresh consent token."""
        with self._lock:
            request.running = False
            request.token = secrets.token_urlsafe(32)
            return request.token

    def _changed(self, request: ConsentRequest, status: str) -> None:
        if self.on_change is not None:
            self.on_change(request, status)
