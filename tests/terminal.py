"""Driving a command on a real pseudo-terminal, as a person at a keyboard would (PIN prompts without echo)."""

from __future__ import annotations

import os
import pty
import select
import time


def converse(argv: list[str], env: dict[str, str], answers: list[bytes], *,
             guard: float = 120) -> tuple[int, str, int]:
    """Run ``argv`` (argv[0] is the executable) on a pseudo-terminal, answering each prompt (output ending in
    ':') with the next of ``answers``; returns (exit code, everything the terminal showed, answers left unused).

    ``guard`` only stops a hung child from stalling the suite; it is not a timing assertion.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its terminal
        os.execve(argv[0], argv, env)  # noqa: S606  (no shell wanted)
    seen = b""
    pending = list(answers)
    prompts = 0
    deadline = time.monotonic() + guard
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if pending and seen.rstrip().endswith(b":") and seen.count(b":") > prompts:
            prompts = seen.count(b":")
            os.write(fd, pending.pop(0) + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace"), len(pending)
