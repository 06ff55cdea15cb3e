"""The one timing loop the benchmarks share."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_call_seconds(fn: Callable[[], object], seconds: float, least: int = 1) -> float:
    """Seconds per call of ``fn``: one warm-up call (first-use tables, caches), then growing batches until at
    least ``seconds`` have passed and ``least`` calls were made, so the clock is read rarely."""
    fn()
    calls, batch, start = 0, 1, time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= least:
            return elapsed / calls
        batch *= 2
