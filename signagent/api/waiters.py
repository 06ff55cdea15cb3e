"""Long polls woken by the change they wait for: a poll of ``GET /v1/requests/{id}?wait=S`` sleeps on an asyncio
event that the consent registry's change callback sets (from whichever thread approved the request), so a page
learns of a signature the moment it is made, not at the next tick of a timer.

Exports: Waiters.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

__all__ = ["Waiters"]


class Waiters:
    """Events per request id, set thread-safely by :meth:`notify`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(list)

    def notify(self, request_id: str) -> None:
        """Wake every poll of ``request_id`` (callable from any thread)."""
        with self._lock:
            waiting = self._events.pop(request_id, [])
        for loop, event in waiting:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def wait(self, request_id: str, timeout: float) -> bool:
        """Sleep until ``request_id`` changes or ``timeout`` seconds pass; True when it changed."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._events[request_id].append(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                waiting = self._events.get(request_id)
                if waiting and entry in waiting:
                    waiting.remove(entry)
                    if not waiting:
                        del self._events[request_id]
