"""A ``signagent serve`` subprocess for tests: its stderr lines read by a thread into a queue (no blocking reads),
waited for by text, stopped by a signal. Waits are bounded by a hang guard only; nothing here measures time."""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Mapping, Sequence

HANG_GUARD = 30.0  # seconds: only ever reached when something is broken


class ServeProcess:
    """The process of ``command`` (stdout discarded, stderr line by line in :attr:`lines`)."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str]) -> None:
        self.proc = subprocess.Popen(list(command), env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("<eof>")

    def wait_for(self, text: str) -> str:
        """The first stderr line (from here on) holding ``text``; fails at the end of output or the hang guard."""
        while True:
            line = self.lines.get(timeout=HANG_GUARD)
            self.seen.append(line)
            if text in line or line == "<eof>":
                assert text in line, self.seen
                return line

    def stop(self, sig: int) -> int:
        """Send ``sig`` and return the exit status."""
        self.proc.send_signal(sig)
        return self.proc.wait(HANG_GUARD)

    def kill(self) -> None:
        """Kill the process if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(HANG_GUARD)
