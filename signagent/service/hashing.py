"""Use case: hash files with Streebog (GOST R 34.11-2012), streaming, in constant memory.

Exports: ALGORITHMS, hash_stream, hash_path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO

from signagent.errors import UnknownAlgorithmError
from signagent.fileio import iter_chunks, open_input
from signagent.gost.streebog import streebog256, streebog512

ALGORITHMS = {"streebog256": streebog256, "streebog512": streebog512}

def _constructor(algorithm: str):
    try:
        return ALGORITHMS[algorithm]
    except KeyError:
        raise UnknownAlgorithmError(situation="hash", name=repr(algorithm), known=", ".join(ALGORITHMS)) from None


def hash_stream(stream: BinaryIO, algorithm: str = "streebog256",
                progress: Callable[[int], None] | None = None) -> bytes:
    """Digest of everything readable from a binary stream; ``progress`` gets the byte count of each chunk."""
    h = _constructor(algorithm)()
    for chunk in iter_chunks(stream):
        h.update(chunk)
        if progress is not None:
            progress(chunk.nbytes)
    return h.digest()


def hash_path(path: str | os.PathLike[str], algorithm: str = "streebog256",
              progress: Callable[[int], None] | None = None) -> bytes:
    """Digest of a file's content; a missing or unreadable file raises :class:`FileAccessError`.

    Unlike every other input of signagent, a FIFO or character device is read too (blocking until a FIFO has a
    writer), as sha256sum does: hashing streams in constant memory and Ctrl-C stops it, so ``signagent hash
    <(command)`` is as legitimate as with sha256sum. A socket is refused (NotRegularFileError).
    """
    _constructor(algorithm)  # reject a bad algorithm before touching the file
    with open_input(path, allow_streams=True) as f:
        return hash_stream(f, algorithm, progress)
