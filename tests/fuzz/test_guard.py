"""The fuzz worker's guard itself: a hang, a crash, unbounded memory and deep recursion are all findings, and
the worker comes back for the next input."""

from __future__ import annotations

import pytest

from .guard import Worker
from .targets import CTX


@pytest.mark.fuzz
def test_guard_turns_misbehaviour_into_findings(fuzz_worker) -> None:  # type: ignore[no-untyped-def]
    worker = Worker(CTX.scratch, timeout=3)  # (fuzz_worker: the session's scratch directory and its cleanup)
    try:
        cases = {"_hang": "hang", "_crash": "crash", "_memory": "foreign", "_recursion": "foreign"}
        for name, kind in cases.items():
            out = worker.run(name, b"x", "")
            assert out.kind == kind and out.failed, (name, out)
        assert worker.run("_memory", b"", "").detail.startswith("MemoryError")
        assert worker.run("_recursion", b"", "").detail.startswith("RecursionError")
        from .targets import _read

        out = worker.run("certificate", _read("head.der"), "head.der")
        assert (out.kind, out.detail) == ("ok", "valid"), out
    finally:
        worker.close()
