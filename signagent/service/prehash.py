"""Hashing the file of ``signagent sign --detached`` while the program is still starting.

A detached signature needs one thing from the content: its Streebog digest (RFC 5652 section 11.2,
messageDigest). Reading and hashing 32 MiB takes about as long as the command's start-up (imports of click,
asn1crypto and the certificate model, ~90 ms), and the C core releases the GIL while it hashes, so the command
line starts the hash in a thread first thing (:func:`start`) and the signing use case takes it when it gets there
(:func:`take`) instead of reading the file again.

The digest is used only if it is of the file that is signed: the file's identity and state (device, inode, size,
modification time) are the same before the hash, after it, and when the digest is taken; otherwise, or when the
key wants Streebog-512 (the hash started is Streebog-256, the size of almost every qualified key), the file is
simply read and hashed again by the normal path. Only regular files are pre-hashed.

Exports: start, start_from_argv, take.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["start", "start_from_argv", "take"]

_CHUNK = 1 << 20
#: Options of ``signagent sign`` that take a value (the scan of :func:`start_from_argv` must skip the values).
_VALUED = frozenset({"--cert", "--key", "--token", "--pin-file", "--chain", "--module", "-o", "--output",
                     "--origin"})


def _state(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class _Job:
    path: str
    thread: threading.Thread
    state: tuple[int, int, int, int] | None = None
    digest: bytes | None = None


_job: _Job | None = None


def _run(job: _Job, streebog256: Callable[[], Any]) -> None:
    # No import in here: importing in two threads at once races on half-initialized modules (the main thread is
    # importing the rest of the program meanwhile); the hash constructor comes from the caller.
    try:
        fd = os.open(job.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return  # the signing path reports the error in its own words
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return
        h = streebog256()
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        while True:
            n = os.readv(fd, [buffer])
            if not n:
                break
            h.update(view[:n])
        after = os.fstat(fd)
        if _state(before) == _state(after):
            job.state, job.digest = _state(after), h.digest()
    except OSError:
        return
    finally:
        os.close(fd)


def start(path: str) -> None:
    """Start hashing ``path`` (Streebog-256) in a daemon thread; at most one file per process."""
    global _job
    if _job is not None:
        return
    from signagent.gost import streebog256  # imported here, in the calling thread (see _run)

    job = _Job(path, threading.Thread(target=lambda: _run(job, streebog256), name="signagent-prehash", daemon=True))
    _job = job
    job.thread.start()


def start_from_argv(args: Sequence[str]) -> None:
    """:func:`start` for the FILE of ``signagent sign ARGS`` when the signature is detached; otherwise nothing.
    The scan is deliberately simple: any doubt (``--`` , several positional arguments) and nothing starts."""
    if "--detached" not in args:
        return
    positional: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif arg.startswith("-"):
            if arg == "--" or (arg != "--detached" and "=" not in arg and arg not in ("--pem",)):
                return
        else:
            positional.append(arg)
    if len(positional) == 1 and positional[0] != "-":
        start(positional[0])


def take(path: str, digest_size: int) -> bytes | None:
    """The Streebog digest of ``path`` if it was pre-hashed with ``digest_size`` bytes and has not changed since;
    None otherwise (the caller hashes the file itself)."""
    global _job
    job = _job
    if job is None or job.path != path or digest_size != 32:
        return None
    job.thread.join()
    _job = None
    if job.digest is None:
        return None
    try:
        now = os.stat(path)
    except OSError:
        return None
    return job.digest if _state(now) == job.state else None
