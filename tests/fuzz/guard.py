"""A worker process that runs one fuzz input at a time, with bounded memory and a hang guard.

The worker comes from multiprocessing's fork server (a clean single-threaded process: forking the test process
itself is unsafe once other tests have started threads), imports the product and the corpus, lowers its own
RLIMIT_AS to its size at start plus :data:`MEMORY_BUDGET`, and serves inputs over a pipe. An input that allocates
beyond the budget gets a MemoryError (a failure: the product must refuse such input itself with a project error);
an input that does not finish within :data:`TIMEOUT` seconds is a hang: the worker is killed (by its own pid) and
a new one forked. No verdict depends on how fast an input ran; the timeout only keeps a hang from stalling CI.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

MEMORY_BUDGET = int(os.environ.get("SIGNAGENT_FUZZ_MEMORY_MB", "768")) << 20
TIMEOUT = float(os.environ.get("SIGNAGENT_FUZZ_TIMEOUT", "30"))
PRODUCT = tuple(str(Path(__file__).resolve().parents[2] / p) for p in ("signagent", "pkcs11_sim"))


@dataclass
class Outcome:
    kind: str  # "ok", "error" (a project error: fine), "foreign" (another exception), "violation", "crash", "hang"
    detail: str = ""  # status / error code / exception text
    where: str = ""  # product file:line (function) the exception came through, innermost first
    origin: str = ""  # innermost frame anywhere (asn1crypto, json...)
    trace: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.kind in ("foreign", "violation", "crash", "hang")

    def signature(self) -> str:
        """What distinguishes one bug from another: kind, exception type, product location (no line numbers:
        they move while the product is edited)."""
        if self.kind in ("crash", "hang"):
            return self.kind
        if self.kind == "violation":
            return f"violation:{self.detail.removeprefix('Violation: ')[:80]}"
        exc_type = self.detail.split(":", 1)[0]
        place = self.where or self.origin.replace(str(Path(PRODUCT[0]).parent) + "/", "")
        where = place.split(":")[0] + ":" + place.rsplit("(", 1)[-1].rstrip(")") if place else ""
        return f"{self.kind}:{exc_type}@{where}"


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _locate(exc: BaseException) -> tuple[str, str]:
    frames = traceback.extract_tb(exc.__traceback__)
    product = [f for f in frames if f.filename.startswith(PRODUCT)]
    where = ""
    if product:
        f = product[-1]
        where = f"{os.path.relpath(f.filename, Path(PRODUCT[0]).parent)}:{f.lineno} ({f.name})"
    origin = f"{frames[-1].filename}:{frames[-1].lineno} ({frames[-1].name})" if frames else ""
    return where, origin


def _serve(conn, budget: int, scratch: str) -> None:  # type: ignore[no-untyped-def]
    from signagent.errors import SignAgentError

    from .targets import CTX, SELF_TESTS, TARGETS, Violation

    CTX.__dict__["scratch"] = Path(scratch)  # the parent's scratch directory (a cached_property)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and kills us
    limit = _vm_size() + budget
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    sys.setrecursionlimit(1000)
    while True:
        try:
            request = conn.recv()
        except EOFError:
            os._exit(0)
        name, data, seed, options = request
        try:
            run = TARGETS[name].run if name in TARGETS else SELF_TESTS[name]
            detail = run(data, seed, options)
            out = Outcome("ok", str(detail))
        except SignAgentError as exc:
            out = Outcome("error", exc.code)
        except Violation as exc:
            where, origin = _locate(exc)
            out = Outcome("violation", f"Violation: {exc}", where, origin, traceback.format_exc(limit=-12))
        except BaseException as exc:
            where, origin = _locate(exc)
            text = f"{type(exc).__name__}: {str(exc)[:300]}"
            out = Outcome("foreign", text, where, origin, traceback.format_exc(limit=-12)[-6000:])
        if options.get("note"):
            out.notes.append(options["note"])
        try:
            conn.send(out)
        except BaseException:
            os._exit(3)


class Worker:
    """One guarded worker process; restarted after a crash or a hang."""

    def __init__(self, scratch: Path, timeout: float = TIMEOUT) -> None:
        self._timeout = timeout
        self._ctx = multiprocessing.get_context(os.environ.get("SIGNAGENT_FUZZ_START", "forkserver"))
        self._scratch = str(scratch)
        self._proc = None
        self._conn = None

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child, MEMORY_BUDGET, self._scratch),
                                          daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def run(self, target: str, data: bytes, seed: str, options: dict | None = None) -> Outcome:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        try:
            self._conn.send((target, data, seed, dict(options or {})))  # type: ignore[union-attr]
            if not self._conn.poll(self._timeout):  # type: ignore[union-attr]
                self._kill()
                return Outcome("hang", f"no answer within {self._timeout:g} s")
            return self._conn.recv()  # type: ignore[union-attr, no-any-return]
        except (EOFError, OSError, BrokenPipeError):
            code = None
            if self._proc is not None:
                self._proc.join(5)
                code = self._proc.exitcode
            self._kill()
            if code is not None and code < 0:
                return Outcome("crash", f"worker killed by signal {-code}")
            return Outcome("crash", f"worker died (exit {code})")

    def close(self) -> None:
        self._kill()
